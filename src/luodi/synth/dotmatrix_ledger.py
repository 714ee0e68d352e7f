"""A ledger-printer held-out dot-matrix family: registered on 8 Dec 2026 before anything was scored on it.

``family="ledger"``: impact printers of accounting offices, drawn by code of their own, written after
every other dot-matrix family (train, eval, held-out, fresh, late) had become development data
(bench/results/finetune.md). It exists to score, once, whatever the dot-matrix recipe ships after
this session's choices; its text (SMP2019 utterances, ``bench/finetune_bench.py``) is a corpus no
other line set reads.

What differs from the other families' printers:

* **ROM bitmap glyphs**: every character is the hinted, non-antialiased bitmap of a face at exactly
  the head's cell size (16 x 16 or 24 x 24 dots for Chinese, half width for ASCII on the same
  baseline), as the GB2312 character ROMs of ledger printers hold it;
* **double-density columns**: the carriage fires twice per column at half the pitch, so
  horizontal neighbours overlap into short bars while rows stay separate;
* **mechanical jitter**: each pin lands a little off its grid position (worn head), with per-pin
  strength (a weak pin makes one dot row faint along the whole line);
* **banded ribbons**: the ribbon's ink falls off across its height (the top or bottom dot rows
  fainter), with purple and blue ribbons beside black;
* **continuous forms**: green-bar paper (pale green bands) or a pre-printed underline;
* **scans**: a phone photo (uneven light, slight defocus, JPEG) or a low-resolution office scan.

Faces: WenQuanYi Micro Hei Mono, AR PL UMing HK and LXGW WenKai Mono Light, rendered as bitmaps
(no other family draws these faces or draws any face as a cell-sized bitmap). All randomness comes
from the generator passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw

from luodi.synth import degrade as dg
from luodi.synth.fonts import Font, installed_faces

Color = tuple[int, int, int]

LEDGER_FACES: tuple[tuple[str, str, str, str], ...] = (
    ("wqy-microhei-mono", "wqy-microhei.ttc", "WenQuanYi Micro Hei Mono", "sans"),
    ("ar-pl-uming-hk", "uming.ttc", "AR PL UMing HK", "ming"),
    ("lxgw-wenkai-mono-light", "LXGWWenKaiMono-Light.ttf", "LXGW WenKai Mono", "kai"),
)


def ledger_fonts() -> tuple[Font, ...]:
    return installed_faces(LEDGER_FACES)


def rom_grid(text: str, font: Font, rows: int) -> np.ndarray:
    """0/1 dots for ``text``: each character the face's hinted 1-bit bitmap in a ``rows``-high cell
    (ASCII half as wide, on the baseline)."""
    cols: list[np.ndarray] = []
    for ch in text:
        wide = ord(ch) > 0x2E7F
        size = rows
        width = size if wide else (size + 1) // 2
        cell = np.zeros((rows, width), np.float32)
        if not ch.isspace():
            face = font.get(size)
            img = Image.new("L", (width * 2, size * 2), 0)
            draw = ImageDraw.Draw(img)
            draw.fontmode = "1"
            draw.text((0, 0), ch, font=face, fill=255)
            m = np.asarray(img, np.float32) / 255.0
            ys, xs = np.nonzero(m > 0.5)
            if ys.size:
                g: np.ndarray = m[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
                if g.shape[0] > size or g.shape[1] > width:
                    g = cv2.resize(g, (min(width, g.shape[1]), min(size, g.shape[0])), interpolation=cv2.INTER_NEAREST)
                if wide:  # CJK fills its em box: centred
                    oy = (rows - g.shape[0]) // 2
                else:  # ASCII keeps its place on the baseline (a period low, a hyphen mid-height)
                    oy = rows - max(1, rows // 8) - (face.getmetrics()[0] - int(ys.min()))
                oy = int(np.clip(oy, 0, rows - g.shape[0]))
                ox = (width - g.shape[1]) // 2
                cell[oy : oy + g.shape[0], ox : ox + g.shape[1]] = g > 0.5
        cols.append(cell)
    return np.concatenate(cols, axis=1) if cols else np.zeros((rows, 1), np.float32)


def _dots(grid: np.ndarray, rng: np.random.Generator, hard: bool) -> np.ndarray:
    """Ink coverage of the struck dots, supersampled 3x: jittered pins, weak pins, double density."""
    ss = 3
    rows, ncols = grid.shape
    py = rng.uniform(2.0, 3.2)
    double = rng.random() < 0.4
    px = py * rng.uniform(0.85, 1.15)
    margin = 1.5
    W, H = round((ncols + 2 * margin) * px * ss), round((rows + 2 * margin) * py * ss)
    pin_strength = np.asarray(rng.uniform(0.8, 1.0, size=rows), np.float64)
    if rng.random() < (0.5 if hard else 0.25):  # a weak pin: one dot row faint along the whole line
        pin_strength[int(rng.integers(rows))] *= rng.uniform(0.2, 0.5)
    ii, jj = np.nonzero(grid)
    jitter = rng.uniform(0.04, 0.12 if not hard else 0.2) * px
    cx = (margin + jj + 0.5) * px + rng.normal(0, jitter, ii.size)
    cy = (margin + ii + 0.5) * py + rng.normal(0, jitter * 0.6, ii.size)
    w = pin_strength[ii] * rng.uniform(0.8, 1.0, ii.size)
    if double:  # the second firing half a pitch to the right
        cx, cy, w = np.concatenate([cx, cx + 0.5 * px]), np.concatenate([cy, cy]), np.concatenate([w, w * 0.9])
    impulses = np.zeros((H, W), np.float32)
    xs = np.clip(np.rint(cx * ss).astype(int), 0, W - 1)
    ys = np.clip(np.rint(cy * ss).astype(int), 0, H - 1)
    np.add.at(impulses, (ys, xs), w.astype(np.float32))
    r = max(1, round(py * ss * rng.uniform(0.32, 0.5)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)).astype(np.float32)
    alpha = np.clip(cv2.filter2D(impulses, -1, kernel, borderType=cv2.BORDER_CONSTANT), 0, 1)
    # banded ribbon: ink falls off across the ribbon's height
    band = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None]
    fall = rng.uniform(0.0, 0.55 if hard else 0.35)
    alpha = alpha * (1.0 - fall * (band if rng.random() < 0.5 else 1.0 - band))
    return np.asarray(cv2.resize(alpha, (max(1, round(W / ss)), max(1, round(H / ss))), interpolation=cv2.INTER_AREA))


def _form(shape: tuple[int, int], rng: np.random.Generator, kind: str) -> np.ndarray:
    """Continuous-form paper: plain, green-bar bands or a pre-printed underline."""
    from luodi.synth.styles import _paper_color

    h = shape[0]
    img = dg.paper(shape, _paper_color(rng, 215), rng, rng.uniform(2, 5))
    if kind == "greenbar":
        alpha = np.zeros(shape, np.float32)
        top = int(rng.integers(0, max(1, h // 2)))
        alpha[top : top + int(h * rng.uniform(0.5, 1.0))] = rng.uniform(0.12, 0.3)
        img = dg.composite(img, alpha, (150, 215, 160))
    elif kind == "underline":
        alpha = np.zeros(shape, np.float32)
        y = h - 1 - int(rng.integers(1, max(2, h // 8)))
        alpha[y : y + 1] = rng.uniform(0.4, 0.8)
        img = dg.composite(img, alpha, ((200, 90, 90), (90, 110, 170), (110, 110, 110))[int(rng.integers(3))])
    return img


def _photo(img: np.ndarray, rng: np.random.Generator, hard: bool) -> np.ndarray:
    """A phone photo of the form: light falling off across the line, slight defocus."""
    w = img.shape[1]
    ramp = np.linspace(rng.uniform(0.65, 0.95), rng.uniform(0.95, 1.05), w, dtype=np.float32)
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    lit = np.clip(img.astype(np.float32) * ramp[None, :, None], 0, 255).astype(np.uint8)
    return np.asarray(cv2.GaussianBlur(lit, (0, 0), rng.uniform(0.5, 1.3 if hard else 0.9)))


def _low_res(img: np.ndarray, rng: np.random.Generator, hard: bool) -> np.ndarray:
    h, w = img.shape[:2]
    f = rng.uniform(0.45, 0.65) if hard else rng.uniform(0.6, 0.8)
    small = cv2.resize(img, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))


def render_ledger_dotmatrix(text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str) -> np.ndarray:
    """One line from a ledger-family impact printer (RGB uint8)."""
    from luodi.synth.styles import pick_font

    hard = severity == "hard"
    faces = [f for f in ledger_fonts() if f.covers(text)]
    font = faces[int(rng.integers(len(faces)))] if faces else pick_font(text, fonts, rng)
    rows = 16 if rng.random() < 0.6 else 24
    alpha = _dots(rom_grid(text, font, rows), rng, hard)
    alpha *= rng.uniform(0.5, 0.8) if hard else rng.uniform(0.7, 1.0)
    ink: Color = ((25, 25, 25), (80, 40, 120), (40, 50, 130), (45, 45, 45))[int(rng.integers(4))]
    kind = str(rng.choice(["plain", "greenbar", "underline"], p=[0.4, 0.35, 0.25]))
    img = dg.composite(_form(alpha.shape, rng, kind), alpha, ink)
    scan = rng.choice(["plain", "photo", "lowres"], p=[0.4, 0.3, 0.3] if hard else [0.6, 0.25, 0.15])
    if scan == "photo":
        img = _photo(img, rng, hard)
    elif scan == "lowres":
        img = _low_res(img, rng, hard)
    img = dg.gaussian_noise(img, rng.uniform(1.0, 6 if hard else 3.5), rng)
    if rng.random() < 0.6:
        img = dg.jpeg(img, int(rng.integers(40 if hard else 60, 95)))
    return img
