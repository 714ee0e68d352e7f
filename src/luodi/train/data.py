"""Training data: label files and synthetic lines -> resized line images -> padded, bucketed batches.

Images are decoded and resized to height 48 once, up front (a few thousand small crops fit in
memory easily), so each step only augments, normalises and pads. Batches group lines of similar
width, so little of a batch is padding; the order of batches is shuffled with the run's seed.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from luodi.errors import InputError
from luodi.eval.datasets import RecSample, read_rec_labels
from luodi.ocr.line_prep import LinePrep
from luodi.ocr.tensor import normalize_into
from luodi.train.config import AugmentSpec, DataSpec, SynthSpec

log = logging.getLogger(__name__)

HEIGHT = 48
WIDTH_ALIGN = 8  # one CTC timestep per 8 input columns
REC_MEAN = REC_STD = (0.5, 0.5, 0.5)  # PP-OCR recognisers: (x / 255 - 0.5) / 0.5


@dataclass(frozen=True, slots=True)
class LineImage:
    image: np.ndarray  # RGB uint8, height 48, width <= max_width
    label: str
    source: str  # "file:line" for the error messages and reports
    group: str = ""  # the data source it came from (a label file, a synth spec), for per-source reports


@dataclass
class DataReport:
    """What loading a data spec found; printed at the start of training."""

    loaded: int = 0
    undecodable: list[str] = field(default_factory=list)
    too_long: list[str] = field(default_factory=list)  # more characters than CTC timesteps
    unknown_chars: dict[str, int] = field(default_factory=dict)  # char -> count of lines
    dropped_unknown: int = 0

    def merge(self, other: DataReport) -> None:
        self.loaded += other.loaded
        self.undecodable += other.undecodable
        self.too_long += other.too_long
        for c, k in other.unknown_chars.items():
            self.unknown_chars[c] = self.unknown_chars.get(c, 0) + k
        self.dropped_unknown += other.dropped_unknown

    def summary(self) -> str:
        parts = [f"{self.loaded} lines"]
        if self.undecodable:
            parts.append(f"{len(self.undecodable)} images skipped (could not decode, e.g. {self.undecodable[0]})")
        if self.too_long:
            parts.append(f"{len(self.too_long)} lines skipped (text too long for the image width)")
        if self.unknown_chars:
            chars = "".join(sorted(self.unknown_chars))
            parts.append(f"{len(self.unknown_chars)} characters not in the dictionary: {chars[:40]}")
        if self.dropped_unknown:
            parts.append(f"{self.dropped_unknown} lines dropped for them")
        return "; ".join(parts)


def synth_dir(spec: SynthSpec, root: Path) -> Path:
    """Where a synth spec's lines are rendered: a folder named by the spec, so a rerun reuses it."""
    # fields added later are left out while unset, so folders rendered before them are still found
    unset = ({"family"} if spec.family is None else set()) | ({"spaces"} if spec.text_format != "general" else set())
    dump = spec.model_dump(mode="json", exclude=unset or None)
    if spec.style == "dotmatrix" and spec.family == "train":  # lines of the widened printers: not the first heads'
        dump["printers"] = 2
    key = json.dumps(dump, sort_keys=True, ensure_ascii=False)
    import hashlib

    return root / f"{spec.style}-{spec.severity}-{spec.n}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def render_synth(spec: SynthSpec, root: Path) -> Path:
    """Render (or reuse) a synth spec's lines; returns its label file."""
    from luodi.synth import available_fonts, extract_lines, generate_lines, read_express_ner, read_text_lines
    from luodi.synth.text import general_lines, slip_lines

    out = synth_dir(spec, root)
    label_file = out / "labels.txt"
    done = out / "DONE"
    if done.is_file() and label_file.is_file():
        return label_file
    if spec.text_format == "general":
        texts = general_lines(spec.n, seed=spec.seed, max_len=spec.max_len, spaces=spec.spaces)
    elif spec.text_format == "slip":
        texts = slip_lines(spec.n, seed=spec.seed, family=spec.family or "train")
    elif spec.text is None:  # the config refuses this; kept for type narrowing
        raise InputError(f"synth spec {spec.style}: no text file")
    elif spec.text_format == "express_ner":
        texts = extract_lines(read_express_ner(spec.text), seed=spec.seed, max_len=spec.max_len)
    else:
        texts = read_text_lines(spec.text)
    fonts = available_fonts(spec.fonts) if spec.fonts else None
    report = generate_lines(
        texts,
        out,
        style=spec.style,
        n=spec.n,
        seed=spec.seed,
        severity=spec.severity,
        fonts=fonts,
        family=spec.family,
    )
    done.write_text("ok\n", encoding="utf-8")
    return Path(report.label_file)


def gather_groups(spec: DataSpec, synth_root: Path) -> list[tuple[str, list[RecSample]]]:
    """Samples per source, named for reports: the label file, or the synthetic style and text."""
    groups: list[tuple[str, list[RecSample]]] = []
    for label_file in spec.labels:
        groups.append((Path(label_file).name, read_rec_labels(label_file)))
    for synth in spec.synth:
        text = synth.text_format if synth.text is None else Path(synth.text).name
        name = f"{synth.style} {synth.severity} ({text})"
        groups.append((name, read_rec_labels(render_synth(synth, synth_root))))
    return groups


def gather_samples(spec: DataSpec, synth_root: Path) -> list[RecSample]:
    return [s for _, samples in gather_groups(spec, synth_root) for s in samples]


