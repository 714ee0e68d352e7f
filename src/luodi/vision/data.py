"""Inspection datasets: folder-per-class trees or a CSV, images paired with their defect masks.

Layouts read:

- **folders**: ``ROOT/<class>/**/<image>``; the class is the top folder's name. A mask is a PNG
  beside its image with the same stem (``a.jpg`` + ``a.png``, the Magnetic-tile layout) or named
  ``<stem>_mask.png``. In a folder where images and same-stem PNG masks pair up, a PNG whose
  image is missing is counted as a *mask without an image* and skipped, never trained on as an
  image. A ``good`` folder of an anomaly set is read the same way (one class).
- **CSV**: a header with ``path`` and ``label`` (optional ``mask``, ``split``); relative paths
  are resolved against the CSV's folder. ``split`` (``train``/``val``/``test``) lets a user fix
  which images are held out.

Images are decoded by :mod:`luodi.io` with the same limits as OCR (bytes, pixels; grayscale,
16-bit, CMYK and transparency normalised to RGB). A model sees every image either at its own
resolution turned to landscape (``native``, shrunk only past the model's size) or resized to one
square size (``square``, aspect ratio not kept); heat maps are mapped back to the image.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from luodi.config import Limits, get_settings
from luodi.errors import ConfigError, EmptyInputError, InputError, InputNotFoundError
from luodi.io import IMAGE_EXTENSIONS, load_pages

MASK_SUFFIX = "_mask"
# TF EfficientNet-Lite input scaling: (pixel - 127) / 128
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0


@dataclass(frozen=True, slots=True)
class Sample:
    path: Path
    label: str | None  # None: unlabelled (anomaly "good" sets, inference)
    mask: Path | None = None
    split: str | None = None  # from a CSV's split column


@dataclass
class DataReport:
    """What a scan found and left out; printed by the CLI, kept in run folders."""

    images: int = 0
    per_class: Counter[str] = field(default_factory=Counter)
    masks: int = 0
    masks_without_image: list[str] = field(default_factory=list)
    images_without_mask: int = 0
    skipped: list[str] = field(default_factory=list)  # "path: reason" of files that could not be read

    def summary(self) -> str:
        parts = [f"{self.images} images"]
        if self.per_class:
            parts.append(", ".join(f"{k} {v}" for k, v in sorted(self.per_class.items())))
        if self.masks:
            parts.append(f"{self.masks} masks")
        if self.masks_without_image:
            parts.append(f"{len(self.masks_without_image)} masks without an image (skipped)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} unreadable files skipped")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        return {
            "images": self.images,
            "per_class": dict(sorted(self.per_class.items())),
            "masks": self.masks,
            "masks_without_image": list(self.masks_without_image),
            "images_without_mask": self.images_without_mask,
            "skipped": list(self.skipped),
        }


def _is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS - {".pdf"}


def _scan_dir(folder: Path, label: str | None, report: DataReport) -> list[Sample]:
    """Images under ``folder`` (recursive, hidden entries skipped), each with its mask if any."""
    samples: list[Sample] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        names = sorted(n for n in filenames if not n.startswith(".") and _is_image_name(n))
        stems: dict[str, list[str]] = {}
        for n in names:
            stems.setdefault(os.path.splitext(n)[0], []).append(n)
        # the folder pairs images with same-stem PNG masks when some stem has a PNG and a non-PNG
        paired = any(
            any(x.lower().endswith(".png") for x in group) and any(not x.lower().endswith(".png") for x in group)
            for group in stems.values()
        )
        base = Path(dirpath)
        for stem, group in sorted(stems.items()):
            if stem.endswith(MASK_SUFFIX) and all(x.lower().endswith(".png") for x in group):
                continue  # a _mask.png: attached to its image, or counted below when it has none
            pngs = [x for x in group if x.lower().endswith(".png")]
            others = [x for x in group if not x.lower().endswith(".png")]
            if paired and not others:
                report.masks_without_image.append(str(base / pngs[0]))
                continue
            images = others if paired else group
            for image in images:
                mask = None
                if paired and pngs:
                    mask = base / pngs[0]
                elif f"{stem}{MASK_SUFFIX}" in stems:
                    masks = [x for x in stems[f"{stem}{MASK_SUFFIX}"] if x.lower().endswith(".png")]
                    mask = base / masks[0] if masks else None
                samples.append(Sample(base / image, label, mask))
        for stem, group in stems.items():
            if stem.endswith(MASK_SUFFIX) and stem[: -len(MASK_SUFFIX)] not in stems:
                report.masks_without_image.extend(str(base / n) for n in group)
    return samples


def scan_classes(root: str | Path) -> tuple[list[Sample], DataReport]:
    """A folder-per-class tree. Raises for a missing root, a root without class folders, and an
    empty class folder (a class the model could never learn)."""
    top = Path(root)
    if not top.is_dir():
        raise InputNotFoundError(f"{top}: no such folder")
    classes = sorted(p for p in top.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise EmptyInputError(f"{top} holds no class folders (expected {top}/<class>/<images>)")
    report = DataReport()
    samples: list[Sample] = []
    for folder in classes:
        found = _scan_dir(folder, folder.name, report)
        if not found:
            raise EmptyInputError(
                f"class folder {folder} holds no images; add images or remove the folder (classes are the folder names)"
            )
        samples += found
    _count(samples, report)
    return samples, report


def scan_good(folder: str | Path) -> tuple[list[Sample], DataReport]:
    """The images of a folder of good (defect-free) parts, for anomaly training."""
    path = Path(folder)
    if not path.is_dir():
        raise InputNotFoundError(f"{path}: no such folder")
    report = DataReport()
    samples = _scan_dir(path, None, report)
    if not samples:
        raise EmptyInputError(f"{path} holds no images")
    _count(samples, report)
    return samples, report


def read_csv(path: str | Path) -> tuple[list[Sample], DataReport]:
    """Samples listed in a CSV (``path,label[,mask][,split]``); missing files are reported, not fatal."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputNotFoundError(f"{p}: cannot read it ({exc.strerror})") from exc
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or "path" not in rows[0] or "label" not in rows[0]:
        raise ConfigError(f"{p}: a CSV needs a header with the columns path and label (optional: mask, split)")
    report = DataReport()
    samples: list[Sample] = []
    for i, row in enumerate(rows, start=2):
        rel, label = (row.get("path") or "").strip(), (row.get("label") or "").strip()
        if not rel or not label:
            raise ConfigError(f"{p}:{i}: empty path or label")
        image = (p.parent / rel).resolve() if not os.path.isabs(rel) else Path(rel)
        mask_rel = (row.get("mask") or "").strip()
        mask = (
            ((p.parent / mask_rel).resolve() if not os.path.isabs(mask_rel) else Path(mask_rel)) if mask_rel else None
        )
        if not image.is_file():
            if mask is not None and mask.is_file():
                report.masks_without_image.append(str(mask))
            else:
                report.skipped.append(f"{image}: no such file")
            continue
        split = (row.get("split") or "").strip().lower() or None
        if split not in (None, "train", "val", "test"):
            raise ConfigError(f"{p}:{i}: split must be train, val or test, not {split!r}")
        samples.append(Sample(image, label, mask if mask is not None and mask.is_file() else None, split))
    if not samples:
        raise EmptyInputError(f"{p} lists no readable images")
    _count(samples, report)
    return samples, report


