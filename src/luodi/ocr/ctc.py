"""CTC greedy decoding, vectorised over timesteps, with per-character confidence and position."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from luodi.errors import ModelError
from luodi.ocr.result import RecResult

BLANK = 0


def load_characters(path: str | Path | None, metadata: str | None = None, *, use_space: bool = True) -> list[str]:
    """PaddleOCR's class list: blank, the dictionary's entries in file order, then (usually) space.

    Lines are split on "\\n" only: ``str.splitlines`` would also split on characters such as
    U+2028 or U+001C that a dictionary may legitimately contain.
    """
    if path is not None:
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"cannot read character dictionary {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ModelError(f"character dictionary {path} is not UTF-8") from exc
    elif metadata is not None:
        raw = metadata
    else:
        raise ModelError("the recogniser has no character dictionary (neither a file nor ONNX metadata)")
    entries = raw.split("\n")
    if entries and entries[-1] == "":
        entries.pop()
    entries = [e[:-1] if e.endswith("\r") else e for e in entries]
    if not entries:
        raise ModelError(f"character dictionary {path or '(metadata)'} is empty")
    chars = ["<blank>", *entries]
    if use_space:
        chars.append(" ")
    return chars


def ctc_decode(
    probs: np.ndarray,
    characters: Sequence[str],
    content_fraction: Sequence[float] | None = None,
) -> list[RecResult]:
    """Greedy-decode ``probs`` (N×T×C softmax) into text.

    Each character's confidence is the probability at the first timestep of its run (PaddleOCR's
    choice, so scores compare with theirs); the line score is their mean. A character's position is
    the centre of its run as a fraction of the *content* width: ``content_fraction[i]`` is the part
    of sample ``i``'s tensor that held the crop rather than batch padding.
    """
    idx = probs.argmax(axis=2)
    conf = np.take_along_axis(probs, idx[..., None], axis=2)[..., 0]
    return ctc_decode_best(idx, conf, probs.shape[2], characters, content_fraction)


def ctc_decode_best(
    idx: np.ndarray,
    conf: np.ndarray,
    classes: int,
    characters: Sequence[str],
    content_fraction: Sequence[float] | None = None,
) -> list[RecResult]:
    """:func:`ctc_decode` from the best class per timestep (``idx``, N×T) and its probability
    (``conf``, N×T) of a ``classes``-way output: what a runtime can hand over without copying the
    whole N×T×C tensor (see ``luodi.runtime.base.run_best``)."""
    n, steps = idx.shape
    if classes != len(characters):
        raise ModelError(
            f"recogniser outputs {classes} classes but its dictionary has {len(characters)} "
            "(blank + entries + space): the model and dictionary do not belong together"
        )
    # a run starts where the class changes; blanks separate repeats of the same character
    starts = np.ones((n, steps), dtype=bool)
    starts[:, 1:] = idx[:, 1:] != idx[:, :-1]
    keep = starts & (idx != BLANK)
    results: list[RecResult] = []
    for i in range(n):
        run_starts = np.flatnonzero(starts[i])
        run_ends = np.append(run_starts[1:], steps)  # exclusive
        kept = idx[i, run_starts] != BLANK
        cls_ids = idx[i, run_starts[kept]]
        if cls_ids.size == 0:
            results.append(RecResult(text="", score=0.0))
            continue
        scores = conf[i][keep[i]].astype(np.float64)
        centre = (run_starts[kept] + run_ends[kept]) / 2.0 / steps
        frac = content_fraction[i] if content_fraction is not None else 1.0
        positions = np.clip(centre / max(frac, 1e-6), 0.0, 1.0)
        pieces = [characters[c] for c in cls_ids.tolist()]
        text = "".join(pieces)
        if len(text) != len(pieces):
            # a few dictionary entries are several code points (emoji sequences): keep one score
            # and position per code point of ``text`` so indices into the string stay aligned
            lengths = [len(p) for p in pieces]
            scores = np.repeat(scores, lengths)
            positions = np.repeat(positions, lengths)
        results.append(
            RecResult(
                text=text,
                score=float(scores.mean()),
                char_scores=tuple(scores.tolist()),
                char_positions=tuple(positions.tolist()),
            )
        )
    return results
