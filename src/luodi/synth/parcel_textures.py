"""Procedural surfaces and backgrounds for parcel scenes: poly bags, cartons, conveyors, floors.

Every texture is drawn from a seeded ``numpy`` generator, at most about a megapixel, and scaled up
to the frame; fine grain is added at full size by the scene. Families come in two groups: ``dev``
families are the ones a locator may be trained and tuned on, ``holdout`` families exist only to
measure it (a white bag, a printed carton, a roller conveyor, a wooden table). The bright, glossy
and printed dev families (patterned film, foil and paper mailers, light tiles) were added after the
held-out report showed the locator failing on bright glossy surfaces: they are their own generators
(random plane waves, creased foil, printed slogans), none of the held-out ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Kind = Literal["surface", "background"]
_WORK_PIXELS = 900_000  # textures are drawn at most this large, then resized to the frame


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    kind: Kind  # a parcel's surface (a label sits on it) or what parcels lie on
    holdout: bool
    draw: Callable[[np.random.Generator, int, int], np.ndarray]  # (rng, h, w) -> float32 RGB 0..255
    description: str


def _work_size(h: int, w: int) -> tuple[int, int, float]:
    scale = min(1.0, (_WORK_PIXELS / max(h * w, 1)) ** 0.5)
    return max(8, round(h * scale)), max(8, round(w * scale)), scale


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: float) -> np.ndarray:
    """Value noise in -1..1 with about ``cells`` features across the longer side."""
    ch = max(2, round(cells * h / max(h, w)) + 2)
    cw = max(2, round(cells * w / max(h, w)) + 2)
    grid = rng.uniform(-1.0, 1.0, size=(ch, cw)).astype(np.float32)
    return np.asarray(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.float32)


def fbm(rng: np.random.Generator, h: int, w: int, octaves: tuple[float, ...] = (3, 9, 27, 81)) -> np.ndarray:
    out = np.zeros((h, w), dtype=np.float32)
    amp, total = 1.0, 0.0
    for cells in octaves:
        out += amp * smooth_noise(rng, h, w, cells)
        total += amp
        amp *= 0.5
    return out / total


def _creases(rng: np.random.Generator, h: int, w: int, count: int, width: tuple[float, float]) -> np.ndarray:
    """A height field of ``count`` soft ridges and valleys along random curves (plastic wrinkles),
    drawn on a quarter-size grid (they are smooth) and scaled up."""
    sh, sw = max(8, h // 4), max(8, w // 4)
    field = np.zeros((sh, sw), dtype=np.float32)
    diag = float(np.hypot(sh, sw))
    canvas = np.zeros((sh, sw), dtype=np.float32)
    for _ in range(count):
        canvas[:] = 0
        x0, y0 = rng.uniform(0, sw), rng.uniform(0, sh)
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.2, 0.9) * diag
        bend = rng.uniform(-0.3, 0.3)
        pts = []
        for t in np.linspace(-0.5, 0.5, 12):
            a = angle + bend * t * 2
            pts.append((x0 + np.cos(a) * t * length, y0 + np.sin(a) * t * length))
        thick = max(1, round(rng.uniform(*width) * diag / 100))
        cv2.polylines(canvas, [np.asarray(pts, dtype=np.int32)], False, 1.0, thickness=thick, lineType=cv2.LINE_AA)
        sigma = thick * rng.uniform(0.8, 2.5)
        field += rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 1.0) * cv2.GaussianBlur(canvas, (0, 0), sigma)
    return np.asarray(cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC), dtype=np.float32)


def shade(height: np.ndarray, base: np.ndarray, rng: np.random.Generator, gloss: float, relief: float) -> np.ndarray:
    """Light a height field: diffuse shading of ``base`` (h×w×3) plus a specular sheen for plastics."""
    gy, gx = np.gradient(height * relief)
    norm = np.sqrt(gx * gx + gy * gy + 1.0)
    azimuth = rng.uniform(0, 2 * np.pi)
    lx, ly, lz = np.cos(azimuth) * 0.6, np.sin(azimuth) * 0.6, 0.8
    diffuse = (-gx * lx - gy * ly + lz) / norm
    out = base * (0.35 + 0.75 * np.clip(diffuse, 0, None))[..., None]
    if gloss > 0:
        # Blinn-Phong with the viewer straight above: half vector between light and (0, 0, 1)
        hx, hy, hz = lx, ly, lz + 1.0
        hn = float(np.sqrt(hx * hx + hy * hy + hz * hz))
        spec = np.clip((-gx * hx - gy * hy + hz) / (norm * hn), 0, 1) ** rng.uniform(20, 60)
        out = out + (gloss * 255.0 * spec)[..., None]
    return np.asarray(out, dtype=np.float32)


def _rgb(h: int, w: int, color: tuple[float, float, float]) -> np.ndarray:
    return np.broadcast_to(np.asarray(color, dtype=np.float32), (h, w, 3)).copy()


def _jitter(rng: np.random.Generator, color: tuple[float, float, float], amount: float) -> tuple[float, float, float]:
    r, g, b = (float(np.clip(c + rng.uniform(-amount, amount), 0, 255)) for c in color)
    return (r, g, b)


def _resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    if img.shape[:2] == (h, w):
        return img
    return np.asarray(cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


# --- poly bags -------------------------------------------------------------------------------------
def _poly(rng: np.random.Generator, h: int, w: int, palette: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    wh, ww, _ = _work_size(h, w)
    color = _jitter(rng, palette[int(rng.integers(0, len(palette)))], 12)
    height = _creases(rng, wh, ww, int(rng.integers(6, 22)), (0.3, 2.5)) + 0.6 * fbm(rng, wh, ww, (2, 5, 11))
    tex = shade(height, _rgb(wh, ww, color), rng, gloss=float(rng.uniform(0.25, 0.8)), relief=rng.uniform(15, 40))
    return _resize(tex, h, w)


_DARK_BAGS = ((22, 22, 24), (38, 38, 42), (60, 60, 64), (25, 30, 55), (30, 45, 35), (70, 50, 40))
_LIGHT_BAGS = ((228, 228, 226), (238, 236, 230), (215, 205, 195), (235, 200, 210), (230, 225, 170))


def poly_dark(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return _poly(rng, h, w, _DARK_BAGS)


def poly_light(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return _poly(rng, h, w, _LIGHT_BAGS)


def woven_sack(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A woven polypropylene sack (编织袋): interlaced tapes a few millimetres wide, creased."""
    wh, ww, _ = _work_size(h, w)
    shades = [(236, 236, 232), (205, 226, 205), (205, 214, 236), (228, 218, 190)]
    color = _jitter(rng, shades[int(rng.integers(0, len(shades)))], 8)
    period = rng.uniform(0.008, 0.016) * max(wh, ww)
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    a = (xx * np.cos(angle) + yy * np.sin(angle)) * (2 * np.pi / period)
    b = (-xx * np.sin(angle) + yy * np.cos(angle)) * (2 * np.pi / period)
    over = (np.sin(a) * np.sin(b) > 0).astype(np.float32)  # which tape lies on top
    grain = np.where(over > 0, np.sin(b * 6.0), np.sin(a * 6.0)) * 0.03
    weave = 1.0 + 0.05 * (over - 0.5) + grain - 0.06 * (np.abs(np.cos(a / 2)) < 0.08)
    height = _creases(rng, wh, ww, int(rng.integers(4, 12)), (0.5, 2.0))
    tex = shade(height, _rgb(wh, ww, color), rng, gloss=float(rng.uniform(0.05, 0.2)), relief=rng.uniform(8, 20))
    return _resize(np.asarray(tex * weave[..., None], dtype=np.float32), h, w)