def load_dataset(source: str | Path) -> tuple[list[Sample], DataReport]:
    """A folder-per-class tree or a CSV file, by what ``source`` is."""
    p = Path(source)
    if p.is_file():
        return read_csv(p)
    return scan_classes(p)


def _count(samples: Sequence[Sample], report: DataReport) -> None:
    report.images = len(samples)
    report.per_class = Counter(s.label for s in samples if s.label is not None)
    report.masks = sum(1 for s in samples if s.mask is not None)
    report.images_without_mask = sum(1 for s in samples if s.mask is None)


def holdout_fraction(path: Path, salt: str = "") -> float:
    """A stable number in [0, 1) from a file's name: the same file is always on the same side."""
    digest = hashlib.sha1(f"{salt}{path.name}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def split_holdout(samples: Sequence[Sample], fraction: float, salt: str = "") -> tuple[list[Sample], list[Sample]]:
    """(kept, held out): about ``fraction`` of each class held out, chosen by file name hash."""
    kept: list[Sample] = []
    held: list[Sample] = []
    for s in samples:
        (held if holdout_fraction(s.path, salt) < fraction else kept).append(s)
    return kept, held


def read_image(source: str | Path | bytes | np.ndarray, limits: Limits | None = None) -> np.ndarray:
    """One RGB ``uint8`` image through luodi.io (OCR's limits; a PDF or TIFF gives its first page)."""
    pages = load_pages(source, limits or get_settings().limits, max_pages=1)
    if not pages:
        raise EmptyInputError("the input has no image")
    return pages[0]


def read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A boolean defect mask (nonzero = defect) at ``shape`` (H, W) of its image."""
    data = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH)
    if data is None:
        raise InputError(f"{path}: cannot read the mask")
    if data.shape[:2] != shape:
        data = cv2.resize(data, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return np.asarray(data > 0)


SQUARE = "square"  # every image resized to size x size (aspect ratio not kept)
NATIVE = "native"  # the image's own pixels, turned to landscape, shrunk only past ``size`` on its long side
RESIZE_MODES = (SQUARE, NATIVE)


def _normalise(img: np.ndarray) -> np.ndarray:
    return ((img.astype(np.float32) - PIXEL_MEAN) / PIXEL_STD).transpose(2, 0, 1).copy()


def native_view(rgb: np.ndarray, size: int) -> np.ndarray:
    """The image as a ``native`` model sees it: portrait images turned a quarter (so a part's long side
    is always horizontal: one orientation of texture and edges for the memory bank and the head to
    learn), then shrunk only when the long side exceeds ``size``; never enlarged, never squashed."""
    img = np.ascontiguousarray(np.rot90(rgb)) if rgb.shape[0] > rgb.shape[1] else rgb
    long_side = max(img.shape[:2])
    if long_side > size:
        f = size / long_side
        w, h = max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    return img


def to_input(rgb: np.ndarray, size: int, resize: str = SQUARE) -> np.ndarray:
    """``3 x H x W`` float32 network input with TF-Lite scaling: ``size x size`` (``square``: resized,
    aspect ratio not kept) or the image's own size (``native``, see :func:`native_view`)."""
    if resize == NATIVE:
        return _normalise(native_view(rgb, size))
    interp = cv2.INTER_AREA if rgb.shape[0] > size or rgb.shape[1] > size else cv2.INTER_LINEAR
    return _normalise(cv2.resize(rgb, (size, size), interpolation=interp))


def map_to_image(amap: np.ndarray, height: int, width: int, resize: str = SQUARE) -> np.ndarray:
    """A map computed on :func:`to_input`'s view, back on the original ``height x width`` image
    (turned back for a portrait image under ``native``), bilinear."""
    if resize == NATIVE and height > width:
        amap = np.ascontiguousarray(np.rot90(amap, -1))
    return cv2.resize(amap.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def iter_readable(
    samples: Iterable[Sample], report: DataReport, limits: Limits | None = None
) -> Iterable[tuple[Sample, np.ndarray]]:
    """Decode each sample; an unreadable file (corrupt, too large, not an image) is counted in
    ``report.skipped`` with its reason and left out."""
    for s in samples:
        try:
            yield s, read_image(s.path, limits)
        except InputError as exc:
            report.skipped.append(f"{s.path}: {exc.message}")
