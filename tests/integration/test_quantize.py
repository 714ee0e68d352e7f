"""`luodi quantize` for real: PP-OCRv6 small's recogniser to INT8, calibrated on synthetic waybills."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest

pytestmark = pytest.mark.integration

BASE = "pp-ocrv6-small"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, require_bundle: Callable[[str], object]) -> Path:
    """A model store of our own that sees the pulled base bundle (linked, not copied)."""
    from luodi.zoo import get_bundle

    bundle = get_bundle(BASE)
    require_bundle(BASE)
    h = tmp_path_factory.mktemp("home")
    (h / "models").mkdir()
    assert bundle.rec is not None and bundle.rec.model is not None
    (h / "models" / BASE).symlink_to(bundle.rec.model.parent, target_is_directory=True)
    return h


@pytest.fixture(scope="module")
def calib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luodi.synth.waybill import WaybillOptions, generate_waybills

    out = tmp_path_factory.mktemp("calib")
    generate_waybills(4, out, WaybillOptions(seed=11))
    return out / "images"


def test_rec_int8_reads_word_1_and_is_registered(home: Path, calib: Path, doc_samples: Path, tmp_path: Path) -> None:
    from luodi import OCR, OCROptions
    from luodi.slim import quantize_bundle
    from luodi.zoo import get_bundle

    result = quantize_bundle(
        BASE,
        calib,
        "v6-rec-int8",
        stages=["rec"],
        home=home,
        max_samples={"rec": 48},
        latency_pages=1,
        threads=2,
    )
    bundle = get_bundle("v6-rec-int8", home)
    # the default toolchain: NNCF on the OpenVINO model, INT8 OpenVINO IR, meant for that runtime
    assert bundle.runtime == "openvino"
    assert bundle.rec is not None and bundle.rec.openvino_model is not None and bundle.rec.model is None
    assert 'type="FakeQuantize"' in bundle.rec.openvino_model.read_text(encoding="utf-8")
    report = result.report.to_dict()
    assert report["size"]["rec"]["ratio"] < 0.4
    assert report["runtime"] == "onnxruntime" and report["int8_runtime"] == "openvino"
    assert set(report["latency"]["first_pass_ms"]) == {"fp32", "int8", "fp32_int8_runtime"}
    assert "int8 (FakeQuantize)" in report["latency"]["precision"]["int8"]["rec"]
    assert report["calibration"]["pages"] == 4 and report["calibration"]["samples"]["rec"] == 48
    # det/cls are borrowed unchanged: same bytes as the base
    base = get_bundle(BASE, home)
    assert bundle.det is not None and base.det is not None
    assert bundle.det.model.read_bytes() == base.det.model.read_bytes()  # type: ignore[union-attr]

    engine = OCR(bundle, threads=2)
    assert engine.runtime_info["rec"].backend == "openvino"
    words = doc_samples / "paddleocr" / "imgs_words" / "ch"
    assert engine(words / "word_1.jpg", OCROptions(use_det=False)).text == "韩国小馆"

    env = {**os.environ, "LUODI_HOME": str(home)}
    luodi = [sys.executable, "-m", "luodi"]
    info = subprocess.run(
        [*luodi, "models", "info", "v6-rec-int8", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # the CLI runs it on the model's own runtime, unasked
    read = subprocess.run(
        [*luodi, "ocr", "--model", "v6-rec-int8", "--no-det", "--format", "txt", str(words / "word_1.jpg")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert read.stdout.strip() == "韩国小馆"
    files = {f["role"]: f for f in json.loads(info.stdout)["files"]}
    assert files["rec.xml"]["bytes"] == bundle.rec.openvino_model.stat().st_size
    assert files["rec.bin"]["bytes"] == bundle.rec.openvino_model.with_suffix(".bin").stat().st_size
    # the name is now taken: the CLI refuses it before calibrating
    again = subprocess.run(
        [*luodi, "quantize", BASE, "--calib", str(calib), "--name", "v6-rec-int8", "--stages", "rec"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "already exists" in again.stderr


def test_ort_toolchain_writes_qdq_onnx_for_the_default_runtime(home: Path, calib: Path, doc_samples: Path) -> None:
    from luodi import OCR, OCROptions
    from luodi.slim import quantize_bundle

    quantize_bundle(
        BASE, calib, "v6-rec-qdq", stages=["rec"], toolchain="ort", home=home, max_samples={"rec": 48}, latency_pages=1
    )
    from luodi.zoo import get_bundle

    bundle = get_bundle("v6-rec-qdq", home)
    assert bundle.runtime is None and bundle.rec is not None and bundle.rec.model is not None
    assert "QuantizeLinear" in {n.op_type for n in onnx.load(str(bundle.rec.model)).graph.node}
    engine = OCR(bundle, threads=2)
    assert engine.runtime_info["rec"].backend == "onnxruntime"
    words = doc_samples / "paddleocr" / "imgs_words" / "ch"
    assert engine(words / "word_1.jpg", OCROptions(use_det=False)).text == "韩国小馆"
