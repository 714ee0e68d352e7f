"""A late held-out dot-matrix family: printers written after every other family had been looked at.

``family="late"``: impact printers drawn by code of their own, with faces no other renderer family
draws, so that whatever the dot-matrix recipe ships (chosen on the other families, all of which are
development data by now: bench/results/finetune.md) is scored once on pixels nothing was chosen on.
It was written and committed before any model or transform was scored on it (7 Dec 2026, issue #18).

Each line comes from a 9-pin head printing near-letter-quality in two interleaved passes, or a
24-pin head in one pass, and then any of:

* **interleaved passes**: NLQ prints the glyph's odd dot rows on a second pass, half a pin lower;
  paper creep puts that pass off by a fraction of a dot sideways and the ribbon prints it weaker;
* **square pins**: rectangular dot marks smeared sideways by the moving carriage;
* **carbonless copy**: the line read from the second or third sheet of a multi-part form: a tinted
  sheet, violet-blue dye, soft dots and dye specks;
* **fax-grade scan**: half the vertical resolution and one bit per pixel at a random threshold,
  scaled back up; or a grey scan with a sharpening halo;
* **tight detector crop**: ink of the neighbouring lines at the top or bottom edge, a small tilt.

Faces: AR PL KaitiM GB, LXGW WenKai (the proportional cut, regular and bold) and Smiley Sans, which
no other family draws; without them, the eval family's faces. Point-sampled glyph grids (one sample
per dot at the dot's centre). All randomness comes from the generator passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from luodi.synth import degrade as dg
from luodi.synth.fonts import Font, installed_faces

Color = tuple[int, int, int]

# (key, file, family name, kind): faces of fonts-arphic-gkai00mp, fonts-lxgw-wenkai and
# fonts-smiley-sans that no other renderer family uses
LATE_FACES: tuple[tuple[str, str, str, str], ...] = (
    ("ar-pl-kaitim-gb", "gkai00mp.ttf", "AR PL KaitiM GB", "kai"),
    ("lxgw-wenkai", "LXGWWenKai-Regular.ttf", "LXGW WenKai", "kai"),
    ("lxgw-wenkai-bold", "LXGWWenKai-Bold.ttf", "LXGW WenKai", "kai"),
    ("smiley-sans", "SmileySans-Oblique.ttf", "Smiley Sans", "sans"),
)


def late_fonts() -> tuple[Font, ...]:
    return installed_faces(LATE_FACES)


def point_grid(text: str, font: Font, rows: int, level: float) -> np.ndarray:
    """0/1 dots for ``text``, ``rows`` high: each character drawn antialiased at 4x the cell and
    sampled at the centre of each dot (no area averaging), on at ``level`` of full ink."""
    from luodi.synth.styles import text_mask

    up = 4
    face = font.get(rows * up)
    cols: list[np.ndarray] = []
    for ch in text:
        width = rows if ord(ch) > 0x2E7F else (rows + 1) // 2
        cell = np.zeros((rows, width + 1), np.float32)
        if not ch.isspace():
            m = text_mask(ch, face, crop=True)
            scale = min(rows * up / max(m.shape[0], 1), width * up / max(m.shape[1], 1), 1.0)
            if scale < 1.0:
                m = cv2.resize(m, (max(1, int(m.shape[1] * scale)), max(1, int(m.shape[0] * scale))))
            gh, gw = max(1, m.shape[0] // up), max(1, m.shape[1] // up)
            ys = (np.arange(gh) * up + up // 2).clip(0, m.shape[0] - 1)
            xs = (np.arange(gw) * up + up // 2).clip(0, m.shape[1] - 1)
            dots = (m[np.ix_(ys, xs)] >= level).astype(np.float32)
            oy, ox = (rows - gh) // 2, (width - gw) // 2
            cell[oy : oy + gh, ox : ox + gw] = dots
        cols.append(cell)
    return np.concatenate(cols, axis=1)


def _strike(
    grid: np.ndarray, rng: np.random.Generator, pitch: tuple[float, float], ss: int, margin: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dot centres (supersampled pixels) and strengths; NLQ's second pass misplaced and weaker."""
    px, py = pitch
    ii, jj = np.nonzero(grid)
    cx = (margin[0] + jj + 0.5) * px
    cy = (margin[1] + ii + 0.5) * py
    w = rng.uniform(0.75, 1.0, ii.size)
    second = ii % 2 == 1
    cx = np.where(second, cx + rng.uniform(-0.45, 0.45) * px, cx)
    w = np.where(second, w * rng.uniform(0.55, 0.95), w)
    return cx * ss, cy * ss, w


