"""Readers and writers for PaddleOCR's dataset label formats.

Recognition (``rec``): one sample per line, ``image_path<TAB>label``.
Detection (``det``): one image per line, ``image_path<TAB>[{"transcription": str, "points": [[x, y], ...]}]``;
a transcription of ``###`` marks a region to ignore (illegible or "difficult").

Image paths are relative to the label file's folder (absolute paths are kept as they are), which is
what lets a dataset folder be moved or copied as a whole. Every malformed line raises
:class:`~luodi.errors.LabelFormatError` naming the file and the 1-based line number, because a
silently skipped line would quietly change the numbers an evaluation reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from luodi.errors import InputNotFoundError, LabelFormatError

IGNORE_TEXT = "###"

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class RecSample:
    """One recognition sample: an image of a single text line and its transcription."""

    path: Path
    label: str
    line_no: int = 0  # where it came from in the label file (0 when built in code)


@dataclass(frozen=True, slots=True)
class DetRegion:
    """One annotated text region of a detection sample."""

    points: tuple[Point, ...]
    transcription: str

    @property
    def ignore(self) -> bool:
        return self.transcription == IGNORE_TEXT

    def to_dict(self) -> dict[str, object]:
        return {
            "transcription": self.transcription,
            "points": [[_num(x), _num(y)] for x, y in self.points],
        }


@dataclass(frozen=True, slots=True)
class DetSample:
    """One detection sample: an image and all its annotated text regions."""

    path: Path
    regions: tuple[DetRegion, ...]
    line_no: int = 0


def _num(v: float) -> float | int:
    # Integral coordinates are written as ints so label files stay compact and diff-friendly.
    return int(v) if float(v).is_integer() else round(float(v), 2)


def _read_lines(label_file: Path) -> list[str]:
    try:
        data = label_file.read_bytes()
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"label file not found: {label_file}") from exc
    except IsADirectoryError as exc:
        raise InputNotFoundError(f"label file is a directory: {label_file}") from exc
    except OSError as exc:
        raise InputNotFoundError(f"cannot read label file {label_file}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = data[: exc.start].count(b"\n") + 1
        raise LabelFormatError(f"{label_file}:{line_no}: not valid UTF-8") from exc
    # splitlines() would also split on U+2028 and friends, which may legitimately occur in labels.
    return text.replace("\r\n", "\n").split("\n")


def _resolve(label_file: Path, raw: str) -> Path:
    p = Path(raw)
    return p if p.is_absolute() else label_file.parent / p


def _split(label_file: Path, line_no: int, line: str) -> tuple[str, str]:
    if "\t" not in line:
        raise LabelFormatError(f"{label_file}:{line_no}: expected 'path<TAB>label', found no TAB")
    path, rest = line.split("\t", 1)
    if not path.strip():
        raise LabelFormatError(f"{label_file}:{line_no}: empty image path")
    return path, rest


def read_rec_labels(label_file: str | os.PathLike[str]) -> list[RecSample]:
    """Read a PaddleOCR recognition label file.

    Blank lines are skipped. The label is everything after the first TAB, kept verbatim except for a
    trailing carriage return, because spaces can be part of what a model should read.
    """
    label_file = Path(label_file)
    samples: list[RecSample] = []
    for line_no, line in enumerate(_read_lines(label_file), start=1):
        if not line.strip():
            continue
        path, label = _split(label_file, line_no, line)
        if "\t" in label:
            raise LabelFormatError(f"{label_file}:{line_no}: more than one TAB (labels cannot contain TABs)")
        if not label:
            raise LabelFormatError(f"{label_file}:{line_no}: empty label for {path!r}")
        samples.append(RecSample(_resolve(label_file, path), label, line_no))
    if not samples:
        raise LabelFormatError(f"{label_file}: no samples")
    return samples


def _parse_points(label_file: Path, line_no: int, idx: int, raw: object) -> tuple[Point, ...]:
    where = f"{label_file}:{line_no}: region {idx}"
    if not isinstance(raw, list) or len(raw) < 3:
        raise LabelFormatError(f"{where}: 'points' must be a list of at least 3 [x, y] pairs")
    pts: list[Point] = []
    for p in raw:
        if (
            not isinstance(p, list | tuple)
            or len(p) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
        ):
            raise LabelFormatError(f"{where}: bad point {p!r}, expected [x, y] numbers")
        pts.append((float(p[0]), float(p[1])))
    return tuple(pts)


def read_det_labels(label_file: str | os.PathLike[str]) -> list[DetSample]:
    """Read a PaddleOCR detection label file (also used for end-to-end evaluation)."""
    label_file = Path(label_file)
    samples: list[DetSample] = []
    for line_no, line in enumerate(_read_lines(label_file), start=1):
        if not line.strip():
            continue
        path, rest = _split(label_file, line_no, line)
        try:
            items = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise LabelFormatError(f"{label_file}:{line_no}: annotation is not valid JSON ({exc.msg})") from exc
        if not isinstance(items, list):
            raise LabelFormatError(f"{label_file}:{line_no}: annotation must be a JSON list of regions")
        regions: list[DetRegion] = []
        for idx, item in enumerate(items):
            if not isinstance(item, dict) or "points" not in item:
                raise LabelFormatError(f"{label_file}:{line_no}: region {idx} must be an object with 'points'")
            text = item.get("transcription", "")
            if not isinstance(text, str):
                raise LabelFormatError(f"{label_file}:{line_no}: region {idx}: 'transcription' must be a string")
            regions.append(DetRegion(_parse_points(label_file, line_no, idx, item["points"]), text))
        samples.append(DetSample(_resolve(label_file, path), tuple(regions), line_no))
    if not samples:
        raise LabelFormatError(f"{label_file}: no samples")
    return samples


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path.resolve()) if not path.is_absolute() else str(path)


def _check_field(value: str, what: str) -> None:
    if "\t" in value or "\n" in value or "\r" in value:
        raise LabelFormatError(f"{what} {value!r} contains a TAB or newline and cannot be written")


def write_rec_labels(label_file: str | os.PathLike[str], samples: Iterable[RecSample]) -> int:
    """Write samples as a recognition label file; paths under its folder are written relative.

    Returns the number of samples written.
    """
    label_file = Path(label_file)
    root = label_file.parent
    rows: list[str] = []
    for s in samples:
        rel = _relpath(s.path, root)
        _check_field(rel, "path")
        _check_field(s.label, "label")
        if not s.label:
            raise LabelFormatError(f"empty label for {rel!r}")
        rows.append(f"{rel}\t{s.label}\n")
    label_file.parent.mkdir(parents=True, exist_ok=True)
    label_file.write_text("".join(rows), encoding="utf-8")
    return len(rows)


def write_det_labels(label_file: str | os.PathLike[str], samples: Sequence[DetSample]) -> int:
    """Write samples as a detection label file (PaddleOCR's JSON-per-line format)."""
    label_file = Path(label_file)
    root = label_file.parent
    rows: list[str] = []
    for s in samples:
        rel = _relpath(s.path, root)
        _check_field(rel, "path")
        ann = json.dumps([r.to_dict() for r in s.regions], ensure_ascii=False, separators=(", ", ": "))
        rows.append(f"{rel}\t{ann}\n")
    label_file.parent.mkdir(parents=True, exist_ok=True)
    label_file.write_text("".join(rows), encoding="utf-8")
    return len(rows)
