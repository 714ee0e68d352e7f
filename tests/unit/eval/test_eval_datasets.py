from __future__ import annotations

import json
from pathlib import Path

import pytest

from luodi.errors import InputNotFoundError, LabelFormatError
from luodi.eval.datasets import (
    DetRegion,
    DetSample,
    RecSample,
    read_det_labels,
    read_rec_labels,
    write_det_labels,
    write_rec_labels,
)


def test_rec_paths_relative_to_label_folder(tmp_path: Path) -> None:
    f = tmp_path / "set" / "labels.txt"
    f.parent.mkdir()
    f.write_text("images/a.png\t收件人：张三\n\n/abs/b.png\t 13812345678 \n", encoding="utf-8")
    samples = read_rec_labels(f)
    assert samples == [
        RecSample(tmp_path / "set" / "images" / "a.png", "收件人：张三", 1),
        # spaces inside the label are content, kept verbatim
        RecSample(Path("/abs/b.png"), " 13812345678 ", 3),
    ]


def test_rec_crlf_and_bom(tmp_path: Path) -> None:
    f = tmp_path / "l.txt"
    f.write_bytes("\ufeffa.png\t你好\r\nb.png\t世界\r\n".encode())
    assert [s.label for s in read_rec_labels(f)] == ["你好", "世界"]
    assert read_rec_labels(f)[0].path == tmp_path / "a.png"


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        ("a.png\tok\nno-tab-here\n", 2, "no TAB"),
        ("a.png\tok\n\nb.png\t\n", 3, "empty label"),
        ("a.png\tx\ty\n", 1, "more than one TAB"),
        ("\tlabel\n", 1, "empty image path"),
    ],
)
def test_rec_malformed_names_file_and_line(tmp_path: Path, content: str, line: int, needle: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(LabelFormatError) as ei:
        read_rec_labels(f)
    assert f"{f}:{line}:" in ei.value.message
    assert needle in ei.value.message


def test_rec_invalid_utf8_names_line(tmp_path: Path) -> None:
    f = tmp_path / "gbk.txt"
    f.write_bytes(b"a.png\tok\n" + "b.png\t张三\n".encode("gbk"))
    with pytest.raises(LabelFormatError, match=r"gbk\.txt:2: not valid UTF-8"):
        read_rec_labels(f)


def test_missing_and_empty_label_files(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="label file not found"):
        read_rec_labels(tmp_path / "nope.txt")
    with pytest.raises(InputNotFoundError):
        read_det_labels(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(LabelFormatError, match="no samples"):
        read_rec_labels(empty)


def test_rec_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "out" / "labels.txt"
    samples = [
        RecSample(tmp_path / "out" / "images" / "000001.png", "浙江省杭州市西湖区"),
        RecSample(Path("/elsewhere/x.jpg"), "电话：15952301928"),
    ]
    assert write_rec_labels(f, samples) == 2
    text = f.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "images/000001.png\t浙江省杭州市西湖区"
    assert "/elsewhere/x.jpg\t" in text
    back = read_rec_labels(f)
    assert [(s.path, s.label) for s in back] == [(s.path, s.label) for s in samples]


def test_rec_writer_refuses_tab_in_label(tmp_path: Path) -> None:
    with pytest.raises(LabelFormatError, match="TAB"):
        write_rec_labels(tmp_path / "l.txt", [RecSample(tmp_path / "a.png", "a\tb")])


def test_det_read_ignore_and_points(tmp_path: Path) -> None:
    ann = [
        {"transcription": "韩国小馆", "points": [[10, 10], [110, 10], [110, 40], [10, 40]]},
        {"transcription": "###", "points": [[0, 50], [20, 50], [20, 60], [0, 60], [0, 55]]},
    ]
    f = tmp_path / "det.txt"
    f.write_text(f"img/p1.jpg\t{json.dumps(ann, ensure_ascii=False)}\n", encoding="utf-8")
    (s,) = read_det_labels(f)
    assert s.path == tmp_path / "img" / "p1.jpg"
    assert [r.ignore for r in s.regions] == [False, True]
    assert s.regions[0].points[2] == (110.0, 40.0)
    assert len(s.regions[1].points) == 5


@pytest.mark.parametrize(
    ("ann", "needle"),
    [
        ("not json", "not valid JSON"),
        ('{"points": []}', "JSON list"),
        ('[{"transcription": "a"}]', "region 0 must be an object with 'points'"),
        ('[{"transcription": "a", "points": [[0, 0], [1, 1]]}]', "at least 3"),
        ('[{"transcription": "a", "points": [[0, 0], [1, 1], [2]]}]', "bad point"),
        ('[{"transcription": 5, "points": [[0, 0], [1, 1], [2, 2]]}]', "'transcription' must be a string"),
    ],
)
def test_det_malformed_names_file_and_line(tmp_path: Path, ann: str, needle: str) -> None:
    f = tmp_path / "det.txt"
    f.write_text(f"ok.jpg\t[]\nbad.jpg\t{ann}\n", encoding="utf-8")
    with pytest.raises(LabelFormatError) as ei:
        read_det_labels(f)
    assert f"{f}:2:" in ei.value.message
    assert needle in ei.value.message


def test_det_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "det.txt"
    samples = [
        DetSample(
            tmp_path / "pages" / "p0.png",
            (
                DetRegion(((1.0, 2.0), (30.5, 2.0), (30.5, 20.0), (1.0, 20.0)), "上海市"),
                DetRegion(((0.0, 0.0), (5.0, 0.0), (5.0, 5.0)), "###"),
            ),
        )
    ]
    write_det_labels(f, samples)
    assert f.read_text(encoding="utf-8").startswith("pages/p0.png\t[")
    back = read_det_labels(f)
    assert back[0].path == samples[0].path
    assert back[0].regions == samples[0].regions
