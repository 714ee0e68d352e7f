"""Heat-map overlays for anomaly results (``luodi inspect --visualize``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from luodi.vision.inspector import Inspection


def overlay(rgb: np.ndarray, result: Inspection, scale: float | None = None) -> np.ndarray:
    """The image with the heat map blended in (JET colours; full red at ``scale``, default 1.5x the
    threshold) and the verdict written in the corner. A classification result gets the label only."""
    out = rgb.copy()
    if result.heatmap is not None:
        top = scale or (result.threshold * 1.5 if result.threshold else float(result.heatmap.max()) or 1.0)
        norm = np.clip(result.heatmap / top, 0, 1)
        colours = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_JET)[:, :, ::-1]
        alpha = (0.15 + 0.5 * norm)[:, :, None]
        out = (rgb * (1 - alpha) + colours * alpha).astype(np.uint8)
    text = (
        f"{result.decision} {result.label} {result.score:.3f}"
        if result.kind == "classify"
        else (
            f"{result.decision} {result.score:.3f} / {result.threshold:.3f}"
            if result.threshold is not None
            else f"{result.score:.3f}"
        )
    )
    size = max(0.4, min(out.shape[:2]) / 500)
    colour = (220, 30, 30) if result.decision == "defect" else (30, 170, 30)
    cv2.putText(out, text, (6, int(22 * size) + 4), cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, int(22 * size) + 4), cv2.FONT_HERSHEY_SIMPLEX, size, colour, 1, cv2.LINE_AA)
    return out


def save_overlay(rgb: np.ndarray, result: Inspection, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), overlay(rgb, result)[:, :, ::-1]):
        raise OSError(f"cannot write {path}")
    return path
