"""``luodi ocr`` as a user runs it: a real process, real models, real files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _models(require_bundle: Callable[[str], object]) -> None:
    require_bundle("pp-ocrv6-small")


def luodi(*args: str | Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from luodi.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=300, check=False
    )


def test_single_file_json_has_the_documented_shape(doc_samples: Path) -> None:
    path = doc_samples / "rapidocr" / "ch_en_num.jpg"
    proc = luodi("ocr", path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["source"] == str(path) and doc["model"] == "pp-ocrv6-small"
    (page,) = doc["pages"]
    assert (page["width"], page["height"]) == (323, 430)
    first = page["lines"][0]
    assert set(first) == {"text", "score", "box"} and first["text"] == "正品促销"
    assert len(first["box"]) == 4 and all(len(p) == 2 for p in first["box"])
    assert set(doc["timings_ms"]) == {"locate", "det", "cls", "rec", "total"}


def test_folder_run_reports_bad_files_and_goes_on(doc_samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(doc_samples / "paddleocr" / "imgs_words" / "ch" / "word_1.jpg", folder / "a.jpg")
    shutil.copy(doc_samples / "paddleocr" / "imgs_words" / "ch" / "word_3.jpg", folder / "sub" / "c.jpg")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    proc = luodi("ocr", folder, "--no-det", "--format", "jsonl")
    assert proc.returncode == 1
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [Path(r["source"]).name for r in records] == ["a.jpg", "b.jpg", "c.jpg"]
    assert records[0]["pages"][0]["lines"][0]["text"] == "韩国小馆"
    assert records[1]["error"]["type"] == "corrupt_input"
    assert records[2]["pages"][0]["lines"][0]["text"] == "电话：15952301928"
    assert "b.jpg" in proc.stderr and "1 of 3 inputs failed" in proc.stderr


def test_txt_csv_and_per_file_outputs(doc_samples: Path, tmp_path: Path) -> None:
    words = doc_samples / "paddleocr" / "imgs_words" / "ch"
    proc = luodi("ocr", words / "word_4.jpg", words / "word_5.jpg", "--no-det", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["text"] for r in rows] == ["实力活力", "西湾监管"]

    out = tmp_path / "out"
    proc = luodi("ocr", words, "--no-det", "--format", "txt", "-o", f"{out}/", "--visualize", tmp_path / "vis")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert (out / "word_2.jpg.txt").read_text(encoding="utf-8") == "汉阳鹦鹉家居建材市场E区25-26号\n"
    assert len(list((tmp_path / "vis").glob("*.png"))) == 5


def test_errors_are_one_readable_line(tmp_path: Path) -> None:
    proc = luodi("ocr", tmp_path / "missing.jpg")
    assert proc.returncode == 1 and proc.stderr.strip().startswith("error:") and "missing.jpg" in proc.stderr
    img = tmp_path / "x.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "empty").mkdir()
    proc = luodi("ocr", tmp_path / "empty")
    assert proc.returncode == 1 and "no images or PDFs found" in proc.stderr
    proc = luodi("ocr", img, "--model", "no-such-model")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no-such-model" in proc.stderr
