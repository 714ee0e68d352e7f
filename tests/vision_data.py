"""Tiny generated inspection datasets for the vision tests (no third-party images)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def surface(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A brushed-metal-like gray surface: noise smeared along one axis, with a brightness gradient."""
    noise = rng.normal(128, 22, (h, w)).astype(np.float32)
    noise = cv2.blur(noise, (1, 9))
    grad = np.linspace(-15, 15, w, dtype=np.float32)[None, :] * rng.uniform(-1, 1)
    return np.clip(noise + grad, 0, 255).astype(np.uint8)


def defect(img: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw a defect; return the image and its mask (255 = defect)."""
    h, w = img.shape
    out, mask = img.copy(), np.zeros_like(img)
    cx, cy = int(rng.integers(w // 4, 3 * w // 4)), int(rng.integers(h // 4, 3 * h // 4))
    if kind == "spot":
        r = int(rng.integers(max(3, w // 14), max(5, w // 8)))
        for target in (out, mask):
            cv2.circle(target, (cx, cy), r, 15 if target is out else 255, -1)
    else:  # scratch
        dx, dy = int(rng.integers(-w // 3, w // 3)), int(rng.integers(h // 4, h // 2))
        for target in (out, mask):
            cv2.line(target, (cx - dx, cy - dy), (cx + dx, cy + dy), 250 if target is out else 255, 3)
    return out, mask


def make_classes(root: Path, per_class: dict[str, int], *, seed: int = 0, masks: bool = True) -> Path:
    """``root/<class>/<n>.jpg`` (+ ``<n>.png`` masks, the Magnetic-tile layout); class "good" has no defect."""
    rng = np.random.default_rng(seed)
    for cls, n in per_class.items():
        folder = root / cls
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            h, w = int(rng.integers(90, 130)), int(rng.integers(90, 150))
            img = surface(rng, h, w)
            mask = np.zeros_like(img)
            if cls != "good":
                img, mask = defect(img, cls, rng)
            cv2.imwrite(str(folder / f"{cls}_{i}.jpg"), img)
            if masks:
                cv2.imwrite(str(folder / f"{cls}_{i}.png"), mask)
    return root
