from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from luodi.errors import ConfigError, ModelError
from luodi.slim.toolchains import StageRecipe, quantize_onnx

onnx = pytest.importorskip("onnx")  # the slim extra


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(sess.run(None, {"x": x})[0])


def test_ort_quantizes_conv_and_keeps_outputs_close(tiny_rec_model, make_samples, tmp_path):
    out = tmp_path / "int8.onnx"
    quantize_onnx(tiny_rec_model, out, make_samples(32), StageRecipe(toolchain="ort"))
    model = onnx.load(str(out))
    ops = [n.op_type for n in model.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    # opset 11 input was upgraded (per-channel DequantizeLinear needs 13)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 13
    # the dictionary travels in the metadata, as paddle2onnx put it there
    assert {p.key: p.value for p in model.metadata_props}["character"] == "甲\n乙\n丙"
    for sample in make_samples(5, seed=9):  # unseen widths
        a, b = _run(tiny_rec_model, sample["x"]), _run(out, sample["x"])
        assert a.shape == b.shape
        assert np.abs(a - b).max() < 0.05


def test_nodes_left_fp32_stay_unquantized(tiny_rec_model, make_samples, tmp_path):
    out = tmp_path / "int8.onnx"
    quantize_onnx(tiny_rec_model, out, make_samples(8), StageRecipe(toolchain="ort", ignore_names=("Conv.0",)))
    model = onnx.load(str(out))
    weights = {i.name: i for i in model.graph.initializer}
    # the conv still reads its FP32 weight directly: nothing quantized it
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    assert conv.input[1] in weights and weights[conv.input[1]].data_type == onnx.TensorProto.FLOAT


def test_unknown_toolchain_and_method(tiny_rec_model, make_samples, tmp_path):
    with pytest.raises(ConfigError, match="unknown toolchain"):
        quantize_onnx(tiny_rec_model, tmp_path / "o.onnx", make_samples(2), StageRecipe(toolchain="tflite"))
    with pytest.raises(ConfigError, match="calibration method"):
        quantize_onnx(
            tiny_rec_model, tmp_path / "o.onnx", make_samples(2), StageRecipe(toolchain="ort", calibration="magic")
        )


def test_no_samples_is_refused(tiny_rec_model, tmp_path):
    with pytest.raises(ModelError, match="no calibration samples"):
        quantize_onnx(tiny_rec_model, tmp_path / "o.onnx", [], StageRecipe())


def test_openvino_toolchain_writes_int8_ir_close_to_fp32(tiny_rec_model, make_samples, tmp_path):
    ov = pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    out = tmp_path / "rec.xml"
    quantize_onnx(tiny_rec_model, out, make_samples(16), StageRecipe(toolchain="openvino", transformer=True))
    xml = out.read_text(encoding="utf-8")
    assert 'type="FakeQuantize"' in xml and out.with_suffix(".bin").is_file()
    compiled = ov.Core().compile_model(str(out), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    for sample in make_samples(4, seed=5):  # unseen widths: the IR keeps the dynamic width
        a = _run(tiny_rec_model, sample["x"])
        b = np.asarray(compiled.create_infer_request().infer([sample["x"]])[compiled.outputs[0]])
        assert a.shape == b.shape
        assert np.abs(a - b).max() < 0.05


def test_openvino_toolchain_wants_an_xml_name(tiny_rec_model, make_samples, tmp_path):
    pytest.importorskip("nncf")
    with pytest.raises(ConfigError, match=r"\.xml"):
        quantize_onnx(tiny_rec_model, tmp_path / "rec.onnx", make_samples(2), StageRecipe(toolchain="openvino"))


def test_float_stage_is_fp16_ir_without_quantizers(tiny_rec_model, make_samples, tmp_path):
    ov = pytest.importorskip("openvino")
    out = tmp_path / "det.xml"
    quantize_onnx(tiny_rec_model, out, make_samples(2), StageRecipe(toolchain="openvino", mode="float"))
    xml = out.read_text(encoding="utf-8")
    assert 'type="FakeQuantize"' not in xml and 'element_type="f16"' in xml
    compiled = ov.Core().compile_model(str(out), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    x = make_samples(1, seed=3)[0]["x"]
    b = np.asarray(compiled.create_infer_request().infer([x])[compiled.outputs[0]])
    assert np.abs(_run(tiny_rec_model, x) - b).max() < 0.01
    with pytest.raises(ConfigError, match="openvino"):
        quantize_onnx(tiny_rec_model, tmp_path / "x.onnx", make_samples(2), StageRecipe(toolchain="ort", mode="float"))


def test_weights_mode_stores_int8_weights_and_keeps_the_first_layers_float(tiny_rec_model, make_samples, tmp_path):
    ov = pytest.importorskip("openvino")
    from luodi.slim.toolchains import _weighted_layers

    first = _weighted_layers(ov.Core().read_model(str(tiny_rec_model)))
    assert first  # the tiny model has a conv
    out = tmp_path / "w.xml"
    recipe = StageRecipe(toolchain="openvino", mode="weights")
    quantize_onnx(tiny_rec_model, out, make_samples(2), recipe)
    xml = out.read_text(encoding="utf-8")
    assert 'type="FakeQuantize"' not in xml and 'element_type="u8"' in xml
    compiled = ov.Core().compile_model(str(out), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    x = make_samples(1, seed=4)[0]["x"]
    assert (
        np.abs(_run(tiny_rec_model, x) - compiled.create_infer_request().infer([x])[compiled.outputs[0]]).max() < 0.05
    )
    # the last weighted layer kept float by position: it reads its FP16 weight, no INT8 one
    last = tmp_path / "last.xml"
    recipe = StageRecipe(toolchain="openvino", mode="weights", float_positions=(-1,))
    quantize_onnx(tiny_rec_model, last, make_samples(2), recipe)
    assert last.read_text(encoding="utf-8").count('element_type="u8"') < xml.count('element_type="u8"')
    # every weighted layer kept float: nothing left to store as INT8
    kept = tmp_path / "kept.xml"
    quantize_onnx(
        tiny_rec_model, kept, make_samples(2), StageRecipe(toolchain="openvino", mode="weights", float_first=99)
    )
    assert 'element_type="u8"' not in kept.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown quantization mode"):
        quantize_onnx(
            tiny_rec_model, tmp_path / "m.xml", make_samples(2), StageRecipe(toolchain="openvino", mode="int4")
        )
