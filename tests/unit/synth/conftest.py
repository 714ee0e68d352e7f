"""A tiny express-NER file (six records, one without an address) for the synthetic-document tests."""

from __future__ import annotations

from pathlib import Path

import pytest

MINI_RECORDS: list[list[tuple[str, str]]] = [
    [
        ("P", "宣荣嗣"),
        ("T", "16620200077"),
        ("A1", "甘肃省"),
        ("A2", "白银市"),
        ("A3", "会宁县"),
        ("A4", "河畔镇十字街50米"),
    ],
    [("A1", "广东省"), ("A2", "梅州市"), ("A3", "大埔县"), ("A4", "茶阳镇胜利路"), ("T", "13601328173"), ("P", "张铱")],
    [
        ("T", "18511138255"),
        ("A1", "福建省"),
        ("A2", "泉州市"),
        ("A3", "丰泽区"),
        ("A4", "普济路168号"),
        ("P", "宓文会"),
    ],
    [("P", "王瑞文"), ("A1", "山西省"), ("A2", "阳泉市"), ("A4", "新华东街105号"), ("T", "18513512824")],
    [
        ("P", "慕东霖"),
        ("T", "15810789378"),
        ("A1", "新疆维吾尔自治区"),
        ("A2", "阿克苏地区"),
        ("A3", "阿克苏市"),
        ("A4", "步行街10号"),
    ],
    [("P", "只有名"), ("T", "13240110660")],  # no address: not usable as a waybill party
]


def write_ner(path: Path, records: list[list[tuple[str, str]]]) -> Path:
    """``records`` in the express NER format: characters and BIO tags joined by U+0002."""
    lines = ["text_a\tlabel"]
    for rec in records:
        chars: list[str] = []
        tags: list[str] = []
        for tag, text in rec:
            chars.extend(text)
            tags.extend([f"{tag}-B"] + [f"{tag}-I"] * (len(text) - 1))
        lines.append("\x02".join(chars) + "\t" + "\x02".join(tags))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def mini_ner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ner(tmp_path_factory.mktemp("mini-ner") / "mini.txt", MINI_RECORDS)
