"""A fresh dot-matrix family: printers written to confirm a finding once, on lines no one has tuned on.

``family="fresh"``: impact printers drawn by code of their own, with faces no other renderer family
uses and faults the other families do not draw, so that a change chosen on the other sets (for
instance the dot-joining transform of bench/results/finetune.md) is tested on pixels it was not
chosen on. It was written before any model or transform was scored on it, and is meant to be
reported blind exactly once; after that it is development data like the rest.

Each line comes from an 18- or 24-pin head in one of three print modes, then suffers any of:

* **high-speed draft**: a pin cannot fire on two neighbouring columns, so every dot whose left
  neighbour printed is skipped: strokes become runs of every other dot;
* **expanded or condensed** characters: every dot column struck twice side by side, or columns at
  0.6 of the normal pitch so the dots overlap;
* **dead pins**: one or two pins of the head never strike, leaving a white row through every
  character of the line;
* **ribbon off its track**: the ribbon rides high or low, so the top or bottom dots of each glyph
  print faint;
* **ink bleed**: a fresh ribbon on absorbent paper: dots spread into fuzzy blobs;
* **pre-printed form**: the line printed over a coloured form's rule or box edge;
* **phone photo**: uneven light, a colour cast and a little perspective instead of a flat scan.

Faces: LXGW WenKai Mono (regular and bold) and Noto Sans Mono CJK SC Bold, which no other family
draws; without them, the eval family's faces. All randomness comes from the generator passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from luodi.synth import degrade as dg
from luodi.synth.fonts import Font, installed_faces

Color = tuple[int, int, int]

# (key, file, family name, kind): faces of fonts-lxgw-wenkai and fonts-noto-cjk no family uses
FRESH_FACES: tuple[tuple[str, str, str, str], ...] = (
    ("lxgw-wenkai-mono", "LXGWWenKaiMono-Regular.ttf", "LXGW WenKai Mono", "kai"),
    ("lxgw-wenkai-mono-bold", "LXGWWenKaiMono-Bold.ttf", "LXGW WenKai Mono", "kai"),
    ("noto-sans-mono-sc-bold", "NotoSansCJK-Bold.ttc", "Noto Sans Mono CJK SC", "sans"),
)


def fresh_fonts() -> tuple[Font, ...]:
    return installed_faces(FRESH_FACES)


def _dot_grid(text: str, font: Font, cell: int) -> np.ndarray:
    """0/1 dots for ``text``: each character rasterised without antialiasing in a fixed cell."""
    from luodi.synth.styles import text_mask

    face = font.get(cell)
    ascent, descent = face.getmetrics()
    h = ascent + descent
    cols: list[np.ndarray] = []
    for ch in text:
        width = cell if ord(ch) > 0x2E7F else (cell + 1) // 2
        glyph = np.zeros((h, width + 1), np.float32)
        if not ch.isspace():
            m = (text_mask(ch, face, antialias=False, crop=True) > 0.5).astype(np.float32)[:h, :width]
            off = (width - m.shape[1]) // 2
            glyph[: m.shape[0], off : off + m.shape[1]] = m
        cols.append(glyph)
    grid = np.concatenate(cols, axis=1)
    rows = np.flatnonzero(grid.max(axis=1) > 0)
    return grid[rows[0] : rows[-1] + 1] if rows.size else grid


def _high_speed(grid: np.ndarray) -> np.ndarray:
    """Draft at high speed: a pin fires on a column only if it did not fire on the one before."""
    out = grid.copy()
    for j in range(1, out.shape[1]):
        out[:, j] = np.where(out[:, j - 1] > 0, 0.0, out[:, j])
    return out


def _blob_kernel(radius: float, rng: np.random.Generator) -> np.ndarray:
    r = int(np.ceil(radius * 1.6)) + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    d = np.sqrt(xx * xx + yy * yy) / max(radius, 1e-6)
    k: np.ndarray = np.clip(1.15 - d, 0.0, 1.0) ** rng.uniform(0.5, 0.9)
    return k.astype(np.float32)


def _form_print(sheet: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A coloured pre-printed rule (and sometimes a box edge) where the line was printed."""
    h, w = sheet.shape[:2]
    color: Color = ((210, 70, 60), (60, 150, 90), (70, 110, 200))[int(rng.integers(3))]
    alpha = np.zeros((h, w), np.float32)
    thick = max(1, round(h * rng.uniform(0.02, 0.05)))
    y = int(h * rng.uniform(0.55, 0.95))
    alpha[y : y + thick] = rng.uniform(0.5, 0.9)
    if rng.random() < 0.5:
        x = int(w * rng.uniform(0.1, 0.9))
        alpha[:, x : x + thick] = rng.uniform(0.5, 0.9)
    return dg.composite(sheet, alpha, color)