def decode_image(path: Path) -> np.ndarray | None:
    """RGB uint8 or None when the file is missing or not a decodable image."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None or img.shape[0] < 2 or img.shape[1] < 2:
        return None
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def resize_line(img: np.ndarray, max_width: int, height: int = HEIGHT) -> np.ndarray:
    """Height 48 with the aspect ratio kept; lines wider than ``max_width`` are squeezed to it."""
    h, w = img.shape[:2]
    width = min(max_width, max(WIDTH_ALIGN, math.ceil(height * w / max(h, 1))))
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)


def load_lines(
    samples: Sequence[RecSample],
    *,
    max_width: int,
    known: set[str] | None,
    drop_unknown: bool,
    group: str = "",
    prep: LinePrep | None = None,
) -> tuple[list[LineImage], DataReport]:
    """Decode, preprocess and resize; skip (and count) undecodable images and texts CTC cannot fit.

    ``known``: the dictionary; lines with other characters are counted and, when ``drop_unknown``,
    left out (the caller adds those characters instead when the config says so). ``prep``: the
    run's line preprocessing (``Preprocess``), applied to the decoded line as the OCR engine
    applies it to a crop.
    """
    report = DataReport()
    lines: list[LineImage] = []
    for s in samples:
        where = f"{s.path}" + (f" (line {s.line_no})" if s.line_no else "")
        if not s.label:
            continue
        if known is not None:
            missing = {c for c in s.label if c not in known}
            for c in missing:
                report.unknown_chars[c] = report.unknown_chars.get(c, 0) + 1
            if missing and drop_unknown:
                report.dropped_unknown += 1
                continue
        img = decode_image(s.path)
        if img is None:
            report.undecodable.append(where)
            continue
        img = resize_line(img if prep is None else prep(img), max_width)
        # CTC needs at least one timestep per character plus one between repeats
        repeats = sum(1 for a, b in zip(s.label, s.label[1:], strict=False) if a == b)
        if len(s.label) + repeats > math.ceil(img.shape[1] / WIDTH_ALIGN):
            report.too_long.append(where)
            continue
        lines.append(LineImage(img, s.label, where, group))
    report.loaded = len(lines)
    return lines, report


def augment(img: np.ndarray, spec: AugmentSpec, rng: np.random.Generator) -> np.ndarray:
    """Mild, label-preserving distortions; each one applied with probability ``spec.prob``."""
    if not spec.enabled:
        return img
    out = img
    h, w = out.shape[:2]
    if spec.max_rotate_deg > 0 and rng.random() < spec.prob:
        angle = rng.uniform(-spec.max_rotate_deg, spec.max_rotate_deg)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        out = cv2.warpAffine(out, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if spec.blur and rng.random() < spec.prob:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.0))
    if spec.contrast and rng.random() < spec.prob:
        alpha, beta = rng.uniform(0.6, 1.2), rng.uniform(-30, 30)
        out = np.clip(out.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)
    if spec.noise and rng.random() < spec.prob:
        noise = rng.normal(0, rng.uniform(3, 12), out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if spec.jpeg and rng.random() < spec.prob:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 80))])
        decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else None
        if decoded is not None:
            out = decoded
    return out


@dataclass(frozen=True, slots=True)
class Batch:
    images: np.ndarray  # N x 3 x 48 x W float32, BGR, normalised, zero (mid-grey) padded
    labels: np.ndarray  # N x Lmax int32, class indices, 0-padded
    label_lengths: np.ndarray  # N int64
    input_lengths: np.ndarray  # N int64, timesteps each line really covers
    texts: tuple[str, ...]


def make_batch(images: Sequence[np.ndarray], texts: Sequence[str], char_index: dict[str, int] | None) -> Batch:
    width = max(img.shape[1] for img in images)
    width = -(-width // WIDTH_ALIGN) * WIDTH_ALIGN
    batch = np.zeros((len(images), 3, HEIGHT, width), dtype=np.float32)
    input_lengths = np.zeros(len(images), dtype=np.int64)
    for i, img in enumerate(images):
        w = img.shape[1]
        # the OCR pipeline's own normalisation, BGR channel order included: PP-OCR was trained on
        # OpenCV's BGR, and a model fine-tuned on RGB reads coloured lines differently once deployed
        normalize_into(batch[i, :, :, :w], img, REC_MEAN, REC_STD, 1.0 / 255.0)
        input_lengths[i] = math.ceil(w / WIDTH_ALIGN)
    longest = max((len(t) for t in texts), default=1) or 1
    labels = np.zeros((len(texts), longest), dtype=np.int32)
    lengths = np.zeros(len(texts), dtype=np.int64)
    if char_index is not None:
        for i, t in enumerate(texts):
            ids = [char_index[c] for c in t if c in char_index]
            labels[i, : len(ids)] = ids
            lengths[i] = len(ids)
    return Batch(batch, labels, lengths, input_lengths, tuple(texts))


def bucketed_batches(
    lines: Sequence[LineImage], batch_size: int, rng: np.random.Generator, *, pool: int = 8
) -> Iterator[list[int]]:
    """One epoch of index batches: shuffled, then grouped by width within pools of ``pool`` batches."""
    order = rng.permutation(len(lines))
    batches: list[list[int]] = []
    span = batch_size * pool
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span].tolist(), key=lambda i: lines[i].image.shape[1])
        batches.extend(chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size))
    for b in rng.permutation(len(batches)).tolist():
        yield batches[b]


def check_nonempty(lines: Sequence[LineImage], what: str, report: DataReport) -> None:
    if not lines:
        raise InputError(f"no usable {what} lines: {report.summary()}")
