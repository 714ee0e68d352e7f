"""Layout reasoning on layouts the extractor was not drawn for: vertical tags, bilingual labels,
noisy names, addresses running into other fields (hand-built documents, no models)."""

from __future__ import annotations

import pytest
from docfactory import extractor, make_doc, make_line

from luodi.kie import Extractor
from luodi.kie.surnames import has_surname


@pytest.fixture(scope="module")
def waybill() -> Extractor:
    return extractor("waybill")


def _bilingual_block(tag: str, english: str, y: float, name: str, phone: str, address: str) -> list:
    # A tall narrow box holding the party word vertically, then English + Chinese labels.
    return [
        make_line(tag, 20, y, h=85, char_w=10),
        (f"{english} 联系人".strip(), 66, y),
        (name, 300, y - 3),
        ("Mobile 手机号码", 64, y + 30),
        (phone, 302, y + 30),
        ("Address 详细地址", 67, y + 62),
        (address, 303, y + 60),
    ]


def test_vertical_tag_decides_the_party_of_the_block_to_its_right(waybill: Extractor) -> None:
    # The sender block is printed first: position alone would call it the receiver, and 联系人
    # has no party of its own.
    doc = make_doc(
        [
            *_bilingual_block("寄件方", "", 160, "蒲凌枫", "13051763587", "山东省泰安市肥城市龙山路20号"),
            *_bilingual_block("收件方", "", 285, "干海芬", "13011269666", "安徽省淮北市相山区人民路中段"),
            ("Contents 内件：化妆品", 28, 400),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("sender_name") == "蒲凌枫"
    assert res.get("receiver_name") == "干海芬"
    assert res.get("sender_phone") == "13051763587"
    assert res.get("receiver_phone") == "13011269666"
    assert res.get("receiver_address") == "安徽省淮北市相山区人民路中段"
    assert res.get("item") == "化妆品"
    assert not any("position" in r for r in res["receiver_name"].reasons)


def test_vertical_tag_over_an_unlabelled_block(waybill: Extractor) -> None:
    doc = make_doc(
        [
            make_line("寄件", 20, 100, h=80, char_w=15),
            ("蒲凌枫 13051763587", 70, 100),
            ("山东省泰安市肥城市龙山路20号", 70, 140),
            make_line("收件", 20, 220, h=80, char_w=15),
            ("干海芬 13011269666", 70, 220),
            ("安徽省淮北市相山区人民路中段", 70, 260),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("sender_name") == "蒲凌枫"
    assert res.get("receiver_name") == "干海芬"
    assert res.get("receiver_address") == "安徽省淮北市相山区人民路中段"


@pytest.mark.parametrize(
    ("receiver", "sender"),
    [("Consignee", "Shipper"), ("Receiver", "Sender"), ("Recipient", "Consignor")],
)
def test_english_party_words_before_a_generic_label(waybill: Extractor, receiver: str, sender: str) -> None:
    # Sender first, so that only the English word can put the parties right.
    doc = make_doc(
        [
            (f"{sender} 联系人", 30, 100),
            ("蒲凌枫", 260, 100),
            ("Tel 电话", 30, 130),
            ("13051763587", 260, 130),
            (f"{receiver} 联系人", 30, 200),
            ("干海芬", 260, 200),
            ("Tel 电话", 30, 230),
            ("13011269666", 260, 230),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("sender_name") == "蒲凌枫"
    assert res.get("receiver_name") == "干海芬"
    assert res.get("sender_phone") == "13051763587"
    assert res.get("receiver_phone") == "13011269666"


def test_to_and_from_tags(waybill: Extractor) -> None:
    doc = make_doc([("From: 蒲凌枫 13051763587", 30, 100), ("To: 干海芬 13011269666", 30, 200)])
    res = waybill.extract_document(doc)
    assert res.get("sender_name") == "蒲凌枫"
    assert res.get("receiver_name") == "干海芬"


def test_address_does_not_swallow_the_next_blocks_name_beside_an_english_label(waybill: Extractor) -> None:
    doc = make_doc(
        [
            ("Address 详细地址", 76, 263),
            ("陕西省商洛市柞水县柞水北关党家湾2号", 306, 263),
            ("Consignee 联系人", 77, 306),
            make_line("邬君涵", 299, 300, h=36, char_w=30),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("receiver_name") == "邬君涵"
    assert res.get("receiver_address") is None or "邬君涵" not in str(res.get("receiver_address"))
    assert res.get("sender_address") is None or "邬君涵" not in str(res.get("sender_address"))


@pytest.mark.parametrize("noise", ["件数", "内件", "+86", "kg", "100"])
def test_a_label_unit_or_number_is_never_a_name(waybill: Extractor, noise: str) -> None:
    doc = make_doc([("收件人：", 30, 100), (noise, 140, 100), ("电话：13011269666", 30, 140)])
    res = waybill.extract_document(doc)
    assert res.get("receiver_name") in (None, "")
    assert res.get("receiver_phone") == "13011269666"


def test_symbols_glued_to_a_name_are_cut_off(waybill: Extractor) -> None:
    doc = make_doc([("收件人：陆艳丽X9", 30, 100), ("寄件人：+86李四", 30, 200)])
    res = waybill.extract_document(doc)
    assert res.get("receiver_name") == "陆艳丽"
    assert res.get("sender_name") == "李四"


def test_surnames() -> None:
    assert has_surname("王芳") and has_surname("慕容林焕") and has_surname("欧阳娜娜")
    assert not has_surname("件数") and not has_surname("内件") and not has_surname("")


def _rotated(doc_items: list[tuple[str, float, float]], degrees: float) -> list:
    """Hand-built lines turned about the origin, as on a photo taken at an angle."""
    import math

    from luodi.ocr.result import Line

    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    out = []
    for text, x, y in doc_items:
        line = make_line(text, x, y)
        box = tuple((px * c - py * s, px * s + py * c) for px, py in line.box)
        out.append(Line(line.text, line.score, box, line.char_scores, line.char_positions))  # type: ignore[arg-type]
    return out


def test_skewed_page_keeps_a_two_line_table_cell_together(waybill: Extractor) -> None:
    # Label cells in the left column, a two-line address cell beside 地址; at 5 degrees the
    # address's first line reaches the row above in page coordinates.
    items = [
        ("收件人", 70, 200),
        ("夏侯云木", 160, 200),
        ("收件人电话", 70, 232),
        ("18515620220", 200, 232),
        ("安徽省蚌埠市固镇县城关镇光彩大市场西门南侧", 200, 262),
        ("地址", 70, 278),
        ("商铺", 200, 292),
        ("寄件人", 70, 340),
        ("桂永祥", 160, 340),
    ]
    res = waybill.extract_document(make_doc(_rotated(items, 5.0)))
    assert res.get("receiver_address") == "安徽省蚌埠市固镇县城关镇光彩大市场西门南侧商铺"
    assert res.get("receiver_name") == "夏侯云木"
    assert res.get("receiver_phone") == "18515620220"


def test_english_labels_glued_to_chinese_ones(waybill: Extractor) -> None:
    doc = make_doc(
        [
            ("Shipper联系人", 30, 100),
            ("蒲凌枫", 260, 100),
            ("Mobile手机号码", 30, 130),
            ("13051763587", 260, 130),
            ("Consignee联系人", 30, 200),
            ("干海芬", 260, 200),
            ("Weight计费重：600g", 30, 300),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("sender_name") == "蒲凌枫"
    assert res.get("receiver_name") == "干海芬"
    assert res.get("sender_phone") == "13051763587"
    assert res.get("weight_kg") == pytest.approx(0.6)


@pytest.mark.parametrize(
    "stop",
    ["打印时间2023-03-0218:36", "2024/12/11 20:37", "JT1234567890123", "韵达快递", "9876543210123"],
)
def test_address_stops_before_a_line_of_another_field(waybill: Extractor, stop: str) -> None:
    doc = make_doc(
        [
            ("收件地址：内蒙古自治区呼和浩特市玉泉区南二环", 30, 100),
            ("锡林南路西南角18号b座", 158, 130),
            (stop, 158, 160),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("receiver_address") == "内蒙古自治区呼和浩特市玉泉区南二环锡林南路西南角18号b座"


def test_a_street_named_after_a_carrier_still_continues_the_address(waybill: Extractor) -> None:
    doc = make_doc([("收件地址：广东省深圳市宝安区福永街道", 30, 100), ("顺丰产业园三栋一楼顺丰快递点", 126, 130)])
    res = waybill.extract_document(doc)
    assert res.get("receiver_address") == "广东省深圳市宝安区福永街道顺丰产业园三栋一楼顺丰快递点"


@pytest.mark.parametrize(
    "line",
    [
        "收件地址：河北省张家口市桥东区胜利北路12号 巩燕丽 13911359723",
        "收件地址：巩燕丽 13911359723 河北省张家口市桥东区胜利北路12号",
    ],
)
def test_name_and_phone_run_together_with_an_address(waybill: Extractor, line: str) -> None:
    res = waybill.extract_document(make_doc([(line, 30, 100)]))
    assert res.get("receiver_address") == "河北省张家口市桥东区胜利北路12号"
    assert res.get("receiver_name") == "巩燕丽"
    assert res.get("receiver_phone") == "13911359723"


def test_carrier_name_beats_an_english_fragment_and_a_number_pattern(waybill: Extractor) -> None:
    # 1 + 12 digits fits the EMS pattern and ITEMS contains EMS; the printed 韵达 decides.
    doc = make_doc([("韵达快递", 30, 30), ("运单号：1234567890123", 30, 80), ("ITEMS 物品：图书", 30, 130)])
    res = waybill.extract_document(doc)
    assert res.get("carrier") == "韵达快递"
    doc = make_doc([("运单号：1234567890123", 30, 80), ("ITEMS 物品：图书", 30, 130)])
    assert waybill.extract_document(doc).get("carrier") is None


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (" 河北省 邯郸市 复兴区 前进大街4号", ("河北省", "邯郸市", "复兴区", "前进大街4号")),
        ("天津天津市北辰区双街镇龙顺道", ("天津", "天津市", "北辰区", "双街镇龙顺道")),
        ("北京北京市丰台区新发地银地家园", ("北京", "北京市", "丰台区", "新发地银地家园")),
        ("台湾苗栗县狮潭乡新丰村八角坑2-1号", ("台湾", "苗栗县", "狮潭乡", "新丰村八角坑2-1号")),
        ("台湾台北市大安区敦化南路二段238号", ("台湾", "台北市", "大安区", "敦化南路二段238号")),
        ("香港特别行政区九龙油尖旺区弥敦道1号", ("香港特别行政区", "九龙", "油尖旺区", "弥敦道1号")),
    ],
)
def test_rule_based_address_parts(text: str, parts: tuple[str, str, str, str]) -> None:
    # The fallback splitter (no contact model) follows the express-NER labelling: municipalities
    # written twice are province + city, Taiwan has counties and townships, spaces are read through.
    from luodi.kie.parties import split_address

    got = split_address(text, 3)
    assert tuple(got[p].value for p in ("province", "city", "district", "detail")) == parts
    for span in got.values():
        assert text[span.start - 3 : span.end - 3] == span.value


def test_two_part_stub_prefers_the_copy_the_gazetteer_knows(waybill: Extractor) -> None:
    # The misread copy (成宁市) is read with the higher OCR confidence; the gazetteer decides.
    doc = make_doc(
        [
            make_line("收件地址：湖北省咸宁市通山县洋都大道98号", 30, 100, score=0.9),
            make_line("寄件地址：广东省中山市西区富华道16号", 30, 140),
            make_line("收件地址：湖北省成宁市通山县洋都大道98号", 30, 600, score=0.99),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("receiver_address") == "湖北省咸宁市通山县洋都大道98号"
    assert res["receiver_address"].needs_review  # the copies still disagree
    assert res.get("sender_address") == "广东省中山市西区富华道16号"


def test_traditional_characters_read_by_ocr_become_simplified(waybill: Extractor) -> None:
    pytest.importorskip("opencc")
    doc = make_doc([("收件人：慕容林煥", 30, 100), ("收件地址：山東省泰安市東平縣白佛山景區內部", 30, 140)])
    res = waybill.extract_document(doc)
    assert res.get("receiver_name") == "慕容林焕"
    assert res.get("receiver_address") == "山东省泰安市东平县白佛山景区内部"
    assert res.get("receiver_district") == "东平县"
    assert res["receiver_address"].raw == "山東省泰安市東平縣白佛山景區內部"  # what OCR read is kept


def test_contact_schema_keeps_the_text_as_written() -> None:
    # Contact values are exact substrings of the input: no conversion there.
    res = extractor("contact").extract_text("慕容林煥13800138000山東省泰安市東平縣白佛山景區內部")
    assert res.get("name") in (None, "慕容林煥")
    address = res.get("address")
    assert address is None or address in "慕容林煥13800138000山東省泰安市東平縣白佛山景區內部"


@pytest.mark.parametrize(("cell", "kg"), [("17,4kg", 17.4), ("500g", 0.5), ("500 克", 0.5), ("3.5公斤", 3.5)])
def test_weight_written_in_a_form_cell(waybill: Extractor, cell: str, kg: float) -> None:
    doc = make_doc([("重量", 268, 328), (cell, 330, 324)])
    assert waybill.extract_document(doc).get("weight_kg") == pytest.approx(kg)


@pytest.mark.parametrize(
    ("read", "printed"),
    [
        ("湖北省成宁市通山县洋都大道98号", "湖北省咸宁市通山县洋都大道98号"),
        ("安徽省蚌埠市园镇县城关镇光彩大市场", "安徽省蚌埠市固镇县城关镇光彩大市场"),
        ("四川省凉山舞族自治州普格县普基镇", "四川省凉山彝族自治州普格县普基镇"),
    ],
)
def test_one_misread_division_name_is_corrected_and_flagged(waybill: Extractor, read: str, printed: str) -> None:
    res = waybill.extract_document(make_doc([(f"收件地址：{read}", 30, 100)]))
    field = res["receiver_address"]
    assert field.value == printed
    assert field.raw == read
    assert field.needs_review and read in field.alternatives


def test_known_names_and_ambiguous_misreads_are_left_alone() -> None:
    from luodi.kie.divisions import DivisionIndex
    from luodi.kie.gazetteer import Gazetteer

    index = DivisionIndex(Gazetteer.from_package())
    assert index.correct("湖北省咸宁市通山县洋都大道98号") is None
    assert index.correct("河南省南阳市新野县清翔路37号") is None  # the street is not checked
    assert index.correct("北京市 朝阳区 建国路") is None  # spaced text: offsets would not hold


def test_a_misread_label_is_not_a_name(waybill: Extractor) -> None:
    doc = make_doc([("收件人：联原人", 30, 100), ("电话：13011269666", 30, 140)])
    assert waybill.extract_document(doc).get("receiver_name") in (None, "")
    # A real three-character name is kept.
    doc = make_doc([("收件人：乐晨杰", 30, 100), ("电话：13011269666", 30, 140)])
    assert waybill.extract_document(doc).get("receiver_name") == "乐晨杰"


def test_english_annotation_with_a_misread_letter() -> None:
    from docfactory import make_doc as doc_of

    slip = extractor("bank_receipt")
    res = slip.extract_document(doc_of([("交易日期(①ATE)", 70, 359), ("2012-10-23", 69, 382)]))
    assert res.get("date") == "2012-10-23"


def test_a_carrier_word_inside_an_address_does_not_outrank_the_printed_carrier(waybill: Extractor) -> None:
    doc = make_doc(
        [
            ("收：荆改 18511830383 云南省保山市昌宁县", 30, 100),
            ("女转盘邮政储蓄银行旁", 62, 130),
            ("韵达快递", 30, 300),  # printed below the address: reading order does not decide
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("carrier") == "韵达快递"


def test_english_tags_are_whole_words(waybill: Extractor) -> None:
    doc = make_doc([("Tom 13051763587", 30, 100), ("Total: 3", 30, 200)])
    res = waybill.extract_document(doc)
    # No To tag was read: an unmarked contact block goes to a party by position, for review.
    name = res["receiver_name"]
    assert name.value in (None, "Tom")
    assert name.value is None or any("position" in r for r in name.reasons)


def test_a_value_right_of_another_label_is_not_this_labels() -> None:
    # A carbon form: the names written under their labels, each row's phone after its own 电话
    # label. The cell right of 收件人 lies beyond 电话: it is the phone's, not the name's.
    doc = make_doc(
        [
            ("寄件人", 30, 100),
            ("电话", 140, 100),
            ("13912345678", 200, 100),
            ("李四", 30, 135),
            ("收件人", 30, 220),
            ("电话", 140, 220),
            ("13812345678", 200, 220),
            ("张三", 30, 255),
            ("地址", 30, 340),
            ("北京市朝阳区建国路88号", 100, 340),
        ]
    )
    res = extractor("waybill").extract_document(doc)
    assert res.get("receiver_name") == "张三" and res.get("sender_name") == "李四"
    assert res.get("receiver_phone") == "13812345678" and res.get("sender_phone") == "13912345678"
