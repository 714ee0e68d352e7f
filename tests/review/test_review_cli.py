"""``luodi review`` import → decide → export, as a user runs it (subprocesses, SQLite store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from review_support import png, waybill_png

from luodi.eval.datasets import read_rec_labels
from luodi.review import QueueQuery, ReviewStore


def luodi(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "luodi",
        "review",
        "--db",
        f"sqlite:///{tmp_path / 'r.db'}",
        "--images",
        str(tmp_path / "img"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUODI_SERVE_REVIEW")}
    out = subprocess.run([*cmd, *args], check=False, capture_output=True, text=True, timeout=300, env=env)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_texts_and_images_import_label_export(tmp_path: Path) -> None:
    texts = tmp_path / "texts.tsv"
    texts.write_text("快递到哪了\ttrack\n我要退货\t\n", encoding="utf-8")
    added = json.loads(luodi(tmp_path, "import", str(texts), "--as", "texts", "--classes", "track,refund").stdout)
    assert added == {"added": 2, "skipped": []}
    folder = tmp_path / "imgs"
    (folder / "ok").mkdir(parents=True)
    (folder / "ok" / "a.png").write_bytes(png(color="white"))
    (folder / "b.png").write_bytes(png(color="red"))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    out = luodi(tmp_path, "import", str(folder), "--as", "images", "--classes", "ok,defect")
    assert json.loads(out.stdout)["added"] == 2 and "broken.png" in out.stderr

    store = ReviewStore.open(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "img")
    for entry in store.queue(QueueQuery()).items:
        item = store.get(entry["id"])
        label = (
            item.suggestion.get("label") or "defect"
            if item.kind == "image"
            else item.suggestion.get("label") or "refund"
        )
        store.decide(item.id, version=1, who="cli", action="accept", labels={"label": label})
    store.close()

    out = luodi(tmp_path, "export", "--format", "tsv", "-o", str(tmp_path / "tsv"))
    assert json.loads(out.stdout)["written"] == 2
    assert (tmp_path / "tsv" / "train.txt").read_text(encoding="utf-8") == "快递到哪了\ttrack\n我要退货\trefund\n"
    out = luodi(tmp_path, "export", "--format", "folder", "-o", str(tmp_path / "cls"))
    assert sorted(p.parent.name for p in (tmp_path / "cls").rglob("*.png")) == ["defect", "ok"]
    stats = json.loads(luodi(tmp_path, "stats").stdout)
    assert stats["accepted"] == 4 and stats["waiting"]["text"] == 0


def test_bad_input_is_one_line_and_nonzero(tmp_path: Path) -> None:
    out = luodi(tmp_path, "import", str(tmp_path), "--as", "texts", "--classes", "a", check=False)
    assert out.returncode == 1 and out.stderr.strip().startswith("error:") and len(out.stderr.strip().splitlines()) == 1
    out = luodi(tmp_path, "export", "--format", "coco", "-o", str(tmp_path / "x"), check=False)
    assert out.returncode == 2
    bad = subprocess.run(
        [sys.executable, "-m", "luodi", "review", "--db", "mysql://x/y", "stats"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "sqlite" in bad.stderr


@pytest.mark.integration
def test_lines_import_prefills_the_ocr_text_and_exports_rec(tmp_path: Path, require_bundle) -> None:
    require_bundle("pp-ocrv6-small")
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "p.png").write_bytes(waybill_png({"收件人": "张三", "电话": "13800138000"}))
    out = luodi(tmp_path, "import", str(folder), "--as", "lines", "--model", "pp-ocrv6-small", "--dataset", "d1")
    assert json.loads(out.stdout)["added"] == 2
    store = ReviewStore.open(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "img")
    texts = []
    for entry in store.queue(QueueQuery(kind="line")).items:
        item = store.get(entry["id"])
        texts.append(item.suggestion["text"])
        store.decide(item.id, version=1, who="cli", action="accept")
    store.close()
    assert any("13800138000" in t for t in texts)
    luodi(tmp_path, "export", "--format", "rec", "-o", str(tmp_path / "rec"), "--dataset", "d1")
    samples = read_rec_labels(tmp_path / "rec" / "rec_gt.txt")
    assert sorted(s.label for s in samples) == sorted(texts)
    luodi(tmp_path, "export", "--format", "det", "-o", str(tmp_path / "det"))
    from luodi.eval.datasets import read_det_labels

    (page,) = read_det_labels(tmp_path / "det" / "det_gt.txt")
    assert len(page.regions) == 2
