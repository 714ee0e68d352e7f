"""Real OCR + Extractor: a waybill rendered here, the ICBC slip photo, a blank page, the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from luodi import OCR

pytestmark = pytest.mark.integration

MODEL = "pp-ocrv6-small"


def _font(size: int) -> ImageFont.FreeTypeFont:
    from luodi.output.visualize import find_cjk_font

    found = find_cjk_font()
    if found is None:
        pytest.skip("no CJK font installed (make setup installs fonts-noto-cjk)")
    return ImageFont.truetype(found[0], size, index=found[1])


def render_waybill(path: Path) -> None:
    """A plain e-waybill: carrier, tracking number, a 收 and a 寄 block with no labels, a labelled row."""
    img = Image.new("RGB", (900, 620), "white")
    d = ImageDraw.Draw(img)
    big, mid, small = _font(44), _font(30), _font(26)
    d.text((30, 20), "顺丰速运", font=big, fill="black")
    d.text((420, 40), "运单号：SF1402683715902", font=small, fill="black")
    d.line((20, 100, 880, 100), fill="black", width=2)
    d.rectangle((25, 120, 85, 190), outline="black", width=3)
    d.text((38, 132), "收", font=big, fill="black")
    d.text((110, 118), "韦业涛  18600009172", font=mid, fill="black")
    d.text((110, 160), "黑龙江省双鸭山市尖山区八马路北40米", font=small, fill="black")
    d.line((20, 215, 880, 215), fill="black", width=2)
    d.rectangle((25, 235, 85, 305), outline="black", width=3)
    d.text((38, 247), "寄", font=big, fill="black")
    d.text((110, 233), "宣荣嗣  021-62538890", font=mid, fill="black")
    d.text((110, 275), "甘肃省白银市会宁县河畔镇十字街50号", font=small, fill="black")
    d.line((20, 330, 880, 330), fill="black", width=2)
    d.text((30, 350), "托寄物：文件      重量：1.5kg      件数：1", font=small, fill="black")
    d.text((30, 400), "备注：易碎轻放", font=small, fill="black")
    img.save(path, quality=95)


@pytest.fixture(scope="module")
def engine(require_bundle: Callable[[str], object]) -> OCR:
    require_bundle(MODEL)
    from luodi import OCR

    return OCR(model=MODEL)


@pytest.fixture(scope="module")
def waybill_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kie") / "waybill.jpg"
    render_waybill(path)
    return path


def test_rendered_waybill_names_and_phones(engine: OCR, waybill_image: Path) -> None:
    from luodi import Extractor

    res = Extractor("waybill", ocr=engine)(str(waybill_image))
    v = res.values()
    assert v["receiver_name"] == "韦业涛"
    assert v["receiver_phone"] == "18600009172"
    assert v["sender_name"] == "宣荣嗣"
    assert v["sender_phone"] == "021-62538890"
    assert v["tracking_number"] == "SF1402683715902"
    assert v["carrier"] == "顺丰速运"
    assert v["weight_kg"] == 1.5
    assert v["pieces"] == 1
    assert v["receiver_address"] == "黑龙江省双鸭山市尖山区八马路北40米"
    box = res["receiver_phone"].box
    assert box is not None and 195 < box[0][0] < 240 and 110 < box[0][1] < 160 and box[1][0] > 370
    d = res.to_dict()
    assert d["schema"] == "waybill" and d["source"] == str(waybill_image)
    assert set(d["fields"]["receiver_name"]) >= {"value", "score", "box", "needs_review"}


def test_extraction_costs_little_next_to_ocr(engine: OCR, waybill_image: Path) -> None:
    import time

    from luodi import Extractor

    ex = Extractor("waybill", ocr=engine)
    doc = engine(str(waybill_image))
    ex.extract_document(doc)  # warm caches (schema, regexes, contact parser)
    t0 = time.perf_counter()
    for _ in range(5):
        ex.extract_document(doc)
    extract_ms = (time.perf_counter() - t0) / 5 * 1000
    assert extract_ms < 0.10 * doc.timings.total, (extract_ms, doc.timings.total)


def test_icbc_slip(engine: OCR, doc_samples: Path) -> None:
    from luodi import Extractor

    image = doc_samples / "paddleocr" / "imgs" / "00111002.jpg"
    labels = Path(__file__).parent.parent / "unit" / "kie" / "data" / "icbc_slip.jsonl"
    truth = json.loads(labels.read_text(encoding="utf-8").splitlines()[0])["fields"]
    got = Extractor("bank_receipt", ocr=engine)(str(image)).values()
    right = [k for k, v in truth.items() if got[k] == v]
    # 13 of the 14 labelled fields; the card type depends on reading 贷 (OCR says 货).
    assert len(right) >= 13, {k: (v, got[k]) for k, v in truth.items() if got[k] != v}


def test_blank_page_gives_empty_fields_and_review(engine: OCR) -> None:
    from luodi import Extractor

    blank = np.full((400, 600, 3), 255, dtype=np.uint8)
    res = Extractor("waybill", ocr=engine)(blank)
    assert res.needs_review
    assert all(f.value is None for f in res.fields)


def test_cli_extract_json_and_visualize(
    require_bundle: Callable[[str], object], waybill_image: Path, tmp_path: Path
) -> None:
    require_bundle(MODEL)
    from luodi.cli import cli

    out = tmp_path / "vis"
    result = CliRunner().invoke(
        cli, ["extract", str(waybill_image), "--schema", "waybill", "--model", MODEL, "--visualize", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["fields"]["receiver_phone"]["value"] == "18600009172"
    pngs = list(out.glob("*.png"))
    assert len(pngs) == 1
    with Image.open(pngs[0]) as drawn:
        assert drawn.size == (900, 620)
