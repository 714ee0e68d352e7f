"""Render one text line in a chosen style: print, dotmatrix, thermal or stamp.

Each style is a function ``(text, rng, fonts, severity) -> RGB uint8 image``. All randomness comes
from the ``numpy.random.Generator`` passed in, so ``render_line(text, style, seed=s)`` gives the
same pixels every time (on the same Pillow/OpenCV build).

* **print** — laser/offset print, as on forms and labels; ``mild`` is a clean scan, ``hard`` adds
  strong blur, noise, JPEG artefacts, rotation and perspective.
* **dotmatrix** — impact-printer output as on carbon-copy waybills and bank slips: glyphs from small
  printer bitmap fonts turned into a grid of round dots with varied pitch, ribbon fade, dropped dots,
  a weak or dead pin, a misregistered second pass, carbon-copy blur and low resolution.
* **thermal** — receipt printers: faded, uneven blackening, white streaks from dead heating
  elements, greyish paper.
* **stamp** — a red seal ring crossing the line (and sometimes the text itself in red ink).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from luodi.errors import ConfigError, InputError
from luodi.synth import degrade as dg
from luodi.synth.fonts import FAMILIES, Font, available_fonts, family_fonts

Severity = Literal["mild", "hard"]
SEVERITIES: tuple[str, ...] = ("mild", "hard")
Color = tuple[int, int, int]


# --- glyph masks ---------------------------------------------------------------------------------
def text_mask(
    text: str,
    font: ImageFont.FreeTypeFont,
    *,
    spacing: float = 0.0,
    antialias: bool = True,
    crop: bool = True,
) -> np.ndarray:
    """Ink coverage of ``text`` as float32 in [0, 1]: full ascent+descent high, tight left and right.

    ``spacing`` adds pixels between characters (drawn one by one then, as on spaced-out forms);
    ``antialias=False`` gives the hard 0/1 pixels of a bitmap printer font.
    """
    ascent, descent = font.getmetrics()
    height = ascent + descent
    if spacing:
        advances = [float(font.getlength(ch)) + spacing for ch in text]
        width = int(np.ceil(sum(advances))) + height
    else:
        width = int(np.ceil(font.getlength(text))) + height
    img = Image.new("L", (max(width, 1), max(height, 1)), 0)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "L" if antialias else "1"
    pad = height // 2
    if spacing:
        x = float(pad)
        for ch, adv in zip(text, advances, strict=True):
            draw.text((round(x), 0), ch, font=font, fill=255)
            x += adv
    else:
        draw.text((pad, 0), text, font=font, fill=255)
    mask = np.asarray(img, dtype=np.float32) / 255.0
    if crop:
        cols = np.flatnonzero(mask.max(axis=0) > 0)
        if cols.size:
            mask = mask[:, cols[0] : cols[-1] + 1]
    return mask


def pick_font(text: str, fonts: Sequence[Font], rng: np.random.Generator, kinds: Sequence[str] = ()) -> Font:
    """A random font among ``fonts`` (preferring ``kinds``) that has a glyph for every character."""
    covering = [f for f in fonts if f.covers(text)]
    if not covering:
        missing = sorted({ch for ch in text if not ch.isspace() and not any(f.covers(ch) for f in fonts)})
        raise InputError(f"no installed font can draw {''.join(missing)!r} in {text!r}")
    preferred = [f for f in covering if f.kind in kinds] if kinds else covering
    pool = preferred or covering
    return pool[int(rng.integers(len(pool)))]


def _pad(mask: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    return np.pad(mask, ((top, bottom), (left, right)))


def _paper_color(rng: np.random.Generator, lo: int = 225) -> Color:
    base = int(rng.integers(lo, 256))
    tint = rng.integers(-8, 9, size=3)
    return tuple(int(np.clip(base + t, 0, 255)) for t in tint)  # type: ignore[return-value]


def _dark_ink(rng: np.random.Generator) -> Color:
    v = int(rng.integers(0, 60))
    if rng.random() < 0.25:  # blue-black ballpoint/stamp-pad style ink
        return (v // 2, v // 2, min(255, v + 60))
    return (v, v, v)


# --- degradation recipes -------------------------------------------------------------------------
def _degrade(
    img: np.ndarray, rng: np.random.Generator, severity: str, bg: Color, *, small_ok: bool = True
) -> np.ndarray:
    hard = severity == "hard"
    if rng.random() < (0.6 if hard else 0.3):
        img, _ = dg.rotate(img, rng.uniform(-1, 1) * (3.5 if hard else 1.0), bg)
    if rng.random() < (0.4 if hard else 0.15):
        img, _ = dg.perspective(img, rng.uniform(0.03, 0.15 if hard else 0.06), rng, bg)
    if rng.random() < (0.85 if hard else 0.4):
        img = dg.gaussian_blur(img, rng.uniform(0.8, 1.7) if hard else rng.uniform(0.3, 0.9))
    if rng.random() < (0.4 if hard else 0.2):
        img = dg.fade(img, rng.uniform(0.35, 0.7) if hard else rng.uniform(0.6, 0.9))
    if small_ok and rng.random() < (0.5 if hard else 0.2):
        img = dg.low_resolution(img, rng.uniform(0.45, 0.75) if hard else rng.uniform(0.65, 0.9), restore=False)
    if rng.random() < (0.85 if hard else 0.5):
        img = dg.gaussian_noise(img, rng.uniform(5, 16) if hard else rng.uniform(1, 6), rng)
    if rng.random() < (0.75 if hard else 0.4):
        img = dg.jpeg(img, int(rng.integers(12, 45)) if hard else int(rng.integers(60, 96)))
    return img


# --- styles --------------------------------------------------------------------------------------
def _print(text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str, family: str | None) -> np.ndarray:
    font = pick_font(text, fonts, rng, kinds=("sans", "serif", "ming", "kai"))
    size = int(rng.integers(26, 46))
    spacing = float(rng.integers(1, max(2, size // 4))) if rng.random() < 0.2 else 0.0
    mask = text_mask(text, font.get(size), spacing=spacing)
    t, b = (int(v) for v in rng.integers(1, max(3, size // 4), size=2))
    left, right = (int(v) for v in rng.integers(2, max(4, size // 2), size=2))
    mask = _pad(mask, t, b, left, right)
    bg = _paper_color(rng)
    img = dg.composite(dg.paper(mask.shape, bg, rng, rng.uniform(1, 4)), mask * rng.uniform(0.85, 1.0), _dark_ink(rng))
    return _degrade(img, rng, severity, bg)


def _bitmap_glyphs(text: str, font: ImageFont.FreeTypeFont, cell: int, rng: np.random.Generator) -> np.ndarray:
    """Binary glyph grid the way a printer ROM font lays it out: fixed cells, no antialiasing."""
    gap = int(rng.integers(0, 3))
    ascent, descent = font.getmetrics()
    h = ascent + descent
    cols: list[np.ndarray] = []
    for ch in text:
        if ch.isspace():
            cols.append(np.zeros((h, cell // 2 + gap), np.float32))
            continue
        m = (text_mask(ch, font, antialias=False, crop=False) > 0.5).astype(np.float32)
        width = cell if ord(ch) > 0x2E7F else cell // 2  # CJK full width, ASCII half width
        ink_cols = np.flatnonzero(m.max(axis=0) > 0)
        glyph = m[:, ink_cols[0] : ink_cols[-1] + 1] if ink_cols.size else np.zeros((h, 1), np.float32)
        glyph = glyph[:h, :width]
        cellimg = np.zeros((h, width + gap), np.float32)
        off = (width - glyph.shape[1]) // 2
        cellimg[: glyph.shape[0], off : off + glyph.shape[1]] = glyph
        cols.append(cellimg)
    grid = np.concatenate(cols, axis=1)
    rows = np.flatnonzero(grid.max(axis=1) > 0)
    return grid[rows[0] : rows[-1] + 1] if rows.size else grid


def _dot_kernel(radius: float) -> np.ndarray:
    r = int(np.ceil(radius)) + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    d = np.sqrt(xx * xx + yy * yy)
    # Soft edge one pixel wide; the centre a bit darker than the rim, as an inked pin strike is.
    k: np.ndarray = np.clip(radius + 0.5 - d, 0.0, 1.0) * (1.0 - 0.25 * np.clip(d / max(radius, 1e-6), 0, 1) ** 2)
    return k.astype(np.float32)


def _form_rules(sheet: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = sheet.shape[:2]
    rules = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        y = int(rng.choice([rng.integers(0, max(1, h // 5)), rng.integers(h - max(1, h // 4), h)]))
        rules[y : y + int(rng.integers(1, 3))] = 1.0
    if rng.random() < 0.5:
        x = int(rng.integers(0, w))
        rules[:, x : x + int(rng.integers(1, 3))] = 1.0
    colors: list[Color] = [(200, 60, 60), (60, 140, 90), (90, 90, 90), (70, 90, 170)]
    return dg.composite(sheet, rules * rng.uniform(0.4, 0.9), colors[int(rng.integers(len(colors)))])


# Dot-matrix print heads by renderer family: glyph cell sizes, dot pitch and dot shape. The eval
# family's heads (other cell sizes, coarser pitch, oval dots) never appear in a fine-tuning recipe.
_CELLS = {"train": (12, 16, 16, 16, 24), "eval": (14, 18, 20, 20)}
_PITCH = {"train": (2.4, 4.4), "eval": (2.8, 5.0)}


def _family_printer(
    text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str, family: str | None
) -> np.ndarray | None:
    """A line from the family's own dot-matrix printers, or None for the basic heads below."""
    if family == "heldout":
        from luodi.synth.dotmatrix_heldout import render_heldout_dotmatrix

        return render_heldout_dotmatrix(text, rng, fonts, severity)
    if family == "fresh":
        from luodi.synth.dotmatrix_fresh import render_fresh_dotmatrix

        return render_fresh_dotmatrix(text, rng, fonts, severity)
    if family == "late":
        from luodi.synth.dotmatrix_late import render_late_dotmatrix

        return render_late_dotmatrix(text, rng, fonts, severity)
    if family == "ledger":
        from luodi.synth.dotmatrix_ledger import render_ledger_dotmatrix

        return render_ledger_dotmatrix(text, rng, fonts, severity)
    if family == "train-random":  # every line its own printer
        from luodi.synth.dotmatrix_random import render_random_dotmatrix

        return render_random_dotmatrix(text, rng, fonts, severity)
    if family == "train":  # the widened training printers; a third of their lines fall to the basic heads
        from luodi.synth.dotmatrix_train import render_train_dotmatrix

        return render_train_dotmatrix(text, rng, fonts, severity)
    return None


