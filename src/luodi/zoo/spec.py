"""What a model bundle is. The zoo resolves a bundle name to one of these; stages read it.

A bundle is a detector, an optional 0/180 line classifier and a recogniser (plus its character
dictionary), each possibly in several formats (ONNX for onnxruntime/openvino, a Paddle inference
program for the paddle backend, an OpenVINO IR ``.xml`` + ``.bin`` for the openvino backend only,
e.g. an INT8 model quantized with NNCF). Every file carries its sha256 so the store can be verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of a bundle, as it lies in the model store."""

    # "det", "cls", "rec", "dict"; "<stage>.pdmodel"/"<stage>.pdiparams" for paddle variants;
    # "<stage>.xml"/"<stage>.bin" for OpenVINO IR
    role: str
    path: Path  # absolute path in the store
    sha256: str
    bytes: int
    source: str = ""  # where the file came from, e.g. "rapidocr-onnxruntime==1.4.4:rapidocr_onnxruntime/models/x.onnx"
    licence: str = ""


@dataclass(frozen=True, slots=True)
class StageSpec:
    """How a stage's model expects its input."""

    model: Path | None  # ONNX file (onnxruntime/openvino)
    paddle_model: Path | None = None  # Paddle inference program prefix dir/inference (optional)
    # OpenVINO IR .xml (its weights: the .bin beside it, same stem); runs on the openvino runtime only
    openvino_model: Path | None = None
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    scale: float = 1.0 / 255.0
    image_shape: tuple[int, int, int] | None = None  # (C, H, W); W is the nominal width for rec/cls
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bundle:
    name: str
    task: str  # "ocr" for det+cls+rec bundles; "rec" for a recogniser-only bundle, ...
    version: str  # "v4", "v5", "v6", or a user label
    det: StageSpec | None
    cls: StageSpec | None
    rec: StageSpec | None
    dictionary: Path | None  # CTC character dictionary, one entry per line, PaddleOCR order
    files: tuple[ModelFile, ...] = ()
    licence: str = ""
    source: str = ""
    description: str = ""
    base: str | None = None  # for user bundles: the bundle whose missing stages they borrow
    # the runtime the bundle is meant for ("openvino" when a stage exists only as OpenVINO IR);
    # None: whatever runtime the caller picks (settings, --runtime)
    runtime: str | None = None

    def info(self) -> dict[str, Any]:
        """The JSON printed by ``luodi models info NAME --format json``."""
        return {
            "name": self.name,
            "task": self.task,
            "version": self.version,
            "files": [
                {
                    "path": str(f.path),
                    "bytes": f.bytes,
                    "sha256": f.sha256,
                    "role": f.role,
                    "source": f.source,
                    "licence": f.licence,
                }
                for f in self.files
            ],
            "bytes": sum(f.bytes for f in self.files),
            "dictionary": str(self.dictionary) if self.dictionary is not None else None,
            "stages": {
                name: _stage_info(stage)
                for name, stage in (("det", self.det), ("cls", self.cls), ("rec", self.rec))
                if stage is not None
            },
            "licence": self.licence,
            "source": self.source,
            "description": self.description,
            "base": self.base,
            "runtime": self.runtime,
        }


def _stage_info(stage: StageSpec) -> dict[str, Any]:
    return {
        "model": str(stage.model) if stage.model is not None else None,
        "paddle_model": str(stage.paddle_model) if stage.paddle_model is not None else None,
        "openvino_model": str(stage.openvino_model) if stage.openvino_model is not None else None,
        "mean": list(stage.mean),
        "std": list(stage.std),
        "scale": stage.scale,
        "image_shape": list(stage.image_shape) if stage.image_shape is not None else None,
        "extra": dict(stage.extra),
    }
