"""Domain-randomised dot-matrix printers for training: every line its own printer.

Fine-tunes on the train family's printers (:mod:`luodi.synth.dotmatrix_train`: three heads, five
faults) learned those printers and lost on dot-matrix renderings they never saw (bench/results/
finetune.md). Here no two lines share a printer: each samples every setting of the head, the
ribbon, the paper and the scan from wide ranges, so that what stays constant across lines is only
what all dot-matrix print has (strokes made of separate pin strikes on a grid), not one printer's
look. The settings drawn per line:

* **pin grid**: the glyphs rasterised onto a coarse grid of 12 to 26 dot rows (Latin-only lines 7
  to 26), either cut from the font hinted at that size (one cell per character, the way a ROM font
  sits in fixed cells) or the whole line drawn large and area-sampled down to the grid (other
  stroke shapes), thin or bold;
  condensed to expanded columns (0.6-1.4 dot columns per row), slanted;
* **dots**: pitch across and down drawn apart, diameter from a third of the pitch (separate pin
  marks) to more than the pitch (merged strokes), round, square or elliptic at any angle;
* **head and ribbon**: strike strength, ink fading along the line and across the pin rows, dead or
  weak pins, strikes that do not print, dot jitter, a misregistered second pass (the lower half of
  the head or every other column), a double strike, ink bleed, a sideways smear;
* **paper and scan**: plain or tinted paper with a grain, ink of several colours, pre-printed
  rules, 1.5-4 pixels per dot row, blur, noise, JPEG, at times a two-level (fax-like) scan.

Fonts are the train family's faces only; the eval family's degradations (motion blur, side
lighting, dust) stay out. All randomness comes from the generator passed in: a seed reproduces a
line byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from luodi.synth import degrade as dg
from luodi.synth.fonts import Font

Color = tuple[int, int, int]

INKS: tuple[Color, ...] = ((20, 20, 24), (55, 55, 60), (40, 40, 110), (70, 50, 120), (110, 35, 40), (35, 60, 45))
TINTS: tuple[Color, ...] = ((255, 255, 255), (252, 228, 234), (252, 246, 210), (222, 234, 252), (230, 242, 226))


def _sampled_grid(text: str, font: Font, rows: int, cols_per_row: float, level: float) -> np.ndarray:
    """The whole line drawn large, area-sampled down to ``rows`` dot rows, cut at ``level``."""
    from luodi.synth.styles import text_mask

    big = text_mask(text, font.get(rows * 4), crop=True)
    h, w = big.shape
    out_w = max(1, round(w / h * rows * cols_per_row))
    small = cv2.resize(big, (out_w, rows), interpolation=cv2.INTER_AREA)
    grid = (small >= level).astype(np.float32)
    ink_rows = np.flatnonzero(grid.max(axis=1) > 0)
    return grid[ink_rows[0] : ink_rows[-1] + 1] if ink_rows.size else grid


def _cell_grid(text: str, font: Font, rows: int, cols_per_row: float, rng: np.random.Generator) -> np.ndarray:
    """One fixed cell per character, the glyph hinted at ``rows`` px; columns then resampled."""
    from luodi.synth.dotmatrix_train import glyph_grid

    grid, _ = glyph_grid(text, font.get(rows), rows, rng, 0.0)
    if abs(cols_per_row - 1.0) > 0.05:  # condensed or expanded mode: fewer or more dot columns
        w = max(1, round(grid.shape[1] * cols_per_row))
        grid = (cv2.resize(grid, (w, grid.shape[0]), interpolation=cv2.INTER_LINEAR) >= 0.5).astype(np.float32)
    return grid


def _kernel(radius_x: float, radius_y: float, shape: str, angle: float) -> np.ndarray:
    """One pin strike's ink: round, square or elliptic, soft-edged, rotated by ``angle`` degrees."""
    r = int(np.ceil(max(radius_x, radius_y) * 1.5)) + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    t = np.deg2rad(angle)
    u, v = xx * np.cos(t) + yy * np.sin(t), -xx * np.sin(t) + yy * np.cos(t)
    if shape == "square":
        d = np.maximum(np.abs(u) / radius_x, np.abs(v) / radius_y)
    else:
        d = np.sqrt((u / radius_x) ** 2 + (v / radius_y) ** 2)
    edge = 1.0 / max(min(radius_x, radius_y), 1e-3)  # a soft rim about one pixel wide
    k: np.ndarray = np.clip((1.0 - d) / edge + 0.5, 0.0, 1.0) * (1.0 - 0.3 * np.clip(d, 0, 1) ** 2)
    return k.astype(np.float32)


