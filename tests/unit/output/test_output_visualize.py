"""Side-by-side visualisation: geometry, text drawn in the boxes, file naming."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from luodi.errors import OutputError
from luodi.ocr.result import Document, Line, Page
from luodi.output import VisualizationWriter, find_cjk_font, render_visualization, save_visualizations

W, H = 320, 200
HORIZONTAL = Line("收件人：张三", 0.9, ((20.0, 20.0), (220.0, 20.0), (220.0, 60.0), (20.0, 60.0)))
VERTICAL = Line("竖排文字", 0.9, ((260.0, 20.0), (300.0, 20.0), (300.0, 180.0), (260.0, 180.0)))


def _page_image() -> np.ndarray:
    return np.full((H, W, 3), 200, np.uint8)


def _ink(panel: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """Dark (text-coloured) pixels inside ``box`` = (x0, y0, x1, y1), borders excluded."""
    x0, y0, x1, y1 = box
    inside = panel[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3]
    return int((inside.max(axis=2) < 90).sum())


def test_size_and_halves() -> None:
    page = Page(0, W, H, (HORIZONTAL, VERTICAL))
    image = _page_image()
    picture = render_visualization(image, page)
    assert isinstance(picture, Image.Image)
    assert picture.mode == "RGB" and picture.size == (2 * W, H)
    pixels = np.array(picture)
    left, right = pixels[:, :W], pixels[:, W:]
    # Left: the page, changed only where boxes are drawn.
    assert np.array_equal(left[100:190, 20:240], image[100:190, 20:240])
    assert not np.array_equal(left[20:60, 20:220], image[20:60, 20:220])
    # Right: white panel with text inside each box and nothing far from them.
    assert _ink(right, (20, 20, 220, 60)) > 100
    assert _ink(right, (260, 20, 300, 180)) > 100
    assert (right[120:190, 20:240] == 255).all()


def test_vertical_text_is_stacked_down_the_box() -> None:
    picture = np.array(render_visualization(_page_image(), Page(0, W, H, (VERTICAL,))))[:, W:]
    rows_with_ink = np.nonzero((picture[:, 262:298].max(axis=2) < 90).any(axis=1))[0]
    assert rows_with_ink.min() < 50 and rows_with_ink.max() > 150  # spans the tall box


def test_cjk_font_is_used_when_present() -> None:
    font = find_cjk_font()
    if font is None:
        pytest.skip("no CJK font on this machine (make setup installs fonts-noto-cjk)")
    assert Path(font[0]).is_file()
    # Distinct glyphs for distinct characters (a font without CJK draws identical boxes).
    one = np.array(render_visualization(_page_image(), Page(0, W, H, (Line("中", 0.9, HORIZONTAL.box),))))
    two = np.array(render_visualization(_page_image(), Page(0, W, H, (Line("国", 0.9, HORIZONTAL.box),))))
    assert not np.array_equal(one, two)


def test_empty_page_and_degenerate_boxes() -> None:
    degenerate = Line("x", 0.1, ((5.0, 5.0), (5.0, 5.0), (5.0, 5.0), (5.0, 5.0)))
    picture = render_visualization(_page_image(), Page(0, W, H, (degenerate, Line("", 0.1, HORIZONTAL.box))))
    assert picture.size == (2 * W, H)
    assert (np.array(render_visualization(_page_image(), Page(0, W, H)))[:, W:] == 255).all()


def test_bad_image_is_refused() -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        render_visualization(np.zeros((H, W), np.uint8), Page(0, W, H))


def test_save_names_files_per_page(tmp_path: Path) -> None:
    doc = Document("scans/waybill.jpeg", "m", (Page(0, W, H, (HORIZONTAL,)), Page(1, W, H)))
    written = save_visualizations(doc, [_page_image(), _page_image()], tmp_path / "vis")
    assert [p.name for p in written] == ["waybill_p1.png", "waybill_p2.png"]
    with Image.open(written[0]) as saved:
        assert saved.size == (2 * W, H)
    with pytest.raises(ValueError, match="1 page images"):
        save_visualizations(doc, [_page_image()], tmp_path)


def test_same_names_from_different_folders_do_not_overwrite(tmp_path: Path) -> None:
    writer = VisualizationWriter(tmp_path)
    first = writer.save(Document("a/scan.jpg", "m", (Page(0, W, H),)), [_page_image()])
    second = writer.save(Document("b/scan.jpg", "m", (Page(0, W, H),)), [_page_image()])
    unnamed = writer.save(Document(None, "m", (Page(0, W, H),)), [_page_image()])
    assert [p.name for p in first + second + unnamed] == ["scan_p1.png", "scan-2_p1.png", "input_p1.png"]


def test_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot create"):
        save_visualizations(Document("a.jpg", "m", (Page(0, W, H),)), [_page_image()], blocker / "vis")
