"""The training side's dot-matrix printers: many heads and faults, so a fine-tune learns dot-matrix in general.

The first training renderer (kept as ``family="train-basic"``) drew every line from one kind of
head: bold glyphs from outline fonts at 12-24 dots, dense dots, dark ink on light paper. A recogniser
fine-tuned on it learned that look and nothing that carried over to other printers (bench/results/
finetune.md). Here each line comes from one of three heads and may suffer any of five faults, each
with its own range of settings:

* heads: the **basic** heads above (a third of the lines); a **9-pin draft** head (CJK glyphs 11-16
  dots high, widely spaced small dots, printed in two passes whose halves the paper feed shifts);
  a **24-pin** head (glyphs 18-26 dots high, overlapping dots). Glyph strokes are drawn thin or bold:
  the outline font antialiased, then cut at a random ink level, sometimes struck twice half a dot
  apart (the "emphasised" mode);
* faults: a **worn ribbon** (weak, uneven strikes, dots that do not print), a **misregistered
  second pass** (every dot again, off by a fraction of a dot to a dot and a half), a **wavering
  baseline**, a **carbon copy** (carbon ink, smeared dots, smudges, tinted paper), a **skewed feed**
  (rotation and shear); and scanning at 1.6-3.4 pixels per dot row, low contrast, noise, JPEG.

Fonts are the train family's outline faces only. The printer faces and dot shapes of the blind
sets stay out: the eval family's bitmap face (WenQuanYi Zen Hei Sharp) and oval pins, and the
held-out printers' ROM Song face (:mod:`luodi.synth.dotmatrix_heldout`). The *kinds* of fault are
the ones real printers have, so the held-out printers share them, drawn by other code with other
settings: their numbers are blind to this renderer's code, not to the idea of a faded ribbon.

All randomness comes from the generator passed in: a seed reproduces a line byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import ImageFont

from luodi.synth import degrade as dg
from luodi.synth.fonts import Font

Color = tuple[int, int, int]

HEADS: tuple[str, ...] = ("basic", "nine_pin", "twenty_four_pin")
HEAD_P: tuple[float, ...] = (0.34, 0.38, 0.28)
CARBON_INKS: tuple[Color, ...] = ((60, 50, 140), (50, 55, 115), (85, 65, 130), (55, 55, 60))
PAPER_TINTS: tuple[Color, ...] = ((252, 228, 234), (252, 246, 210), (222, 234, 252), (236, 236, 232))


def _glyph(ch: str, font: ImageFont.FreeTypeFont, h: int, width: int, level: float, bold: bool) -> np.ndarray:
    """One character's 0/1 dot pattern: the antialiased outline cut at ``level`` (high: thin strokes)."""
    from luodi.synth.styles import text_mask

    m = (text_mask(ch, font, crop=False) >= level).astype(np.float32)
    if bold:  # emphasised print: each column struck again one dot to the right
        m = np.maximum(m, np.pad(m, ((0, 0), (1, 0)))[:, :-1])
    ink = np.flatnonzero(m.max(axis=0) > 0)
    m = m[:h, ink[0] : ink[-1] + 1] if ink.size else np.zeros((h, 1), np.float32)
    return m[:, :width]


def glyph_grid(
    text: str, font: ImageFont.FreeTypeFont, cell: int, rng: np.random.Generator, wobble: float
) -> tuple[np.ndarray, np.ndarray]:
    """A 0/1 dot grid for ``text`` in fixed cells, and each dot column's baseline offset in dots."""
    ascent, descent = font.getmetrics()
    h = ascent + descent
    gap = int(rng.integers(0, 4))
    level = rng.uniform(0.3, 0.7)
    bold = bool(rng.random() < 0.2) and level > 0.45  # bold strokes from a low cut would merge
    cols: list[np.ndarray] = []
    offsets: list[np.ndarray] = []
    for ch in text:
        width = cell if ord(ch) > 0x2E7F else cell // 2 + 1  # CJK full width, ASCII half width
        glyph = np.zeros((h, width + gap), np.float32)
        if not ch.isspace():
            m = _glyph(ch, font, h, width, level, bold)
            off = (width - m.shape[1]) // 2
            glyph[: m.shape[0], off : off + m.shape[1]] = m
        cols.append(glyph)
        offsets.append(np.full(glyph.shape[1], rng.normal(0.0, wobble) if wobble else 0.0, np.float32))
    grid = np.concatenate(cols, axis=1)
    rows = np.flatnonzero(grid.max(axis=1) > 0)
    if rows.size:
        grid = grid[rows[0] : rows[-1] + 1]
    return grid, np.concatenate(offsets)


def render_train_dotmatrix(
    text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str
) -> np.ndarray | None:
    """One training-family dot-matrix line (RGB uint8), or None when the line falls to the basic heads."""
    head = HEADS[int(rng.choice(len(HEADS), p=HEAD_P))]
    if head == "basic":
        return None
    return _print_line(text, rng, fonts, severity == "hard", head == "nine_pin")


