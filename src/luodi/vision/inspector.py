"""``Inspector(name)``: classify a part image or score it for anomalies with a trained vision model.

An inspector is immutable once built and safe to share between threads (the session's ``run`` is).
Every input is prepared as the model was trained (``vision.json``'s ``resize``: at its own
resolution turned to landscape, or squashed to a square); an anomaly heat map is mapped back to
the input image, so a model inspects photos of any size.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luodi.config import Limits
from luodi.errors import ConfigError
from luodi.runtime.base import InferenceSession
from luodi.vision.bundle import (
    SEARCH_INT8,
    SEARCHES,
    TASK_ANOMALY,
    VisionMeta,
    read_bank,
    read_meta,
    read_projection,
)
from luodi.vision.data import read_image, to_input
from luodi.vision.int8search import Int8BankSearch
from luodi.vision.scoring import meta_score
from luodi.zoo.generic import bundle_file
from luodi.zoo.spec import Bundle

DEFECT = "defect"
OK = "ok"


@dataclass(frozen=True, slots=True)
class Inspection:
    """One image's verdict. ``heatmap`` (anomaly models) is H x W float32 in score units."""

    source: str | None
    model: str
    kind: str  # "classify" or "anomaly"
    width: int
    height: int
    label: str  # classify: the predicted class; anomaly: "defect" or "ok"
    score: float  # classify: the label's probability; anomaly: the image's anomaly score
    decision: str  # "defect" or "ok" (classify: "ok" only for the model's good class)
    probabilities: Mapping[str, float] = field(default_factory=dict)
    threshold: float | None = None
    heatmap: np.ndarray | None = field(default=None, repr=False, compare=False)
    timings_ms: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "model": self.model,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "label": self.label,
            "score": round(self.score, 6),
            "decision": self.decision,
        }
        if self.kind == "classify":
            out["probabilities"] = {k: round(v, 6) for k, v in self.probabilities.items()}
        else:
            out["threshold"] = self.threshold
        out["timings_ms"] = {k: round(v, 2) for k, v in self.timings_ms.items()}
        return out


class Inspector:
    """A vision model from the zoo, ready to inspect images.

    >>> inspector = Inspector("tiles")          # luodi train vision|anomaly ... --name tiles
    >>> inspector("part.jpg").decision          # "ok" or "defect"
    """

    def __init__(
        self,
        model: str,
        *,
        home: str | Path | None = None,
        runtime: str | None = None,
        threads: int | None = None,
        limits: Limits | None = None,
        session: InferenceSession | None = None,
        search: str | None = None,
    ) -> None:
        """``search`` (anomaly models): "float" or "int8" for the memory-bank search; None takes
        the bundle's (``vision.json``'s ``search``: "int8" for ``luodi quantize`` outputs)."""
        from luodi.zoo import get_bundle

        if search is not None and search not in SEARCHES:
            raise ConfigError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
        bundle = get_bundle(model, home)
        self.meta: VisionMeta = read_meta(bundle)
        self.bundle: Bundle = bundle
        self.name = bundle.name
        self.limits = limits
        if session is None:
            from luodi.runtime.factory import create_session

            path = bundle_file(bundle, "model")
            backend = runtime or ("openvino" if path.suffix == ".xml" else None)
            session = create_session(path, backend, threads)
        self.session = session
        self._input = session.input_names[0]
        self._bank: np.ndarray | None = None
        self._bank_norms: np.ndarray | None = None
        self._projection: np.ndarray | None = None
        self._search: Int8BankSearch | None = None
        self.search = search or self.meta.search
        if bundle.task == TASK_ANOMALY:
            self._bank = read_bank(bundle)
            self._projection = read_projection(bundle, self._bank)
            self._bank_norms = np.einsum("ij,ij->i", self._bank, self._bank)
            if self.search == SEARCH_INT8:
                self._search = Int8BankSearch(self._bank)

    @property
    def kind(self) -> str:
        return self.meta.kind

    def __call__(self, source: str | Path | bytes | np.ndarray, *, name: str | None = None) -> Inspection:
        """Inspect one image: a path, the bytes of a file, or an RGB/gray array."""
        t0 = time.perf_counter()
        rgb = read_image(source, self.limits)
        label = name if name is not None else (str(source) if isinstance(source, str | Path) else None)
        return self.inspect_arrays([rgb], [label], decode_ms=(time.perf_counter() - t0) * 1000)[0]

    def inspect_arrays(
        self, images: Sequence[np.ndarray], sources: Sequence[str | None] | None = None, *, decode_ms: float = 0.0
    ) -> list[Inspection]:
        """Inspect decoded RGB ``uint8`` images in one batch."""
        if not images:
            return []
        names = list(sources) if sources is not None else [None] * len(images)
        t0 = time.perf_counter()
        inputs = [to_input(img, self.meta.image_size, self.meta.resize) for img in images]
        t1 = time.perf_counter()
        out: Sequence[np.ndarray]
        if len({x.shape for x in inputs}) == 1:
            out = list(self.session.run({self._input: np.stack(inputs)})[0])
        else:  # native-size inputs of different shapes: one run each
            out = [self.session.run({self._input: x[None]})[0][0] for x in inputs]
        t2 = time.perf_counter()
        results = []
        for i, img in enumerate(images):
            h, w = int(img.shape[0]), int(img.shape[1])
            base = {"decode": decode_ms, "preprocess": (t1 - t0) * 1000 / len(images)}
            base["infer"] = (t2 - t1) * 1000 / len(images)
            if self.meta.kind == "classify":
                results.append(self._classified(out[i], names[i], w, h, base))
            else:
                t3 = time.perf_counter()
                results.append(self._scored(out[i], names[i], w, h, base, t3))
        return results

    def _classified(
        self, probs: np.ndarray, source: str | None, w: int, h: int, timings: dict[str, float]
    ) -> Inspection:
        k = int(np.argmax(probs))
        label = self.meta.labels[k]
        good = self.meta.good_label
        decision = (OK if label == good else DEFECT) if good is not None else label
        return Inspection(
            source=source,
            model=self.name,
            kind="classify",
            width=w,
            height=h,
            label=label,
            score=float(probs[k]),
            decision=decision,
            probabilities={name: float(p) for name, p in zip(self.meta.labels, probs, strict=True)},
            timings_ms={**timings, "total": sum(timings.values())},
        )

    def _scored(
        self, fmap: np.ndarray, source: str | None, w: int, h: int, timings: dict[str, float], t0: float
    ) -> Inspection:
        assert self._bank is not None
        score, heat = meta_score(fmap, h, w, self.meta, self._bank, self._bank_norms, self._projection, self._search)
        threshold = self.meta.threshold
        defect = threshold is not None and score >= threshold
        timings = {**timings, "score": (time.perf_counter() - t0) * 1000}
        return Inspection(
            source=source,
            model=self.name,
            kind="anomaly",
            width=w,
            height=h,
            label=DEFECT if defect else OK,
            score=score,
            decision=DEFECT if defect else OK,
            threshold=threshold,
            heatmap=heat,
            timings_ms={**timings, "total": sum(timings.values())},
        )
