"""Synthetic waybills: determinism, every layout prints what its labels claim, degradations, labels I/O."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from luodi.errors import ConfigError, InputNotFoundError, LabelFormatError
from luodi.synth.text import read_express_ner
from luodi.synth.waybill import (
    DEV_LAYOUTS,
    HOLDOUT_LAYOUTS,
    LAYOUTS,
    WaybillOptions,
    generate_waybills,
    read_labels,
    render_waybill,
    resolve_layouts,
)
from luodi.synth.waybill_data import CARRIERS, load_parties, make_tracking_number

# Six parties in the express NER format: characters and BIO tags joined by U+0002.
_RECORDS = [
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

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-\d{7,8}|1[3-9]\d\*{4}\d{4})$")
_TRACKING = {
    "SF": r"SF\d{13}",
    "ZTO": r"7[358]\d{12}",
    "YTO": r"YT\d{13}",
    "YUNDA": r"(43|46|31|33)\d{11}",
    "STO": r"(77|88|66)\d{13}",
    "JD": r"JD(00\d{11}|VA\d{11})",
    "EMS": r"(E[A-Z]\d{9}CN|(10|11|98)\d{11})",
    "JT": r"JT\d{13}",
}


def _write_ner(path: Path, records: list[list[tuple[str, str]]]) -> Path:
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


@pytest.fixture(scope="module")
def ner_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_ner(tmp_path_factory.mktemp("ner") / "mini.txt", _RECORDS)


def _opts(ner_file: Path, **kw: object) -> WaybillOptions:
    return WaybillOptions(ner_file=str(ner_file), **kw)  # type: ignore[arg-type]


def _norm(s: str) -> str:
    return "".join(s.replace("：", ":").split())


def test_parties_skip_records_without_address(ner_file: Path) -> None:
    parties = load_parties("train", ner_file)
    assert [p.name for p in parties] == ["宣荣嗣", "张铱", "宓文会", "王瑞文", "慕东霖"]
    wang = parties[3]
    assert (wang.province, wang.city, wang.district, wang.detail) == ("山西省", "阳泉市", None, "新华东街105号")
    assert wang.address == "山西省阳泉市新华东街105号"
    assert wang.record == 3


def test_same_seed_same_bytes_and_labels(ner_file: Path) -> None:
    opts = _opts(ner_file, layouts=("all",), degrade="hard", seed=11)
    a, b = render_waybill(3, opts), render_waybill(3, opts)
    assert a.jpeg_bytes() == b.jpeg_bytes()
    assert a.fields == b.fields and a.meta == b.meta
    other = render_waybill(3, _opts(ner_file, layouts=("all",), degrade="hard", seed=12))
    assert other.jpeg_bytes() != a.jpeg_bytes()


def test_sample_depends_only_on_seed_and_index(ner_file: Path, tmp_path: Path) -> None:
    opts = _opts(ner_file, seed=5)
    small = generate_waybills(2, tmp_path / "a", opts)
    big = generate_waybills(4, tmp_path / "b", opts)
    assert small == big[:2]
    for rec in small:
        assert (tmp_path / "a" / rec["image"]).read_bytes() == (tmp_path / "b" / rec["image"]).read_bytes()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layout_prints_every_labelled_field(layout: str, ner_file: Path) -> None:
    for index in range(4):  # several draws: optional fields and label variants differ per sample
        opts = _opts(ner_file, layouts=(layout,), seed=index, landline_rate=0.5)
        sample = render_waybill(index, opts)
        drawn = [text for text, _ in sample.text_layer]
        f = sample.fields
        assert sample.layout == layout and sample.holdout == LAYOUTS[layout].holdout
        required = {"carrier", "tracking_number"} | {
            f"{role}_{k}" for role in ("sender", "receiver") for k in ("name", "phone", "address")
        }
        assert required <= set(f)
        page = _norm("".join(drawn))
        for name, value in f.items():
            if name in ("weight_kg", "pieces"):
                continue
            if name.endswith("_phone") and "-" not in value:
                assert value in re.sub(r"[\s-]", "", page), (layout, name, value)
            else:
                assert _norm(str(value)) in page, (layout, name, value)
        if "pieces" in f:
            assert str(f["pieces"]) in page
        if "weight_kg" in f:
            printed = re.search(r"(\d+(?:\.\d+)?)(kg|KG|公斤|g|斤)", page)
            assert printed is not None
            number, unit = float(printed.group(1)), printed.group(2)
            kg = {"kg": number, "KG": number, "公斤": number, "g": number / 1000, "斤": number / 2}[unit]
            assert kg == pytest.approx(f["weight_kg"])
        if layout in ("two_part_stub", "ewaybill_3stub"):
            copies = 3 if layout == "ewaybill_3stub" else 2
            assert page.count(_norm(f["receiver_name"])) >= copies and page.count(_norm(f["sender_name"])) >= 2
        if sample.meta["order_number"]:  # the order number is printed and is not the tracking number
            assert sample.meta["order_number"] in page and sample.meta["order_number"] != f["tracking_number"]
        h, w, c = sample.image.shape
        assert c == 3 and sample.image.dtype == np.uint8
        assert 500 <= w <= 1300 and 250 <= h <= 2400
        dark = float((sample.image.mean(axis=2) < 128).mean())
        assert 0.02 < dark < 0.5  # text and bars drawn, page not swamped


def test_label_values_are_well_formed(ner_file: Path) -> None:
    for index in range(20):
        sample = render_waybill(index, _opts(ner_file, layouts=("all",), seed=1, landline_rate=0.3))
        f = sample.fields
        assert _PHONE.match(f["receiver_phone"]) and _PHONE.match(f["sender_phone"])
        code = sample.meta["carrier_code"]
        assert CARRIERS[code].name == f["carrier"]
        assert re.fullmatch(_TRACKING[code], f["tracking_number"]), f["tracking_number"]
        if "weight_kg" in f:
            assert isinstance(f["weight_kg"], float) and f["weight_kg"] > 0
        if "pieces" in f:
            assert isinstance(f["pieces"], int) and f["pieces"] >= 1
        for role in ("sender", "receiver"):
            parts = [f.get(f"{role}_{k}", "") for k in ("province", "city", "district", "detail")]
            assert "".join(parts) == f[f"{role}_address"]
        assert f["receiver_name"] != f["sender_name"]


def test_every_carrier_format() -> None:
    rng = np.random.default_rng(0)
    for code, pattern in _TRACKING.items():
        for _ in range(20):
            assert re.fullmatch(pattern, make_tracking_number(code, rng))
    with pytest.raises(ConfigError):
        make_tracking_number("DHL", rng)


def test_hard_degradations_keep_a_plausible_page(ner_file: Path) -> None:
    for index in range(10):
        clean = render_waybill(index, _opts(ner_file, layouts=("all",), seed=2))
        hard = render_waybill(index, _opts(ner_file, layouts=("all",), seed=2, degrade="hard"))
        assert hard.fields == clean.fields  # degradation never changes the content
        ch, cw = clean.image.shape[:2]
        hh, hw = hard.image.shape[:2]
        assert min(hh, hw) >= min(400, int(0.8 * min(ch, cw)))
        assert 0.5 <= hh / ch <= 1.35 and 0.5 <= hw / cw <= 1.35
        assert hard.image.dtype == np.uint8 and hard.image.shape[2] == 3
        applied = hard.meta["degradations"]
        assert applied[-1] == "jpeg" and ({"rotate", "perspective"} & set(applied))
        assert len(applied) >= 4
        assert clean.meta["degradations"] == []
        assert not np.array_equal(hard.image[:ch, :cw], clean.image) if (hh, hw) == (ch, cw) else True


def test_labels_round_trip(ner_file: Path, tmp_path: Path) -> None:
    # "all": every layout in the registry's order (so a set's pages stay put) but the fresh ones
    every = [n for n, lay in LAYOUTS.items() if not lay.fresh]
    records = generate_waybills(len(every), tmp_path, _opts(ner_file, layouts=("all",), seed=9))
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [f"{i:05d}.jpg" for i in range(len(every))]
    assert read_labels(tmp_path / "labels.jsonl") == records
    assert [r["layout"] for r in records] == every  # round-robin over the chosen layouts
    first = json.loads((tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"image", "layout", "holdout", "split", "degrade", "fill", "fields", "meta"}
    assert first["fill"] == "full"


def test_read_labels_rejects_bad_lines(tmp_path: Path) -> None:
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"image": "a.jpg", "fields": {}}\n{"image": 3, "fields": {}}\n', encoding="utf-8")
    with pytest.raises(LabelFormatError, match=r"labels.jsonl:2"):
        read_labels(bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(LabelFormatError, match=r":1: not valid JSON"):
        read_labels(bad)
    with pytest.raises(InputNotFoundError):
        read_labels(tmp_path / "missing.jsonl")


def test_layout_groups_and_bad_options(ner_file: Path, tmp_path: Path) -> None:
    assert resolve_layouts(["dev"]) == DEV_LAYOUTS
    assert resolve_layouts(["holdout"]) == HOLDOUT_LAYOUTS
    fresh = resolve_layouts(["fresh"])
    assert fresh and all(LAYOUTS[n].holdout and LAYOUTS[n].fresh for n in fresh)
    assert not set(fresh) & set(resolve_layouts(["all"])) and set(fresh) < set(LAYOUTS)
    assert len(HOLDOUT_LAYOUTS) >= 2 and not set(DEV_LAYOUTS) & set(HOLDOUT_LAYOUTS)
    assert resolve_layouts(["tag_block,boxed_table", "tag_block"]) == ("tag_block", "boxed_table")
    with pytest.raises(ConfigError, match="unknown waybill layout 'nope'"):
        resolve_layouts(["nope"])
    with pytest.raises(ConfigError):
        _opts(ner_file, degrade="blurry")
    with pytest.raises(ConfigError):
        _opts(ner_file, source="test")
    with pytest.raises(ConfigError):
        generate_waybills(0, tmp_path, _opts(ner_file))
    with pytest.raises(InputNotFoundError):
        render_waybill(0, WaybillOptions(ner_file=str(tmp_path / "absent.txt")))


def test_missing_shared_data_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from luodi.synth import waybill_data

    monkeypatch.setattr(waybill_data, "_candidate_files", lambda split: [tmp_path / f"{split}.txt"])
    with pytest.raises(InputNotFoundError, match=r"express NER dev\.txt not found"):
        waybill_data.resolve_ner_file("dev")


def test_fields_match_the_shipped_ner_records() -> None:
    """Against the real dev split: names, mobiles and address parts are the records' entities."""
    from luodi.data import EXPRESS_NER

    records = read_express_ner(EXPRESS_NER / "dev.txt")
    opts = WaybillOptions(source="dev", layouts=("all",), seed=4)
    for index in range(15):
        sample = render_waybill(index, opts)
        for role in ("receiver", "sender"):
            if sample.meta["families"]["parties"][role] != "ner":
                continue  # companies keep an NER address, generated parties have none
            ents = records[sample.meta["ner_records"][role]].entities()
            f = sample.fields
            assert f[f"{role}_name"] == ents["P"]
            if not sample.meta["landline"][role] and not sample.meta["masked_phones"]:
                assert f[f"{role}_phone"] == ents["T"]
            assert f[f"{role}_address"] == "".join(ents.get(k, "") for k in ("A1", "A2", "A3", "A4"))
            for tag, part in (("A1", "province"), ("A2", "city"), ("A3", "district"), ("A4", "detail")):
                assert f.get(f"{role}_{part}") == ents.get(tag)


def test_cli_writes_images_and_labels(ner_file: Path, tmp_path: Path) -> None:
    from luodi.cli.synth_waybill import waybill

    out = tmp_path / "set"
    n = len(HOLDOUT_LAYOUTS)
    args = [
        "-n",
        str(n),
        "-o",
        str(out),
        "--layout",
        "holdout",
        "--degrade",
        "hard",
        "--seed",
        "3",
        "--ner-file",
        str(ner_file),
    ]
    result = CliRunner().invoke(waybill, args)
    assert result.exit_code == 0, result.output
    assert f"wrote {n} waybills" in result.output
    records = read_labels(out / "labels.jsonl")
    assert {r["layout"] for r in records} == set(HOLDOUT_LAYOUTS)
    assert all(r["holdout"] and r["degrade"] == "hard" for r in records)
    bad = CliRunner().invoke(waybill, ["-n", "1", "-o", str(out), "--layout", "nope", "--ner-file", str(ner_file)])
    assert bad.exit_code != 0