def _print_line(  # noqa: PLR0915 - one printing recipe, step by step
    text: str, rng: np.random.Generator, fonts: Sequence[Font], hard: bool, nine_pin: bool
) -> np.ndarray:
    from luodi.synth.styles import _dot_kernel, _paper_color, pick_font

    worn = rng.random() < (0.45 if hard else 0.3)
    double = rng.random() < (0.35 if hard else 0.25)
    wavy = rng.random() < 0.25
    carbon = rng.random() < (0.4 if hard else 0.25)
    skewed = rng.random() < (0.4 if hard else 0.25)

    font = pick_font(text, fonts, rng, ("ming", "sans", "serif"))
    cell = int(rng.integers(11, 17)) if nine_pin else int(rng.integers(18, 27))
    grid, base_off = glyph_grid(text, font.get(cell), cell, rng, rng.uniform(0.15, 0.6) if wavy else 0.0)
    gh, gw = grid.shape

    ss = 3  # supersampling: dot centres between output pixels
    px = rng.uniform(3.0, 5.0) if nine_pin else rng.uniform(2.0, 3.2)
    py = px * rng.uniform(0.8, 1.25)
    radius = min(px, py) * (rng.uniform(0.22, 0.42) if nine_pin else rng.uniform(0.4, 0.6))
    mx, my = rng.uniform(0.8, 5.0), rng.uniform(0.4, 4.0)  # the detector's crop, in dots
    W = round((gw + 2 * mx) * px * ss)
    H = round((gh + 2 * my + 2) * py * ss)

    ii, jj = np.nonzero(grid)
    n = ii.size
    if worn:
        strength = rng.uniform(0.45, 0.8)
        ribbon = 1.0 - rng.uniform(0.25, 0.65) * dg.smooth_field((1, max(W, 2)), rng, cells=8)[0]
        drop = rng.uniform(0.05, 0.25)
    else:
        strength = rng.uniform(0.65, 1.0)
        ribbon = 1.0 - rng.uniform(0.0, 0.3) * dg.smooth_field((1, max(W, 2)), rng, cells=5)[0]
        drop = rng.uniform(0.0, 0.08)
    # two passes for the 9-pin head's CJK glyphs: the paper feed shifts the lower half
    lower = ii >= gh // 2
    two_pass = nine_pin and rng.random() < 0.7
    pass_dx = np.where(lower, rng.uniform(-1.0, 1.0) * px, 0.0) if two_pass else 0.0
    pass_dy = np.where(lower, rng.uniform(-0.4, 0.5) * py, 0.0) if two_pass else 0.0
    impulses = np.zeros((H, W), np.float32)

    def strike(dx: float, dy: float, gain: float) -> None:
        cx = (mx + jj + 0.5) * px + dx + pass_dx + rng.normal(0, 0.08 * px, n)
        cy = (my + 1.0 + ii + 0.5 + base_off[jj]) * py + dy + pass_dy + rng.normal(0, 0.08 * py, n)
        keep = rng.random(n) >= drop
        xs = np.clip(np.rint(cx * ss).astype(int), 0, W - 1)[keep]
        ys = np.clip(np.rint(cy * ss).astype(int), 0, H - 1)[keep]
        w = (gain * strength * rng.uniform(0.5, 1.0, n))[keep] * ribbon[xs]
        np.add.at(impulses, (ys, xs), w.astype(np.float32))

    strike(0.0, 0.0, 1.0)
    if double:
        strike(rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 1.5) * px, rng.uniform(-0.4, 0.4) * py, rng.uniform(0.3, 0.9))
    alpha = cv2.filter2D(impulses, -1, _dot_kernel(radius * ss), borderType=cv2.BORDER_CONSTANT)
    alpha = cv2.resize(
        np.clip(alpha, 0, 1), (max(1, round(W / ss)), max(1, round(H / ss))), interpolation=cv2.INTER_AREA
    )

    bg = _paper_color(rng, 195)
    g = int(rng.integers(15, 90))
    ink: Color = (g, g, g + int(rng.integers(0, 25)))
    if carbon:
        ink = CARBON_INKS[int(rng.integers(len(CARBON_INKS)))]
        tint = PAPER_TINTS[int(rng.integers(len(PAPER_TINTS)))]
        bg = tuple(int(min(c, t)) for c, t in zip(bg, tint, strict=True))  # type: ignore[assignment]
        alpha = alpha * rng.uniform(0.7, 0.95)
    elif rng.random() < 0.3:
        bg = tuple(int(min(c, t)) for c, t in zip(bg, PAPER_TINTS[int(rng.integers(4))], strict=True))  # type: ignore[assignment]
    sheet = dg.paper(alpha.shape, bg, rng, rng.uniform(2, 8))
    if carbon and rng.random() < 0.7:  # smudges where the carbon sheet was pressed
        sheet = dg.composite(sheet, dg.smooth_field(alpha.shape, rng, cells=5) ** 3 * rng.uniform(0.05, 0.22), ink)
    img = dg.composite(sheet, alpha, ink)
    if carbon:
        img = dg.gaussian_blur(img, rng.uniform(0.2, 0.45) * px)  # the smear: a fraction of a dot
    rows_px = rng.uniform(1.6, 2.8) if hard else rng.uniform(2.0, 3.4)  # scanned: pixels per dot row
    img = dg.low_resolution(img, min(1.0, rows_px / py), restore=False)
    if skewed:
        h, w = img.shape[:2]
        shear = np.array([[1.0, rng.uniform(-0.15, 0.15), 0.0], [0.0, 1.0, 0.0]], np.float32)
        img = cv2.warpAffine(img, shear, (w, h), borderMode=cv2.BORDER_REPLICATE)
        img, _ = dg.rotate(img, rng.uniform(0.4, 2.8) * rng.choice([-1.0, 1.0]), bg)
    if rng.random() < 0.3:
        img = dg.gaussian_blur(img, rng.uniform(0.3, 0.9))
    img = dg.gaussian_noise(img, rng.uniform(2, 12 if hard else 8), rng)
    if rng.random() < 0.6:
        img = dg.jpeg(img, int(rng.integers(30 if hard else 45, 95)))
    return img
