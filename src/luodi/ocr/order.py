"""Reading order: rows top to bottom, boxes left to right within a row, tolerant to slight skew.

Boxes join a row when their centre lies close to the row's centre line extended along the row's
slope (taken from the boxes' own top edges), so a page photographed a few degrees off level still
groups each printed line together instead of zig-zagging between lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def reading_order(quads: Sequence[np.ndarray], row_tolerance: float = 0.5) -> list[int]:
    """Indices of ``quads`` (tl, tr, br, bl) in reading order."""
    n = len(quads)
    if n <= 1:
        return list(range(n))
    q = np.asarray(quads, dtype=np.float64).reshape(n, 4, 2)
    centres = q.mean(axis=1)
    heights = (np.linalg.norm(q[:, 3] - q[:, 0], axis=1) + np.linalg.norm(q[:, 2] - q[:, 1], axis=1)) / 2
    heights = np.maximum(heights, 1.0)
    dx = q[:, 1, 0] - q[:, 0, 0]
    dy = q[:, 1, 1] - q[:, 0, 1]
    # boxes narrower than tall say little about the line's slope; clamp to ±0.25 (≈ 14°)
    slopes = np.where(np.abs(dx) > heights, dy / np.where(dx == 0, 1, dx), 0.0).clip(-0.25, 0.25)

    rows: list[list[int]] = []
    row_ref: list[tuple[float, float, float, float]] = []  # (x0, y0, slope, height)
    for i in np.lexsort((centres[:, 0], centres[:, 1])).tolist():
        cx, cy = centres[i]
        best, best_dist = -1, np.inf
        for r, (x0, y0, slope, h) in enumerate(row_ref):
            dist = abs(cy - (y0 + slope * (cx - x0))) / min(h, heights[i])
            if dist < row_tolerance and dist < best_dist:
                best, best_dist = r, dist
        if best < 0:
            rows.append([i])
            row_ref.append((cx, cy, float(slopes[i]), float(heights[i])))
        else:
            rows[best].append(i)
            members = rows[best]
            x0, y0 = centres[members].mean(axis=0)
            row_ref[best] = (
                float(x0),
                float(y0),
                float(np.median(slopes[members])),
                float(heights[members].mean()),
            )

    mid_x = float(centres[:, 0].mean())
    row_y = [y0 + slope * (mid_x - x0) for x0, y0, slope, _ in row_ref]
    order: list[int] = []
    for r in sorted(range(len(rows)), key=row_y.__getitem__):
        order.extend(sorted(rows[r], key=lambda i: centres[i, 0]))
    return order


def vertical_reading_order(quads: Sequence[np.ndarray], row_tolerance: float = 0.5) -> list[int]:
    """Order for a page of vertical columns: right to left, each column top to bottom.

    The page is turned 90° in coordinates (right edge up) so columns become rows and the row
    logic above applies unchanged; each quad is re-based to start at its reading top-left.
    """
    turned = []
    for quad in quads:
        q = np.roll(np.asarray(quad, dtype=np.float64).reshape(4, 2), -1, axis=0)
        turned.append(np.stack([q[:, 1], -q[:, 0]], axis=1))
    return reading_order(turned, row_tolerance)
