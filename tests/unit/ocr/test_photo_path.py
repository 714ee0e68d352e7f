"""Photos through the engine with fake models: documents found, turned upright, read, mapped back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from luodi.locate import DocumentLocator
from luodi.ocr.options import OCROptions
from luodi.ocr.pipeline import OCR
from luodi.ocr.straighten import apply
from luodi.runtime.fake import FakeSession

CHARS = ["<blank>", *"abcdefghijk"]
# the fake recogniser reads one character a bar: keep every located region whatever it reads
PHOTO = OCROptions(locate_min_pixels=0, min_document_chars=0)
BARS = [(20, 30, 250), (20, 75, 190), (20, 120, 230), (20, 165, 140), (20, 210, 260)]  # x, y, length


def _engine() -> OCR:
    return OCR.from_sessions(
        det=FakeSession.det(),
        cls_session=FakeSession.cls_(),
        rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS,
        model_name="fake",
        locator=DocumentLocator(None),
    )


def _art() -> np.ndarray:
    """Paper with bars of text; each bar's lower half is darker, so the fake classifier calls an
    upright bar upright and a turned one upside down."""
    art = np.full((260, 300, 3), 245, np.uint8)
    for x, y, length in BARS:
        art[y : y + 8, x : x + length] = 90
        art[y + 8 : y + 16, x : x + length] = 10
    return art


def _photo(
    angle: float, centres: list[tuple[float, float]] | None = None, size: tuple[int, int] = (900, 1200)
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Dark frame with the art pasted at each centre, turned ``angle`` degrees counter-clockwise;
    the 2×3 placement matrices."""
    h, w = size
    img = np.full((h, w, 3), 40, np.uint8)
    art = _art()
    placed = []
    for cx, cy in centres or [(w / 2, h / 2)]:
        m = cv2.getRotationMatrix2D((150, 130), angle, 1.0)
        m[:, 2] += [cx - 150, cy - 130]
        cv2.warpAffine(art, m, (w, h), dst=img, borderMode=cv2.BORDER_TRANSPARENT)
        placed.append(m)
    return img, placed


@pytest.mark.parametrize("angle", [0.0, 90.0, 180.0, 270.0, 33.0, 200.0])
def test_a_turned_label_is_read_upright_and_mapped_back(angle: float) -> None:
    img, (m,) = _photo(angle)
    (page,) = _engine().run_pages([img], PHOTO).pages
    assert page.located and page.flags == () and len(page.documents) == 1
    (doc,) = page.documents
    assert doc.method == "geometry" and not doc.cut_off
    assert len(doc.lines) == len(BARS) and len(page.lines) == len(BARS)
    assert doc.line_ids == tuple(range(len(BARS)))
    # straightened: horizontal lines, read top to bottom in the art's order
    for line, (_, _, length) in zip(doc.lines, BARS, strict=True):
        (x0, y0), (x1, y1), _, _ = line.box
        assert abs(y1 - y0) < 4 and x1 - x0 > 0.8 * length * doc.width / 300
    ys = [line.box[0][1] for line in doc.lines]
    assert ys == sorted(ys)
    # mapped back: each page box sits on its bar where it was pasted in the frame
    m3 = np.vstack([m, [0, 0, 1]])
    for line, (x, y, length) in zip(page.lines, BARS, strict=True):
        centre = np.asarray(line.box).mean(0)
        expected = apply(m3, np.array([[x + length / 2, y + 8]]))[0]
        assert np.hypot(*(centre - expected)) < 12
    assert (doc.rotation - angle + 180) % 360 - 180 == pytest.approx(0, abs=3)
    # the document's own transform takes its corners to its quad
    assert np.allclose(doc.to_page([(0, 0), (doc.width, 0)]), [doc.quad[0], doc.quad[1]], atol=25)


