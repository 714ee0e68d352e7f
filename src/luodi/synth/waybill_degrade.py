"""Page-level degradations for the "hard" waybill set: what phone photos of thermal labels look like.

Each function draws its parameters from the sample's random generator and applies the primitives of
:mod:`luodi.synth.degrade`; nothing reads global random state, so a seed reproduces a page byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from luodi.synth import degrade as base

Array = np.ndarray


def _background(rng: np.random.Generator) -> tuple[int, int, int]:
    """A table or parcel surface colour behind the label."""
    surface = np.array([[150, 120, 90], [90, 90, 95], [200, 190, 170], [60, 60, 60]][int(rng.integers(0, 4))])
    r, g, b = (int(v) for v in np.clip(surface + rng.integers(-20, 21, size=3), 0, 255))
    return (r, g, b)


def rotate(img: Array, rng: np.random.Generator, max_deg: float = 5.0) -> Array:
    """Rotate by up to ±``max_deg`` degrees, canvas grown so no text is cut off."""
    return np.asarray(base.rotate(img, float(rng.uniform(-max_deg, max_deg)), _background(rng))[0])


def perspective(img: Array, rng: np.random.Generator, strength: float = 0.06) -> Array:
    """A camera not square to the label. The page is first padded with the surface colour so that
    pulling the corners in does not cut off text near the edges."""
    bg = _background(rng)
    h, w = img.shape[:2]
    pad = int(strength * min(h, w)) + 2
    padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=bg)
    return np.asarray(base.perspective(padded, float(rng.uniform(0.5, 1.0)) * strength, rng, bg)[0])


def blur(img: Array, rng: np.random.Generator) -> Array:
    if rng.random() < 0.6:
        return base.gaussian_blur(img, float(rng.uniform(0.6, 1.4)))
    # slight hand shake: a short line kernel at a random angle
    k = int(rng.integers(3, 6))
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    turned = np.asarray(cv2.warpAffine(kernel, m, (k, k)), np.float32)
    turned /= max(float(turned.sum()), 1e-6)
    return np.asarray(cv2.filter2D(img, -1, turned), np.uint8)


def noise(img: Array, rng: np.random.Generator) -> Array:
    return base.gaussian_noise(img, float(rng.uniform(4.0, 12.0)), rng)


def thermal_fade(img: Array, rng: np.random.Generator) -> Array:
    """Faded thermal print: ink lightened overall and more in streaks along the paper feed (a worn print
    head), on yellowed paper."""
    w = img.shape[1]
    cols = np.ones(w, np.float32)
    for _ in range(int(rng.integers(1, 5))):
        cx, half = int(rng.integers(0, w)), int(rng.integers(w // 30, w // 6))
        x0, x1 = max(0, cx - half), min(w, cx + half)
        cols[x0:x1] *= 1.0 - float(rng.uniform(0.2, 0.5)) * np.hanning(x1 - x0).astype(np.float32)
    faded = base.fade(img, float(rng.uniform(0.45, 0.75))).astype(np.float32)
    out = 255.0 - (255.0 - faded) * cols[None, :, None]
    out += np.array([0.0, -6.0, -22.0], np.float32) * float(rng.uniform(0.3, 1.0))
    return np.asarray(np.clip(out, 0, 255), np.uint8)


def shading(img: Array, rng: np.random.Generator) -> Array:
    """Uneven light across a phone photo: a smooth gradient darkening one side."""
    h, w = img.shape[:2]
    angle = float(rng.uniform(0, 2 * np.pi))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) + 0.5
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    gain = 1.0 - float(rng.uniform(0.15, 0.35)) * ramp
    return np.asarray(np.clip(img.astype(np.float32) * gain[..., None], 0, 255), np.uint8)


def low_resolution(img: Array, rng: np.random.Generator) -> Array:
    """A small or far-away photo: downscaled to 55–80 % (short side kept ≥ 480 px); sometimes scaled back
    up, which leaves the blur of the lost detail at the original size."""
    scale = max(float(rng.uniform(0.55, 0.8)), 480 / min(img.shape[:2]))
    return base.low_resolution(img, scale, restore=bool(rng.random() < 0.35))


def jpeg(img: Array, rng: np.random.Generator) -> Array:
    return base.jpeg(img, int(rng.integers(25, 55)))


PHOTOMETRIC: dict[str, Callable[[Array, np.random.Generator], Array]] = {
    "thermal_fade": thermal_fade,
    "blur": blur,
    "noise": noise,
    "shading": shading,
    "low_resolution": low_resolution,
}


def degrade_hard(img: Array, rng: np.random.Generator) -> tuple[Array, tuple[str, ...]]:
    """One geometric distortion (rotation and/or perspective), two or three photometric ones, then a
    low-quality JPEG round trip. Returns the image and the names applied, in order."""
    applied: list[str] = []
    out = img
    if rng.random() < 0.5:
        out = thermal_fade(out, rng)
        applied.append("thermal_fade")
    geo = int(rng.integers(0, 3))
    if geo in (0, 2):
        out = rotate(out, rng)
        applied.append("rotate")
    if geo in (1, 2):
        out = perspective(out, rng)
        applied.append("perspective")
    names = [n for n in PHOTOMETRIC if n != "thermal_fade"]
    picked = rng.choice(len(names), size=int(rng.integers(2, 4)), replace=False)
    for i in sorted(int(j) for j in picked):
        out = PHOTOMETRIC[names[i]](out, rng)
        applied.append(names[i])
    out = jpeg(out, rng)
    applied.append("jpeg")
    return np.ascontiguousarray(out), tuple(applied)
