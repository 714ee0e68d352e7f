"""The document locator around its model: quads from outlines, classical geometry, instances, flat pages."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from luodi.errors import ModelNotPulledError
from luodi.locate import DocumentLocator, bright_on_dark, fit_quad, order_quad
from luodi.locate.locator import normalise
from luodi.runtime.fake import FakeSession


def test_order_quad_is_clockwise_from_the_top_left() -> None:
    quad = np.array([[100, 90], [10, 10], [10, 80], [120, 5]], np.float32)
    assert order_quad(quad).tolist() == [[10, 10], [120, 5], [100, 90], [10, 80]]


def test_fit_quad_finds_corners_and_falls_back_for_bent_outlines() -> None:
    quad = np.array([[20, 30], [200, 10], [220, 150], [40, 170]], np.float32)
    mask = np.zeros((200, 260), np.uint8)
    cv2.fillPoly(mask, [quad.astype(np.int32)], 1)
    contour = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0][0].reshape(-1, 2)
    fitted, fit = fit_quad(contour)
    assert np.abs(fitted - quad).max() <= 2.5 and fit > 0.97
    # a banana: no four corners fit, the minimum-area rectangle is the answer and says it fits badly
    t = np.linspace(0, np.pi, 40)
    arc = np.concatenate([np.stack([100 + 80 * np.cos(t), 100 - 60 * np.sin(t)], 1),
                          np.stack([100 + 66 * np.cos(t[::-1]), 100 - 46 * np.sin(t[::-1])], 1)])  # fmt: skip
    _, bad = fit_quad(arc.astype(np.float32))
    assert bad < 0.85


def _label_on(
    background: int, label: int, angle: float, size: tuple[int, int] = (600, 800)
) -> tuple[np.ndarray, np.ndarray]:
    """A label with text-like bars, turned by ``angle``, on a plain background."""
    h, w = size
    img = np.full((h, w, 3), background, np.uint8)
    art = np.full((200, 140, 3), label, np.uint8)
    for y in range(20, 180, 22):
        art[y : y + 9, 12 : 12 + 60 + (y * 7) % 60] = 25
    rot = cv2.getRotationMatrix2D((70, 100), angle, 1.0)
    rot[:, 2] += [w / 2 - 70, h / 2 - 100]
    cv2.warpAffine(art, rot, (w, h), dst=img, borderMode=cv2.BORDER_TRANSPARENT)
    corners = cv2.transform(np.array([[[0, 0], [140, 0], [140, 200], [0, 200]]], np.float32), rot)[0]
    return img, corners


def test_bright_on_dark_finds_a_turned_label() -> None:
    img, corners = _label_on(30, 245, 25.0)
    (doc,) = bright_on_dark(img)
    assert doc.method == "geometry" and not doc.cut_off
    assert np.abs(doc.quad - order_quad(corners)).max() < 6
    assert doc.area == pytest.approx(140 * 200 / (600 * 800), rel=0.1)


def test_bright_on_dark_ignores_glare_and_low_contrast() -> None:
    glare = np.full((600, 800, 3), 30, np.uint8)
    cv2.ellipse(glare, (400, 300), (120, 80), 10, 0, 360, (250, 250, 250), -1)  # bright, no text, not a quad
    cv2.rectangle(glare, (50, 50), (200, 250), (250, 250, 250), -1)  # a blank white card: no text
    assert bright_on_dark(glare) == []
    white_on_white, _ = _label_on(225, 245, 10.0)
    assert bright_on_dark(white_on_white) == []  # the model's case, not geometry's


def _print(image: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> None:
    """Dense dark 'characters' in lines over a box of ``image`` (what the locator takes for print)."""
    for y in range(y0 + 10, y1 - 12, 14):
        for x in range(x0 + 8, x1 - 12, 12):
            image[y : y + 7, x : x + 8] = 5


class _Maps:
    """A fake locator model: it returns the maps it was given (at the thumbnail size it is fed)."""

    def __init__(self, mask: np.ndarray, kernel: np.ndarray) -> None:
        self.maps = np.stack([mask, kernel]).astype(np.float32)

    def session(self) -> FakeSession:
        def fn(x: np.ndarray) -> np.ndarray:
            h, w = x.shape[2] // 4, x.shape[3] // 4
            out = np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) for m in self.maps])
            return out[None]

        return FakeSession(fn)


def test_touching_labels_are_split_by_their_kernels() -> None:
    h, w = 448, 640
    mask = np.zeros((h, w), np.float32)
    kernel = np.zeros((h, w), np.float32)
    # two labels side by side whose masks touch; each has its own kernel
    for x0, x1 in ((100, 320), (320, 540)):
        mask[80:380, x0:x1] = 1
        kernel[150:310, x0 + 50 : x1 - 50] = 1
    locator = DocumentLocator(_Maps(mask, kernel).session())
    image = np.full((h * 4, w * 4, 3), 40, np.uint8)  # a big dark frame: geometry finds nothing
    for x0, x1 in ((100, 320), (320, 540)):  # grey labels, too dull for geometry: the model's case
        image[80 * 4 : 380 * 4, x0 * 4 : x1 * 4] = 70
        _print(image, 80 * 4, 380 * 4, x0 * 4, x1 * 4)
    found = locator.locate(image)
    assert not found.flat and found.method == "model" and len(found.documents) == 2
    lefts = sorted(float(d.quad[:, 0].min()) for d in found.documents)
    assert lefts[0] == pytest.approx(400, abs=24) and lefts[1] == pytest.approx(1280, abs=40)
    for d in found.documents:
        assert d.area == pytest.approx(220 * 300 / (h * w), rel=0.15) and not d.cut_off


def test_one_document_filling_the_frame_is_flat_and_nothing_is_nothing() -> None:
    h, w = 448, 320
    full = np.ones((h, w), np.float32)
    found = DocumentLocator(_Maps(full, full * 0 + np.pad(np.ones((h - 80, w - 80)), 40)).session()).locate(
        np.full((h, w, 3), 200, np.uint8)
    )
    assert found.flat and len(found.documents) == 1 and found.documents[0].cut_off
    # a page filling the frame beside a sliver the model also marked (a scan's edge) is still flat
    page = np.zeros((h, w), np.float32)
    page[40:, :] = 1
    page[:20, 100:220] = 1
    kernels = np.zeros((h, w), np.float32)
    kernels[120:400, 60:260] = 1
    kernels[2:18, 120:200] = 1
    both = DocumentLocator(_Maps(page, kernels).session()).locate(np.full((h, w, 3), 200, np.uint8))
    assert both.flat and len(both.documents) == 2
    empty = np.zeros((h, w), np.float32)
    nothing = DocumentLocator(_Maps(empty, empty).session()).locate(np.full((h, w, 3), 40, np.uint8))
    assert nothing.documents == () and not nothing.flat


def test_no_model_means_geometry_alone_and_the_store_names_the_command(tmp_path) -> None:
    img, _ = _label_on(30, 245, -60.0)
    found = DocumentLocator(None).locate(img)
    assert found.method == "geometry" and len(found.documents) == 1
    with pytest.raises(ModelNotPulledError, match=r"luodi\.locate\.train"):
        DocumentLocator.from_store(tmp_path)


def test_normalise_matches_training() -> None:
    x = normalise(np.array([[[[0, 127.5, 255]]]], np.float32))
    assert x.shape == (1, 3, 1, 1) and np.allclose(x.ravel(), [-1, 0, 1])


class _Sized:
    """A fake model whose answer depends on the thumbnail it is fed (maps given at frame size)."""

    def __init__(self, coarse: tuple[np.ndarray, np.ndarray], fine: tuple[np.ndarray, np.ndarray]) -> None:
        self.coarse, self.fine, self.sides = coarse, fine, []

    def session(self) -> FakeSession:
        def fn(x: np.ndarray) -> np.ndarray:
            side = max(x.shape[2:])
            self.sides.append(side)
            mask, kernel = self.fine if side > 448 else self.coarse
            h, w = x.shape[2] // 4, x.shape[3] // 4
            return np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) for m in (mask, kernel)])[None]

        return FakeSession(fn)


def test_small_documents_get_a_second_look_at_twice_the_resolution() -> None:
    h, w = 1200, 1600
    mask, merged, apart = (np.zeros((h, w), np.float32) for _ in range(3))
    boxes = ((300, 380, 400, 520), (300, 380, 540, 660))  # two small labels 20 px apart (0.5% of the frame each)
    for y0, y1, x0, x1 in boxes:
        mask[y0:y1, x0:x1] = 1
        apart[y0 + 20 : y1 - 20, x0 + 30 : x1 - 30] = 1
    mask[300:380, 520:540] = 1  # at 448 px the two look like one
    merged[320:360, 430:630] = 1
    image = np.full((h, w, 3), 40, np.uint8)  # dark: geometry finds nothing
    for y0, y1, x0, x1 in boxes:  # grey labels, too dull for geometry, printed
        image[y0:y1, x0:x1] = 70
        _print(image, y0, y1, x0, x1)
    fake = _Sized((mask, merged), (mask, apart))
    found = DocumentLocator(fake.session()).locate(image)
    assert len(found.documents) == 2 and fake.sides == [448, 896]
    assert all(d.area < 0.02 for d in found.documents)
    fake.sides.clear()
    once = DocumentLocator(fake.session(), fine_side=0).locate(image)
    assert len(once.documents) == 1 and fake.sides == [448]
    # a large document is not looked at again
    big = np.zeros((h, w), np.float32)
    big[200:900, 300:1200] = 1
    core = np.zeros((h, w), np.float32)
    core[350:750, 450:1050] = 1
    fake = _Sized((big, core), (big, core))
    image[200:900, 300:1200] = 70
    _print(image, 200, 900, 300, 1200)
    assert len(DocumentLocator(fake.session()).locate(image).documents) == 1 and fake.sides == [448]


def test_a_bright_region_is_cut_down_to_the_label_printed_in_it() -> None:
    """The model marks a white bag with its label as one region: the label is where the print is."""
    h, w = 1200, 1600
    image = np.full((h, w, 3), 50, np.uint8)
    image[150:1050, 250:1350] = 225  # a bright bag, no print
    art = np.full((300, 220, 3), 245, np.uint8)
    for y in range(25, 280, 18):
        for x in range(15, 200, 14):
            art[y : y + 8, x : x + 9] = 30  # dense text: characters in lines
    image[400:700, 600:820] = art
    region = np.zeros((h, w), np.float32)
    region[150:1050, 250:1350] = 1
    kernel = np.zeros((h, w), np.float32)
    kernel[350:850, 450:1150] = 1
    (doc,) = DocumentLocator(_Maps(region, kernel).session()).locate(image).documents
    label = np.array([[600, 400], [820, 400], [820, 700], [600, 700]], np.float32)
    from luodi.locate.locator import _quad_iou

    assert _quad_iou(doc.quad, label) >= 0.7 and doc.area < 0.06
    # the same region on a bag printed all over is left as the model drew it
    image[150:1050, 250:1350] = np.tile(art, (3, 5, 1))[:900, :1100]
    (whole,) = DocumentLocator(_Maps(region, kernel).session()).locate(image).documents
    assert whole.area > 0.4
    # and a bright region with no print at all (glare, a white bag) is no document
    glare = np.full((h, w, 3), 50, np.uint8)
    glare[150:1050, 250:1350] = 225
    assert DocumentLocator(_Maps(region, kernel).session()).locate(glare).documents == ()


def test_regions_without_a_labels_grey_print_are_dropped_before_reading() -> None:
    """A mailer's coloured slogan, each character marked by the model, and a bare patch of bag are
    no labels; a label with black print beside them is one (the thresholds: dev frames, locator.py)."""
    h, w = 1200, 1600
    image = np.full((h, w, 3), (235, 225, 215), np.uint8)  # a light mailer
    boxes = {"label": (200, 500, 150, 400), "green": (700, 900, 300, 500), "bare": (200, 500, 900, 1150)}
    image[200:500, 150:400] = 250
    _print(image, 200, 500, 150, 400)  # black print
    slogan = ((y, "REUSE ME") for y in (760, 820, 880))  # a mailer's green slogan
    for y, text in slogan:
        cv2.putText(image, text, (305, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (40, 140, 60), 6)
    mask = np.zeros((h, w), np.float32)
    kernel = np.zeros((h, w), np.float32)
    for y0, y1, x0, x1 in boxes.values():
        mask[y0:y1, x0:x1] = 1
        kernel[y0 + 40 : y1 - 40, x0 + 40 : x1 - 40] = 1
    found = DocumentLocator(_Maps(mask, kernel).session()).locate(image).documents
    assert len(found) == 1
    assert found[0].quad[:, 0].min() == pytest.approx(150, abs=24) and found[0].quad[:, 1].min() == pytest.approx(
        200, abs=24
    )
    # the same slogan printed black is print of a label's kind: kept (the reader decides)
    for y in (760, 820, 880):
        cv2.putText(image, "REUSE ME", (305, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (30, 30, 30), 6)
    assert len(DocumentLocator(_Maps(mask, kernel).session()).locate(image).documents) == 2


def test_pieces_of_one_label_are_joined_and_touching_labels_are_not() -> None:
    """The model's kernels cut a strip off one label (print runs across where its two regions meet):
    one region; two labels touching along their blank margins, each label-shaped, stay two."""
    h, w = 1200, 1600
    image = np.full((h, w, 3), 40, np.uint8)  # a dark bag: geometry finds nothing
    image[200:600, 200:500] = 70  # one grey label, printed all over, marked as a strip and the rest
    _print(image, 200, 600, 200, 500)
    for x0, x1 in ((800, 1050), (1050, 1300)):  # two labels touching, each with a blank margin
        image[200:600, x0:x1] = 70
        _print(image, 240, 560, x0 + 30, x1 - 30)
    regions = ((200, 300, 200, 500), (300, 600, 200, 500), (200, 600, 800, 1050), (200, 600, 1050, 1300))
    mask = np.zeros((h, w), np.float32)
    kernel = np.zeros((h, w), np.float32)
    for y0, y1, x0, x1 in regions:
        mask[y0:y1, x0:x1] = 1
        kernel[y0 + 30 : y1 - 30, x0 + 50 : x1 - 50] = 1
    mask[298:302, :] = 0  # the cut between the strip and the rest of the one label
    found = DocumentLocator(_Maps(mask, kernel).session()).locate(image).documents
    assert len(found) == 3
    one = min(found, key=lambda d: float(d.quad[:, 0].min()))
    assert one.quad[:, 1].min() == pytest.approx(200, abs=24) and np.ptp(one.quad[:, 1]) == pytest.approx(400, abs=30)
    assert len(DocumentLocator(_Maps(mask, kernel).session(), join_pieces=False).locate(image).documents) == 4
