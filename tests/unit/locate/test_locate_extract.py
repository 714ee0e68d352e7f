"""One extraction per located document: the JSON, boxes back in page pixels, cut-off flags."""

from __future__ import annotations

import math

from luodi.kie import Extractor
from luodi.kie.parties import RuleContactParser
from luodi.locate.extract import CUT_OFF, MISSING_CUT_OFF, SMALL, extract_documents
from luodi.ocr.result import Document, Line, Page, PageDocument

ROWS = [("收件人：张三", 20, 20), ("电话：13812345678", 20, 60), ("地址：广东省广州市天河区体育西路1号", 20, 100)]


def _line(text: str, x: float, y: float) -> Line:
    w = 24.0 * len(text)
    n = len(text)
    return Line(
        text,
        0.99,
        ((x, y), (x + w, y), (x + w, y + 24), (x, y + 24)),
        (0.99,) * n,
        tuple((i + 0.5) / n for i in range(n)),
    )


def _doc(
    offset: tuple[float, float], *, cut: bool = False, turned: bool = True, rows=ROWS, index: int = 0
) -> PageDocument:
    """A document of ``rows`` placed on the page turned 90° (its x axis pointing down the page)."""
    ox, oy = offset
    # document (x, y) -> page (ox - y, oy + x) when turned, else (ox + x, oy + y)
    t = (0.0, -1.0, ox, 1.0, 0.0, oy, 0.0, 0.0, 1.0) if turned else (1.0, 0.0, ox, 0.0, 1.0, oy, 0.0, 0.0, 1.0)
    lines = tuple(_line(*r) for r in rows)
    pd = PageDocument(
        index=index, quad=((0, 0), (0, 0), (0, 0), (0, 0)), width=900, height=160, lines=lines, cut_off=cut, transform=t
    )
    quad = pd.to_page([(0, 0), (900, 0), (900, 160), (0, 160)])
    return PageDocument(
        index=index,
        quad=tuple(quad),
        width=900,
        height=160,
        lines=lines,
        cut_off=cut,
        transform=t,
        rotation=-90.0 if turned else 0.0,
    )  # type: ignore[arg-type]


def _photo(*docs: PageDocument, width: int = 1200, height: int = 1600) -> Document:
    page_lines = tuple(line for d in docs for line in d.lines)  # boxes do not matter here
    return Document("p.jpg", "fake", (Page(0, width, height, page_lines, documents=docs, located=True),))


def _extractor() -> Extractor:
    return Extractor("waybill", contact_parser=RuleContactParser())


def test_one_located_label_keeps_the_usual_keys_with_page_boxes() -> None:
    result = extract_documents(_extractor(), _photo(_doc((600, 200))))
    d = result.to_dict()
    assert d["source"] == "p.jpg" and d["schema"] == "waybill" and "reasons" not in d
    assert d["fields"]["receiver_phone"]["value"] == "13812345678"
    (entry,) = d["documents"]
    assert entry["page"] == 0 and entry["index"] == 0 and len(entry["quad"]) == 4 and entry["cut_off"] is False
    box = entry["fields"]["receiver_phone"]["box"]
    # read in document pixels (a horizontal line at y 60..84), reported where it is on the page: turned
    xs, ys = [p[0] for p in box], [p[1] for p in box]
    assert min(xs) >= 600 - 84 - 1 and max(xs) <= 600 - 60 + 1 and min(ys) >= 200 and max(ys) - min(ys) > 100
    assert result.first.get("receiver_phone") == "13812345678"


def test_two_labels_two_extractions_and_a_review_flag() -> None:
    other = [("收件人：李四", 20, 20), ("电话：13987654321", 20, 60), ("地址：北京市朝阳区建国路88号", 20, 100)]
    result = extract_documents(_extractor(), _photo(_doc((600, 200)), _doc((300, 900), rows=other, index=1)))
    d = result.to_dict()
    assert d["needs_review"] is True and any("2 documents" in r for r in d["reasons"])
    assert [e["fields"]["receiver_phone"]["value"] for e in d["documents"]] == ["13812345678", "13987654321"]
    assert d["fields"]["receiver_phone"]["value"] == "13812345678"  # the first document's


def test_nothing_found_and_flat_inputs() -> None:
    empty = Document("p.jpg", "fake", (Page(0, 800, 600, located=True, flags=("no_document",)),))
    d = extract_documents(_extractor(), empty).to_dict()
    assert d["documents"] == [] and d["needs_review"] and "no document" in d["reasons"][-1]
    assert all(f["value"] is None for f in d["fields"].values())
    flat = Document("s.png", "fake", (Page(0, 900, 300, tuple(_line(*r) for r in ROWS)),))
    plain = extract_documents(_extractor(), flat).to_dict()
    assert "documents" not in plain and plain["fields"]["receiver_name"]["value"] == "张三"
    assert plain == _extractor().extract_document(flat).to_dict() | {"fields": plain["fields"]}


def test_a_cut_off_label_flags_fields_at_the_edge_and_missing_ones() -> None:
    # not turned, its right part beyond the page's right edge (page 1000 wide, document from x 600 to 1500)
    result = extract_documents(_extractor(), _photo(_doc((600, 300), cut=True, turned=False), width=1000))
    fields = result.to_dict()["documents"][0]["fields"]
    address = fields["receiver_address"]
    assert address["needs_review"] and CUT_OFF in address["reasons"]  # its line runs to x 600 + 20 + 24 * 19 > 1000
    assert CUT_OFF not in fields["receiver_name"].get("reasons", [])
    missing = fields["sender_name"]
    assert missing["value"] is None and MISSING_CUT_OFF in missing["reasons"]
    assert result.needs_review
    assert math.isclose(result.documents[0].located.rotation, 0.0)  # type: ignore[union-attr]


def test_a_page_flagged_small_documents_says_so_and_asks_for_review() -> None:
    doc = _doc((600, 200))
    page = Page(0, 1200, 1600, doc.lines, documents=(doc,), located=True, flags=("small_documents",))
    d = extract_documents(_extractor(), Document("p.jpg", "fake", (page,))).to_dict()
    assert d["needs_review"] and SMALL in d["reasons"]
    plain = extract_documents(_extractor(), _photo(_doc((600, 200)))).to_dict()
    assert SMALL not in plain.get("reasons", [])
