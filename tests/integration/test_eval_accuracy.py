"""``luodi eval`` end to end with the real pp-ocrv6-small bundle on freshly generated data.

The floors sit well below what the benchmark measures (bench/results/accuracy.md) so the test
checks that recognition, detection and scoring fit together, without flaking on one odd sample.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from luodi.cli import cli
from luodi.eval.datasets import RecSample, read_det_labels, write_rec_labels
from luodi.synth.lines import generate_lines, generate_pages
from luodi.synth.text import extract_lines, read_express_ner

pytestmark = pytest.mark.integration

MODEL = "pp-ocrv6-small"


@pytest.fixture(scope="module")
def dev_lines() -> list[str]:
    from luodi.data import EXPRESS_NER

    return extract_lines(read_express_ner(EXPRESS_NER / "dev.txt"), seed=0)


@pytest.fixture(scope="module")
def _model(require_bundle: Callable[[str], object]) -> None:
    require_bundle(MODEL)


@pytest.mark.usefixtures("_model")
def test_eval_rec_on_clean_printed_lines(tmp_path: Path, dev_lines: list[str]) -> None:
    report = generate_lines(dev_lines, tmp_path / "lines", style="print", n=16, seed=2024)
    errors = tmp_path / "errors.jsonl"
    result = CliRunner().invoke(
        cli,
        ["eval", "rec", "--labels", str(report.label_file), "-m", MODEL, "--errors", str(errors)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == 16 and out["model"] == MODEL and out["failures"] == 0
    assert out["line_accuracy_norm"] >= 0.75, out
    assert out["one_minus_cer"] >= 0.95, out
    # every line the report counts as wrong is in the error dump, and only those
    wrong = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert len(wrong) == round(16 * (1 - out["line_accuracy"]))


@pytest.mark.usefixtures("_model")
def test_eval_e2e_on_rendered_pages(tmp_path: Path, dev_lines: list[str]) -> None:
    report = generate_pages(dev_lines, tmp_path / "pages", n=2, seed=77, lines_per_page=(5, 7))
    n_regions = sum(len([r for r in s.regions if not r.ignore]) for s in read_det_labels(report.label_file))
    result = CliRunner().invoke(
        cli, ["eval", "e2e", "--labels", str(report.label_file), "-m", MODEL], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n_gt"] == n_regions
    assert out["hmean"] >= 0.8, out
    assert out["e2e"]["hmean_norm"] >= 0.6, out


@pytest.mark.usefixtures("_model")
def test_eval_rec_on_real_photo_crops(tmp_path: Path, doc_samples: Path) -> None:
    words = doc_samples / "paddleocr" / "imgs_words" / "ch"
    known = {"word_1.jpg": "韩国小馆", "word_3.jpg": "电话：15952301928", "word_5.jpg": "西湾监管"}
    labels = tmp_path / "photos.txt"
    write_rec_labels(labels, [RecSample(words / name, text) for name, text in known.items()])
    # absolute paths outside the label folder survive the round trip
    assert str(words) in labels.read_text(encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["eval", "rec", "--labels", str(labels), "-m", MODEL, "--cls", "--format", "text"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"line accuracy\s+[\d.]+\s+normalised 1\.0000", result.stdout), result.stdout
