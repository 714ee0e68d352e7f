"""The output of a batch run: its manifest, its parts and their commit markers.

::

    OUT/_batch.json                 what the run is (task, option, inputs fingerprint, part size, format)
    OUT/part-00000.jsonl            results {"index", "source", "result"} of inputs 0 … part_size-1
    OUT/errors/part-00000.jsonl     failed inputs {"index", "source", "error": {"type", "message"}} (if any)
    OUT/_parts/part-00000.json      the commit marker: {"part", "first", "count", "out", "failed"}
    OUT/_summary.json               written at the end: counts in / out / failed, seconds, engine

A part is committed by its marker, written last: a run killed between a part's files and its
marker redoes that part on ``--resume`` and overwrites both files (each written atomically), so no
document appears twice. ``index`` is the input's position in the run's list; ``source`` its path or URL.
Parquet parts have the columns ``index`` (int64), ``source`` (string) and ``result`` (the result's
JSON text: results of one task differ in shape from document to document, and a JSON column keeps
every part's schema the same).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from luodi.batch.store import Store
from luodi.errors import ConfigError, OutputError

MANIFEST = "_batch.json"
SUMMARY = "_summary.json"
MARKERS = "_parts/"
ERRORS = "errors/"
FORMATS = ("jsonl", "parquet")
#: The manifest fields that must match for ``--resume`` to continue a run.
IDENTITY = ("task", "option", "params", "count", "inputs_sha256", "part_size", "format")


@dataclass(frozen=True, slots=True)
class RunManifest:
    task: str
    option: str | None
    params: dict[str, Any]
    inputs: str
    count: int
    inputs_sha256: str
    part_size: int
    format: str
    layout: int = 1

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1).encode("utf-8")

    def differences(self, other: dict[str, Any]) -> list[str]:
        mine = asdict(self)
        return [k for k in IDENTITY if mine.get(k) != other.get(k)]

    @property
    def parts(self) -> int:
        return -(-self.count // self.part_size)


@dataclass(frozen=True, slots=True)
class PartMarker:
    part: int
    first: int
    count: int
    out: int
    failed: int

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode("utf-8")


def part_name(part: int, fmt: str) -> str:
    return f"part-{part:05d}.{fmt}"


def error_name(part: int) -> str:
    return f"{ERRORS}part-{part:05d}.jsonl"


def marker_name(part: int) -> str:
    return f"{MARKERS}part-{part:05d}.json"


def read_markers(store: Store) -> dict[int, PartMarker]:
    """The committed parts of the run in ``store``."""
    markers = {}
    for name in store.names(MARKERS):
        data = store.get(name)
        if data is None:
            continue
        try:
            marker = PartMarker(**json.loads(data))
        except (ValueError, TypeError) as exc:
            raise OutputError(f"{store.url}/{name} is not a part marker: {exc}") from exc
        markers[marker.part] = marker
    return markers


def prepare(store: Store, manifest: RunManifest, *, resume: bool, overwrite: bool) -> dict[int, PartMarker]:
    """Check the output against this run and return the parts already committed (skipped on resume).

    An output that holds a run's files is refused unless ``resume`` (the same run: every identity
    field matches) or ``overwrite`` (the old run's files are removed first).
    """
    existing = check(store, manifest, resume=resume, overwrite=overwrite)
    if existing and overwrite:
        store.delete(existing)
        existing = []
    if not existing:
        store.put(MANIFEST, manifest.to_json())
        return {}
    if SUMMARY in existing:  # the run is not finished any more
        store.delete([SUMMARY])
    return read_markers(store)


def check(store: Store, manifest: RunManifest, *, resume: bool, overwrite: bool) -> list[str]:
    """Raise what :func:`prepare` would refuse, changing nothing; returns the run files found."""
    if manifest.format not in FORMATS:
        raise ConfigError(f"unknown output format {manifest.format!r}; use one of {', '.join(FORMATS)}")
    existing = [n for n in store.names() if _is_ours(n)]
    if not existing or overwrite:
        return existing
    raw = store.get(MANIFEST)
    if not resume:
        done = len(read_markers(store)) if raw is not None else 0
        raise OutputError(
            f"{store.url} already holds the parts of a batch run ({done} parts committed); "
            "pass --resume to continue it or --overwrite to replace it"
        )
    if raw is None:
        raise OutputError(f"{store.url} holds batch parts but no {MANIFEST}; use --overwrite to start over")
    try:
        theirs = json.loads(raw)
    except ValueError as exc:
        raise OutputError(f"{store.url}/{MANIFEST} is damaged: {exc}; use --overwrite to start over") from exc
    diff = manifest.differences(theirs)
    if diff:
        said = "; ".join(f"{k}: {theirs.get(k)!r} there, {getattr(manifest, k)!r} now" for k in diff)
        raise OutputError(f"{store.url} holds another run's parts ({said}); use --overwrite to replace it")
    return existing


def _is_ours(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return name in (MANIFEST, SUMMARY) or name.startswith((MARKERS, ERRORS)) or base.startswith("part-")


def encode_jsonl(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


def encode_parquet(records: list[dict[str, Any]]) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError("Parquet output needs pyarrow: pip install 'luodi[ray]'") from exc
    table = pa.table(
        {
            "index": pa.array([r["index"] for r in records], pa.int64()),
            "source": pa.array([r["source"] for r in records], pa.string()),
            "result": pa.array([json.dumps(r["result"], ensure_ascii=False) for r in records], pa.string()),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    data: bytes = sink.getvalue().to_pybytes()
    return data
