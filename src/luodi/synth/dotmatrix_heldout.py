"""Held-out dot-matrix printers: harder impact-printer output that no fine-tuning recipe renders.

The "eval" renderer family's dot-matrix lines turned out easier than real-world-like ones: stock
PP-OCRv6 small reads 0.895 of them but only 0.745 of an independent renderer's. This family
(``family="heldout"``) is drawn by its own code path, with printer faults of its own, so a blind
dot-matrix number means something. Each line is printed by one of two heads and then suffers any
of four faults:

* **9-pin head** (most lines): CJK glyphs rasterised coarsely (12-15 dots high, strokes merge or
  drop out) and printed in two passes of the head, upper and lower half, with the paper feed
  between them shifting the halves; pins spaced wide enough that strokes are rows of separate dots.
  Otherwise a **24-pin head** at a finer pitch but with a Song-style ROM face.
* **faded ribbon**: a worn ribbon gives weak, uneven strikes; many dots barely print.
* **misregistered passes**: the bidirectional head's return pass lands 1-2 dots off, printing
  every glyph twice, or the line's characters sit on a wavering baseline.
* **carbon copy**: the lower sheet of a multi-part form: blue-violet carbon, smeared dots, low
  contrast, smudges.
* **skewed feed**: the line runs at 0.8-2.5 degrees and its glyphs shear, as from a badly fed form.

All randomness comes from the generator passed in: a seed reproduces a line byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import ImageFont

from luodi.synth import degrade as dg
from luodi.synth.fonts import Font, installed_faces

Color = tuple[int, int, int]

# A Song face from fonts-arphic-gbsn00lp (installed with luodi's fonts): the look of printer ROM
# fonts, and a design no recipe's renderer family uses. Without it the eval faces are used.
ROM_FACES: tuple[tuple[str, str, str], ...] = (("ar-pl-sungti-gb", "gbsn00lp.ttf", "AR PL SungtiL GB"),)


def rom_fonts() -> tuple[Font, ...]:
    return installed_faces(tuple((key, file, family, "ming") for key, file, family in ROM_FACES))


def _glyph_cells(
    text: str, font: ImageFont.FreeTypeFont, cell: int, rng: np.random.Generator, wobble: float
) -> tuple[np.ndarray, np.ndarray]:
    """A 0/1 dot grid for ``text`` (fixed cells, no antialiasing) and each dot column's baseline offset.

    ``wobble``: how far (in dots) a character may sit off the line, as on a worn platen.
    """
    from luodi.synth.styles import text_mask

    ascent, descent = font.getmetrics()
    h = ascent + descent
    gap = int(rng.integers(0, 2))
    cols: list[np.ndarray] = []
    offsets: list[np.ndarray] = []
    for ch in text:
        width = cell if ord(ch) > 0x2E7F else cell // 2 + 1
        if ch.isspace():
            glyph = np.zeros((h, cell // 2 + gap), np.float32)
        else:
            m = (text_mask(ch, font, antialias=False, crop=False) > 0.5).astype(np.float32)
            ink = np.flatnonzero(m.max(axis=0) > 0)
            m = m[:h, ink[0] : ink[-1] + 1] if ink.size else np.zeros((h, 1), np.float32)
            m = m[:, :width]
            glyph = np.zeros((h, width + gap), np.float32)
            off = (width - m.shape[1]) // 2
            glyph[: m.shape[0], off : off + m.shape[1]] = m
        cols.append(glyph)
        offsets.append(np.full(glyph.shape[1], rng.normal(0.0, wobble) if wobble else 0.0, np.float32))
    grid = np.concatenate(cols, axis=1)
    rows = np.flatnonzero(grid.max(axis=1) > 0)
    if rows.size:
        grid = grid[rows[0] : rows[-1] + 1]
    return grid, np.concatenate(offsets)


def _oval_kernel(radius: float, stretch: float, vertical: bool) -> np.ndarray:
    r = int(np.ceil(radius * stretch)) + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    if vertical:
        yy = yy / stretch
    else:
        xx = xx / stretch
    d = np.sqrt(xx * xx + yy * yy)
    k: np.ndarray = np.clip(radius + 0.6 - d, 0.0, 1.0) * (1.0 - 0.3 * np.clip(d / max(radius, 1e-6), 0, 1) ** 2)
    return k.astype(np.float32)


def render_heldout_dotmatrix(  # noqa: PLR0915 - one rendering recipe, step by step
    text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str
) -> np.ndarray:
    """One line from a held-out impact printer (RGB uint8)."""
    from luodi.synth.styles import _paper_color, pick_font

    hard = severity == "hard"
    nine_pin = rng.random() < 0.65
    faded = rng.random() < (0.4 if hard else 0.3)
    misregistered = rng.random() < (0.35 if hard else 0.25)
    carbon = rng.random() < (0.4 if hard else 0.25) and not faded  # both at once: mostly illegible
    skewed = rng.random() < (0.45 if hard else 0.3)

    rom = [f for f in rom_fonts() if f.covers(text)]
    font = rom[0] if rom and rng.random() < 0.6 else pick_font(text, fonts, rng, ("ming", "sans", "bitmap"))
    cell = int(rng.integers(12, 16)) if nine_pin else int(rng.choice([22, 24]))
    wobble = rng.uniform(0.25, 0.6) if misregistered and rng.random() < 0.5 else 0.0
    grid, base_off = _glyph_cells(text, font.get(cell), cell, rng, wobble)
    gh, gw = grid.shape

    ss = 3
    px = rng.uniform(3.6, 5.2) if nine_pin else rng.uniform(2.0, 2.8)
    py = px * rng.uniform(0.8, 1.25)
    radius = min(px, py) * (rng.uniform(0.3, 0.45) if nine_pin else rng.uniform(0.45, 0.65))
    mx, my = rng.uniform(1.5, 4.0), rng.uniform(0.8, 2.0)
    W = round((gw + 2 * mx) * px * ss)
    H = round((gh + 2 * my + 3) * py * ss)  # head room for the baseline wobble and pass shift

    ii, jj = np.nonzero(grid)
    n = ii.size
    if faded:
        strength = rng.uniform(0.45, 0.7)
        ribbon = 1.0 - rng.uniform(0.3, 0.6) * dg.smooth_field((1, max(W, 2)), rng, cells=10)[0]
        drop = rng.uniform(0.08, 0.22)
    else:
        strength = rng.uniform(0.65, 1.0)
        ribbon = 1.0 - rng.uniform(0.05, 0.35) * dg.smooth_field((1, max(W, 2)), rng, cells=6)[0]
        drop = rng.uniform(0.0, 0.09 if hard else 0.06)
    # the 9-pin head's two passes: the lower half of each glyph row lands shifted sideways and down
    lower = ii >= gh // 2
    pass_dx = np.where(lower, rng.uniform(-0.9, 0.9) * px, 0.0) if nine_pin else 0.0
    pass_dy = np.where(lower, rng.uniform(-0.2, 0.4) * py, 0.0) if nine_pin else 0.0
    impulses = np.zeros((H, W), np.float32)

    def strike(dx: float, dy: float, gain: float) -> None:
        cx = (mx + jj + 0.5) * px + dx + pass_dx + rng.normal(0, 0.09 * px, n)
        cy = (my + 1.5 + ii + 0.5 + base_off[jj]) * py + dy + pass_dy + rng.normal(0, 0.09 * py, n)
        keep = rng.random(n) >= drop
        xs = np.clip(np.rint(cx * ss).astype(int), 0, W - 1)[keep]
        ys = np.clip(np.rint(cy * ss).astype(int), 0, H - 1)[keep]
        w = (gain * strength * rng.uniform(0.55, 1.0, n))[keep] * ribbon[xs]
        np.add.at(impulses, (ys, xs), w.astype(np.float32))

    strike(0.0, 0.0, 1.0)
    if misregistered and not wobble:  # the return pass prints every glyph again, 1-2 dots off
        strike(rng.choice([-1, 1]) * rng.uniform(0.6, 1.3) * px, rng.uniform(-0.4, 0.4) * py, rng.uniform(0.4, 0.9))
    kernel = _oval_kernel(radius * ss, rng.uniform(1.0, 1.5), bool(rng.random() < 0.5))
    alpha = cv2.filter2D(impulses, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    alpha = cv2.resize(
        np.clip(alpha, 0, 1), (max(1, round(W / ss)), max(1, round(H / ss))), interpolation=cv2.INTER_AREA
    )

    bg = _paper_color(rng, 200)
    ink: Color = (int(rng.integers(20, 80)),) * 3  # type: ignore[assignment]
    if carbon:  # the copy underneath: carbon transfer, on tinted form paper
        ink = ((70, 55, 150), (55, 60, 125), (95, 70, 140))[int(rng.integers(3))]
        tint = ((250, 225, 230), (250, 245, 205), (220, 232, 250), (235, 235, 235))[int(rng.integers(4))]
        bg = tuple(int(min(c, t)) for c, t in zip(bg, tint, strict=True))  # type: ignore[assignment]
        alpha = alpha * rng.uniform(0.75, 0.95)
    sheet = dg.paper(alpha.shape, bg, rng, rng.uniform(3, 8))
    if carbon:  # smudges where the carbon sheet was pressed
        smudge = dg.smooth_field(alpha.shape, rng, cells=6) ** 3 * rng.uniform(0.08, 0.2)
        sheet = dg.composite(sheet, smudge, ink)
    img = dg.composite(sheet, alpha, ink)
    if carbon:
        img = dg.gaussian_blur(img, rng.uniform(0.9, 1.8))
    # scanned at 150-200 dpi: two to three pixels per dot row
    rows_px = rng.uniform(2.3, 3.0) if hard else rng.uniform(2.4, 3.2)
    target_h = rows_px * (gh + 2 * my + 3) * py / px
    img = dg.low_resolution(img, min(1.0, target_h / img.shape[0]), restore=False)
    if skewed:  # after scanning resolution: the crop a detector hands over, skew and all
        h, w = img.shape[:2]
        shear = np.array([[1.0, rng.uniform(-0.2, 0.2), 0.0], [0.0, 1.0, 0.0]], np.float32)
        img = cv2.warpAffine(img, shear, (w, h), borderMode=cv2.BORDER_REPLICATE)
        img, _ = dg.rotate(img, rng.uniform(0.8, 2.5) * rng.choice([-1.0, 1.0]), bg)
    img = dg.gaussian_noise(img, rng.uniform(3, 10 if hard else 7), rng)
    if rng.random() < 0.7:
        img = dg.jpeg(img, int(rng.integers(35 if hard else 50, 90)))
    return img
