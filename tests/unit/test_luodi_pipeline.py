"""luodi.Pipeline with fake OCR sessions: decoding, tasks, timings, per-item error records, plug-in tasks."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image, ImageDraw

import luodi
from luodi.config import Limits, load_settings
from luodi.errors import ConfigError, UnknownSchemaError, UnknownTaskError
from luodi.ocr.pipeline import OCR
from luodi.ocr.result import Document
from luodi.pipeline import Call, Item, Pipeline
from luodi.runtime.fake import FakeSession

CHARS = ["<blank>", *"abcdefghijk"]


def _png(width: int = 60, height: int = 20) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((0, height // 3, width - 1, 2 * height // 3), fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _pipeline(tmp_path, **kw: Any) -> Pipeline:
    settings = load_settings(home=tmp_path, limits=Limits(max_bytes=50_000))
    ocr = OCR.from_sessions(rec=FakeSession.rec(num_classes=len(CHARS)), characters=CHARS, limits=settings.limits)
    return Pipeline(settings, ocr=ocr, **kw)


def test_public_name() -> None:
    assert luodi.Pipeline is Pipeline


def test_ocr_from_bytes_and_path_with_stage_timings(tmp_path) -> None:
    pipe = _pipeline(tmp_path)
    out = pipe.run("ocr", _png(), name="a.png")
    assert isinstance(out.result, Document) and out.source == "a.png"
    assert out.to_dict()["pages"][0]["width"] == 60 and out.to_dict()["pages"][0]["lines"][0]["text"]
    assert set(out.stages) == {"decode", "locate", "det", "cls", "rec"} and all(v >= 0 for v in out.stages.values())
    assert len(out.pages) == 1 and out.pages[0].shape == (20, 60, 3)
    # the document's total includes decoding, as OCR.__call__'s does
    assert out.result.timings.total >= out.stages["decode"] * 1000
    path = tmp_path / "b.png"
    path.write_bytes(_png(30, 10))
    assert pipe.run("ocr", path).source == str(path)


def test_run_many_keeps_order_and_records_bad_items(tmp_path) -> None:
    pipe = _pipeline(tmp_path)
    items = [Item(_png(), "ok"), Item(b"", "empty"), Item(b"not an image at all", "text"), Item(b"\0" * 60_000, "big")]
    done = list(pipe.run_many("ocr", items))
    assert [d.index for d in done] == [0, 1, 2, 3]
    assert done[0].outcome is not None and done[0].error is None
    assert [d.error.type for d in done[1:]] == ["empty_input", "unsupported_format", "too_many_bytes"]  # type: ignore[union-attr]
    assert done[2].to_dict() == {"index": 2, "source": "text", "error": done[2].error.to_dict()["error"]}  # type: ignore[union-attr]
    late = list(pipe.run_many("ocr", [Item(_png(), "late")], deadline=time.monotonic() - 1))
    assert late[0].error is not None and late[0].error.type == "deadline_exceeded"


def test_tasks_options_and_processor_cache(tmp_path) -> None:
    pipe = _pipeline(tmp_path)
    with pytest.raises(UnknownTaskError):
        pipe.run("nope", _png())
    with pytest.raises(ConfigError):
        pipe.check("ocr", "an-option")
    with pytest.raises(UnknownSchemaError):
        pipe.check("extract", "no_such_schema")
    assert pipe.processor("extract", "waybill") is pipe.processor("extract", "waybill")
    extraction = pipe.run("extract", _png(), option="waybill", name="w.png").to_dict()
    assert extraction["schema"] == "waybill" and extraction["source"] == "w.png"
    assert set(pipe.run("extract", _png(), option="waybill").stages) == {"decode", "locate", "det", "cls", "rec", "kie"}


@dataclass(frozen=True)
class _Upper:
    """A plug-in text task: what the text-understanding and inspection tasks register the same way."""

    takes: str = "text"
    seen: list[Call] = field(default_factory=list)

    def __call__(self, value: str, call: Call) -> tuple[Any, dict[str, float]]:
        self.seen.append(call)

        @dataclass(frozen=True)
        class Shout:
            text: str

            def to_dict(self) -> dict[str, Any]:
                return {"text": self.text}

        return Shout(value.upper()), {"upper": 0.0}


def test_a_task_plugs_in_without_loading_ocr(tmp_path) -> None:
    made: list[str | None] = []

    def factory(pipeline: Pipeline, option: str | None) -> _Upper:
        made.append(option)
        return _Upper()

    # no ocr= and no pulled model: a text task never loads OCR
    pipe = Pipeline(load_settings(home=tmp_path, model="not-pulled"), tasks={"upper": factory})
    assert "upper" in pipe.tasks and "ocr" in pipe.tasks
    assert pipe.run("upper", "abc").to_dict() == {"text": "ABC"}
    assert pipe.run("upper", "中文".encode()).to_dict() == {"text": "中文"}
    bad = next(pipe.run_many("upper", [Item(b"\xff\xfe")]))
    assert bad.error is not None and bad.error.type == "input_error"
    assert made == [None]
