"""Which characters of a line are written in pen ink: a handwriting cue for forms filled by hand.

Bank slips and counter forms are printed in black (or a form colour: red, green) and filled in
with a ballpoint, most often blue. A value in blue ink on such a form was written by hand, and a
handwritten value OCR misreads is often read with full confidence (3 → 8 at 0.98), so extraction
wants to know (``luodi.kie``: such a value is keyed in unseen only where an independent check
confirms it). What this sees is the ink's hue, never the writing's shape: handwriting in black
ink is not marked (the cue misses it, it never invents it).

The measure: over a character's ink (what is darker than the line's paper, the crop's median),
blue's lead over the larger of red and green, less the paper's own where the paper is bluish (a
cool colour cast). Black print, grey print, red stamps and red or green form ink have none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A pixel is ink where it is this much darker than the paper (0..1).
_MIN_DARK = 0.15


def blue_lead(crop: np.ndarray, positions: Sequence[float], text: str) -> tuple[float, ...]:
    """One number per character of ``text``: blue's lead over red and green on its ink (0..1 of
    full scale; 0 for a space or a character with no ink). ``crop`` is the line's upright RGB
    image as read, ``positions`` each character's centre as a fraction of its width
    (``Line.char_positions``). Empty where the crop is not colour or the positions do not fit."""
    n = len(text)
    if crop.ndim != 3 or crop.shape[2] < 3 or n == 0 or len(positions) != n or crop.shape[1] < n:
        return ()
    rgb = crop[..., :3].astype(np.float32) / 255.0
    paper = np.median(rgb.reshape(-1, 3), axis=0)
    # Ink: what is darker than the paper (thin or blurred pen strokes beside bold print too).
    ink = rgb.mean(axis=2) < float(paper.mean()) - _MIN_DARK
    # A blue cast of the whole photo (the paper as blue as anything) is taken off; a warm paper
    # is not divided out: black ink laid over it stays neutral, and dividing would make it blue.
    lead = rgb[..., 2] - np.maximum(rgb[..., 0], rgb[..., 1]) - max(0.0, float(paper[2] - max(paper[0], paper[1])))
    # per column: summed lead and ink count; per character: its columns' sums
    col_lead = np.where(ink, lead, 0.0).sum(axis=0)
    col_ink = ink.sum(axis=0)
    width = crop.shape[1]
    cuts = [0] + [int((positions[i] + positions[i + 1]) / 2 * width) for i in range(n - 1)] + [width]
    out = []
    for i, ch in enumerate(text):
        a, b = cuts[i], max(cuts[i] + 1, cuts[i + 1])
        count = float(col_ink[a:b].sum())
        out.append(0.0 if ch.isspace() or count < 3 else round(max(0.0, float(col_lead[a:b].sum()) / count), 3))
    return tuple(out)
