"""Exports read back with the readers trainers use; a corrupt image is skipped, named, and the rest written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_support import png

from luodi.eval.datasets import read_det_labels, read_rec_labels
from luodi.kie.evaluate import read_labels
from luodi.kie.result import Extraction, FieldResult
from luodi.review import NewItem, QueueQuery, ReviewStore, export
from luodi.review.images import DiskImageStore
from luodi.review.ingest import document_item

BOX = [[10.0, 8.0], [110.0, 8.0], [110.0, 28.0], [10.0, 28.0]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ReviewStore]:
    s = ReviewStore.open(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "images")
    yield s
    s.close()


def accept(store: ReviewStore, item_id: str, labels: dict | None = None) -> None:
    store.decide(item_id, version=store.get(item_id).version, who="t", action="accept", labels=labels)


def corrupt(store: ReviewStore, item_id: str) -> None:
    images = store.images
    assert isinstance(images, DiskImageStore)
    path = images.path(store.get(item_id).images[0])
    path.write_bytes(path.read_bytes()[:40])  # a truncated PNG: the header reads, the pixels do not


def line(store: ReviewStore, text: str, parent: str | None = None, box: list | None = None) -> str:
    # a width of its own per line: identical crops would share one content-addressed image
    return store.add(
        NewItem(
            kind="line",
            suggestion={"text": text, "box": box or BOX},
            images=(png(100 + store.queue(QueueQuery(limit=1)).total),),
            parent_image=parent,
        )
    )


def test_rec_export_reads_back_and_skips_the_corrupt_image(store: ReviewStore, tmp_path: Path) -> None:
    ids = [line(store, t) for t in ("甲乙", "丙丁", "戊己", "waiting")]
    accept(store, ids[0], {"text": "甲乙丙"})  # corrected
    accept(store, ids[1])  # as suggested
    accept(store, ids[2])
    corrupt(store, ids[2])
    report = export(store, "rec", tmp_path / "out")
    assert report.written == 2
    assert [s["id"] for s in report.skipped] == [ids[2]] and "decode" in report.skipped[0]["error"]
    samples = read_rec_labels(tmp_path / "out" / "rec_gt.txt")
    assert [s.label for s in samples] == ["甲乙丙", "丙丁"]
    assert all(s.path.is_file() for s in samples)


def test_illegible_and_rejected_lines(store: ReviewStore, tmp_path: Path) -> None:
    page_key = store.images.put(png(300, 100))
    a = line(store, "一", page_key, [[0, 0], [50, 0], [50, 20], [0, 20]])
    b = line(store, "二", page_key, [[0, 30], [50, 30], [50, 50], [0, 50]])
    c = line(store, "三", page_key, [[0, 60], [50, 60], [50, 80], [0, 80]])
    accept(store, a)
    accept(store, b, {"text": "", "illegible": True})
    report = export(store, "det", tmp_path / "det")
    assert report.written == 0 and "still waiting" in report.skipped[0]["error"]
    store.decide(c, version=1, who="t", action="reject")
    report = export(store, "det", tmp_path / "det")
    (sample,) = read_det_labels(tmp_path / "det" / "det_gt.txt")
    assert [r.transcription for r in sample.regions] == ["一", "###"]
    assert sample.path.is_file()
    rec = export(store, "rec", tmp_path / "rec")
    assert [s.label for s in read_rec_labels(tmp_path / "rec" / "rec_gt.txt")] == ["一"] and rec.written == 1


def _extraction(name: str) -> Extraction:
    box = tuple(tuple(p) for p in BOX)
    return Extraction(
        source=f"{name}.png",
        schema="waybill",
        fields=(
            FieldResult("receiver_name", name, raw=name, score=0.4, box=box, needs_review=True),  # type: ignore[arg-type]
            FieldResult("weight_kg", 1.5, raw="1.5kg", score=0.9, needs_review=False),
        ),
        needs_review=True,
    )


def test_kie_export_is_what_eval_kie_reads(store: ReviewStore, tmp_path: Path) -> None:
    ids = [
        store.add(document_item(_extraction(n), [png(200 + i, 60)], origin="service"))
        for i, n in enumerate(("张三", "李四", "王五"))
    ]
    accept(store, ids[0], {"fields": {"receiver_name": {"value": "张山", "box": BOX}, "weight_kg": {"value": 1.5}}})
    accept(store, ids[1])
    accept(store, ids[2])
    corrupt(store, ids[2])
    report = export(store, "kie", tmp_path / "kie")
    assert report.written == 2 and report.skipped[0]["source"] == "王五.png"
    records = read_labels(tmp_path / "kie" / "labels.jsonl")
    assert [r["fields"] for r in records] == [
        {"receiver_name": "张山", "weight_kg": 1.5},
        {"receiver_name": "李四", "weight_kg": 1.5},
    ]
    assert records[0]["boxes"]["receiver_name"] == BOX
    assert all((tmp_path / "kie" / r["image"]).is_file() for r in records)
    det = export(store, "det", tmp_path / "det")  # no OCR lines were kept with these: nothing to say
    assert det.written == 0


def test_field_crops_join_the_rec_export_on_request(store: ReviewStore, tmp_path: Path) -> None:
    item = store.add(document_item(_extraction("张三"), [png(200, 60, text="x")], origin="service"))
    accept(store, item, {"fields": {"receiver_name": {"value": "张山", "box": BOX}, "weight_kg": {"value": 1.5}}})
    report = export(store, "rec", tmp_path / "rec", include_fields=True)
    (sample,) = read_rec_labels(tmp_path / "rec" / "rec_gt.txt")
    assert sample.label == "张山" and report.written == 1


def test_tsv_and_folder_per_class(store: ReviewStore, tmp_path: Path) -> None:
    texts = [("查快递\t到哪了", "track"), ("我要退货", "refund"), ("你好", None)]
    for text, label in texts:
        item = store.add(NewItem(kind="text", suggestion={"label": label, "classes": ["track", "refund"]}, text=text))
        if label:
            accept(store, item)
    report = export(store, "tsv", tmp_path / "tsv")
    assert report.written == 2
    rows = (tmp_path / "tsv" / "train.txt").read_text(encoding="utf-8").splitlines()
    assert rows == ["查快递 到哪了\ttrack", "我要退货\trefund"]
    assert (tmp_path / "tsv" / "label.txt").read_text(encoding="utf-8").split() == ["refund", "track"]

    for color, label in (("red", "defect"), ("white", "ok"), ("blue", "../escape")):
        item = store.add(NewItem(kind="image", suggestion={"label": label}, images=(png(color=color),)))
        accept(store, item)
    report = export(store, "folder", tmp_path / "cls")
    assert report.written == 2 and "cannot be a folder name" in report.skipped[0]["error"]
    assert sorted(p.parent.name for p in (tmp_path / "cls").rglob("*.png")) == ["defect", "ok"]
    assert not (tmp_path / "escape").exists()


def test_unknown_format(store: ReviewStore, tmp_path: Path) -> None:
    from luodi.errors import InputError

    with pytest.raises(InputError, match="format"):
        export(store, "coco", tmp_path)


def test_a_jsonl_record_is_one_line(store: ReviewStore, tmp_path: Path) -> None:
    item = store.add(document_item(_extraction("a\nb"), [png()], origin="service"))
    accept(store, item)
    export(store, "kie", tmp_path / "k")
    lines = (tmp_path / "k" / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["fields"]["receiver_name"] == "a\nb"