def bubble_mailer(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A padded mailer: white, yellow or pink film over rows of air bubbles, a little creased."""
    wh, ww, _ = _work_size(h, w)
    shades = [(240, 240, 236), (238, 222, 150), (236, 200, 210), (250, 250, 250)]
    color = _jitter(rng, shades[int(rng.integers(0, len(shades)))], 8)
    pitch = rng.uniform(0.012, 0.025) * max(wh, ww)
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    row = np.floor(yy / (pitch * 0.87))
    cx = (xx + (row % 2) * pitch / 2) % pitch - pitch / 2
    cy = yy % (pitch * 0.87) - pitch * 0.435
    r = np.sqrt(cx * cx + cy * cy) / (pitch * 0.45)
    bumps = np.clip(1 - r * r, 0, None) ** 0.5
    height = bumps * 2.0 + _creases(rng, wh, ww, int(rng.integers(3, 9)), (0.5, 2.0))
    tex = shade(height, _rgb(wh, ww, color), rng, gloss=float(rng.uniform(0.2, 0.5)), relief=rng.uniform(3, 8))
    return _resize(tex, h, w)


def _waves(rng: np.random.Generator, h: int, w: int, count: int, period: tuple[float, float]) -> np.ndarray:
    """A sum of ``count`` plane waves of random direction, period (fraction of the long side) and
    sharpness, in -1..1: stripes, grids, lattices of dots or diamonds, moire, by chance."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((h, w), np.float32)
    for _ in range(count):
        a = rng.uniform(0, np.pi)
        freq = 2 * np.pi / (rng.uniform(*period) * max(h, w))
        wave = np.cos((xx * np.cos(a) + yy * np.sin(a)) * freq + rng.uniform(0, 2 * np.pi))
        sharp = rng.uniform(0.3, 3.0)  # < 1: flat tops (blocky); > 1: narrow ridges
        out += np.sign(wave) * np.abs(wave) ** sharp
    return np.asarray(out / count, dtype=np.float32)


_FILMS = ((246, 246, 244), (236, 238, 242), (250, 246, 225), (240, 225, 232), (225, 236, 240), (205, 208, 212))


def film_pattern(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Bright glossy film (white, pastel, pearl) embossed and faintly printed with a random regular
    pattern, creased: for a locator, a white label on a surface as bright and as busy as itself."""
    wh, ww, _ = _work_size(h, w)
    color = _jitter(rng, _FILMS[int(rng.integers(0, len(_FILMS)))], 10)
    emboss = _waves(rng, wh, ww, int(rng.integers(1, 4)), (0.006, 0.04))
    height = rng.uniform(0.3, 1.5) * emboss + 3 * _creases(rng, wh, ww, int(rng.integers(2, 14)), (0.3, 2.0))
    height += 0.4 * fbm(rng, wh, ww, (2, 5))
    tex = shade(height, _rgb(wh, ww, color), rng, gloss=float(rng.uniform(0.2, 0.8)), relief=rng.uniform(0.5, 4))
    if rng.random() < 0.5:  # a faint printed pattern on top
        tint = np.asarray(_jitter(rng, color, 60), dtype=np.float32)
        ink = np.clip(_waves(rng, wh, ww, int(rng.integers(1, 3)), (0.01, 0.08)), 0, 1)[..., None]
        tex = tex * (1 - 0.3 * ink) + tint * 0.3 * ink
    return _resize(tex, h, w)


def foil_mailer(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A metallised mailer (silver, gold, rose): a mirror-like film, its creases bright and dark."""
    wh, ww, _ = _work_size(h, w)
    color = _jitter(rng, [(200, 202, 206), (214, 190, 130), (220, 180, 180)][int(rng.integers(0, 3))], 12)
    height = _creases(rng, wh, ww, int(rng.integers(8, 30)), (0.2, 1.5)) + 0.8 * fbm(rng, wh, ww, (3, 8, 20))
    tex = shade(height, _rgb(wh, ww, color), rng, gloss=float(rng.uniform(0.8, 1.6)), relief=rng.uniform(25, 60))
    return _resize(tex, h, w)


_SLOGANS = "快递专用袋防水耐磨加厚不透明环保材料请勿重复使用物流包装谢谢惠顾欢迎再次光临正品保障"


def paper_mailer(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A paper mailer or envelope (white or kraft), fibrous, with printed slogans, logos and bands
    that are text but no label."""
    from PIL import Image, ImageDraw

    from luodi.synth.waybill_canvas import available_families

    wh, ww, _ = _work_size(h, w)
    color = _jitter(rng, [(242, 240, 234), (226, 214, 190), (190, 160, 120)][int(rng.integers(0, 3))], 10)
    fibre = fbm(rng, wh, ww, (6, 30, 120))
    tex = _rgb(wh, ww, color) * (1.0 + 0.05 * fibre)[..., None]
    tex = shade(_creases(rng, wh, ww, int(rng.integers(1, 6)), (0.5, 2.5)), tex, rng, gloss=0.0, relief=6.0) * 1.15
    img = Image.new("L", (ww, wh), 0)
    draw = ImageDraw.Draw(img)
    families = available_families()
    for _ in range(int(rng.integers(1, 6)) if families else 0):
        fam = families[int(rng.integers(0, len(families)))]
        size = int(rng.uniform(0.02, 0.09) * min(wh, ww))
        n = int(rng.integers(3, 12))
        start = int(rng.integers(0, len(_SLOGANS) - n))
        xy = (rng.uniform(0, 0.8) * ww, rng.uniform(0, 0.95) * wh)
        draw.text(xy, _SLOGANS[start : start + n], font=fam.regular.get(max(8, size)), fill=255)
    for _ in range(int(rng.integers(0, 3))):  # bands and logo blocks
        x, y = rng.uniform(0, 0.9) * ww, rng.uniform(0, 0.9) * wh
        draw.rectangle((x, y, x + rng.uniform(0.05, 0.6) * ww, y + rng.uniform(0.01, 0.08) * wh), fill=255)
    ink = np.asarray(img, dtype=np.float32)[..., None] / 255.0
    palette = [(200, 30, 40), (20, 60, 150), (240, 140, 20), (30, 30, 30), (20, 120, 70)]
    ink_color = np.asarray(palette[int(rng.integers(0, len(palette)))], dtype=np.float32)
    return _resize(np.asarray(tex * (1 - 0.9 * ink) + ink_color * 0.9 * ink, dtype=np.float32), h, w)


# --- cartons ---------------------------------------------------------------------------------------
def _carton_base(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    color = _jitter(rng, (178.0, 140.0, 100.0), 18)
    tex = _rgb(h, w, color)
    grain = fbm(rng, h, w, (4, 12, 40))
    # fibres: noise stretched along one direction
    fh, fw = max(2, h // 6), max(2, w)
    fibre = cv2.resize(rng.uniform(-1, 1, (fh, fw)).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        fibre = cv2.resize(rng.uniform(-1, 1, (h, max(2, w // 6))).astype(np.float32), (w, h))
    tex *= (1.0 + 0.10 * grain + 0.04 * fibre)[..., None]
    # a seam or flap edge and perhaps a strip of packing tape
    for _ in range(int(rng.integers(0, 3))):
        mask = np.zeros((h, w), dtype=np.float32)
        if rng.random() < 0.5:
            x = int(rng.uniform(0.1, 0.9) * w)
            cv2.line(mask, (x, 0), (x + int(rng.uniform(-0.05, 0.05) * w), h), 1.0, max(1, w // 300))
        else:
            y = int(rng.uniform(0.1, 0.9) * h)
            cv2.line(mask, (0, y), (w, y + int(rng.uniform(-0.05, 0.05) * h)), 1.0, max(1, h // 300))
        tex *= (1.0 - 0.45 * cv2.GaussianBlur(mask, (0, 0), 1.5))[..., None]
    if rng.random() < 0.6:
        mask = np.zeros((h, w), dtype=np.float32)
        band = rng.uniform(0.05, 0.12) * min(h, w)
        c = rng.uniform(0.2, 0.8)
        if rng.random() < 0.5:
            cv2.rectangle(mask, (0, int(c * h - band / 2)), (w, int(c * h + band / 2)), 1.0, -1)
        else:
            cv2.rectangle(mask, (int(c * w - band / 2), 0), (int(c * w + band / 2), h), 1.0, -1)
        tape = np.asarray(_jitter(rng, (196.0, 160.0, 110.0), 20), dtype=np.float32)
        alpha = rng.uniform(0.3, 0.7) * mask[..., None]
        tex = tex * (1 - alpha) + (tape + 25.0) * alpha
    return tex


def carton_plain(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    wh, ww, _ = _work_size(h, w)
    return _resize(_carton_base(rng, wh, ww), h, w)


_PRINT_TEXT = "易碎物品小心轻放向上防潮请勿倒置电器家居用品食品生鲜中国制造环保纸箱品质保证官方旗舰店"


def carton_printed(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A brand carton: coloured print (big words, bars, symbols) on kraft. Text here is not a label."""
    from PIL import Image, ImageDraw

    from luodi.synth.waybill_canvas import available_families

    wh, ww, _ = _work_size(h, w)
    tex = _carton_base(rng, wh, ww)
    img = Image.new("L", (ww, wh), 0)
    draw = ImageDraw.Draw(img)
    families = available_families()
    for _ in range(int(rng.integers(2, 7))):
        fam = families[int(rng.integers(0, len(families)))]
        size = int(rng.uniform(0.03, 0.12) * min(wh, ww))
        n = int(rng.integers(2, 8))
        start = int(rng.integers(0, len(_PRINT_TEXT) - n))
        draw.text(
            (rng.uniform(0, 0.8) * ww, rng.uniform(0, 0.9) * wh),
            _PRINT_TEXT[start : start + n],
            font=fam.regular.get(max(8, size)),
            fill=255,
        )
    for _ in range(int(rng.integers(0, 4))):
        x, y = rng.uniform(0, 0.9) * ww, rng.uniform(0, 0.9) * wh
        draw.rectangle((x, y, x + rng.uniform(0.05, 0.4) * ww, y + rng.uniform(0.01, 0.05) * wh), fill=255)
    ink = np.asarray(img, dtype=np.float32)[..., None] / 255.0
    color = np.asarray(
        [(30, 40, 120), (160, 30, 30), (20, 90, 40), (25, 25, 25)][int(rng.integers(0, 4))], dtype=np.float32
    )
    tex = tex * (1 - 0.85 * ink) + color * 0.85 * ink
    return _resize(tex, h, w)


# --- backgrounds -----------------------------------------------------------------------------------
def belt_pvc(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A PVC conveyor belt (green, black or grey), fine lengthwise texture, maybe a metal side rail."""
    wh, ww, _ = _work_size(h, w)
    color = _jitter(rng, [(40, 90, 60), (35, 35, 38), (90, 95, 95), (30, 60, 90)][int(rng.integers(0, 4))], 10)
    tex = _rgb(wh, ww, color)
    along_x = rng.random() < 0.5
    streak = rng.uniform(-1, 1, (wh, 2) if along_x else (2, ww)).astype(np.float32)
    streak = np.asarray(cv2.resize(streak, (ww, wh), interpolation=cv2.INTER_LINEAR), dtype=np.float32)
    tex *= (1.0 + 0.06 * streak + 0.08 * fbm(rng, wh, ww, (3, 10, 60)))[..., None]
    if rng.random() < 0.5:
        rail = int(rng.uniform(0.04, 0.12) * (wh if along_x else ww))
        metal = np.asarray(_jitter(rng, (150, 155, 160), 20), dtype=np.float32)
        edge = 0 if rng.random() < 0.5 else 1
        if along_x:
            sl = slice(0, rail) if edge == 0 else slice(wh - rail, wh)
            tex[sl, :, :] = metal * (0.8 + 0.2 * fbm(rng, rail, ww, (2, 8)))[..., None]
        else:
            sl = slice(0, rail) if edge == 0 else slice(ww - rail, ww)
            tex[:, sl, :] = metal * (0.8 + 0.2 * fbm(rng, wh, rail, (2, 8)))[..., None]
    return _resize(tex, h, w)


def floor_concrete(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    wh, ww, _ = _work_size(h, w)
    color = _jitter(rng, (128, 126, 122), 25)
    tex = _rgb(wh, ww, color) * (1.0 + 0.15 * fbm(rng, wh, ww, (3, 9, 27, 81, 160)))[..., None]
    specks = (rng.random((wh, ww)) < 0.004).astype(np.float32)
    tex *= (1.0 - 0.4 * cv2.GaussianBlur(specks, (0, 0), 0.8))[..., None]
    return _resize(tex, h, w)


def rollers(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Steel rollers across the frame: a bright cylinder profile, a dark gap, repeated."""
    wh, ww, _ = _work_size(h, w)
    along_x = rng.random() < 0.5
    n = wh if along_x else ww
    period = rng.uniform(0.05, 0.12) * n
    t = (np.arange(n, dtype=np.float32) % period) / period
    profile = np.where(t < 0.85, 0.45 + 0.55 * np.clip(np.sin(np.pi * t / 0.85), 0, 1) ** 0.6, 0.08).astype(np.float32)
    shade_line = profile[:, None] if along_x else profile[None, :]
    steel = np.asarray(_jitter(rng, (175, 178, 182), 20), dtype=np.float32)
    tex = steel * (shade_line * (1.0 + 0.05 * fbm(rng, wh, ww, (4, 40))))[..., None]
    return _resize(np.asarray(tex, dtype=np.float32), h, w)


def table_wood(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    wh, ww, _ = _work_size(h, w)
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    coord = xx if rng.random() < 0.5 else yy
    warp = fbm(rng, wh, ww, (2, 6)) * rng.uniform(20, 60)
    rings = np.sin((coord + warp) * rng.uniform(0.05, 0.2)) * 0.5 + 0.5
    color = np.asarray(_jitter(rng, (150, 100, 60), 25), dtype=np.float32)
    tex = color * (0.75 + 0.25 * rings + 0.08 * fbm(rng, wh, ww, (8, 60)))[..., None]
    return _resize(np.asarray(tex, dtype=np.float32), h, w)


def tiles_light(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Light floor tiles or a white work surface: bright squares, darker grout, a polished sheen."""
    wh, ww, _ = _work_size(h, w)
    color = np.asarray(_jitter(rng, (225, 222, 215), 20), dtype=np.float32)
    pitch = rng.uniform(0.08, 0.3) * max(wh, ww)
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    a = rng.uniform(-0.2, 0.2)
    u, v = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
    grout = ((u % pitch) < 0.04 * pitch) | ((v % pitch) < 0.04 * pitch)
    tex = color * (1.0 + 0.04 * fbm(rng, wh, ww, (3, 12, 50)))[..., None]
    tex = np.where(grout[..., None], tex * rng.uniform(0.55, 0.8), tex)
    sheen = shade(0.3 * fbm(rng, wh, ww, (2, 4)), np.asarray(tex, np.float32), rng, gloss=0.5, relief=30.0)
    return _resize(np.asarray(sheen, dtype=np.float32), h, w)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("poly_dark", "surface", False, poly_dark, "black / dark courier poly bag, glossy wrinkles"),
        Family("carton_plain", "surface", False, carton_plain, "plain kraft carton, seams, packing tape"),
        Family("poly_light", "surface", False, poly_light, "white / pastel poly bag: a bright label on bright plastic"),
        Family("woven_sack", "surface", True, woven_sack, "woven polypropylene sack (编织袋), pale colours"),
        Family("bubble_mailer", "surface", True, bubble_mailer, "padded bubble mailer, white, yellow, pink"),
        Family("carton_printed", "surface", True, carton_printed, "brand carton with coloured print and words"),
        Family("film_pattern", "surface", False, film_pattern, "bright glossy film, embossed or printed pattern"),
        Family("foil_mailer", "surface", False, foil_mailer, "metallised mailer: silver, gold, rose, mirror-like"),
        Family("paper_mailer", "surface", False, paper_mailer, "paper mailer, white or kraft, printed slogans"),
        Family("belt_pvc", "background", False, belt_pvc, "PVC conveyor belt, maybe a metal side rail"),
        Family("tiles_light", "background", False, tiles_light, "light floor tiles or a white work surface"),
        Family("floor_concrete", "background", False, floor_concrete, "concrete floor"),
        Family("rollers", "background", True, rollers, "steel roller conveyor"),
        Family("table_wood", "background", True, table_wood, "wooden table"),
    )
}
DEV_FAMILIES = tuple(name for name, f in FAMILIES.items() if not f.holdout)
HOLDOUT_FAMILIES = tuple(name for name, f in FAMILIES.items() if f.holdout)
