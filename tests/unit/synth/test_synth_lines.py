from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from luodi.errors import ConfigError, InputError, LabelFormatError
from luodi.eval.datasets import read_det_labels, read_rec_labels
from luodi.synth import degrade as dg
from luodi.synth.fonts import available_fonts
from luodi.synth.lines import generate_lines, generate_pages, render_page, save_png
from luodi.synth.styles import STYLES, _bitmap_glyphs, render_line
from luodi.synth.text import extract_lines, read_express_ner, read_text_lines

TEXTS = ["收件人：喻晓刚", "云南省楚雄彝族自治州南华县东街古城路37号", "电话：18513386163", "须平盛 13601269538"]


def png_bytes(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


# --- fonts ---------------------------------------------------------------------------------------
def test_fonts_found_and_cover_chinese() -> None:
    fonts = available_fonts()
    assert len(fonts) >= 3, "the CJK font packages from the Makefile should give several faces"
    assert all(f.covers("收件人电话浙江省") for f in fonts)
    # plane-16 private use: no font has it, so covers() must say so instead of drawing .notdef
    assert not any(f.covers("张\U0010fffd") for f in fonts)


def test_font_selection_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown font 'comic-sans'"):
        available_fonts(["comic-sans"])
    with pytest.raises(ConfigError, match="apt-get install"):
        available_fonts(dirs=[tmp_path])
    key = available_fonts()[0].key
    assert [f.key for f in available_fonts([key])] == [key]


# --- rendering -----------------------------------------------------------------------------------
@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("severity", ["mild", "hard"])
def test_style_renders_plausible_line(style: str, severity: str) -> None:
    for i, text in enumerate(TEXTS):
        img = render_line(text, style, seed=(11, i), severity=severity)
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
        h, w = img.shape[:2]
        assert 12 <= h <= 220, (style, h)
        # a line is wider than tall, roughly in proportion to its characters
        assert w > h and w >= 4 * len(text), (style, img.shape)
        gray = img.mean(axis=2)
        # there is ink: the darkest pixels are clearly below the paper (faded carbon copies are faint)
        assert np.percentile(gray, 2) < np.median(gray) - 30, style


@pytest.mark.parametrize("style", sorted(STYLES))
def test_same_seed_same_bytes(style: str) -> None:
    a = render_line(TEXTS[1], style, seed=(5, 3), severity="hard")
    b = render_line(TEXTS[1], style, seed=(5, 3), severity="hard")
    c = render_line(TEXTS[1], style, seed=(5, 4), severity="hard")
    assert png_bytes(a) == png_bytes(b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_render_line_errors() -> None:
    with pytest.raises(ConfigError, match="unknown style 'inkjet'"):
        render_line("你好", "inkjet")
    with pytest.raises(ConfigError, match="unknown severity"):
        render_line("你好", "print", severity="extreme")
    with pytest.raises(InputError, match="empty"):
        render_line("  ", "print")
    with pytest.raises(InputError, match="no installed font can draw"):
        render_line("张\U0010fffd", "print")


def test_dotmatrix_glyphs_are_binary_bitmaps() -> None:
    font = next(f for f in available_fonts() if f.covers("电话"))
    grid = _bitmap_glyphs("电话12", font.get(16), 16, np.random.default_rng(0))
    assert set(np.unique(grid)) <= {0.0, 1.0}
    assert 10 <= grid.shape[0] <= 24
    # two full-width cells plus two half-width ones
    assert grid.shape[1] >= 16 * 2 + 8


# --- degradations --------------------------------------------------------------------------------
def test_degradations_keep_shape_and_type() -> None:
    rng = np.random.default_rng(0)
    img = render_line("上海市", "print", seed=1)
    for out in (
        dg.gaussian_blur(img, 1.0),
        dg.gaussian_noise(img, 5, rng),
        dg.jpeg(img, 30),
        dg.fade(img, 0.5),
        dg.low_resolution(img, 0.5, restore=True),
    ):
        assert out.shape == img.shape and out.dtype == np.uint8
    small = dg.low_resolution(img, 0.5, restore=False)
    assert abs(small.shape[0] - img.shape[0] / 2) <= 1
    assert dg.fade(img, 0.5).min() >= 127  # pulled halfway to white


def test_rotate_grows_canvas_and_maps_centre() -> None:
    img = np.full((40, 200, 3), 255, np.uint8)
    out, m = dg.rotate(img, 10, (255, 255, 255))
    assert out.shape[0] > 40 and out.shape[1] >= 200
    cx, cy = m @ np.array([100, 20, 1.0])
    assert abs(cx - out.shape[1] / 2) < 1 and abs(cy - out.shape[0] / 2) < 1


# --- datasets ------------------------------------------------------------------------------------
def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.*")}


def test_generate_lines_reproducible_and_round_trips(tmp_path: Path) -> None:
    a = generate_lines(TEXTS, tmp_path / "a", style="dotmatrix", n=6, seed=7)
    generate_lines(TEXTS, tmp_path / "b", style="dotmatrix", n=6, seed=7)
    assert a.written == 6 and not a.skipped
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    samples = read_rec_labels(a.label_file)
    assert len(samples) == 6
    assert {s.label for s in samples} <= set(TEXTS)
    for s in samples:
        assert s.path.parent == tmp_path / "a" / "images"
        with Image.open(s.path) as im:
            assert im.format == "PNG" and im.width > im.height
    # the label file holds paths relative to its folder
    first = a.label_file.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("images/000000.png\t")


def test_generate_lines_skips_undrawable_text(tmp_path: Path) -> None:
    report = generate_lines(["你好世界", "坏\U0010fffd字"], tmp_path, n=3, seed=1)
    assert report.written == 3
    assert report.skipped and report.skipped[0][0] == "坏\U0010fffd字"
    with pytest.raises(InputError, match="only 0 of 2"):
        generate_lines(["\U0010fffd\U0010fffd"], tmp_path / "x", n=2)


def test_pages_have_boxes_inside_the_image(tmp_path: Path) -> None:
    page = render_page(TEXTS * 2, seed=3)
    h, w = page.image.shape[:2]
    assert 5 <= len([r for r in page.regions if not r.ignore]) <= len(TEXTS) * 2
    for r in page.regions:
        xs, ys = [p[0] for p in r.points], [p[1] for p in r.points]
        assert -1 <= min(xs) < max(xs) <= w + 1 and -1 <= min(ys) < max(ys) <= h + 1
    report = generate_pages(TEXTS, tmp_path, n=2, seed=4, lines_per_page=(3, 4))
    back = read_det_labels(report.label_file)
    assert len(back) == 2 and all(3 <= len([r for r in s.regions if not r.ignore]) <= 4 for s in back)


def test_save_png_deterministic(tmp_path: Path) -> None:
    img = render_line("西湾监管", "stamp", seed=2)
    save_png(img, tmp_path / "1.png")
    save_png(img, tmp_path / "2.png")
    assert (tmp_path / "1.png").read_bytes() == (tmp_path / "2.png").read_bytes()


# --- text sources --------------------------------------------------------------------------------
def _ner_line(chars: str, tags: list[str]) -> str:
    return "\x02".join(chars) + "\t" + "\x02".join(tags)


def test_express_ner_reader_and_line_extraction(tmp_path: Path) -> None:
    tags = ["P-B", "P-I", "T-B"] + ["T-I"] * 10 + ["A1-B", "A1-I", "A1-I", "A4-B", "A4-I", "A4-I"]
    f = tmp_path / "dev.txt"
    f.write_text("text_a\tlabel\n" + _ner_line("张三13812345678浙江省文三路", tags) + "\n", encoding="utf-8")
    (rec,) = read_express_ner(f)
    assert rec.entities() == {"P": "张三", "T": "13812345678", "A1": "浙江省", "A4": "文三路"}
    assert rec.address == "浙江省文三路"
    lines = extract_lines([rec], seed=0)
    assert {"张三", "13812345678", "浙江省文三路"} <= set(lines)
    assert lines == extract_lines([rec], seed=0)
    assert len(lines) == len(set(lines))


def test_express_ner_malformed_names_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("text_a\tlabel\n" + _ner_line("张三", ["P-B"]) + "\n", encoding="utf-8")
    with pytest.raises(LabelFormatError, match=r"bad\.txt:2: 2 characters but 1 tags"):
        read_express_ner(f)


def test_express_ner_shipped_sets() -> None:
    from luodi.data import EXPRESS_NER

    assert len(read_express_ner(EXPRESS_NER / "train.txt")) == 1600
    records = read_express_ner(EXPRESS_NER / "dev.txt")
    assert len(records) == 200
    assert all(r.entities().get("P") and r.entities().get("T") for r in records[:20])


def test_read_text_lines(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("\n 你好 \n\n世界\n", encoding="utf-8")
    assert read_text_lines(f) == ["你好", "世界"]
    f.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(LabelFormatError, match=r"t\.txt:1"):
        read_text_lines(f)
