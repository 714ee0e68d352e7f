"""The driver of a batch run: plan the parts, hand batches to an engine, commit parts as they fill.

Both engines run the same :class:`~luodi.batch.worker.BatchWorker` on the same batches; only who
calls it differs (this process, or Ray actors). Results come back in any order, possibly more than
once (Ray re-runs a task whose worker died, and outputs a task produced before it died may arrive
too): the :class:`PartCollector` keeps the first record of each input and drops repeats, and a
part is written once all of its inputs are in. That is what makes "every document exactly once"
hold whatever the cluster does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from luodi.batch import layout
from luodi.batch.inputs import Inputs, fingerprint
from luodi.batch.store import Store, open_store
from luodi.batch.worker import BatchWorker, WorkSpec
from luodi.errors import ConfigError, LuodiError

log = logging.getLogger("luodi.batch")

#: Inputs per worker call. docs/ocr.md measured that batching recognition crops does not lower the
#: CPU per crop on this CPU, so a batch is not for inference: 4 documents (2–4 s of one core) keep
#: Ray's per-task cost (a few ms) under 1% while the actors still share the work out evenly.
DEFAULT_BATCH_SIZE = 4
#: Inputs per output part: a part is the unit of commit and of resume.
DEFAULT_PART_SIZE = 500

Batch = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BatchOptions:
    output: str
    format: str = "jsonl"
    engine: str = "local"  # "local" | "ray"
    address: str | None = None  # Ray: "host:port", "ray://host:port", "auto"; None starts a local Ray
    part_size: int = DEFAULT_PART_SIZE
    batch_size: int = DEFAULT_BATCH_SIZE
    actors: int | None = None  # Ray: actors in the pool (default: what the cluster's CPUs hold)
    actors_per_node: int | None = None  # Ray: instead of ``actors``, this many on each node with CPUs
    cpus_per_actor: float = 1.0  # Ray: CPUs each actor reserves (its inference threads: at least 1)
    dashboard: bool = False  # Ray: start the dashboard with a Ray luodi starts (a cluster's is its own)
    resume: bool = False
    overwrite: bool = False
    progress: bool = True


@dataclass(frozen=True, slots=True)
class BatchReport:
    """The end of a run. ``inputs == out + failed`` always holds for a finished run."""

    output: str
    engine: str
    inputs: int
    out: int
    failed: int
    parts: int
    parts_skipped: int  # committed by an earlier, interrupted run of the same batch
    seconds: float
    duplicates: int = 0  # records that came back twice (a retried task) and were dropped
    dashboard: str | None = None
    error_files: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PartCollector:
    """Buffers records per part, drops repeats, and commits each part when all its inputs are in."""

    def __init__(
        self,
        store: Store,
        manifest: layout.RunManifest,
        pending: list[int],
        on_failure: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.store = store
        self.manifest = manifest
        self.on_failure = on_failure
        self._open: dict[int, dict[int, tuple[bool, str]]] = {p: {} for p in pending}
        self.committed: dict[int, layout.PartMarker] = {}
        self.duplicates = 0
        self.received = 0

    def span(self, part: int) -> range:
        """The indices of the inputs in ``part``."""
        first = part * self.manifest.part_size
        return range(first, min(first + self.manifest.part_size, self.manifest.count))

    def add(self, batch: Batch) -> int:
        """Take a worker's output batch; returns how many new records it held."""
        new = 0
        for index, ok, line in zip(batch["index"], batch["ok"], batch["line"], strict=True):
            part = int(index) // self.manifest.part_size
            records = self._open.get(part)
            if records is None or int(index) in records:  # a repeat (or a part already committed)
                self.duplicates += 1
                continue
            records[int(index)] = (bool(ok), str(line))
            new += 1
            if not ok and self.on_failure is not None:
                self.on_failure(json.loads(str(line)))
            if len(records) == len(self.span(part)):
                self._commit(part, records)
        self.received += new
        return new

    @property
    def open_parts(self) -> list[int]:
        return sorted(self._open)

    def _commit(self, part: int, records: dict[int, tuple[bool, str]]) -> None:
        span = self.span(part)
        ordered = [records[i] for i in span]
        good = [line for ok, line in ordered if ok]
        bad = [line for ok, line in ordered if not ok]
        if self.manifest.format == "parquet":
            data = layout.encode_parquet([json.loads(line) for line in good])
        else:
            data = layout.encode_jsonl(good)
        self.store.put(layout.part_name(part, self.manifest.format), data)
        if bad:
            self.store.put(layout.error_name(part), layout.encode_jsonl(bad))
        else:  # an interrupted earlier try of this part may have left one
            self.store.delete([layout.error_name(part)])
        marker = layout.PartMarker(part, span.start, len(span), len(good), len(bad))
        self.store.put(layout.marker_name(part), marker.to_json())  # the commit
        self.committed[part] = marker
        del self._open[part]


