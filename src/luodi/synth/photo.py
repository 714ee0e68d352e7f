"""Photo-like rendering: what a phone picture of a flat synthetic page looks like.

    image, meta = photograph(page, rng, level="photo", split="dev")

A page goes through paper texture, folds, placement on a background (perspective, rotation,
scale), a cast shadow, flash glare, camera blur, downscaling, sensor noise and JPEG. Which paper and
which background are drawn from the *families* of the sample's split (see
:mod:`luodi.synth.families`); the strength of each step from the difficulty level:

- ``scan``: flat, paper texture, a little rotation, mild blur, JPEG 70–90;
- ``photo``: on a background, perspective, a shadow or a fold, defocus or shake, JPEG 50–80;
- ``photo_hard``: stronger perspective, folds, flash glare, motion blur, low resolution, JPEG 30–60.

The 13 real photos in ``shared/data/doc_samples`` (a dev check only) set the scale: documents take
60–95 % of a 500–1000 px frame, backgrounds are tables, fabric and cardboard, glare and stamps sit
over text. Page-level marks that belong to a document (stamps, carbon ghosting) are drawn by the
renderers with :func:`stamp` and :func:`carbon_ghost` before the page is photographed.

Every function takes an explicit ``numpy.random.Generator``; nothing reads global random state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from luodi.synth import degrade as base

Array = np.ndarray
Color = tuple[int, int, int]
LEVELS: tuple[str, ...] = ("scan", "photo", "photo_hard")


def _u8(a: Array) -> Array:
    return np.asarray(np.clip(np.rint(a), 0, 255), np.uint8)


def _smooth(shape: tuple[int, int], rng: np.random.Generator, cells: int = 4) -> Array:
    return np.asarray(base.smooth_field(shape, rng, cells), np.float32)


# --- papers ---------------------------------------------------------------------------------------
def _paper_plain(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    tone = float(rng.uniform(246, 255))
    return np.full((*shape, 3), tone, np.float32) + (_smooth(shape, rng) - 0.5)[..., None] * 6


def _paper_recycled(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    out = np.full((*shape, 3), float(rng.uniform(228, 240)), np.float32)
    out += (_smooth(shape, rng, 6) - 0.5)[..., None] * 10
    specks = rng.random(shape) < 0.0015
    out[specks] -= float(rng.uniform(60, 120))
    return np.asarray(cv2.GaussianBlur(out, (3, 3), 0.6), np.float32)


def _paper_thermal_aged(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    """Yellowed thermal paper with faint crumple lines."""
    out = np.empty((*shape, 3), np.float32)
    out[:] = (250, 244, float(rng.uniform(205, 228)))
    h, w = shape
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, math.pi)
        length = rng.uniform(0.3, 1.0) * max(h, w)
        x1, y1 = x0 + math.cos(angle) * length, y0 + math.sin(angle) * length
        crease = np.zeros(shape, np.float32)
        cv2.line(crease, (int(x0), int(y0)), (int(x1), int(y1)), 1.0, int(rng.integers(1, 3)))
        out -= cv2.GaussianBlur(crease, (0, 0), 1.5)[..., None] * float(rng.uniform(10, 25))
    return out


def _paper_carbon_tint(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    """The coloured sheets of a multi-part form (pink, yellow, blue, green copies)."""
    tints = ((252, 226, 232), (252, 246, 200), (222, 236, 250), (224, 246, 226))
    out = np.empty((*shape, 3), np.float32)
    out[:] = tints[int(rng.integers(0, len(tints)))]
    out += (_smooth(shape, rng, 5) - 0.5)[..., None] * 8
    return out


# --- backgrounds ----------------------------------------------------------------------------------
def _bg_wood_desk(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    h, w = shape
    base_col = np.array([[150, 105, 65], [190, 150, 105], [110, 75, 50]][int(rng.integers(0, 3))], np.float32)
    grain = cv2.resize(rng.random((max(2, h // 6), 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    streaks = np.sin(np.linspace(0, float(rng.uniform(20, 60)), h, dtype=np.float32))[:, None] * 0.5 + 0.5
    field = 0.6 * grain + 0.4 * streaks
    return base_col[None, None, :] * (0.8 + 0.35 * field[..., None])


def _bg_gray_desk(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    tone = float(rng.uniform(70, 170))
    out = np.full((*shape, 3), tone, np.float32) + (_smooth(shape, rng) - 0.5)[..., None] * 30
    return out + rng.normal(0, 3, size=shape)[..., None]


def _bg_kraft_cardboard(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    w = shape[1]
    out = np.empty((*shape, 3), np.float32)
    out[:] = (float(rng.uniform(170, 200)), float(rng.uniform(130, 160)), float(rng.uniform(85, 110)))
    fibres = cv2.GaussianBlur(rng.normal(0, 1, size=shape).astype(np.float32), (0, 0), 1.2)
    out += fibres[..., None] * 10
    period = float(rng.uniform(18, 30))
    flutes = np.sin(np.arange(w, dtype=np.float32) * 2 * math.pi / period)[None, :]
    return np.asarray(out + flutes[..., None] * 4 + (_smooth(shape, rng) - 0.5)[..., None] * 25, np.float32)


def _bg_poly_bag(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    """A plastic mailer: flat grey, white or black film with wrinkles and bright specular streaks."""
    h, w = shape
    tone = float(rng.choice([40.0, 120.0, 200.0, 225.0]))
    warp = _smooth(shape, rng, 3) * float(rng.uniform(8, 20))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = float(rng.uniform(0, math.pi))
    ridges = np.abs(np.sin((np.cos(angle) * xx + np.sin(angle) * yy) / float(rng.uniform(25, 60)) + warp))
    spec = np.clip((ridges - 0.85) / 0.15, 0, 1) ** 2
    out = np.full((*shape, 3), tone, np.float32) * (0.85 + 0.2 * ridges[..., None])
    return np.asarray(out + spec[..., None] * float(rng.uniform(60, 140)), np.float32)


def _bg_taped_cardboard(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    out = _bg_kraft_cardboard(shape, rng) * float(rng.uniform(0.7, 0.9))
    return out


def _bg_fabric(shape: tuple[int, int], rng: np.random.Generator) -> Array:
    h, w = shape
    c1 = rng.integers(120, 250, size=3).astype(np.float32)
    c2 = np.clip(c1 - rng.integers(30, 90, size=3), 0, 255).astype(np.float32)
    period = int(rng.integers(20, 60))
    yy, xx = np.mgrid[0:h, 0:w]
    checks = (((xx // period) + (yy // period)) % 2).astype(np.float32)
    weave = (np.sin(xx * 1.7) * np.sin(yy * 1.7) * 0.5 + 0.5).astype(np.float32)
    mix = checks[..., None] * c1 + (1 - checks[..., None]) * c2
    return np.asarray(mix * (0.92 + 0.08 * weave[..., None]), np.float32)


@dataclass(frozen=True, slots=True)
class Texture:
    """A paper or background family: a name, its generator and whether it is held out."""

    name: str
    make: Callable[[tuple[int, int], np.random.Generator], Array]
    holdout: bool
    description: str


PAPERS: dict[str, Texture] = {
    t.name: t
    for t in (
        Texture("plain", _paper_plain, False, "white office paper, slight grain"),
        Texture("recycled", _paper_recycled, False, "greyish recycled paper with specks"),
        Texture("thermal_aged", _paper_thermal_aged, True, "yellowed thermal paper with crumple lines"),
        Texture("carbon_tint", _paper_carbon_tint, True, "pink / yellow / blue / green copy sheets"),
    )
}
BACKGROUNDS: dict[str, Texture] = {
    t.name: t
    for t in (
        Texture("wood_desk", _bg_wood_desk, False, "wooden table"),
        Texture("gray_desk", _bg_gray_desk, False, "plain grey desk"),
        Texture("kraft_cardboard", _bg_kraft_cardboard, False, "brown corrugated box"),
        Texture("poly_bag", _bg_poly_bag, True, "plastic mailer with wrinkles and specular streaks"),
        Texture("taped_cardboard", _bg_taped_cardboard, True, "dark box, packing tape across the label"),
        Texture("fabric", _bg_fabric, True, "checked cloth"),
    )
}


def _pick(table: dict[str, Texture], holdout: bool, rng: np.random.Generator) -> Texture:
    names = [n for n, t in table.items() if t.holdout == holdout]
    return table[names[int(rng.integers(0, len(names)))]]


# --- page-level marks ------------------------------------------------------------------------------
def apply_paper(page: Array, paper: Texture, rng: np.random.Generator) -> Array:
    """Multiply the page by a paper texture: white becomes the paper, ink stays ink."""
    tex = paper.make(page.shape[:2], rng)
    return _u8(page.astype(np.float32) * np.clip(tex, 0, 255) / 255.0)


def stamp(  # noqa: PLR0913 - keyword drawing parameters
    page: Image.Image,
    center: tuple[float, float],
    radius: float,
    text: str,
    *,
    font: ImageFont.FreeTypeFont,
    rng: np.random.Generator,
    color: Color = (200, 30, 40),
    inner: str = "",
    inner_font: ImageFont.FreeTypeFont | None = None,
) -> Image.Image:
    """A round red seal (ring, star, text around the top, optional text across the middle) laid
    over the page like ink: multiplied, unevenly inked, slightly rotated. Returns a new image."""
    size = int(radius * 2 + 8)
    layer = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(layer)
    c = size / 2
    draw.ellipse((4, 4, size - 4, size - 4), outline=255, width=max(3, int(radius / 14)))
    star_r = radius * 0.22
    pts = [
        (
            c + star_r * (1 if k % 2 == 0 else 0.4) * math.sin(k * math.pi / 5),
            c - star_r * (1 if k % 2 == 0 else 0.4) * math.cos(k * math.pi / 5),
        )
        for k in range(10)
    ]
    draw.polygon(pts, fill=255)
    n = len(text)
    for k, ch in enumerate(text):  # characters on an arc over the top, upright towards the centre
        ang = math.radians(-150 + 120 * (k + 0.5) / max(n, 1)) if n > 1 else math.radians(-90)
        glyph = Image.new("L", (int(radius * 0.5), int(radius * 0.5)), 0)
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(ang) - 90, expand=True)
        gx = c + math.cos(ang) * radius * 0.68 - glyph.width / 2
        gy = c + math.sin(ang) * radius * 0.68 - glyph.height / 2
        layer.paste(255, (int(gx), int(gy)), glyph)
    if inner:
        draw.text((c, c + radius * 0.45), inner, font=inner_font or font, fill=255, anchor="mm")
    layer = layer.rotate(float(rng.uniform(-25, 25)), resample=Image.Resampling.BILINEAR)
    alpha = np.asarray(layer, np.float32) / 255.0
    alpha *= 0.55 + 0.45 * _smooth(alpha.shape, rng, 3)  # uneven inking: parts of the seal are faint
    arr = np.asarray(page.convert("RGB")).copy()
    x0, y0 = int(center[0] - size / 2), int(center[1] - size / 2)
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + size, arr.shape[1]), min(y0 + size, arr.shape[0])
    if xb <= xa or yb <= ya:
        return page
    region = arr[ya:yb, xa:xb]
    a = alpha[ya - y0 : yb - y0, xa - x0 : xb - x0]
    arr[ya:yb, xa:xb] = base.composite(region, a * float(rng.uniform(0.6, 0.9)), color)
    return Image.fromarray(arr)


def carbon_ghost(page: Array, rng: np.random.Generator, ink: Color = (70, 60, 150)) -> Array:
    """Carbon-copy look: what was written comes through a little blurred and blue-violet, with a
    faint second impression offset by a few pixels (the sheets shifted while writing)."""
    gray = page.astype(np.float32).mean(axis=2)
    ink_mask = np.clip((200.0 - gray) / 150.0, 0, 1)
    soft = cv2.GaussianBlur(ink_mask, (0, 0), float(rng.uniform(0.6, 1.3)))
    dx, dy = (int(v) for v in rng.integers(-9, 10, size=2))
    ghost = np.roll(np.roll(soft, dy, axis=0), dx, axis=1) * float(rng.uniform(0.15, 0.35))
    paper_only = np.full_like(page, 255)
    out = page.astype(np.float32) * (1 - soft[..., None]) + paper_only * soft[..., None]
    out = base.composite(_u8(out), np.clip(soft * 0.95 + ghost, 0, 1), ink)
    return np.asarray(out, np.uint8)


# --- scene ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Level:
    margin: tuple[float, float]  # background around the page, share of its size
    perspective: tuple[float, float]
    rotation: float
    p_fold: float
    p_shadow: float
    p_glare: float
    blur: tuple[float, float]
    long_side: tuple[int, int]
    jpeg: tuple[int, int]
    noise: tuple[float, float]


_LEVELS: dict[str, _Level] = {
    "scan": _Level((0.0, 0.03), (0.0, 0.0), 1.5, 0.1, 0.0, 0.0, (0.2, 0.6), (1000, 1400), (70, 90), (1.0, 3.0)),
    "photo": _Level((0.06, 0.2), (0.02, 0.06), 6.0, 0.35, 0.5, 0.25, (0.3, 0.9), (800, 1200), (50, 80), (2.0, 6.0)),
    "photo_hard": _Level(
        (0.08, 0.3), (0.05, 0.12), 12.0, 0.6, 0.7, 0.6, (0.6, 1.6), (750, 1050), (30, 60), (4.0, 10.0)
    ),
}


def fold(img: Array, rng: np.random.Generator) -> Array:
    """A crease across the page: one side a little darker (it tilts away from the light), a bright and
    a dark line along the ridge."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.6:  # folded across its length, as labels and receipts are
        pos, coord = float(rng.uniform(0.25, 0.75)) * h, yy + (xx - w / 2) * float(rng.uniform(-0.08, 0.08))
    else:
        pos, coord = float(rng.uniform(0.25, 0.75)) * w, xx + (yy - h / 2) * float(rng.uniform(-0.08, 0.08))
    d = coord - pos
    side = np.where(d > 0, 1.0 - float(rng.uniform(0.05, 0.18)), 1.0)
    ridge = np.exp(-(d**2) / 2.0) * float(rng.uniform(20, 45))
    shade = np.exp(-((d - 3) ** 2) / 8.0) * float(rng.uniform(15, 35))
    out = img.astype(np.float32) * side[..., None] + (ridge - shade)[..., None]
    return _u8(out)


