"""Export a text run for serving: ONNX (paddle.jit.save → paddle2onnx), checked, optionally INT8, registered.

The bundle (task ``text``) holds three files: ``model.onnx`` (or its INT8 twin), ``features.json``
(vocabularies, idf) and ``meta.json`` (classes, slot tags, the CRF's transition scores, the run's
best evaluation); with ``model.context``, also ``context.npz`` and ``context.onnx`` (e5's cut,
:mod:`luodi.text.context`). The ONNX output must match the dynamic-graph model on real inputs before anything
is registered.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import InputNotFoundError, ModelError
from luodi.text.features import LEX_SLOTS, Featurizer

PARITY_TOL = 1e-3  # max abs difference of class probabilities, dynamic graph vs ONNX
INPUTS = ("char_ids", "bigram_ids", "lex_ids", "bag_ids", "bag_weights")


@dataclass(frozen=True, slots=True)
class TextExportResult:
    onnx: Path
    features: Path
    meta: Path
    max_abs_diff: float
    int8: Path | None
    bundle: Any  # luodi.zoo.Bundle when registered


def load_run_net(run_dir: Path, checkpoint: str = "best") -> tuple[Any, Featurizer, dict[str, Any]]:
    """The run's network (eval mode, chosen weights), its featurizer and its labels."""
    from luodi.text.config import TextTrainConfig
    from luodi.text.net import build_net
    from luodi.text.train import load_run_features
    from luodi.train.trainer import import_paddle

    weights = run_dir / f"{checkpoint}.pdparams"
    for needed in (weights, run_dir / "features.json", run_dir / "labels.json", run_dir / "config.json"):
        if not needed.is_file():
            raise InputNotFoundError(f"{run_dir}: not a finished text training run ({needed.name} missing)")
    paddle = import_paddle()
    cfg = TextTrainConfig.model_validate(json.loads((run_dir / "config.json").read_text(encoding="utf-8")))
    feats = load_run_features(run_dir)
    labels = json.loads((run_dir / "labels.json").read_text(encoding="utf-8"))
    lex_path = run_dir / "lexicon.npy"
    table = np.load(lex_path) if lex_path.is_file() else None
    tags = list(labels["tags"])
    net = build_net(
        paddle,
        sizes=feats.sizes,
        lexicon=table,
        spec=cfg.model,
        n_classes=len(labels["classes"]),
        tags=tags if len(tags) > 1 else None,
    )
    state = paddle.load(str(weights))
    net.set_state_dict({k: v for k, v in state.items() if not k.startswith("distill.")})  # a training-only head
    net.eval()
    return net, feats, labels


# long: the export in order: program, ONNX, parity checks, files, INT8, registration
def export_text_run(
    run_dir: str | Path,
    name: str | None = None,
    *,
    checkpoint: str = "best",
    out_dir: str | Path | None = None,
    int8: bool = False,
    force: bool = False,
    home: Path | None = None,
    sample_texts: list[str] | None = None,
) -> TextExportResult:
    """ONNX + features + meta into ``out_dir`` (default RUN/export); with ``name``, registered in the zoo."""
    from luodi.train.export import _stdout_to_stderr, to_onnx
    from luodi.train.trainer import import_paddle

    run = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else run / "export"
    out.mkdir(parents=True, exist_ok=True)
    net, feats, labels = load_run_net(run, checkpoint)
    paddle = import_paddle()
    prefix = out / "inference"
    with _stdout_to_stderr():
        paddle.jit.save(net, str(prefix), input_spec=_input_specs(paddle, feats))
    program = next((p for p in (prefix.with_suffix(".json"), prefix.with_suffix(".pdmodel")) if p.is_file()), None)
    if program is None:
        raise ModelError(f"paddle.jit.save wrote no program next to {prefix}")
    onnx_path = out / "model.onnx"
    to_onnx(program, prefix.with_suffix(".pdiparams"), onnx_path)

    texts = sample_texts or ["今天北京天气怎么样", "打开微信", "给张三打电话", "上证指数收涨1.2%", "a"]
    enc = feats.encode(texts)
    with paddle.no_grad():
        logits, emissions = net(*(paddle.to_tensor(v) for v in enc.inputs().values()))
        expected = paddle.nn.functional.softmax(logits, axis=-1).numpy()
    got = _onnx_probs(onnx_path, enc.inputs())
    diff = float(np.abs(expected - got).max()) if expected.shape == got.shape else float("inf")
    if not diff <= PARITY_TOL:
        raise ModelError(f"the exported ONNX disagrees with the trained model (max abs diff {diff:.2e})")
    if len(labels["tags"]) > 1:
        _check_emissions(onnx_path, enc, emissions.numpy())

    feats_path = out / "features.json"
    feats.save(feats_path)
    files = {"features": feats_path, **_context_files(run, out, feats)}
    meta = _meta(run, net, labels, feats, diff)
    int8_path = None
    if int8:
        int8_path = out / "model.int8.onnx"
        _quantize(onnx_path, int8_path)
        meta["int8_max_abs_diff"] = float(np.abs(_onnx_probs(int8_path, enc.inputs()) - expected).max())
    meta_path = out / "meta.json"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    bundle = None
    if name is not None:
        from luodi.zoo import register_files

        best = meta.get("best") or {}
        note = f"{labels['task']}: {len(labels['classes'])} classes"
        if len(labels["tags"]) > 1:
            note += f", {(len(labels['tags']) - 1) // 2} slot types"
        if best.get("accuracy") is not None:
            note += f"; eval accuracy {best['accuracy']:.4f}"
        bundle = register_files(
            name,
            task="text",
            files={"model": int8_path or onnx_path, **files, "meta": meta_path},
            version="int8" if int8 else "fp32",
            description=note,
            source=f"luodi train text ({run.name})",
            force=force,
            home=home,
        )
    return TextExportResult(onnx_path, feats_path, meta_path, diff, int8_path, bundle)