def render_random_dotmatrix(text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str) -> np.ndarray:
    """One line (RGB uint8) from a printer whose every setting is drawn for this line alone."""
    from luodi.synth.styles import pick_font

    hard = severity == "hard"
    font = pick_font(text, fonts, rng)
    # CJK needs 12 dot rows or more to stay legible (real heads: 16 in two passes, 24); Latin 7 or more
    cjk = any(ord(ch) > 0x2E7F for ch in text)
    rows = int(rng.integers(12 if cjk else 7, 27))
    # condensed columns and area-sampled strokes only where there are dot rows enough to keep them legible
    cols_per_row = float(rng.choice([1.0, rng.uniform(0.75 if rows < 16 else 0.6, 1.4)]))
    if rows >= 15 and rng.random() < 0.5:
        grid = _sampled_grid(text, font, rows, cols_per_row, rng.uniform(0.35, 0.6))
    else:
        grid = _cell_grid(text, font, rows, cols_per_row, rng)
    alpha, px, py = _strike(grid, rng, hard)
    return _paper_and_scan(alpha, px, py, grid.shape[0], rng, hard)


def _strike(grid: np.ndarray, rng: np.random.Generator, hard: bool) -> tuple[np.ndarray, float, float]:  # noqa: PLR0915 - one head, step by step
    """Ink coverage of the pin strikes for a 0/1 dot grid, supersampled then area-reduced; pitches in px."""
    gh, gw = grid.shape
    ss = 3
    py = rng.uniform(2.2, 5.0)
    px = py * rng.uniform(0.7, 1.4)
    diameter = rng.uniform(0.4, 1.15) if not hard else rng.uniform(0.35, 1.2)
    aspect = float(rng.choice([1.0, rng.uniform(0.6, 1.6)]))
    rx = max(0.35, min(px, py) * diameter / 2 * np.sqrt(aspect))
    ry = max(0.35, min(px, py) * diameter / 2 / np.sqrt(aspect))
    shape = str(rng.choice(["round", "round", "square", "ellipse"]))
    angle = rng.uniform(0, 180) if shape == "ellipse" else 0.0
    if shape == "ellipse" and aspect == 1.0:
        rx *= 1.4
    slant = rng.uniform(-0.25, 0.25) if rng.random() < 0.3 else 0.0  # dot columns leaning, in dots per row
    mx, my = rng.uniform(0.8, 5.0), rng.uniform(0.5, 3.5)
    W = round((gw + 2 * mx + abs(slant) * gh) * px * ss)
    H = round((gh + 2 * my + 1) * py * ss)

    ii, jj = np.nonzero(grid)
    n = ii.size
    strength = rng.uniform(0.65, 1.0) if hard else rng.uniform(0.8, 1.1)
    # ribbon: fading along the line (a ramp and a wave) and across the pin rows (ribbon off its track)
    along = np.linspace(1.0, 1.0 - rng.uniform(0.0, 0.45 if hard else 0.3), max(W, 2))
    if rng.random() < 0.5:
        along = along[::-1]
    along = along * (1.0 - rng.uniform(0.0, 0.3) * dg.smooth_field((1, max(W, 2)), rng, cells=6)[0])
    across = 1.0 - rng.uniform(0.0, 0.45 if hard else 0.3) * np.linspace(0, 1, gh) ** 2
    if rng.random() < 0.5:
        across = across[::-1]
    gain_row = across.copy()
    for _ in range(int(rng.integers(0, 3 if hard else 2))):  # dead or weak pins
        gain_row[int(rng.integers(gh))] *= rng.uniform(0.0, 0.4)
    drop = rng.uniform(0.0, 0.15 if hard else 0.08)
    jitter = rng.uniform(0.02, 0.15)
    wave = (
        rng.uniform(0.0, 0.5) * np.sin(np.linspace(0, rng.uniform(1, 6), gw) + rng.uniform(0, 6))
        if rng.random() < 0.3
        else np.zeros(gw)
    )
    split = rng.choice(["none", "half", "columns"], p=[0.45, 0.35, 0.2])
    shift_x = rng.uniform(-1.0, 1.0) * px
    shift_y = rng.uniform(-0.5, 0.5) * py
    moved = ii >= int(rng.integers(gh // 3, max(gh // 3 + 1, 2 * gh // 3 + 1))) if split == "half" else jj % 2 == 1
    dx_pass = np.where(moved, shift_x, 0.0) if split != "none" else 0.0
    dy_pass = np.where(moved, shift_y, 0.0) if split != "none" else 0.0
    impulses = np.zeros((H, W), np.float32)

    def strike(dx: float, dy: float, gain: float) -> None:
        cx = (mx + jj + 0.5 + slant * (gh - ii)) * px + dx + dx_pass + rng.normal(0, jitter * px, n)
        cy = (my + 0.5 + ii + 0.5 + wave[jj]) * py + dy + dy_pass + rng.normal(0, jitter * py, n)
        keep = rng.random(n) >= drop
        xs = np.clip(np.rint(cx * ss).astype(int), 0, W - 1)[keep]
        ys = np.clip(np.rint(cy * ss).astype(int), 0, H - 1)[keep]
        w = (gain * strength * rng.uniform(0.7, 1.0, n) * gain_row[ii])[keep] * along[xs]
        np.add.at(impulses, (ys, xs), w.astype(np.float32))

    strike(0.0, 0.0, 1.0)
    if rng.random() < 0.3:  # double strike (emphasised mode), a little off
        strike(rng.uniform(0.15, 0.8) * px * rng.choice([-1, 1]), rng.uniform(-0.3, 0.3) * py, rng.uniform(0.5, 1.0))
    alpha = cv2.filter2D(impulses, -1, _kernel(rx * ss, ry * ss, shape, angle), borderType=cv2.BORDER_CONSTANT)
    alpha = cv2.resize(
        np.clip(alpha, 0, 1), (max(1, round(W / ss)), max(1, round(H / ss))), interpolation=cv2.INTER_AREA
    )
    # small, weak dots average out to a grey haze at scan resolution; a scanner's exposure (or a
    # reader) makes the darkest strokes dark again: without this some lines vanish into the paper
    inked = alpha[alpha > 0.05]
    top = float(np.percentile(inked, 98)) if inked.size else 1.0
    target = rng.uniform(0.5, 0.8) if hard else rng.uniform(0.65, 0.95)
    if top < target:
        alpha = np.clip(alpha * (target / max(top, 1e-3)), 0, 1)
    if rng.random() < 0.2:  # ink bleeding into the paper
        alpha = np.clip(cv2.GaussianBlur(alpha, (0, 0), rng.uniform(0.4, 1.0)) * rng.uniform(1.2, 1.8), 0, 1)
    if rng.random() < 0.25:  # smeared sideways by the carriage or the ribbon
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=rng.uniform(0.2, 0.5) * px, sigmaY=0.3)
    return alpha, px, py


def _paper_and_scan(
    alpha: np.ndarray, px: float, py: float, rows: int, rng: np.random.Generator, hard: bool
) -> np.ndarray:
    """The strikes on paper, then scanned: resolution, blur, contrast, noise, JPEG."""
    from luodi.synth.styles import _form_rules, _paper_color

    bg = _paper_color(rng, 195 if hard else 215)
    tint = TINTS[int(rng.integers(len(TINTS)))]
    bg = tuple(int(min(c, t)) for c, t in zip(bg, tint, strict=True))  # type: ignore[assignment]
    ink = INKS[int(rng.integers(len(INKS)))]
    sheet = dg.paper(alpha.shape, bg, rng, rng.uniform(1, 9))
    if rng.random() < 0.2:
        sheet = _form_rules(sheet, rng)
    img = dg.composite(sheet, alpha, ink)
    rows_px = rng.uniform(1.6, 3.0) if hard else rng.uniform(2.0, 4.0)
    rows_px = max(rows_px, 24.0 / rows)  # glyphs below ~24 px high are illegible to any reader
    img = dg.low_resolution(img, min(1.0, rows_px / py), restore=False)
    if rng.random() < 0.25:
        img, _ = dg.rotate(img, rng.uniform(-2.0, 2.0), bg)
    if rng.random() < 0.35:
        img = dg.gaussian_blur(img, rng.uniform(0.3, 0.8))
    if rng.random() < 0.3:
        img = dg.fade(img, rng.uniform(0.65 if hard else 0.75, 0.95))
    if rows_px >= 2.5 and rng.random() < 0.08:  # a two-level scan (fax, copier): ink or paper, nothing between
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        _, bw = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        img = cv2.cvtColor(bw, cv2.COLOR_GRAY2RGB)
    img = dg.gaussian_noise(img, rng.uniform(1, 10 if hard else 6), rng)
    if rng.random() < 0.5:
        img = dg.jpeg(img, int(rng.integers(30 if hard else 50, 95)))
    return img