def _place(page: Array, bg: Array, scale: float, lv: _Level, rng: np.random.Generator) -> Array:
    """Warp the page onto the background (already at the photo's size): ``scale`` times smaller,
    rotated, corners jittered."""
    bh, bw = bg.shape[:2]
    ph, pw = page.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    ph, pw = ph * scale, pw * scale
    margin_x, margin_y = (bw - pw) / 2, (bh - ph) / 2
    centre = np.array([bw / 2 + rng.uniform(-0.3, 0.3) * margin_x, bh / 2 + rng.uniform(-0.3, 0.3) * margin_y])
    angle = math.radians(float(rng.uniform(-lv.rotation, lv.rotation)))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], np.float32)
    corners = (src * scale - np.array([pw / 2, ph / 2], np.float32)) @ rot.T + centre
    jitter = float(rng.uniform(*lv.perspective)) * min(pw, ph)
    corners += rng.uniform(-jitter, jitter, size=(4, 2))
    hm = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    # Shrinking by more than 2x with INTER_LINEAR would alias thin strokes: pre-blur to the target scale.
    src_img = cv2.GaussianBlur(page, (0, 0), 0.4 / scale) if scale < 0.7 else page
    warped = cv2.warpPerspective(src_img, hm, (bw, bh), flags=cv2.INTER_LINEAR)
    full = np.ones(page.shape[:2], np.float32)
    mask = cv2.warpPerspective(full, hm, (bw, bh), flags=cv2.INTER_LINEAR)
    # A sheet casts a thin soft shadow on what it lies on.
    drop = cv2.GaussianBlur(mask, (0, 0), 4.0)
    under = bg * (1 - 0.35 * np.roll(np.roll(drop, 4, 0), 3, 1)[..., None])
    return np.asarray(under * (1 - mask[..., None]) + warped.astype(np.float32) * mask[..., None], np.float32)


