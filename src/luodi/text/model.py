"""``TextModel(name)(texts)``: a trained text bundle on ONNX Runtime; Paddle is never imported.

The model is immutable after construction and safe to share between threads (ONNX Runtime's
``run`` is); per-call options (``top_k``) are arguments. Every text gets one :class:`TextResult`.
An empty text is an error naming its index; a text over the model's ``max_len`` is cut to its
first ``max_len`` characters, and its result says ``truncated``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import EmptyInputError, InputError, ModelError
from luodi.text.decode import class_slot_mask, decode_slots_batch
from luodi.text.features import Featurizer

__all__ = ["Slot", "TextModel", "TextResult"]

BATCH = 64  # texts per ONNX call: larger batches gain nothing on CPU and pad more


@dataclass(frozen=True, slots=True)
class Slot:
    type: str
    value: str
    start: int  # character offsets in the input text, end exclusive
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class TextResult:
    text: str
    label: str
    score: float
    top_k: tuple[tuple[str, float], ...]
    slots: tuple[Slot, ...] = ()
    truncated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "label": self.label,
            "score": round(self.score, 6),
            "top_k": [{"label": lab, "score": round(s, 6)} for lab, s in self.top_k],
            "slots": [s.to_dict() for s in self.slots],
            "truncated": self.truncated,
        }
        return out


def check_texts(texts: Sequence[Any]) -> list[str]:
    """The texts as a list; an empty or non-string entry is an error that names its index."""
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"text {i} is a {type(t).__name__}, not a string")
        if not t.strip():
            raise EmptyInputError(f"text {i} is empty")
        out.append(t)
    return out


class TextModel:
    """A registered text model (``luodi train text --name NAME``) ready to classify and tag texts."""

    def __init__(self, name: str, *, home: str | Path | None = None, threads: int | None = 1) -> None:
        from luodi.runtime import create_session
        from luodi.zoo import bundle_file, get_bundle

        bundle = get_bundle(name, home)
        if bundle.task != "text":
            raise ModelError(f"model {name!r} is a {bundle.task} model, not a text model")
        self.name = name
        features = Featurizer.load(bundle_file(bundle, "features"))
        if features.context_dim:  # e5's cut the model was trained with (luodi.text.context)
            from luodi.text.context import E5Context

            graph = bundle_file(bundle, "context_graph")
            features = features.with_context(E5Context.load(bundle_file(bundle, "context"), graph, threads=threads))
        self.features = features
        meta_path = bundle_file(bundle, "meta")
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{meta_path}: unreadable model metadata ({exc})") from exc
        self.task = str(self.meta["task"])
        self.classes: tuple[str, ...] = tuple(self.meta["classes"])
        self.tags: tuple[str, ...] = tuple(self.meta["tags"])
        crf = self.meta.get("crf")
        self._crf = {k: np.asarray(v, np.float32) for k, v in crf.items()} if crf else None
        class_slots = self.meta.get("class_slots")  # bundles exported before it decode without the mask
        self._slot_mask = class_slot_mask(self.classes, self.tags, class_slots) if crf and class_slots else None
        self.session = create_session(bundle_file(bundle, "model"), "onnxruntime", threads)
        self.max_len = self.features.max_len

    def __call__(self, texts: str | Sequence[str], *, top_k: int = 3) -> list[TextResult]:
        items = check_texts([texts] if isinstance(texts, str) else list(texts))
        if top_k < 1:
            raise InputError(f"top_k must be at least 1, got {top_k}")
        # batches of similar lengths pad less (the network and the decode work on the padded width)
        order = sorted(range(len(items)), key=lambda i: len(items[i]))
        results: list[TextResult | None] = [None] * len(items)
        for s in range(0, len(order), BATCH):
            chosen = order[s : s + BATCH]
            for i, result in zip(chosen, self._batch([items[i] for i in chosen], top_k), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def _batch(self, texts: list[str], top_k: int) -> list[TextResult]:
        enc = self.features.encode(texts)
        inputs = enc.inputs()
        logits, emissions = self.session.run({n: inputs[n] for n in self.session.input_names})[:2]
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probs = e / e.sum(axis=-1, keepdims=True)
        k = min(top_k, len(self.classes))
        spans = None
        if self._crf is not None:
            allowed = None if self._slot_mask is None else self._slot_mask[probs.argmax(axis=1)]
            spans = decode_slots_batch(emissions, enc.lengths, self.tags, self._crf, allowed)
        out = []
        for row, text in enumerate(texts):
            order = np.argsort(-probs[row])[:k]
            ranked = tuple((self.classes[int(i)], float(probs[row, i])) for i in order)
            slots: tuple[Slot, ...] = ()
            if spans is not None:
                slots = tuple(Slot(sp.type, text[sp.start : sp.end], sp.start, sp.end) for sp in spans[row])
            out.append(TextResult(text, ranked[0][0], ranked[0][1], ranked, slots, enc.truncated[row]))
        return out
