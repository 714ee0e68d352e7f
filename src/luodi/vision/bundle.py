"""How a vision model lies in the zoo: an ONNX graph, a ``vision.json`` of what it needs, and for
anomaly models the memory bank. Registered with :func:`luodi.zoo.register_files`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, ModelError
from luodi.zoo.generic import bundle_file
from luodi.zoo.spec import Bundle

TASK_CLASSIFY = "vision-classify"
TASK_ANOMALY = "vision-anomaly"
TASKS = (TASK_CLASSIFY, TASK_ANOMALY)
META_FORMAT = 1
#: how an anomaly model searches its memory bank: in float (every bundle before it was recorded), or
#: in int8 (``luodi quantize`` of an anomaly model writes it: luodi.vision.int8search)
SEARCH_FLOAT = "float"
SEARCH_INT8 = "int8"
SEARCHES = (SEARCH_FLOAT, SEARCH_INT8)

#: backbone bundles luodi.vision can build, by zoo name -> architecture
BACKBONES = {f"efficientnet-lite{i}": f"efficientnet-lite{i}" for i in (0, 1, 2)}
#: the anomaly model's default backbone. On the magnetic tiles' dev splits (bench/results/vision.md)
#: Lite2 against Lite0, stages 3+4, same scoring: image AUROC 0.950 vs 0.947 (file split) and 0.824
#: vs 0.814 (tile split), pixel AUROC 0.856 vs 0.847 and 0.860 vs 0.844; Lite1 was +0.5 / -0.7 pt.
ANOMALY_BACKBONE = "efficientnet-lite2"


@dataclass(frozen=True, slots=True)
class VisionMeta:
    """The contents of a vision bundle's ``vision.json``."""

    kind: str  # "classify" or "anomaly"
    image_size: int
    backbone: str
    labels: tuple[str, ...] = ()  # classify: output order
    good_label: str | None = None  # classify: the class that means "no defect", if any
    threshold: float | None = None  # anomaly: image score at or above which an image is a defect
    false_alarm_rate: float | None = None  # anomaly: the rate the threshold was chosen for
    score_scale: float | None = None  # anomaly: heat-map value shown as full red (visualisation)
    # how images meet the network (luodi.vision.data.to_input); bundles from before it was
    # recorded were all "square"
    resize: str = "square"
    # anomaly: image score = mean of the top patches inside a border ring (patchcore.image_score);
    # bundles from before these were recorded scored the single top patch of the whole map
    score_border: int = 0
    score_top: int = 1
    # anomaly: "heat_max" (the smoothed heat map's maximum) or "top" (the above); bundles from
    # before it was recorded scored "top" and smoothed with sigma 4 (patchcore.score_and_heat)
    score_mode: str = "top"
    sigma: float = 4.0
    search: str = SEARCH_FLOAT  # anomaly: SEARCHES
    extra: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": META_FORMAT,
            "kind": self.kind,
            "image_size": self.image_size,
            "backbone": self.backbone,
            "labels": list(self.labels),
            "good_label": self.good_label,
            "threshold": self.threshold,
            "false_alarm_rate": self.false_alarm_rate,
            "score_scale": self.score_scale,
            "resize": self.resize,
            "score_border": self.score_border,
            "score_top": self.score_top,
            "score_mode": self.score_mode,
            "sigma": self.sigma,
            **({"search": self.search} if self.search != SEARCH_FLOAT else {}),
            **dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VisionMeta:
        known = {"format", "kind", "image_size", "backbone", "labels", "good_label", "threshold"}
        known |= {"false_alarm_rate", "score_scale", "resize", "score_border", "score_top"}
        known |= {"score_mode", "sigma", "search"}
        if data.get("format") != META_FORMAT or data.get("kind") not in ("classify", "anomaly"):
            raise ModelError("vision.json: unsupported format or kind")
        if data.get("resize", "square") not in ("square", "native"):
            raise ModelError(f"vision.json: unknown resize mode {data.get('resize')!r}")
        if data.get("score_mode", "top") not in ("top", "heat_max"):
            raise ModelError(f"vision.json: unknown score mode {data.get('score_mode')!r}")
        if data.get("search", SEARCH_FLOAT) not in SEARCHES:
            raise ModelError(f"vision.json: unknown bank search {data.get('search')!r}")
        return cls(
            kind=str(data["kind"]),
            image_size=int(data["image_size"]),
            backbone=str(data["backbone"]),
            labels=tuple(str(x) for x in data.get("labels") or ()),
            good_label=data.get("good_label"),
            threshold=None if data.get("threshold") is None else float(data["threshold"]),
            false_alarm_rate=None if data.get("false_alarm_rate") is None else float(data["false_alarm_rate"]),
            score_scale=None if data.get("score_scale") is None else float(data["score_scale"]),
            resize=str(data.get("resize", "square")),
            score_border=int(data.get("score_border", 0)),
            score_top=int(data.get("score_top", 1)),
            score_mode=str(data.get("score_mode", "top")),
            sigma=float(data.get("sigma", 4.0)),
            search=str(data.get("search", SEARCH_FLOAT)),
            extra=tuple((k, v) for k, v in data.items() if k not in known),
        )

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path


def read_meta(bundle: Bundle) -> VisionMeta:
    if bundle.task not in TASKS:
        raise ConfigError(
            f"model {bundle.name!r} is a {bundle.task} model, not a vision model "
            "(train one with `luodi train vision` or `luodi train anomaly`)"
        )
    path = bundle_file(bundle, "meta")
    try:
        return VisionMeta.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: not a valid vision.json ({exc})") from exc


def read_bank(bundle: Bundle) -> np.ndarray:
    path = bundle_file(bundle, "bank")
    try:
        bank = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the memory bank ({exc})") from exc
    if bank.ndim != 2 or not bank.size:
        raise ModelError(f"{path}: the memory bank must be a non-empty 2-D array, got shape {bank.shape}")
    return np.ascontiguousarray(bank, dtype=np.float32)


def read_projection(bundle: Bundle, bank: np.ndarray) -> np.ndarray | None:
    """The anomaly bank's projection (``patchcore.fit_projection``), or None: bundles made before it
    (and ``--project 0``) keep the features as the network gives them."""
    if not any(f.role == "projection" for f in bundle.files):
        return None
    path = bundle_file(bundle, "projection")
    try:
        proj = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the bank's projection ({exc})") from exc
    if proj.ndim != 2 or proj.shape[0] < 2 or proj.shape[1] != bank.shape[1]:
        raise ModelError(
            f"{path}: the projection must be (features + 1) x {bank.shape[1]} (the bank's width), got {proj.shape}"
        )
    return np.ascontiguousarray(proj, dtype=np.float32)


def backbone_state(name: str, home: Path | None = None) -> tuple[str, dict[str, np.ndarray]]:
    """(architecture, ImageNet weights as numpy) of a backbone bundle; raises if not pulled."""
    from luodi.vision.pth import load_pth
    from luodi.zoo import get_bundle

    if name not in BACKBONES:
        raise ConfigError(f"unknown backbone {name!r}; choose one of: {', '.join(BACKBONES)}")
    bundle = get_bundle(name, home)
    return BACKBONES[name], load_pth(bundle_file(bundle, "weights"))