def batches_of(rows: list[tuple[int, str]], size: int) -> Iterator[dict[str, np.ndarray]]:
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        yield {
            "index": np.asarray([i for i, _ in chunk], dtype=np.int64),
            "ref": np.asarray([r for _, r in chunk], dtype=object),
        }


def run_batch(
    spec: WorkSpec,
    inputs: Inputs,
    options: BatchOptions,
    *,
    store: Store | None = None,
    say: Callable[[str], None] = lambda msg: None,
    on_failure: Callable[[dict[str, Any]], None] | None = None,
) -> BatchReport:
    """Run ``spec``'s task over ``inputs`` into ``options.output``; see the module docstring."""
    if options.part_size < 1 or options.batch_size < 1:
        raise ConfigError("--part-size and --batch-size must be at least 1")
    t0 = time.perf_counter()
    store = store if store is not None else open_store(options.output)
    manifest = layout.RunManifest(
        task=spec.task,
        option=spec.option,
        params=dict(spec.params),
        inputs=inputs.spec,
        count=len(inputs),
        inputs_sha256=fingerprint(inputs.refs),
        part_size=options.part_size,
        format=options.format,
    )
    layout.check(store, manifest, resume=options.resume, overwrite=options.overwrite)  # before Ray starts
    with _engine(options, say) as engine:  # then Ray connects: a bad address leaves the output untouched
        done = layout.prepare(store, manifest, resume=options.resume, overwrite=options.overwrite)
        pending = [p for p in range(manifest.parts) if p not in done]
        if done:
            say(f"resuming: {len(done)} of {manifest.parts} parts already written, {len(pending)} to go")
        collector = PartCollector(store, manifest, pending, on_failure)
        rows = [(i, inputs.refs[i]) for p in pending for i in collector.span(p)]
        if rows:
            with _progress(len(rows), options.progress) as bar:
                engine.run(spec, rows, lambda batch: bar.update(collector.add(batch)))
    if collector.open_parts:  # cannot happen unless an engine lost work without saying so
        raise LuodiError(f"parts {collector.open_parts[:10]} did not get all their documents back; rerun with --resume")
    return _finish(store, manifest, done, collector, options, t0, engine)


class LocalEngine:
    """The same worker in this process: for small jobs, for tests, and the baseline Ray is measured against."""

    name = "local"
    dashboard: str | None = None

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.extra: dict[str, Any] = {}

    def run(self, spec: WorkSpec, rows: list[tuple[int, str]], take: Callable[[Batch], None]) -> None:
        worker = BatchWorker(spec)
        for batch in batches_of(rows, self.batch_size):
            take(worker(batch))


def _engine(options: BatchOptions, say: Callable[[str], None]) -> Any:
    if options.engine == "local":
        return contextlib.nullcontext(LocalEngine(options.batch_size))  # nothing to start or stop
    if options.engine == "ray":
        from luodi.batch.cluster import RayEngine

        return RayEngine(options, say)
    raise ConfigError(f"unknown engine {options.engine!r}; use local or ray")


def _finish(
    store: Store,
    manifest: layout.RunManifest,
    done: dict[int, layout.PartMarker],
    collector: PartCollector,
    options: BatchOptions,
    t0: float,
    engine: Any,
) -> BatchReport:
    markers = {**done, **collector.committed}
    out = sum(m.out for m in markers.values())
    failed = sum(m.failed for m in markers.values())
    counted = sum(m.count for m in markers.values())
    if counted != manifest.count or out + failed != manifest.count:
        raise LuodiError(f"the counts do not add up: {manifest.count} inputs, {out} out + {failed} failed")
    report = BatchReport(
        output=store.url,
        engine=options.engine,
        inputs=manifest.count,
        out=out,
        failed=failed,
        parts=manifest.parts,
        parts_skipped=len(done),
        seconds=time.perf_counter() - t0,
        duplicates=collector.duplicates,
        dashboard=engine.dashboard,
        error_files=tuple(layout.error_name(p) for p, m in sorted(markers.items()) if m.failed),
        extra=engine.extra,
    )
    store.put(layout.SUMMARY, json.dumps(report.to_dict(), ensure_ascii=False, indent=1).encode("utf-8"))
    return report


def _progress(total: int, enabled: bool) -> Any:
    import sys

    from tqdm import tqdm

    return tqdm(total=total, unit="doc", file=sys.stderr, mininterval=1.0, dynamic_ncols=True, disable=not enabled)


def with_threads(spec: WorkSpec, cpus_per_actor: float) -> WorkSpec:
    """Each actor's inference threads follow the CPUs it reserves (one slot per core: docs/architecture.md)."""
    return spec if spec.threads else replace(spec, threads=max(1, math.floor(cpus_per_actor)))