def test_several_labels_each_read_on_their_own_and_capped() -> None:
    img, _ = _photo(15.0, [(250, 250), (850, 300), (500, 700)], size=(950, 1200))
    engine = _engine()
    (page,) = engine.run_pages([img], PHOTO).pages
    assert len(page.documents) == 3 and len(page.lines) == 3 * len(BARS)
    for doc in page.documents:
        assert [page.lines[i].text for i in doc.line_ids] == [line.text for line in doc.lines]
    # top to bottom, then left to right
    tops = [min(p[1] for p in doc.quad) for doc in page.documents]
    assert tops[-1] == max(tops)
    (capped,) = engine.run_pages([img], PHOTO.replace(max_documents=2)).pages
    assert len(capped.documents) == 2 and capped.flags == ("too_many_documents",)


def test_a_label_cut_off_by_the_frame_flags_its_edge_lines() -> None:
    img, _ = _photo(0.0, [(1130, 450)])
    (page,) = _engine().run_pages([img], PHOTO).pages
    (doc,) = page.documents
    assert doc.cut_off
    cut = [line for line in page.lines if line.cut_off]
    assert cut and all(max(p[0] for p in line.box) >= 1190 for line in cut)
    assert [line.cut_off for line in doc.lines] == [line.cut_off for line in page.lines]
    assert any(x.get("cut_off") for x in page.to_dict()["lines"])


def test_no_label_is_an_empty_flagged_page() -> None:
    img = np.full((900, 1200, 3), 40, np.uint8)
    cv2.circle(img, (600, 450), 200, (70, 70, 70), -1)
    (page,) = _engine().run_pages([img], PHOTO).pages
    assert page.located and page.lines == () and page.documents == () and page.flags == ("no_document",)
    d = page.to_dict()
    assert d["located"] is True and d["documents"] == [] and d["flags"] == ["no_document"]


def test_a_region_reading_too_little_text_is_no_document() -> None:
    img, _ = _photo(33.0)
    engine = _engine()
    # the fake recogniser reads one character a bar: 5 characters, under the default 16
    (page,) = engine.run_pages([img], OCROptions(locate_min_pixels=0)).pages
    assert page.documents == () and page.flags == ("no_document",)
    assert not page.located and len(page.lines) >= len(BARS)  # the coarse detection found text: read whole
    (kept,) = engine.run_pages([img], PHOTO.replace(min_document_chars=len(BARS))).pages
    assert len(kept.documents) == 1 and kept.flags == ()


def test_scans_and_no_locate_read_the_page_whole() -> None:
    img, _ = _photo(90.0)
    engine = _engine()
    for opts in (OCROptions(), PHOTO.replace(locate=False)):  # under the pixel floor / turned off
        (page,) = engine.run_pages([img], opts).pages
        assert not page.located and page.documents == () and page.lines
    # a page that is one sheet filling the frame (a scan) is read whole too
    (flat,) = engine.run_pages([np.ascontiguousarray(_art())], PHOTO).pages
    assert not flat.located and len(flat.lines) == len(BARS)


def test_json_of_a_photo_page() -> None:
    img, _ = _photo(90.0)
    doc = _engine().run_pages([img], PHOTO, source="parcel.jpg")
    d = doc.to_dict()
    (page,) = d["pages"]
    assert set(page) == {"index", "width", "height", "lines", "located", "documents", "flags"}
    (entry,) = page["documents"]
    assert set(entry) == {
        "index", "quad", "polygon", "width", "height", "rotation", "score", "method", "cut_off",
        "transform", "line_ids", "lines",
    }  # fmt: skip
    assert len(entry["transform"]) == 9 and len(entry["quad"]) == 4 and entry["line_ids"] == list(range(len(BARS)))
    assert d["timings_ms"]["locate"] > 0
    parts = doc.parts()
    assert len(parts) == 1 and parts[0].page == 0 and parts[0].located is doc.pages[0].documents[0]
    assert parts[0].document.pages[0].lines == doc.pages[0].documents[0].lines