def _context_files(run: Path, out: Path, feats: Featurizer) -> dict[str, Path]:
    """e5's cut (luodi.text.context) as training wrote it, copied beside the model; none without it."""
    files: dict[str, Path] = {}
    if feats.context_dim:
        for role, base in (("context", "context.npz"), ("context_graph", "context.onnx")):
            if (run / base).resolve() != (out / base).resolve():
                shutil.copyfile(run / base, out / base)
            files[role] = out / base
    return files


def _input_specs(paddle: Any, feats: Featurizer) -> list[Any]:
    """The graph's inputs, in :meth:`Encoded.inputs`'s order (the network takes them positionally)."""
    spec = paddle.static.InputSpec
    specs = [
        spec([None, None], "int64", "char_ids"),
        spec([None, None], "int64", "bigram_ids"),
        spec([None, None, LEX_SLOTS], "int64", "lex_ids"),
        spec([None, None], "int64", "bag_ids"),
        spec([None, None], "float32", "bag_weights"),
    ]
    if feats.sizes["gaz"]:
        specs.append(spec([None, None, feats.sizes["gaz"]], "float32", "gaz"))
    if feats.sizes["words"]:
        specs.append(spec([None, None, 2], "int64", "seg_ids"))
    return specs


def _meta(run: Path, net: Any, labels: dict[str, Any], feats: Featurizer, diff: float) -> dict[str, Any]:
    best_file = run / "best.json"
    meta: dict[str, Any] = {
        "format": "luodi-text-model/1",
        "task": labels["task"],
        "classes": labels["classes"],
        "tags": labels["tags"],
        "max_len": feats.max_len,
        "inputs": [*INPUTS, *(["gaz"] if feats.sizes["gaz"] else []), *(["seg_ids"] if feats.sizes["words"] else [])],
        "export_max_abs_diff": diff,
        "best": json.loads(best_file.read_text(encoding="utf-8")) if best_file.is_file() else None,
    }
    if len(labels["tags"]) > 1:
        meta["crf"] = {k: np.asarray(v, np.float32).tolist() for k, v in net.crf_params().items()}
        if "class_slots" in labels:
            meta["class_slots"] = labels["class_slots"]
    return meta


def _check_emissions(path: Path, enc: Any, expected: np.ndarray) -> None:
    """The slot scores at the texts' characters (what Viterbi reads) agree too: the class check alone
    does not see the slot head (its BiGRU, ``model.slot_rnn``, is exported as ONNX GRU ops)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = enc.inputs()
    got = session.run(None, {i.name: inputs[i.name] for i in session.get_inputs()})[1]
    if got.shape != expected.shape:
        raise ModelError(f"the ONNX slot scores have shape {got.shape}, the trained model's {expected.shape}")
    valid = np.arange(expected.shape[1])[None, :] < np.asarray(enc.lengths)[:, None]
    diff = float(np.abs(got - expected)[valid].max()) if valid.any() else 0.0
    scale = max(1.0, float(np.abs(expected[valid]).max()) if valid.any() else 1.0)
    if not diff <= PARITY_TOL * scale:
        raise ModelError(f"the exported ONNX's slot scores disagree with the trained model (max abs diff {diff:.2e})")


def _onnx_probs(path: Path, inputs: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    logits = session.run(None, {n: inputs[n] for n in names})[0]
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return probs


def _quantize(src: Path, dst: Path) -> None:
    """Dynamic INT8 of the dense layers (weights int8, activations quantized per call)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
    except Exception as exc:  # the quantizer raises bare exceptions from graph rewriting
        raise ModelError(f"INT8 quantization of {src} failed: {exc}") from exc
