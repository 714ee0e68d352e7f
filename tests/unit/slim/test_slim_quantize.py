from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import luodi.slim.quantize as q
from luodi.errors import ConfigError, InputError, LuodiError, ModelExistsError, ModelNotPulledError, UnknownModelError
from luodi.slim.calibrate import CalibrationSet
from luodi.slim.report import QuantizeReport, label_kind
from luodi.zoo import get_bundle, list_bundles, register_bundle

onnx = pytest.importorskip("onnx")  # the slim extra


@pytest.fixture
def home(tmp_path, tiny_rec_model):
    h = tmp_path / "home"
    register_bundle("tiny", rec=tiny_rec_model, home=h)
    return h


@pytest.fixture
def calib_dir(tmp_path):
    d = tmp_path / "calib"
    d.mkdir()
    Image.new("RGB", (64, 48), "white").save(d / "page.png")
    return d


@pytest.fixture
def fake_calibration(monkeypatch, make_samples):
    def fake_collect(model, calib_dir, **kwargs):
        return CalibrationSet(samples={"rec": make_samples(24)}, pages=4)

    monkeypatch.setattr(q, "collect", fake_collect)


def _stub_report(**kwargs):
    return QuantizeReport({"name": kwargs["quantized"].name, "base": kwargs["base"].name})


def _names(home: Path) -> set[str]:
    return {s.name for s in list_bundles(home)}


def test_quantized_bundle_is_registered_with_int8_rec(home, calib_dir, fake_calibration, monkeypatch):
    monkeypatch.setattr(q, "build_report", _stub_report)
    result = q.quantize_bundle("tiny", calib_dir, "tiny-int8", stages=["rec"], home=home, toolchain="ort")
    bundle = get_bundle("tiny-int8", home)
    assert result.bundle.name == "tiny-int8" and bundle.base == "tiny"
    assert bundle.rec is not None and bundle.rec.model is not None
    assert bundle.runtime is None  # a QDQ ONNX file runs on the default runtime
    ops = {n.op_type for n in onnx.load(str(bundle.rec.model)).graph.node}
    assert "QuantizeLinear" in ops
    info = bundle.info()
    assert {f["role"] for f in info["files"]} >= {"rec", "dict"}
    assert all(f["bytes"] > 0 for f in info["files"])
    assert result.report.to_dict()["registered"]["name"] == "tiny-int8"


def test_default_toolchain_registers_openvino_ir_that_ocr_runs_on_openvino(
    home, calib_dir, fake_calibration, monkeypatch
):
    pytest.importorskip("nncf")
    from luodi.ocr.pipeline import OCR

    monkeypatch.setattr(q, "build_report", _stub_report)
    q.quantize_bundle("tiny", calib_dir, "tiny-ov", stages=["rec"], home=home)
    bundle = get_bundle("tiny-ov", home)
    assert bundle.runtime == "openvino"
    assert bundle.rec is not None and bundle.rec.model is None and bundle.rec.openvino_model is not None
    assert 'type="FakeQuantize"' in bundle.rec.openvino_model.read_text(encoding="utf-8")
    roles = {f["role"]: f["bytes"] for f in bundle.info()["files"]}
    assert roles["rec.xml"] > 0 and roles["rec.bin"] > 0
    # unasked, the engine runs the bundle on the runtime it was made for; asked otherwise, it says why not
    assert OCR(bundle).runtime_info["rec"].backend == "openvino"
    with pytest.raises(LuodiError, match="OpenVINO"):
        OCR(bundle, runtime="onnxruntime")


def test_failure_after_quantizing_registers_nothing(home, calib_dir, fake_calibration, monkeypatch):
    def broken_report(**kwargs):
        raise InputError("labels broken")

    monkeypatch.setattr(q, "build_report", broken_report)
    with pytest.raises(InputError, match="labels broken"):
        q.quantize_bundle("tiny", calib_dir, "tiny-int8", stages=["rec"], home=home)
    assert "tiny-int8" not in _names(home)
    leftovers = [p.name for p in (home / "models").iterdir() if p.name.startswith(".staging")]
    assert leftovers == []


def test_existing_name_is_refused_unless_forced(home, calib_dir, fake_calibration, monkeypatch):
    monkeypatch.setattr(q, "build_report", _stub_report)
    q.quantize_bundle("tiny", calib_dir, "tiny-int8", stages=["rec"], home=home)
    first = get_bundle("tiny-int8", home).files

    def must_not_calibrate(*a, **k):
        raise AssertionError("calibration ran although the name was taken")

    monkeypatch.setattr(q, "collect", must_not_calibrate)
    with pytest.raises(ModelExistsError, match="--force"):
        q.quantize_bundle("tiny", calib_dir, "tiny-int8", stages=["rec"], home=home)
    assert get_bundle("tiny-int8", home).files == first


def test_name_checks(home, calib_dir):
    with pytest.raises(ModelExistsError, match="built-in"):
        q.quantize_bundle("tiny", calib_dir, "pp-ocrv4", home=home)
    with pytest.raises(ModelExistsError, match="other than its base"):
        q.quantize_bundle("tiny", calib_dir, "tiny", home=home)
    with pytest.raises(ConfigError):
        q.quantize_bundle("tiny", calib_dir, "bad/name", home=home)
    with pytest.raises(ConfigError, match="stages"):
        q.quantize_bundle("tiny", calib_dir, "x", stages=["ocr"], home=home)