def test_ocr_json_follows_the_published_schema() -> None:
    import json
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("luodi.ocr").joinpath("schemas/ocr.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    engine = _engine()
    img, _ = _photo(0.0, [(1130, 450), (400, 400)])
    empty = np.full((900, 1200, 3), 40, np.uint8)
    for page, opts in ((img, PHOTO), (empty, PHOTO), (img, OCROptions()), (_art(), PHOTO)):
        jsonschema.validate(engine.run_pages([np.ascontiguousarray(page)], opts, source="x.jpg").to_dict(), schema)
    bad = engine.run_pages([img], PHOTO).to_dict()
    bad["pages"][0]["documents"][0]["method"] = "magic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_a_skewed_outline_is_levelled_by_its_text() -> None:
    """The located quad is 4° off the label (a torn or bent edge): the text, not the quad, decides."""
    from luodi.locate.locator import LocatedDocument, Location

    img, (m,) = _photo(0.0)
    art_corners = np.array([[0, 0], [300, 0], [300, 260], [0, 260]], np.float64)
    true = apply(np.vstack([m, [0, 0, 1]]), art_corners)
    centre = true.mean(0)
    rot = cv2.getRotationMatrix2D(tuple(centre), 4.0, 1.05)  # a quad turned 4° and a bit larger
    quad = cv2.transform(true[None].astype(np.float32), rot)[0]

    class Fixed(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            doc = LocatedDocument(quad, quad, 1.0, "model", False, 0.1)
            return Location((doc,), False, 0.1, "model")

    engine = OCR.from_sessions(
        det=FakeSession.det(), cls_session=FakeSession.cls_(), rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS, locator=Fixed(None),
    )  # fmt: skip
    (page,) = engine.run_pages([img], PHOTO).pages
    (doc,) = page.documents
    assert len(doc.lines) == len(BARS)
    for line in doc.lines:
        (x0, y0), (x1, y1), _, _ = line.box
        assert abs(y1 - y0) <= 0.02 * (x1 - x0) + 1  # level within about a degree
    assert doc.rotation == pytest.approx(0.0, abs=1.5)


def _bent_photo(sag: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The art sagging by ``sag`` pixels in its middle (a label over a bulge), its outline and quad."""
    h, w = 900, 1200
    ox, oy = 400.0, 300.0
    art = _art()
    ah, aw = art.shape[:2]

    def drop(x: np.ndarray) -> np.ndarray:
        return sag * (1 - (((x - ox) / aw) * 2 - 1) ** 2)

    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mx, my = xs - ox, ys - oy - drop(xs)
    page = cv2.remap(
        art, mx, my.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(40, 40, 40)
    )
    x = np.linspace(ox, ox + aw, 31)
    polygon = np.vstack([np.stack([x, oy + drop(x)], 1), np.stack([x[::-1], oy + ah + drop(x[::-1])], 1)])
    quad = np.array([[ox, oy], [ox + aw, oy], [ox + aw, oy + ah], [ox, oy + ah]], np.float32)
    return page, polygon.astype(np.float32), quad


@pytest.mark.parametrize("unwarp", [True, False])
def test_a_bent_label_is_unwarped_by_its_outline(unwarp: bool) -> None:
    from luodi.locate.locator import LocatedDocument, Location

    page, polygon, quad = _bent_photo(40.0)

    class Fixed(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            return Location((LocatedDocument(quad, polygon, 1.0, "model", False, 0.1),), False, 0.1, "model")

    engine = OCR.from_sessions(
        det=FakeSession.det(), cls_session=FakeSession.cls_(), rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS, locator=Fixed(None),
    )  # fmt: skip
    (result,) = engine.run_pages([page], PHOTO.replace(unwarp=unwarp)).pages
    if not unwarp:  # through the quad each line keeps its sag: taller boxes, lines broken up or merged
        # (merged into fewer than 3 boxes, the region is no document)
        if result.documents:
            (doc,) = result.documents
            heights = [line.box[3][1] - line.box[0][1] for line in doc.lines]
            assert len(doc.lines) != len(BARS) or max(heights) > 55
        return
    (doc,) = result.documents
    heights = [line.box[3][1] - line.box[0][1] for line in doc.lines]  # document pixels
    # (the fake detector grows a 16-px bar to a box about 40 px high)
    assert len(doc.lines) == len(BARS) and max(heights) <= 45

    def on_bar(x: float, y: float) -> float:  # where the bar's middle lies on the page at x
        return 300 + y + 8 + 40 * (1 - (((x - 400) / 300) * 2 - 1) ** 2)

    for line, (_, y, _) in zip(result.lines, BARS, strict=True):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = line.box
        # both ends of each box are mapped back onto the sagging bar
        assert abs((y0 + y3) / 2 - on_bar((x0 + x3) / 2, y)) < 8
        assert abs((y1 + y2) / 2 - on_bar((x1 + x2) / 2, y)) < 8


def _pointing_art() -> np.ndarray:
    """Bars whose start (left end) is marked black, so a reader can tell a bar read the right way up
    from one read upside down. Bars 0-2 are darker below (the fake classifier is sure of them), bar
    3 is even (it is unsure: "not turned"), bar 4 is darker above (it is sure, and wrong)."""
    art = np.full((260, 300, 3), 245, np.uint8)
    for k, (x, y, length) in enumerate(BARS):
        top, bottom = {3: (50, 50), 4: (10, 90)}.get(k, (90, 10))
        art[y : y + 8, x : x + length] = top
        art[y + 8 : y + 16, x : x + length] = bottom
        art[y : y + 16, x : x + 24] = 0
    return art


def _read_pointing(crops: list[np.ndarray]) -> list[object]:
    """A recogniser that reads "up" (sure) where a crop's left third is darker than its right third,
    else "dn" (unsure, above drop_score): what reading a line upside down looks like."""
    from luodi.ocr.result import RecResult

    out = []
    for crop in crops:
        third = crop.shape[1] // 3
        up = crop[:, :third].mean() < crop[:, -third:].mean()
        out.append(RecResult("up", 0.99) if up else RecResult("dn", 0.6))
    return out


@pytest.mark.parametrize("angle", [0.0, 180.0])
def test_every_line_is_read_the_document_s_way_up(angle: float) -> None:
    h, w = 900, 1200
    img = np.full((h, w, 3), 40, np.uint8)
    m = cv2.getRotationMatrix2D((150, 130), angle, 1.0)
    m[:, 2] += [w / 2 - 150, h / 2 - 130]
    cv2.warpAffine(_pointing_art(), m, (w, h), dst=img, borderMode=cv2.BORDER_TRANSPARENT)
    from luodi.locate.locator import LocatedDocument, Location, order_quad

    corners = cv2.transform(np.array([[[0, 0], [300, 0], [300, 260], [0, 260]]], np.float32), m)[0]
    quad = order_quad(corners)  # as a locator gives it: from the corner nearest the frame's top-left

    class Fixed(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            return Location((LocatedDocument(quad, quad, 1.0, "model", False, 0.07),), False, 0.07, "model")

    engine = OCR.from_sessions(
        det=FakeSession.det(), cls_session=FakeSession.cls_(), rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS, locator=Fixed(None),
    )  # fmt: skip
    (page,) = engine.run_pages([img], PHOTO, recognizer=_read_pointing).pages  # type: ignore[arg-type]
    (doc,) = page.documents
    # upside down, the lines the classifier was unsure of are read again once the document is turned;
    # a line it turned against the document is read both ways and the surer reading kept
    assert [line.text for line in doc.lines] == ["up"] * len(BARS)
    assert (doc.rotation - angle + 180) % 360 - 180 == pytest.approx(0, abs=3)


def test_a_located_region_without_text_is_dropped_before_recognition() -> None:
    from luodi.locate.locator import LocatedDocument, Location

    img = np.full((900, 1200, 3), 40, np.uint8)
    img[300:600, 400:800] = 250  # glare, or a blank label: bright, no print
    quad = np.array([[400, 300], [800, 300], [800, 600], [400, 600]], np.float32)

    class Fixed(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            return Location((LocatedDocument(quad, quad, 1.0, "model", False, 0.11),), False, 0.11, "model")

    rec = FakeSession.rec(num_classes=len(CHARS))
    engine = OCR.from_sessions(
        det=FakeSession.det(), cls_session=FakeSession.cls_(), rec=rec, characters=CHARS, locator=Fixed(None)
    )
    (page,) = engine.run_pages([img], PHOTO).pages
    assert page.documents == () and page.flags == ("no_document",)
    assert rec.calls == 0  # nothing was recognised on the region, nor on the frame's coarse detection

    class Small(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            return Location((LocatedDocument(quad, quad, 1.0, "model", False, 0.005),), False, 0.005, "model")

    # a small region with no print is no small document: nothing to warn about
    small = OCR.from_sessions(det=FakeSession.det(), rec=rec, characters=CHARS, locator=Small(None))
    assert small.run_pages([img], PHOTO).pages[0].flags == ("no_document",)


def test_documents_under_a_hundredth_of_the_frame_are_flagged() -> None:
    from luodi.locate.locator import LocatedDocument, Location

    img, (m,) = _photo(0.0)
    corners = cv2.transform(np.array([[[0, 0], [300, 0], [300, 260], [0, 260]]], np.float32), m)[0]

    def engine(area: float) -> OCR:
        class Fixed(DocumentLocator):
            def locate(self, image: np.ndarray) -> Location:
                return Location((LocatedDocument(corners, corners, 1.0, "model", False, area),), False, area, "model")

        return OCR.from_sessions(
            det=FakeSession.det(), cls_session=FakeSession.cls_(), rec=FakeSession.rec(num_classes=len(CHARS)),
            characters=CHARS, locator=Fixed(None),
        )  # fmt: skip

    (small,) = engine(0.006).run_pages([img], PHOTO).pages
    assert len(small.documents) == 1 and small.flags == ("small_documents",)
    (large,) = engine(0.07).run_pages([img], PHOTO).pages
    assert len(large.documents) == 1 and large.flags == ()
    # read as nothing, the page still says small documents were there
    (dropped,) = engine(0.006).run_pages([img], PHOTO.replace(min_document_chars=1000)).pages
    assert dropped.documents == () and dropped.flags == ("no_document", "small_documents")


def test_a_small_region_showing_a_line_or_two_of_print_still_warns_of_small_documents() -> None:
    """A sorting-line frame's labels are too small for three text boxes each: nothing is read, but
    the page must say small documents were there rather than only "no document"."""
    from luodi.locate.locator import LocatedDocument, Location

    img = np.full((900, 1200, 3), 40, np.uint8)
    img[300:560, 400:700] = 245
    img[400:416, 420:650] = 10  # one line of print
    quad = np.array([[400, 300], [700, 300], [700, 560], [400, 560]], np.float32)

    class Small(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            return Location((LocatedDocument(quad, quad, 1.0, "model", False, 0.005),), False, 0.005, "model")

    engine = OCR.from_sessions(
        det=FakeSession.det(), cls_session=FakeSession.cls_(), rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS, locator=Small(None),
    )  # fmt: skip
    (page,) = engine.run_pages([img], PHOTO).pages
    assert page.documents == () and page.flags == ("no_document", "small_documents")


def test_a_region_much_larger_than_its_print_is_read_as_the_labels_in_it() -> None:
    """The model marks a light bag with its two labels as one region: the text boxes found in it
    say where the labels are, and each is read on its own (``verify``)."""
    from luodi.locate.locator import LocatedDocument, Location, _quad_iou

    img = np.full((1200, 1600, 3), 200, np.uint8)
    img[100:1100, 100:1500] = 215  # a light bag on a light floor
    art = np.full((300, 300, 3), 245, np.uint8)
    for k in range(8):
        art[20 + 34 * k : 36 + 34 * k, 20:280] = 10  # eight lines of print
    spots = ((200, 200), (700, 1050))
    for y, x in spots:
        img[y : y + 300, x : x + 300] = art
    bag = np.array([[100, 100], [1500, 100], [1500, 1100], [100, 1100]], np.float32)

    class Bag(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            return Location((LocatedDocument(bag, bag, 1.0, "model", False, 0.73),), False, 0.73, "model")

    engine = OCR.from_sessions(
        det=FakeSession.det(),
        cls_session=FakeSession.cls_(),
        rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS,
        locator=Bag(None),
    )
    (page,) = engine.run_pages([img], PHOTO).pages
    assert len(page.documents) == 2
    for doc, (y, x) in zip(page.documents, spots, strict=True):
        label = np.array([[x, y], [x + 300, y], [x + 300, y + 300], [x, y + 300]], np.float32)
        assert _quad_iou(np.asarray(doc.quad, np.float32), label) >= 0.6
    (whole,) = engine.run_pages([img], PHOTO.replace(verify=False)).pages
    assert len(whole.documents) == 1


def test_a_label_cut_out_of_a_large_region_is_read_at_its_own_resolution() -> None:
    """A bag larger than ``doc_max_side`` is straightened shrunk; each label cut out of it is warped
    again from the photo, so it is read at the photo's resolution, not the shrunk region's."""
    from luodi.locate.locator import LocatedDocument, Location

    img = np.full((2700, 3300, 3), 200, np.uint8)
    img[100:2600, 100:3200] = 215  # a light bag, 3100 px wide: over doc_max_side (2400)
    art = np.full((300, 300, 3), 245, np.uint8)
    for k in range(8):
        art[20 + 34 * k : 36 + 34 * k, 20:280] = 10
    for y, x in ((300, 300), (1800, 2500)):
        img[y : y + 300, x : x + 300] = art
    bag = np.array([[100, 100], [3200, 100], [3200, 2600], [100, 2600]], np.float32)

    class Bag(DocumentLocator):
        def locate(self, image: np.ndarray) -> Location:
            return Location((LocatedDocument(bag, bag, 1.0, "model", False, 0.87),), False, 0.87, "model")

    engine = OCR.from_sessions(
        det=FakeSession.det(),
        cls_session=FakeSession.cls_(),
        rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS,
        locator=Bag(None),
    )
    (page,) = engine.run_pages([img], PHOTO).pages
    assert len(page.documents) == 2
    for doc in page.documents:
        quad = np.asarray(doc.quad, np.float32)
        side = float(np.linalg.norm(quad[1] - quad[0]))
        # the region was shrunk to 2400/3100 = 0.77 of the photo: a crop of it would be that much smaller
        assert max(doc.width, doc.height) >= 0.95 * side, (doc.width, doc.height, side)


def test_faint_lines_of_a_located_document_are_read_but_scans_are_unchanged() -> None:
    """A photo's blurred lines score low in the detector's map: on a located document boxes from
    ``doc_box_thresh`` up are read too (they decide nothing about its layout); a scan's detection
    keeps ``det_box_thresh`` whatever ``doc_box_thresh`` says."""
    art = _art()
    for y in (52, 97, 142, 187):  # faint grey lines with a thin dark core, between the dark bars
        art[y : y + 14, 40:200] = 122
        art[y + 6 : y + 8, 40:200] = 10
    img = np.full((900, 1200, 3), 40, np.uint8)
    img[320:580, 450:750] = art
    engine = _engine()
    strict = PHOTO.replace(doc_box_thresh=PHOTO.det_box_thresh)

    def read(opts: OCROptions) -> tuple[int, int]:
        (page,) = engine.run_pages([img], opts).pages
        return len(page.documents), len(page.lines)

    assert read(strict) == (1, len(BARS))
    assert read(PHOTO) == (1, len(BARS) + 4)
    assert read(PHOTO.replace(locate=False)) == read(strict.replace(locate=False))
