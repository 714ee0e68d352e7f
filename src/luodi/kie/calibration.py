"""Calibrated confidence: a field's score is the probability that its value is right.

The decision step describes each decided field by a few numbers (:func:`field_features`): the OCR
confidence of the value's characters (mean and minimum, and the minimum over rare characters), how
the value was found (label on the line, cell, below, party block, position, page scan), the
heuristic score (OCR confidence × label match quality × where found × the contact parser's span
score), whether its validator passed, how many copies agree, how many of an address's
division names the gazetteer knows, whether a name starts with a known surname, and the value's
length. A logistic model per field type (:class:`Calibration`) turns them into a probability.

The parameters are fitted by ``bench/kie_calibrate.py`` on synthetic calibration pages whose seeds
and party data are kept apart from every evaluation set, and stored as a small JSON file per schema
beside this module (``calibrations/<schema>.json``): coefficients, not network weights. Without a
file (a user schema) the heuristic score is used as it is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from luodi.errors import ConfigError
from luodi.kie.layout import Run

WHERE = ("inline", "right", "below", "block", "tag", "position", "scan")
# Field types that share a model (few of each on a page; their errors look alike).
GROUP_OF_TYPE = {
    "name": "name",
    "phone": "phone",
    "address": "address",
    "address_part": "address_part",
    "tracking_number": "code",
    "id_number": "code",
    "digits": "code",
    "account": "code",
    "carrier": "carrier",
}
FEATURES = (
    "bias",
    "heuristic",
    "ocr_mean",
    "ocr_min",
    "ocr_rare_min",
    "rare_chars",
    "valid",
    "copies",
    "divisions_known",
    "surname",
    "length",
    "page_ocr",
    *(f"where_{w}" for w in WHERE),
)


def group_of(field_type: str) -> str:
    return GROUP_OF_TYPE.get(field_type, "other")


def is_rare(char: str) -> bool:
    """A Han character outside GB2312's 3,755 level-1 (common) characters: 榛, 昝, 掘 — the ones
    an OCR model confuses with a common look-alike (棒, 咎, 据) and a reader cannot guess back."""
    if not "\u4e00" <= char <= "\u9fff":
        return False
    try:
        code = char.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return not 0xB0 <= code[0] <= 0xD7


def char_scores(run: Run) -> list[tuple[str, float]]:
    """(character, OCR confidence) of every non-space character of a run."""
    out = []
    for p in run:
        line = p.tline.line
        per_char = len(line.char_scores) == len(line.text)
        for i in range(p.start, p.end):
            c = line.text[i]
            if not c.isspace():
                out.append((c, float(line.char_scores[i]) if per_char else float(line.score)))
    return out


def field_features(  # noqa: PLR0913 - keyword-only: one argument per feature
    *,
    heuristic: float,
    run: Run,
    value: str,
    where: str,
    valid: bool,
    copies: int,
    divisions_known: int = 0,
    surname: bool = False,
    page_ocr: float = 1.0,
) -> dict[str, float]:
    chars = char_scores(run)
    scores = [s for _, s in chars] or [heuristic]
    rare = [s for c, s in chars if is_rare(c)]
    out = {
        "bias": 1.0,
        "heuristic": heuristic,
        "ocr_mean": sum(scores) / len(scores),
        "ocr_min": min(scores),
        "ocr_rare_min": min(rare) if rare else 1.0,
        "rare_chars": float(len(rare)),
        "valid": float(valid),
        "copies": float(min(copies, 3)),
        "divisions_known": float(divisions_known),
        "surname": float(surname),
        "length": float(min(len(value), 40)) / 40.0,
        "page_ocr": page_ocr,
    }
    # A value over its caption is found like one under its label: on the neighbouring line.
    side = "below" if where == "above" else where
    out |= {f"where_{w}": float(w == side) for w in WHERE}
    return out


@dataclass(frozen=True, slots=True)
class _Model:
    coef: tuple[float, ...]  # aligned with FEATURES
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def __call__(self, features: Mapping[str, float]) -> float:
        z = 0.0
        for name, w, m, s in zip(FEATURES, self.coef, self.mean, self.scale, strict=True):
            x = features.get(name, 0.0)
            z += w * (x if name == "bias" else (x - m) / s)
        z = max(-40.0, min(40.0, z))
        return 1.0 / (1.0 + math.exp(-z))


class Calibration:
    """Logistic models per field-type group; immutable. ``thresholds`` are the review thresholds
    the fitting chose per group (the lowest at which the calibration pages' accepted fields were
    right often enough); they apply unless the caller gives a threshold of its own."""

    def __init__(
        self,
        models: Mapping[str, _Model],
        *,
        threshold: float | None,
        meta: Mapping[str, Any],
        thresholds: Mapping[str, float] | None = None,
    ) -> None:
        self._models = dict(models)
        self.threshold = threshold
        self.thresholds = dict(thresholds or {})
        self.meta = dict(meta)

    def threshold_for(self, field_type: str, default: float) -> float:
        """The review threshold the fitting chose for this type's group (``default`` if none)."""
        return self.thresholds.get(group_of(field_type), default)

    def probability(self, field_type: str, features: Mapping[str, float]) -> float | None:
        model = self._models.get(group_of(field_type))
        return None if model is None else model(features)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "<calibration>") -> Calibration:
        try:
            if tuple(data["features"]) != FEATURES:
                raise ConfigError(f"{origin}: fitted for other features; refit with bench/kie_calibrate.py")
            models = {
                g: _Model(tuple(m["coef"]), tuple(m["mean"]), tuple(m["scale"])) for g, m in data["models"].items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{origin}: not a calibration file ({exc})") from exc
        for g, m in models.items():
            if not len(m.coef) == len(m.mean) == len(m.scale) == len(FEATURES):
                raise ConfigError(f"{origin}: model {g!r} has the wrong number of coefficients")
        thresholds = {str(k): float(v) for k, v in (data.get("thresholds") or {}).items()}
        return cls(models, threshold=data.get("threshold"), meta=data.get("meta", {}), thresholds=thresholds)

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read calibration file {p}: {exc}") from exc
        return cls.from_dict(data, origin=str(p))

    @classmethod
    def builtin(cls, schema: str) -> Calibration | None:
        """The calibration shipped for a built-in schema, or None."""
        ref = resources.files("luodi.kie").joinpath("calibrations", f"{schema}.json")
        if not ref.is_file():
            return None
        return cls.from_dict(json.loads(ref.read_text(encoding="utf-8")), origin=f"<builtin {schema}.json>")


def fit_logistic(rows: Sequence[Mapping[str, float]], labels: Sequence[int], *, l2: float = 1.0) -> _Model:
    """Standardised L2 logistic regression (Newton steps; a few hundred rows, 19 features)."""
    import numpy as np

    x = np.array([[r.get(f, 0.0) for f in FEATURES] for r in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    mean[0], scale[0] = 0.0, 1.0
    scale[scale < 1e-9] = 1.0
    xs = (x - mean) / scale
    w = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[0] = 1e-6  # the bias is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(xs @ w, -40, 40)))
        grad = xs.T @ (p - y) + reg * w
        hess = (xs * (p * (1 - p))[:, None]).T @ xs + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return _Model(tuple(float(v) for v in w), tuple(float(v) for v in mean), tuple(float(v) for v in scale))


def model_to_dict(model: _Model) -> dict[str, list[float]]:
    return {
        "coef": [round(v, 6) for v in model.coef],
        "mean": [round(v, 6) for v in model.mean],
        "scale": [round(v, 6) for v in model.scale],
    }