def _carbonless(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy sheet: tinted paper, violet-blue dye, soft dots, specks of dye."""
    sheet_color: Color = ((250, 236, 170), (246, 206, 214), (200, 226, 246), (236, 236, 228))[int(rng.integers(4))]
    sheet = dg.paper(alpha.shape, sheet_color, rng, rng.uniform(3, 8))
    soft = cv2.GaussianBlur(alpha, (0, 0), rng.uniform(0.6, 1.2)) * rng.uniform(0.55, 0.85)
    specks = (rng.random(alpha.shape) < rng.uniform(0.001, 0.004)).astype(np.float32) * rng.uniform(0.3, 0.7)
    dye: Color = ((70, 60, 150), (60, 80, 170), (90, 60, 140))[int(rng.integers(3))]
    return dg.composite(sheet, np.clip(soft + specks, 0, 1), dye)


def _fax(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half vertical resolution, one bit per pixel, scaled back to the crop's size."""
    h, w = img.shape[:2]
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    half = cv2.resize(grey, (w, max(2, h // 2)), interpolation=cv2.INTER_AREA)
    cut = np.percentile(half, rng.uniform(15, 35))
    bits = np.where(half > cut + rng.uniform(-8, 12), 255, 0).astype(np.uint8)
    back = cv2.resize(bits, (w, h), interpolation=cv2.INTER_NEAREST)
    return np.asarray(cv2.cvtColor(back, cv2.COLOR_GRAY2RGB))


def _sharpened(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    blur = cv2.GaussianBlur(img, (0, 0), rng.uniform(1.0, 2.0))
    return np.asarray(cv2.addWeighted(img, 1.0 + rng.uniform(0.6, 1.5), blur, -rng.uniform(0.6, 1.5), 0))


def _neighbours(img: np.ndarray, rng: np.random.Generator, ink: Color) -> np.ndarray:
    """Ink of the lines above or below cut by a tight crop: dark fragments along one edge."""
    h, w = img.shape[:2]
    band = max(1, round(h * rng.uniform(0.05, 0.12)))
    alpha = np.zeros((h, w), np.float32)
    frag = (rng.random((band, max(1, w // 3))) < 0.35).astype(np.float32)
    frag = cv2.resize(frag, (w, band), interpolation=cv2.INTER_NEAREST) * rng.uniform(0.5, 0.9)
    if rng.random() < 0.5:
        alpha[:band] = frag
    else:
        alpha[h - band :] = frag
    return dg.composite(img, alpha, ink)


def render_late_dotmatrix(  # noqa: PLR0915 - one rendering recipe, step by step
    text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str
) -> np.ndarray:
    """One line from a late-family impact printer (RGB uint8)."""
    from luodi.synth.styles import _paper_color, pick_font

    hard = severity == "hard"
    nlq9 = rng.random() < 0.5
    square = rng.random() < 0.45
    copy = rng.random() < (0.4 if hard else 0.25)
    scan = rng.choice(["plain", "fax", "sharp"], p=[0.5, 0.2, 0.3] if hard else [0.65, 0.1, 0.25])
    crop = rng.random() < 0.35

    faces = [f for f in late_fonts() if f.covers(text)]
    font = faces[int(rng.integers(len(faces)))] if faces else pick_font(text, fonts, rng)
    rows = int(rng.integers(16, 19)) if nlq9 else int(rng.integers(20, 25))
    grid = point_grid(text, font, rows, rng.uniform(0.3, 0.6))
    gh, gw = grid.shape

    ss = 3
    py = rng.uniform(2.4, 3.4) if nlq9 else rng.uniform(1.9, 2.7)
    px = py * rng.uniform(0.9, 1.25)
    mx, my = rng.uniform(1.0, 3.0), rng.uniform(0.8, 2.2)
    W, H = round((gw + 2 * mx) * px * ss), round((gh + 2 * my) * py * ss)
    if nlq9:
        cx, cy, w = _strike(grid, rng, (px, py), ss, (mx, my))
    else:  # a 24-pin head prints every row in one pass: no misplaced second pass
        ii, jj = np.nonzero(grid)
        cx, cy = (mx + jj + 0.5) * px * ss, (my + ii + 0.5) * py * ss
        w = rng.uniform(0.7, 1.0, ii.size)
    w = w * (rng.uniform(0.5, 0.85) if hard else rng.uniform(0.7, 1.0))
    xs = np.clip(np.rint(cx).astype(int), 0, W - 1)
    ys = np.clip(np.rint(cy).astype(int), 0, H - 1)
    impulses = np.zeros((H, W), np.float32)
    np.add.at(impulses, (ys, xs), w.astype(np.float32))
    radius = py * ss * rng.uniform(0.3, 0.55)
    r = int(np.ceil(radius))
    if square:  # rectangular pin marks, smeared along the carriage's travel
        kernel = np.ones((2 * r + 1, 2 * r + 1 + int(rng.integers(0, r + 1))), np.float32)
    else:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)).astype(np.float32)
    alpha = cv2.filter2D(impulses, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    alpha = cv2.resize(
        np.clip(alpha, 0, 1), (max(1, round(W / ss)), max(1, round(H / ss))), interpolation=cv2.INTER_AREA
    )

    ink: Color = ((20, 20, 20), (35, 35, 50), (50, 45, 45))[int(rng.integers(3))]
    if copy:
        img = _carbonless(alpha, rng)
    else:
        bg = _paper_color(rng, 200)
        img = dg.composite(dg.paper(alpha.shape, bg, rng, rng.uniform(2, 6)), alpha, ink)
    if crop:
        img = _neighbours(img, rng, ink)
        img, _ = dg.rotate(img, rng.uniform(-1.2, 1.2), tuple(int(v) for v in img[0, 0]))  # type: ignore[arg-type]
    if scan == "fax":
        img = _fax(img, rng)
    elif scan == "sharp":
        img = _sharpened(img, rng)
    img = dg.gaussian_noise(img, rng.uniform(1.5, 7 if hard else 4), rng)
    if rng.random() < 0.5:
        img = dg.jpeg(img, int(rng.integers(45 if hard else 60, 95)))
    return img
