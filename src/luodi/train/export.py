"""Export a fine-tuned run for serving: static graph (paddle.jit.save) and ONNX (paddle2onnx).

The ONNX file carries the dictionary in its ``character`` metadata like the stock models, and the
export is checked before it is registered: the ONNX output must match the dynamic-graph model on
the same input. Registration makes ``luodi ocr --model NAME`` use the new recogniser with the base
bundle's detector and classifier.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import InputNotFoundError, ModelError
from luodi.ocr.line_prep import LinePrep
from luodi.train.charset import read_charset

PARITY_TOL = 1e-3  # max abs difference of softmax outputs between the dynamic model and the ONNX file


@dataclass(frozen=True, slots=True)
class ExportResult:
    onnx: Path
    paddle_prefix: Path  # dir/inference -> inference.json (or .pdmodel) + inference.pdiparams
    dictionary: Path
    max_abs_diff: float
    bundle: Any  # luodi.zoo.Bundle when registered, else None


def load_run_model(run_dir: Path, checkpoint: str = "best") -> tuple[Any, Any]:
    """The run's model in eval mode with the chosen checkpoint's weights, and its charset."""
    weights = run_dir / f"{checkpoint}.pdparams"
    dict_path = run_dir / "dict.txt"
    if not weights.is_file() or not dict_path.is_file():
        raise InputNotFoundError(f"{run_dir}: not a training run ({weights.name} or dict.txt missing)")
    from luodi.train.model import DEFAULT_ARCH, build_model
    from luodi.train.trainer import MODEL_INFO, import_paddle

    paddle = import_paddle()
    charset = read_charset(dict_path)
    info = run_dir / MODEL_INFO
    arch = json.loads(info.read_text(encoding="utf-8"))["arch"] if info.is_file() else DEFAULT_ARCH
    model = build_model(charset.num_classes, arch)
    model.set_state_dict(paddle.load(str(weights)))
    model.eval()
    return model, charset


def run_line_prep(run_dir: Path) -> LinePrep | None:
    """The line preprocessing a run trained with (its config's ``Preprocess``), which its model needs."""
    from luodi.train.config import PreprocessSpec

    cfg = run_dir / "config.json"
    if not cfg.is_file():
        return None
    section = json.loads(cfg.read_text(encoding="utf-8")).get("Preprocess") or {}
    return PreprocessSpec.model_validate(section).line_prep()


def _add_metadata(onnx_path: Path, characters: str) -> None:
    import onnx

    model = onnx.load(str(onnx_path))
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = "character", characters
    tmp = onnx_path.with_name(onnx_path.name + ".tmp")
    onnx.save(model, str(tmp))
    os.replace(tmp, onnx_path)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """paddle2onnx and polygraphy print progress to stdout (also from C++); commands keep stdout for results."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def to_onnx(model_file: Path, params_file: Path, out: Path) -> None:
    # polygraphy (used by paddle2onnx) would otherwise pip-install missing tools at run time
    os.environ.setdefault("POLYGRAPHY_AUTOINSTALL_DEPS", "0")
    try:
        import paddle2onnx
    except ImportError as exc:
        raise ModelError("ONNX export needs paddle2onnx: pip install 'luodi[train]'") from exc
    try:
        with _stdout_to_stderr():
            paddle2onnx.export(
                model_filename=str(model_file),
                params_filename=str(params_file),
                save_file=str(out),
                opset_version=14,
                enable_onnx_checker=True,
            )
    except Exception as exc:  # paddle2onnx raises bare Exceptions from C++
        raise ModelError(f"paddle2onnx could not convert {model_file}: {exc}") from exc


def export_model(model: Any, charset: Any, out_dir: Path, *, check_width: int = 200) -> ExportResult:
    """jit.save + paddle2onnx into ``out_dir``; checks the ONNX file against ``model``."""
    import onnxruntime as ort

    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / "inference"
    spec = paddle.static.InputSpec([None, 3, 48, None], "float32", "x")
    model.eval()
    paddle.jit.save(model, str(prefix), input_spec=[spec])
    model_file = next((p for p in (prefix.with_suffix(".json"), prefix.with_suffix(".pdmodel")) if p.is_file()), None)
    if model_file is None:
        raise ModelError(f"paddle.jit.save wrote no program file next to {prefix}")
    onnx_path = out_dir / "rec.onnx"
    to_onnx(model_file, prefix.with_suffix(".pdiparams"), onnx_path)
    dictionary = out_dir / "dict.txt"
    charset.write(dictionary)
    _add_metadata(onnx_path, "\n".join(charset.entries))

    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, check_width)).astype(np.float32)
    with paddle.no_grad():
        expected = model(paddle.to_tensor(x)).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    diff = float(np.abs(expected - got).max()) if expected.shape == got.shape else float("inf")
    if not diff <= PARITY_TOL:
        raise ModelError(f"exported ONNX disagrees with the trained model (max abs diff {diff:.2e})")
    return ExportResult(onnx_path, prefix, dictionary, diff, None)


def export_run(
    run_dir: str | Path,
    name: str | None = None,
    *,
    checkpoint: str = "best",
    out_dir: str | Path | None = None,
    force: bool = False,
    home: Path | None = None,
    accept_regression: bool = False,
) -> ExportResult:
    """Export a run's checkpoint; with ``name``, register it in the zoo on top of the run's base bundle.

    A run whose report shows a loss on the general regression set above its limit is refused
    (:class:`~luodi.errors.ModelRegressionError`, naming the numbers) unless ``accept_regression``.
    """
    from luodi.train.regression import check_export

    run = Path(run_dir)
    check_export(run, accept_regression)
    model, charset = load_run_model(run, checkpoint)
    result = export_model(model, charset, Path(out_dir) if out_dir is not None else run / "export")
    if name is None:
        return result
    from luodi.zoo import register_bundle

    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    best = run / "best.json"
    note = f"fine-tuned from {config['base']} in {run}"
    if best.is_file():
        acc = json.loads(best.read_text(encoding="utf-8")).get("line_accuracy")
        note += f"; eval line accuracy {acc:.4f}" if isinstance(acc, float) else ""
    bundle = register_bundle(
        name,
        rec=result.onnx,
        rec_paddle=result.paddle_prefix,
        dictionary=result.dictionary,
        base=config["base"],
        force=force,
        home=home,
        description=note,
        source=f"luodi train rec ({run.name})",
        # the line preprocessing it was trained with travels in the bundle: the OCR engine applies it
        stage_options={"rec": {"extra": prep.to_extra()}} if (prep := run_line_prep(run)) is not None else None,
    )
    return ExportResult(result.onnx, result.paddle_prefix, result.dictionary, result.max_abs_diff, bundle)