def test_base_not_pulled_or_unknown(tmp_path, calib_dir):
    home = tmp_path / "empty-home"
    with pytest.raises(ModelNotPulledError, match="luodi models pull"):
        q.quantize_bundle("pp-ocrv6-small", calib_dir, "mine", home=home)
    with pytest.raises(UnknownModelError):
        q.quantize_bundle("no-such-model", calib_dir, "mine", home=home)
    assert not (home / "models" / "mine").exists()


def test_missing_stage_and_labels(home, calib_dir):
    from luodi.errors import ModelError

    with pytest.raises(ModelError, match="no ONNX det"):
        q.quantize_bundle("tiny", calib_dir, "x", stages=["det"], home=home)
    with pytest.raises(InputError, match="eval-labels"):
        q.quantize_bundle("tiny", calib_dir, "x", stages=["rec"], home=home, eval_labels=[calib_dir / "nope.txt"])


def test_report_shape_and_files(tmp_path):
    data = {
        "name": "n",
        "base": "b",
        "command": "luodi quantize b --calib c --name n",
        "runtime": "onnxruntime",
        "environment": {"cpu": "cpu", "cores": 2, "load_start": 1.0, "load_end": 2.0},
        "calibration": {"folder": "c", "pages": 4, "samples": {"rec": 24}},
        "size": {"rec": {"fp32": 100, "int8": 30, "ratio": 0.3}, "total": {"fp32": 100, "int8": 30, "ratio": 0.3}},
        "latency": {
            "pages": 2,
            "rounds": 3,
            "fp32_ms": {"rec": 10.0, "total": 20.0},
            "int8_ms": {"rec": 5.0, "total": 12.0},
            "precision": {"fp32": {"rec": "fp32"}, "int8": {"rec": "int8"}},
        },
        "accuracy": [
            {
                "labels": "l.txt",
                "kind": "rec",
                "n": 10,
                "metrics": ["line_accuracy"],
                "fp32": {"line_accuracy": 0.9},
                "int8": {"line_accuracy": 0.89},
            }
        ],
        "recipes": {
            "rec": {
                "toolchain": "ort",
                "per_channel": True,
                "calibration": "minmax",
                "ignore_names": ["Conv.0"],
                "ignore_ops": [],
                "ignore_patterns": [],
            }
        },
    }
    report = QuantizeReport(data)
    md = report.to_markdown()
    assert "luodi quantize b --calib c --name n" in md
    assert "| rec | 100 | 30 | 30.0% |" in md
    assert "| total | 20.0 | 12.0 | 1.67x |" in md
    assert "-1.0 pt" in md
    assert "kept in float: Conv.0" in md
    json_path, md_path = report.write(tmp_path / "out" / "r.json")
    assert json.loads(json_path.read_text(encoding="utf-8"))["size"]["rec"]["ratio"] == 0.3
    assert md_path.read_text(encoding="utf-8") == md


def test_label_kind(tmp_path):
    rec = tmp_path / "labels.txt"
    rec.write_text("a.png\t你好\n", encoding="utf-8")
    kie = tmp_path / "labels.json"
    kie.write_text('\n{"image": "a.png", "fields": {}}\n', encoding="utf-8")
    assert label_kind(rec) == "rec" and label_kind(kie) == "kie"
    assert label_kind(tmp_path / "x.jsonl") == "kie"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(InputError, match="empty"):
        label_kind(empty)


def test_cli_errors_are_one_clear_line(tmp_path, monkeypatch, calib_dir, capsys):
    from luodi.cli import main

    monkeypatch.setenv("LUODI_HOME", str(tmp_path / "empty-home"))
    with pytest.raises(SystemExit) as exc:
        main(["quantize", "pp-ocrv6-small", "--calib", str(calib_dir), "--name", "mine"])
    assert exc.value.code == 1
    assert "luodi models pull pp-ocrv6-small" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["quantize", "pp-ocrv6-small", "--calib", str(tmp_path / "nope"), "--name", "mine"])
    assert exc.value.code == 1 and "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "empty-home" / "models" / "mine").exists()


def test_empty_calibration_folder_fails_before_the_model_loads(home, tmp_path):
    (tmp_path / "blank").mkdir()
    with pytest.raises(InputError, match="no image"):
        q.quantize_bundle("tiny", tmp_path / "blank", "tiny-int8", home=home)


def test_keep_float_is_checked(home, calib_dir):
    with pytest.raises(ConfigError, match="keep_float"):
        q.quantize_bundle("tiny", calib_dir, "x", stages=["rec"], home=home, keep_float=["head"])
    with pytest.raises(ConfigError, match="openvino toolchain"):
        q.quantize_bundle("tiny", calib_dir, "x", stages=["rec"], home=home, keep_float=["rec"], toolchain="ort")
    assert "x" not in _names(home)


def test_default_openvino_recipes() -> None:
    recipes = q.default_recipes()
    assert recipes["det"].mode == "weights" and recipes["det"].float_first == 10
    assert recipes["rec"].mode == "int8" and recipes["rec"].transformer and recipes["rec"].float_positions == (-2,)
    from luodi.slim.report import _nth_layer

    assert _nth_layer(-2) == "the second-to-last layer with weights" and _nth_layer(-5).startswith("the 5th")