def _tape(img: Array, rng: np.random.Generator) -> Array:
    """A strip of clear packing tape across the frame: a glossy band that catches light."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = float(rng.uniform(-0.3, 0.3))
    d = yy - (h * float(rng.uniform(0.2, 0.8)) + (xx - w / 2) * math.tan(angle))
    half = float(rng.uniform(0.06, 0.12)) * h
    band = (np.abs(d) < half).astype(np.float32)
    shine = np.exp(-((d - half * 0.5) ** 2) / (2 * (half * 0.15) ** 2)) * band
    out = img.astype(np.float32) * (1 - 0.06 * band[..., None]) + (shine * float(rng.uniform(60, 140)))[..., None]
    return np.asarray(out, np.float32)


def shadow(img: Array, rng: np.random.Generator) -> Array:
    """The soft shadow of the phone or a hand over part of the picture."""
    h, w = img.shape[:2]
    k = 8  # drawn and blurred at 1/8 size: a wide blur at full size is slow and looks the same
    sh, sw = max(2, h // k), max(2, w // k)
    small = np.zeros((sh, sw), np.float32)
    cx, cy = float(rng.uniform(-0.2, 1.2)) * sw, float(rng.uniform(-0.2, 1.2)) * sh
    axes = (int(rng.uniform(0.3, 0.8) * sw), int(rng.uniform(0.3, 0.8) * sh))
    cv2.ellipse(small, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    small = cv2.GaussianBlur(small, (0, 0), float(rng.uniform(0.04, 0.12)) * max(sh, sw))
    mask = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return img.astype(np.float32) * (1 - float(rng.uniform(0.25, 0.5)) * mask[..., None])


def glare(img: Array, rng: np.random.Generator, strength: tuple[float, float] = (0.45, 0.85)) -> Array:
    """Flash glare: a bright elliptical highlight that washes out what lies under it."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = float(rng.uniform(0.2, 0.8)) * w, float(rng.uniform(0.2, 0.8)) * h
    sx, sy = float(rng.uniform(0.04, 0.14)) * w, float(rng.uniform(0.03, 0.1)) * h
    g = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2) / 2)
    a = (g * float(rng.uniform(*strength)))[..., None]
    return np.asarray(img.astype(np.float32) * (1 - a) + 255.0 * a, np.float32)


