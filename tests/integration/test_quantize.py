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
    assert bundle.rec is not None and bundle.rec.model is not None
    assert "QuantizeLinear" in {n.op_type for n in onnx.load(str(bundle.rec.model)).graph.node}
    report = result.report.to_dict()
    assert report["size"]["rec"]["ratio"] < 0.4
    assert report["calibration"]["pages"] == 4 and report["calibration"]["samples"]["rec"] == 48
    # det/cls are borrowed unchanged: same bytes as the base
    base = get_bundle(BASE, home)
    assert bundle.det is not None and base.det is not None
    assert bundle.det.model.read_bytes() == base.det.model.read_bytes()  # type: ignore[union-attr]

    engine = OCR(bundle, threads=2)
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
    files = {f["role"]: f for f in json.loads(info.stdout)["files"]}
    assert files["rec"]["bytes"] == bundle.rec.model.stat().st_size
    # the name is now taken: the CLI refuses it before calibrating
    again = subprocess.run(
        [*luodi, "quantize", BASE, "--calib", str(calib), "--name", "v6-rec-int8", "--stages", "rec"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "already exists" in again.stderr