def _dotmatrix(  # noqa: PLR0915 - one rendering recipe, step by step
    text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str, family: str | None
) -> np.ndarray:
    img = _family_printer(text, rng, fonts, severity, family)
    if img is not None:
        return img
    hard = severity == "hard"
    kind = "eval" if family == "eval" else "train"  # "train-basic": these heads alone, as first shipped
    cell = int(rng.choice(list(_CELLS[kind])))
    bitmap_fonts = [f for f in fonts if f.kind == "bitmap"]
    font = pick_font(text, bitmap_fonts if bitmap_fonts and rng.random() < 0.6 else fonts, rng, ("ming", "sans"))
    grid = _bitmap_glyphs(text, font.get(cell), cell, rng)
    gh, gw = grid.shape

    ss = 3  # supersampling so dot centres can sit between output pixels
    px = rng.uniform(*_PITCH[kind])
    py = px * rng.uniform(0.85, 1.2)
    # From separate pin marks (radius < half the pitch) to dots that merge into strokes.
    radius = min(px, py) * rng.uniform(0.32, 0.62)
    mx, my = rng.uniform(1.0, 3.5), rng.uniform(0.6, 1.8)  # margins in dots
    W = round((gw + 2 * mx) * px * ss)
    H = round((gh + 2 * my) * py * ss)

    ii, jj = np.nonzero(grid)
    n = ii.size
    ribbon = 1.0 - rng.uniform(0.1, 0.6 if hard else 0.45) * dg.smooth_field((1, max(W, 2)), rng, cells=6)[0]
    strength = rng.uniform(0.6, 1.0)
    impulses = np.zeros((H, W), np.float32)

    # 9-pin heads print a 16-dot-high CJK glyph in two passes (upper and lower half); the paper
    # feed between them leaves the halves shifted sideways against each other.
    half_shift = np.where(ii >= gh // 2, rng.uniform(-0.8, 0.8) * px, 0.0) if rng.random() < 0.35 else 0.0

    def strike(dx: float, dy: float, gain: float, drop_p: float) -> None:
        cx = (mx + jj + 0.5) * px + dx + half_shift + rng.normal(0, 0.07 * px, n)
        cy = (my + ii + 0.5) * py + dy + rng.normal(0, 0.07 * py, n)
        keep = rng.random(n) >= drop_p
        xs = np.clip(np.rint(cx * ss).astype(int), 0, W - 1)[keep]
        ys = np.clip(np.rint(cy * ss).astype(int), 0, H - 1)[keep]
        w = (gain * strength * rng.uniform(0.7, 1.0, n))[keep] * ribbon[xs]
        if weak_row is not None:
            w = np.where(ii[keep] % gh == weak_row, w * weak_gain, w)
        np.add.at(impulses, (ys, xs), w.astype(np.float32))

    weak_row: int | None = int(rng.integers(gh)) if rng.random() < 0.3 else None
    weak_gain = rng.uniform(0.0, 0.35)
    strike(0.0, 0.0, 1.0, rng.uniform(0.0, 0.18 if hard else 0.1))
    if rng.random() < 0.55:  # second pass, misregistered by a fraction of a dot
        strike(rng.uniform(0.2, 0.9) * px, rng.uniform(-0.35, 0.35) * py, rng.uniform(0.4, 0.9), rng.uniform(0, 0.2))
    kernel = _dot_kernel(radius * ss)
    if kind == "eval":  # oval pin strikes: the dot stretched along one axis
        stretch = rng.uniform(1.25, 1.7)
        size = (round(kernel.shape[1] * stretch), kernel.shape[0])
        kernel = cv2.resize(kernel, size if rng.random() < 0.5 else size[::-1], interpolation=cv2.INTER_LINEAR)
    alpha = cv2.filter2D(impulses, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    alpha = cv2.resize(
        np.clip(alpha, 0, 1), (max(1, round(W / ss)), max(1, round(H / ss))), interpolation=cv2.INTER_AREA
    )

    bg = _paper_color(rng, 215)
    if rng.random() < 0.35:  # multi-part forms: pink, yellow or blue copies
        tint = [(255, 228, 232), (255, 248, 215), (225, 235, 255)][int(rng.integers(3))]
        bg = tuple(int(min(c, t)) for c, t in zip(bg, tint, strict=True))  # type: ignore[assignment]
    inks: list[Color] = [(25, 25, 30), (45, 40, 95), (35, 55, 140), (70, 70, 75)]
    ink = inks[int(rng.integers(len(inks)))]
    sheet = dg.paper(alpha.shape, bg, rng, rng.uniform(2, 6))
    if rng.random() < 0.3:  # pre-printed form rules that the printed text does not line up with
        sheet = _form_rules(sheet, rng)
    img = dg.composite(sheet, alpha, ink)
    if rng.random() < 0.35:  # carbon copy: the transfer smears every dot
        img = dg.gaussian_blur(img, rng.uniform(0.6, 1.3))
    if rng.random() < 0.3:
        img, _ = dg.rotate(img, rng.uniform(-1.5, 1.5), bg)
    if rng.random() < (0.8 if hard else 0.55):  # low resolution: scanned at 100-150 dpi or faxed
        target_h = rng.uniform(22, 34) if hard else rng.uniform(28, 42)
        img = dg.low_resolution(img, min(1.0, target_h / img.shape[0]), restore=False)
    if rng.random() < 0.6:
        img = dg.gaussian_noise(img, rng.uniform(2, 10 if hard else 6), rng)
    if rng.random() < 0.5:
        img = dg.jpeg(img, int(rng.integers(30 if hard else 55, 95)))
    return img


def _thermal(
    text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str, family: str | None
) -> np.ndarray:
    hard = severity == "hard"
    font = pick_font(text, fonts, rng, kinds=("sans", "bitmap"))
    size = int(rng.integers(24, 42))
    if rng.random() < 0.5:  # 203 dpi head: a coarse bitmap blown up, blocky edges
        small = text_mask(text, font.get(max(10, size // 2)), antialias=False)
        mask = cv2.resize(small, (small.shape[1] * 2, small.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    else:
        mask = text_mask(text, font.get(size))
    t, b = (int(v) for v in rng.integers(2, 8, size=2))
    left, right = (int(v) for v in rng.integers(3, 14, size=2))
    mask = _pad(mask, t, b, left, right)
    h, w = mask.shape
    fade_amt = rng.uniform(0.3, 0.85) if hard else rng.uniform(0.15, 0.6)
    alpha = mask * (1.0 - fade_amt * dg.smooth_field((h, w), rng, cells=int(rng.integers(3, 8))))
    for _ in range(int(rng.integers(0, 6 if hard else 4))):  # dead heating elements: white streaks
        x, sw = int(rng.integers(0, w)), int(rng.integers(1, 4))
        alpha[:, x : x + sw] *= rng.uniform(0.0, 0.35)
    if rng.random() < 0.3:  # uneven paper feed: a lighter horizontal band
        y, bh = int(rng.integers(0, h)), int(rng.integers(2, max(3, h // 4)))
        alpha[y : y + bh] *= rng.uniform(0.4, 0.8)
    base = int(rng.integers(205, 245))
    bg: Color = (base, base - int(rng.integers(0, 10)), base - int(rng.integers(0, 18)))
    paper = dg.paper((h, w), bg, rng, rng.uniform(2, 6))
    shade = 1.0 - rng.uniform(0.0, 0.12) * dg.smooth_field((h, w), rng)  # uneven contrast across the line
    paper = np.clip(paper.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)
    g = int(rng.integers(20, 80))
    img = dg.composite(paper, alpha, (g, g, g + int(rng.integers(0, 20))))
    if rng.random() < 0.5:
        img = dg.gaussian_blur(img, rng.uniform(0.3, 1.2 if hard else 0.8))
    if rng.random() < 0.6:
        img = dg.gaussian_noise(img, rng.uniform(2, 12 if hard else 6), rng)
    if rng.random() < 0.5:
        img = dg.jpeg(img, int(rng.integers(25 if hard else 55, 95)))
    return img


def _ring_alpha(shape: tuple[int, int], center: tuple[float, float], radius: float, thick: float) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.abs(np.hypot(xx - center[0], yy - center[1]) - radius)
    ring: np.ndarray = np.clip(thick / 2 + 0.5 - d, 0.0, 1.0)
    return ring


def _stamp(text: str, rng: np.random.Generator, fonts: Sequence[Font], severity: str, family: str | None) -> np.ndarray:
    font = pick_font(text, fonts, rng, kinds=("sans", "serif", "ming", "kai"))
    size = int(rng.integers(28, 46))
    mask = text_mask(text, font.get(size))
    t, b = (int(v) for v in rng.integers(3, max(5, size // 3), size=2))
    left, right = (int(v) for v in rng.integers(3, max(5, size // 2), size=2))
    mask = _pad(mask, t, b, left, right)
    h, w = mask.shape
    bg = _paper_color(rng)
    img = dg.paper((h, w), bg, rng, rng.uniform(1, 4))
    red: Color = (int(rng.integers(185, 235)), int(rng.integers(20, 70)), int(rng.integers(30, 80)))
    if rng.random() < 0.3:  # the line itself stamped in red ink: uneven pad pressure
        alpha = mask * (0.55 + 0.45 * dg.smooth_field((h, w), rng))
        img = dg.composite(img, alpha, red)
    else:
        img = dg.composite(img, mask * rng.uniform(0.85, 1.0), _dark_ink(rng))
    # A seal ring whose arc crosses part of the line (never a full circle: seals are larger than lines).
    radius = h * rng.uniform(1.3, 2.6)
    cx = rng.uniform(0.1, 0.9) * w
    side = 1 if rng.random() < 0.5 else -1
    cy = h / 2 + side * radius * rng.uniform(0.45, 0.95)
    thick = max(2.0, radius * rng.uniform(0.035, 0.07))
    ring = _ring_alpha((h, w), (cx, cy), radius, thick)
    if rng.random() < 0.5:
        ring = np.maximum(ring, _ring_alpha((h, w), (cx, cy), radius * rng.uniform(0.82, 0.9), thick * 0.5))
    texture = 0.5 + 0.5 * dg.smooth_field((h, w), rng, cells=8)
    speckle = np.where(rng.random((h, w)) < 0.12, 0.3, 1.0)
    stamp_red: Color = (int(rng.integers(190, 240)), int(rng.integers(25, 80)), int(rng.integers(35, 90)))
    img = dg.composite(img, ring * texture * speckle * rng.uniform(0.65, 0.95), stamp_red)
    return _degrade(img, rng, severity, bg)


StyleFn = Callable[[str, np.random.Generator, Sequence[Font], str, str | None], np.ndarray]
STYLES: dict[str, StyleFn] = {"print": _print, "dotmatrix": _dotmatrix, "thermal": _thermal, "stamp": _stamp}


def make_rng(seed: int | Sequence[int] | np.random.Generator) -> np.random.Generator:
    """A Generator from an int, a sequence of ints (e.g. ``(seed, index)``) or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed if isinstance(seed, int) else list(seed))


def _eval_degrade(img: np.ndarray, rng: np.random.Generator, severity: str) -> np.ndarray:
    """Degradations only the eval family has: motion smear, side lighting, dust."""
    hard = severity == "hard"
    if rng.random() < 0.4:
        img = dg.motion_blur(img, int(rng.integers(2, 5 if hard else 4)), rng.uniform(-20, 20))
    if rng.random() < 0.4:
        img = dg.illumination(img, rng.uniform(0.1, 0.45 if hard else 0.3), rng)
    if rng.random() < 0.3:
        img = dg.speckle(img, rng.uniform(0.002, 0.01 if hard else 0.005), rng)
    return img


def render_line(
    text: str,
    style: str = "print",
    *,
    seed: int | Sequence[int] | np.random.Generator = 0,
    severity: str = "mild",
    fonts: Sequence[Font] | None = None,
    family: str | None = None,
) -> np.ndarray:
    """Render ``text`` as one line image (RGB uint8, H x W x 3) in ``style``.

    ``family`` ("train" or "eval") restricts fonts, dot-matrix heads and degradations to one side of
    the split that keeps fine-tuning and blind evaluation apart; None draws from everything (the
    renderer as it was before the split, byte for byte). "heldout" is "eval" with harder, held-out
    dot-matrix printers (:mod:`luodi.synth.dotmatrix_heldout`) that no recipe may render; "fresh"
    is "eval" with dot-matrix printers of their own (:mod:`luodi.synth.dotmatrix_fresh`), and so is
    "late" (:mod:`luodi.synth.dotmatrix_late`) and "ledger" (:mod:`luodi.synth.dotmatrix_ledger`).

    Raises :class:`ConfigError` for an unknown style or severity and :class:`InputError` when the
    text is empty or no installed font can draw one of its characters.
    """
    fn = STYLES.get(style)
    if fn is None:
        raise ConfigError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    if severity not in SEVERITIES:
        raise ConfigError(f"unknown severity {severity!r}; choose one of {', '.join(SEVERITIES)}")
    if not text.strip():
        raise InputError("cannot render an empty text line")
    if "\t" in text or "\n" in text:
        raise InputError(f"a text line cannot contain TABs or newlines: {text!r}")
    if family is not None and family not in FAMILIES:
        raise ConfigError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    pool = family_fonts(family, fonts or available_fonts())
    rng = make_rng(seed)
    img = fn(text, rng, pool, severity, family)
    if family == "eval":
        img = _eval_degrade(img, rng, severity)
    elif family == "heldout":  # its printers are hard enough: the eval family's milder smear and dust
        img = _eval_degrade(img, rng, "mild")
    return np.ascontiguousarray(img)