def camera_blur(img: Array, rng: np.random.Generator, sigma: float) -> Array:
    """Defocus (a disk kernel) or hand shake (a short line at a random angle)."""
    if sigma < 0.7:  # slight softness: a Gaussian; a disk of radius 1 would already be a strong defocus
        return np.asarray(cv2.GaussianBlur(img.astype(np.float32), (0, 0), sigma), np.float32)
    if rng.random() < 0.6:
        r = max(1, round(sigma * 1.2))
        kernel = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
        cv2.circle(kernel, (r, r), r, 1.0, -1)
    else:
        k = max(3, round(sigma * 3) | 1)
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0
        m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = np.asarray(cv2.warpAffine(kernel, m, (k, k)), np.float32)
    kernel /= max(float(kernel.sum()), 1e-6)
    return np.asarray(cv2.filter2D(img.astype(np.float32), -1, kernel), np.float32)


def photograph(
    page: Array, rng: np.random.Generator, *, level: str, holdout: bool, paper: bool = True
) -> tuple[Array, dict[str, Any]]:
    """``page`` (RGB uint8, white paper) as a photo at difficulty ``level``; the paper and background
    families come from the dev or holdout set. Returns the image and what was applied."""
    lv = _LEVELS[level]
    meta: dict[str, Any] = {"level": level, "effects": []}
    img = page
    if paper:
        tex = _pick(PAPERS, holdout, rng)
        img = apply_paper(img, tex, rng)
        meta["paper"] = tex.name
    if rng.random() < lv.p_fold:
        img = fold(img, rng)
        meta["effects"].append("fold")
    ph, pw = img.shape[:2]
    margin = float(rng.uniform(*lv.margin))
    long_side = int(rng.integers(*lv.long_side))
    scale = min(1.0, long_side / (max(ph, pw) * (1 + 2 * margin)))
    bw, bh = int(pw * (1 + 2 * margin) * scale) + 2, int(ph * (1 + 2 * margin) * scale) + 2
    bg_tex = _pick(BACKGROUNDS, holdout, rng)
    out = _place(img, np.clip(bg_tex.make((bh, bw), rng), 0, 255).astype(np.float32), scale, lv, rng)
    meta["background"] = bg_tex.name
    if bg_tex.name == "taped_cardboard":
        out = _tape(out, rng)
        meta["effects"].append("tape")
    if rng.random() < lv.p_shadow:
        out = shadow(out, rng)
        meta["effects"].append("shadow")
    if rng.random() < lv.p_glare:
        out = glare(out, rng)
        meta["effects"].append("glare")
    out = camera_blur(out, rng, float(rng.uniform(*lv.blur)))
    out = out + rng.normal(0, float(rng.uniform(*lv.noise)), size=out.shape[:2])[..., None]
    quality = int(rng.integers(*lv.jpeg))
    meta["effects"] += ["blur", "noise", f"jpeg{quality}"]
    return np.ascontiguousarray(base.jpeg(_u8(out), quality)), meta
