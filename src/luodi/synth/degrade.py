"""Image degradations for synthetic text, each a pure function of (image, parameters).

Every function takes and returns an RGB ``uint8`` array and never mutates its input. Randomness only
enters through an explicit ``numpy.random.Generator``, so a seed reproduces an image byte for byte.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

Color = tuple[int, int, int]


def _u8(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return out


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return img.copy()
    return cv2.GaussianBlur(img, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REPLICATE)


def gaussian_noise(img: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    if std <= 0:
        return img.copy()
    # One noise value per pixel shared by the channels: sensor/scan noise is mostly luminance noise.
    noise = rng.normal(0.0, float(std), size=img.shape[:2])[..., None]
    return _u8(img.astype(np.float32) + noise)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:  # pragma: no cover - we just encoded it
        raise RuntimeError("JPEG decoding failed")
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


def rotate(img: np.ndarray, degrees: float, background: Color) -> tuple[np.ndarray, np.ndarray]:
    """Rotate about the centre, growing the canvas so nothing is cut off.

    Returns the image and the 2x3 affine matrix that maps old pixel coordinates to new ones (pages
    need it to move their box labels along).
    """
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(degrees), 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(w * cos + h * sin), math.ceil(w * sin + h * cos)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(
        img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=background
    )
    return out, m


def perspective(
    img: np.ndarray, strength: float, rng: np.random.Generator, background: Color
) -> tuple[np.ndarray, np.ndarray]:
    """Move each corner inward by up to ``strength`` x the shorter side, like a slightly skewed photo.

    Returns the warped image and the 3x3 homography (old → new coordinates).
    """
    h, w = img.shape[:2]
    d = strength * min(h, w)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    jitter = rng.uniform(0, d, size=(4, 2)) * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float32)
    dst = (src + jitter).astype(np.float32)
    hm = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(
        img, hm, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=background
    )
    return out, hm


def fade(img: np.ndarray, contrast: float, brightness: float = 0.0) -> np.ndarray:
    """Pull every pixel toward white by ``1 - contrast`` (faded ink / washed-out print)."""
    f = img.astype(np.float32)
    out = 255.0 - (255.0 - f) * float(contrast) + float(brightness)
    return _u8(out)


def low_resolution(img: np.ndarray, scale: float, *, restore: bool) -> np.ndarray:
    """Downsample by ``scale`` (area averaging); ``restore`` upsamples back to the original size.

    Restoring keeps the blockiness of a low-resolution capture at the original geometry; not
    restoring hands the model a genuinely small image, as a fax or thumbnail would.
    """
    if scale >= 1:
        return img.copy()
    h, w = img.shape[:2]
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    if not restore:
        return small
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def smooth_field(shape: tuple[int, int], rng: np.random.Generator, cells: int = 4) -> np.ndarray:
    """A smooth random field in [0, 1] (bicubic-upsampled coarse noise): uneven ink or lighting."""
    h, w = shape
    gw = max(2, cells * max(1, round(w / max(h, 1))))
    coarse = rng.random((max(2, cells // 2 + 1), gw)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / (hi - lo) if hi > lo else np.zeros((h, w), np.float32)


def paper(shape: tuple[int, int], base: Color, rng: np.random.Generator, texture: float = 4.0) -> np.ndarray:
    """A paper background: a base colour with a little low-frequency unevenness and grain."""
    h, w = shape
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = np.asarray(base, np.float32)
    if texture > 0:
        bg += (smooth_field((h, w), rng) - 0.5)[..., None] * texture * 2
        bg += rng.normal(0, texture / 2, size=(h, w))[..., None]
    return _u8(bg)


def composite(background: np.ndarray, alpha: np.ndarray, ink: Color) -> np.ndarray:
    """Lay ink of one colour onto ``background`` with per-pixel coverage ``alpha`` in [0, 1].

    Multiplicative, like real ink: red over black stays dark, ink over a tinted paper takes the tint.
    """
    a = np.clip(alpha, 0.0, 1.0)[..., None].astype(np.float32)
    ink_f = np.asarray(ink, np.float32) / 255.0
    out = background.astype(np.float32) * (1.0 - a * (1.0 - ink_f))
    return _u8(out)


def motion_blur(img: np.ndarray, length: int, angle: float) -> np.ndarray:
    """Smear along a line of ``length`` pixels at ``angle`` degrees (a moving scanner or hand)."""
    if length < 2:
        return img.copy()
    line: np.ndarray = np.zeros((length, length), np.float32)
    line[length // 2, :] = 1.0
    m = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(angle), 1.0)
    k = cv2.warpAffine(line, m, (length, length))
    kernel = (k / max(float(k.sum()), 1e-6)).astype(np.float32)
    out: np.ndarray = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    return out


def illumination(img: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A linear shading across the image (a photo lit from one side), darkening by up to ``strength``."""
    h, w = img.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = np.cos(angle) * xx / max(w, 1) + np.sin(angle) * yy / max(h, 1)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    return _u8(img.astype(np.float32) * (1.0 - float(strength) * ramp)[..., None])


def speckle(img: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper dust: a fraction ``amount`` of pixels set dark or light."""
    out = img.copy()
    mask = rng.random(img.shape[:2])
    out[mask < amount / 2] = int(rng.integers(0, 80))
    out[mask > 1 - amount / 2] = 255
    return out
