"""``luodi bench`` as a user runs it: a real process, real models, real pages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def luodi(*args: str | Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from luodi.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def two_pages(doc_samples: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(doc_samples / "rapidocr" / "ch_en_num.jpg", folder / "a.jpg")
    shutil.copy(doc_samples / "rapidocr" / "ch_doc_server.png", folder / "b.png")
    return folder


def test_two_runtimes_on_real_pages(require_bundle: Callable[[str], object], two_pages: Path, tmp_path: Path) -> None:
    require_bundle("pp-ocrv6-small")
    out = tmp_path / "bench.json"
    proc = luodi(
        "bench",
        two_pages,
        "-m",
        "pp-ocrv6-small",
        "--runtime",
        "onnxruntime",
        "--runtime",
        "openvino",
        "--rounds",
        "1",
        "--format",
        "json",
        "-o",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # the report went to the file
    d = json.loads(out.read_text(encoding="utf-8"))
    assert (d["pages"], d["rounds"]) == (2, 1)
    assert d["sources"] == [str(two_pages / "a.jpg"), str(two_pages / "b.png")]
    ort, ov = d["engines"]
    assert (ort["name"], ov["name"]) == ("pp-ocrv6-small@onnxruntime", "pp-ocrv6-small@openvino")
    assert d["baseline"] == ort["name"] and ort["speedup"] == 1.0
    for e, backend in ((ort, "onnxruntime"), (ov, "openvino")):
        assert e["model"] == "pp-ocrv6-small"
        assert {r["backend"] for r in e["runtime"].values()} == {backend}
        assert set(e["runtime"]) == {"det", "cls", "rec"}
        t = e["ms_per_page"]
        assert t["det"] > 0 and t["rec"] > 0
        # one round: its total is the median, and it covers the stages plus the work between them
        assert e["round_total_ms_per_page"] == [t["total"]]
        assert t["total"] >= t["det"] + t["cls"] + t["rec"] - 0.05
        assert e["pages_per_s"] == pytest.approx(1000 / t["total"], rel=0.01)
        # both pages hold printed text (a.jpg alone has 8+ lines)
        assert e["lines_per_page"] >= 4
    assert ov["speedup"] == pytest.approx(ort["ms_per_page"]["total"] / ov["ms_per_page"]["total"], rel=0.01)
    # the same model reads about as many lines on either runtime
    assert abs(ov["lines_per_page"] - ort["lines_per_page"]) <= 1
    # openvino compiles a model per new input shape in the first pass; the round reuses them
    assert ov["first_pass_ms_per_page"] > ov["ms_per_page"]["total"]
    env = d["environment"]
    assert env["cores"] >= 1 and env["cpu"] and "openvino" in env["packages"]


def test_quantized_model_runs_on_its_own_runtime_and_says_int8(
    require_bundle: Callable[[str], object], doc_samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model made by luodi quantize (here: INT8 weights for the real rec, no calibration needed)."""
    import numpy as np

    from luodi.slim.toolchains import StageRecipe, quantize_onnx
    from luodi.zoo import register_bundle

    base: Any = require_bundle("pp-ocrv6-small")
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "pp-ocrv6-small").symlink_to(base.rec.model.parent, target_is_directory=True)
    xml = tmp_path / "rec.xml"
    unused = [{"x": np.zeros((1, 3, 48, 64), dtype=np.float32)}]  # weights mode reads no samples
    quantize_onnx(base.rec.model, xml, unused, StageRecipe(toolchain="openvino", mode="weights"))
    register_bundle("v6-w8", base="pp-ocrv6-small", rec_openvino=xml, home=home)
    monkeypatch.setenv("LUODI_HOME", str(home))
    proc = luodi(
        "bench",
        doc_samples / "rapidocr" / "ch_doc_server.png",
        "-m",
        "v6-w8",
        "--rounds",
        "1",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    (engine,) = json.loads(proc.stdout)["engines"]
    assert engine["name"] == "v6-w8@openvino"  # the bundle's own runtime, unasked
    assert engine["runtime"]["rec"]["precision"].startswith("int8")


def test_markdown_to_stdout(require_bundle: Callable[[str], object], doc_samples: Path) -> None:
    require_bundle("pp-ocrv6-tiny")
    proc = luodi(
        "bench",
        doc_samples / "rapidocr" / "ch_doc_server.png",
        "-m",
        "pp-ocrv6-tiny",
        "--rounds",
        "1",
        "--format",
        "md",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# OCR speed on your pages")
    assert "| pp-ocrv6-tiny@onnxruntime |" in proc.stdout  # no --runtime: the model's own default
    assert "Timings on a loaded machine swing" in proc.stdout


def test_no_pages_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a page\n", encoding="utf-8")
    proc = luodi("bench", tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == f"error: no images or PDFs found in {tmp_path}"


def test_unknown_model_is_one_line_and_exit_1(doc_samples: Path) -> None:
    proc = luodi("bench", doc_samples / "rapidocr" / "ch_doc_server.png", "-m", "no-such-model")
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: unknown model 'no-such-model'")


def test_missing_runtime_is_one_line_and_exit_1(require_bundle: Callable[[str], object], doc_samples: Path) -> None:
    require_bundle("pp-ocrv6-tiny")
    # a real process in which openvino cannot be imported, as on a machine without it installed
    code = "import sys; sys.modules['openvino'] = None; from luodi.cli import main; sys.exit(main())"
    args = [
        "bench",
        str(doc_samples / "rapidocr" / "ch_doc_server.png"),
        "-m",
        "pp-ocrv6-tiny",
        "--runtime",
        "openvino",
    ]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert (
        line == "error: pp-ocrv6-tiny on openvino: the openvino runtime needs openvino: pip install 'luodi[openvino]'"
    )