def _phone_photo(img: np.ndarray, rng: np.random.Generator, bg: Color) -> np.ndarray:
    img, _ = dg.perspective(img, rng.uniform(0.02, 0.06), rng, bg)
    h, w = img.shape[:2]
    light = 1.0 - rng.uniform(0.15, 0.4) * dg.smooth_field((h, w), rng, cells=3)
    cast = np.asarray([rng.uniform(0.85, 1.0), rng.uniform(0.9, 1.0), rng.uniform(0.8, 1.0)], np.float32)
    out = img.astype(np.float32) * light[..., None] * cast
    return np.clip(out, 0, 255).astype(np.uint8)


def render_fresh_dotmatrix(  # noqa: PLR0915 - one rendering recipe, step by step
    text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str
) -> np.ndarray:
    """One line from a fresh-family impact printer (RGB uint8)."""
    from luodi.synth.styles import _paper_color, pick_font

    hard = severity == "hard"
    pins24 = rng.random() < 0.55
    mode = rng.choice(["normal", "expanded", "condensed"], p=[0.6, 0.2, 0.2])
    draft = rng.random() < (0.45 if hard else 0.3)
    dead = int(rng.integers(1, 3)) if rng.random() < (0.4 if hard else 0.25) else 0
    ribbon_off = rng.random() < (0.35 if hard else 0.25)
    bleed = rng.random() < 0.3
    form = rng.random() < 0.3
    photo = rng.random() < (0.35 if hard else 0.25)

    faces = [f for f in fresh_fonts() if f.covers(text)]
    font = faces[int(rng.integers(len(faces)))] if faces else pick_font(text, fonts, rng)
    cell = int(rng.integers(18, 25)) if pins24 else int(rng.integers(13, 17))
    grid = _dot_grid(text, font, cell)
    if draft:
        grid = _high_speed(grid)
    if mode == "expanded":
        grid = np.repeat(grid, 2, axis=1)
    gh, gw = grid.shape

    ss = 3
    py = rng.uniform(2.2, 3.0) if pins24 else rng.uniform(3.4, 4.6)
    px = py * rng.uniform(0.85, 1.1) * (0.6 if mode == "condensed" else 1.0)
    radius = py * (rng.uniform(0.4, 0.6) if pins24 else rng.uniform(0.32, 0.5))
    mx, my = rng.uniform(1.5, 3.5), rng.uniform(1.0, 2.0)
    W = round((gw + 2 * mx) * px * ss)
    H = round((gh + 2 * my) * py * ss)

    ii, jj = np.nonzero(grid)
    n = ii.size
    head = min(gh, 24 if pins24 else 18)
    pins = ii % head  # the pin of the head that strikes each dot row
    alive = ~np.isin(pins, rng.choice(head, size=dead, replace=False)) if dead and head > dead else np.ones(n, bool)
    strength = rng.uniform(0.55, 0.95) if hard else rng.uniform(0.7, 1.0)
    w = strength * rng.uniform(0.6, 1.0, n)
    if ribbon_off:  # the ribbon rides high or low: one edge of every glyph prints faint
        edge = ii / max(gh - 1, 1)
        w = w * (1.0 - rng.uniform(0.5, 0.85) * (edge if rng.random() < 0.5 else 1.0 - edge) ** 1.5)
    cx = (mx + jj + 0.5) * px + rng.normal(0, 0.07 * px, n)
    cy = (my + ii + 0.5) * py + rng.normal(0, 0.07 * py, n)
    xs = np.clip(np.rint(cx * ss).astype(int), 0, W - 1)[alive]
    ys = np.clip(np.rint(cy * ss).astype(int), 0, H - 1)[alive]
    impulses = np.zeros((H, W), np.float32)
    np.add.at(impulses, (ys, xs), w[alive].astype(np.float32))
    kernel = _blob_kernel(radius * ss * (1.3 if bleed else 1.0), rng)
    alpha = cv2.filter2D(impulses, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    if bleed:  # ink wicking into the paper around each dot
        alpha = alpha + 0.35 * cv2.GaussianBlur(np.clip(alpha, 0, 1), (0, 0), radius * ss * 0.8)
    alpha = cv2.resize(
        np.clip(alpha, 0, 1), (max(1, round(W / ss)), max(1, round(H / ss))), interpolation=cv2.INTER_AREA
    )

    bg = _paper_color(rng, 205)
    sheet = dg.paper(alpha.shape, bg, rng, rng.uniform(2, 7))
    if form:
        sheet = _form_print(sheet, rng)
    ink: Color = ((30, 30, 35), (45, 40, 70), (25, 25, 25), (60, 50, 90))[int(rng.integers(4))]
    img = dg.composite(sheet, alpha, ink)
    rows_px = rng.uniform(2.2, 3.2) if hard else rng.uniform(2.5, 3.5)
    img = dg.low_resolution(img, min(1.0, rows_px / py), restore=False)
    if photo:
        img = _phone_photo(img, rng, bg)
    img = dg.gaussian_noise(img, rng.uniform(2, 9 if hard else 6), rng)
    if rng.random() < 0.6:
        img = dg.jpeg(img, int(rng.integers(40 if hard else 55, 92)))
    return img
