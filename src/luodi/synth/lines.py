"""Write labelled synthetic datasets: line crops (rec format) and pages (det format).

Sample ``k`` of a run is rendered from ``numpy.random.default_rng([seed, k])``, so a dataset is
reproducible byte for byte, and sample ``k`` does not change when ``n`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from luodi.errors import ConfigError, InputError
from luodi.eval.datasets import DetRegion, DetSample, RecSample, write_det_labels, write_rec_labels
from luodi.synth import degrade as dg
from luodi.synth.fonts import Font, available_fonts
from luodi.synth.styles import pick_font, render_line, text_mask

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class DatasetReport:
    """What a generator wrote: the label file, how many samples, and texts it had to skip (and why)."""

    out_dir: Path
    label_file: Path
    written: int
    skipped: tuple[tuple[str, str], ...] = ()


def save_png(img: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed compression level and no metadata: identical arrays give identical files.
    Image.fromarray(img).save(path, format="PNG", compress_level=6)


def _text_order(texts: Sequence[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng([seed, 0x5EED])
    order: list[str] = []
    while len(order) < n + len(texts):  # extra candidates to replace texts no font can draw
        order.extend(texts[i] for i in rng.permutation(len(texts)))
    return order


def generate_lines(  # noqa: PLR0913 - keyword options of the public generator
    texts: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    style: str = "print",
    n: int = 100,
    seed: int = 0,
    severity: str = "mild",
    fonts: Sequence[Font] | None = None,
    progress: Progress | None = None,
    family: str | None = None,
) -> DatasetReport:
    """Render ``n`` lines drawn from ``texts`` into ``out_dir/images/*.png`` + ``out_dir/labels.txt``.

    ``family``: "train" or "eval" side of the renderer split (fonts, dot-matrix heads, degradations).

    Texts are shuffled (seeded) and reused when ``n`` exceeds their number. A text that no installed
    font can draw is skipped and reported, and the next text takes its place.
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    clean = [t.strip() for t in texts if t.strip()]
    if not clean:
        raise InputError("no text lines to render")
    out = Path(out_dir)
    fonts = tuple(fonts) if fonts is not None else available_fonts()
    samples: list[RecSample] = []
    skipped: list[tuple[str, str]] = []
    for text in _text_order(clean, n, seed):
        if len(samples) >= n:
            break
        k = len(samples)
        try:
            img = render_line(text, style, seed=[seed, k], severity=severity, fonts=fonts, family=family)
        except InputError as exc:
            skipped.append((text, exc.message))
            continue
        path = out / "images" / f"{k:06d}.png"
        save_png(img, path)
        samples.append(RecSample(path, text))
        if progress is not None:
            progress(k + 1, n)
    if len(samples) < n:
        raise InputError(f"only {len(samples)} of {n} lines could be rendered; {len(skipped)} texts skipped")
    label_file = out / "labels.txt"
    write_rec_labels(label_file, samples)
    return DatasetReport(out, label_file, len(samples), tuple(skipped))


# --- pages ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PageSample:
    image: np.ndarray
    regions: tuple[DetRegion, ...]


def render_page(
    lines: Sequence[str],
    *,
    seed: int | Sequence[int] = 0,
    fonts: Sequence[Font] | None = None,
    size: tuple[int, int] | None = None,
    severity: str = "mild",
) -> PageSample:
    """Lay ``lines`` out on a page (as many as fit), with tight box labels that follow any rotation.

    Boxes hug the ink of each line. Sometimes a line of tiny, illegible print is added and labelled
    ``###`` so evaluations exercise the "don't care" rule the way real datasets do.
    """
    rng = np.random.default_rng(seed if isinstance(seed, int) else list(seed))
    fonts = tuple(fonts) if fonts is not None else available_fonts()
    w, h = size or (int(rng.integers(800, 1100)), int(rng.integers(600, 900)))
    bg = (int(rng.integers(232, 256)),) * 3
    img = dg.paper((h, w), bg, rng, rng.uniform(1, 4))  # type: ignore[arg-type]
    regions: list[tuple[np.ndarray, str]] = []
    y = int(rng.integers(20, 60))
    margin = int(rng.integers(20, 60))
    queue = list(lines)
    if rng.random() < 0.4:
        queue.insert(int(rng.integers(len(queue) + 1)), "###")
    for text in queue:
        tiny = text == "###"
        shown = lines[int(rng.integers(len(lines)))] if tiny else text
        try:
            font = pick_font(shown, fonts, rng, kinds=("sans", "serif", "ming", "kai"))
        except InputError:
            continue
        fsize = int(rng.integers(7, 10)) if tiny else int(rng.integers(20, 44))
        mask = text_mask(shown, font.get(fsize))
        rows = np.flatnonzero(mask.max(axis=1) > 0)
        mh, mw = mask.shape
        if not rows.size or mw > w - 2 * margin:
            continue
        if y + mh > h - 20:
            break
        x = int(rng.integers(margin, max(margin + 1, w - margin - mw)))
        ink = (int(rng.integers(0, 60)),) * 3
        img[y : y + mh, x : x + mw] = dg.composite(img[y : y + mh, x : x + mw], mask * rng.uniform(0.85, 1.0), ink)  # type: ignore[arg-type]
        y0, y1 = y + rows[0], y + rows[-1] + 1
        quad = np.array([[x, y0], [x + mw, y0], [x + mw, y1], [x, y1]], np.float64)
        regions.append((quad, "###" if tiny else text))
        y += mh + int(rng.integers(6, 40))
    if rng.random() < 0.5:
        img, m = dg.rotate(img, rng.uniform(-2.0, 2.0), bg)  # type: ignore[arg-type]
        regions = [(np.c_[q, np.ones(4)] @ m.T, t) for q, t in regions]
    hard = severity == "hard"
    if rng.random() < (0.9 if hard else 0.5):
        img = dg.gaussian_blur(img, rng.uniform(0.3, 1.4 if hard else 0.8))
    if rng.random() < 0.6:
        img = dg.gaussian_noise(img, rng.uniform(1, 12 if hard else 5), rng)
    if rng.random() < 0.6:
        img = dg.jpeg(img, int(rng.integers(30 if hard else 60, 96)))
    out_regions = tuple(
        DetRegion(tuple((round(float(px), 1), round(float(py), 1)) for px, py in q), t) for q, t in regions
    )
    return PageSample(np.ascontiguousarray(img), out_regions)


def generate_pages(
    texts: Sequence[str],
    out_dir: str | os.PathLike[str],
    *,
    n: int = 20,
    lines_per_page: tuple[int, int] = (5, 12),
    seed: int = 0,
    severity: str = "mild",
    fonts: Sequence[Font] | None = None,
    progress: Progress | None = None,
) -> DatasetReport:
    """Render ``n`` pages into ``out_dir/images/*.png`` with ``out_dir/det_labels.txt`` (det format)."""
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    clean = [t.strip() for t in texts if t.strip()]
    if not clean:
        raise InputError("no text lines to render")
    out = Path(out_dir)
    fonts = tuple(fonts) if fonts is not None else available_fonts()
    order = _text_order(clean, n * lines_per_page[1], seed)
    pos = 0
    samples: list[DetSample] = []
    for k in range(n):
        rng = np.random.default_rng([seed, k, 1])
        count = int(rng.integers(lines_per_page[0], lines_per_page[1] + 1))
        page_lines, pos = order[pos : pos + count], pos + count
        page = render_page(page_lines, seed=[seed, k], fonts=fonts, severity=severity)
        path = out / "images" / f"page_{k:04d}.png"
        save_png(page.image, path)
        samples.append(DetSample(path, page.regions))
        if progress is not None:
            progress(k + 1, n)
    label_file = out / "det_labels.txt"
    write_det_labels(label_file, samples)
    return DatasetReport(out, label_file, len(samples))
