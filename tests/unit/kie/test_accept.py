"""What may be keyed in unseen: evidence that settles a doubt, and doubts that stay (hand-built
documents; a stand-in contact parser reproduces what the contact model says, so no model is needed)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from docfactory import extractor, make_doc, make_line

from luodi.kie import Extractor
from luodi.kie.parties import PartyParse, RuleContactParser, Span

SENDER = [
    ("寄件人：李四", 50, 600),
    ("寄件人电话：13912345678", 50, 640),
    ("寄件地址：江苏省南京市玄武区中山路1号", 50, 680),
]


@pytest.fixture(scope="module")
def waybill() -> Extractor:
    return extractor("waybill")


class MaskSaying:
    """Rules, plus what the contact model says of a privacy-masked number in the block."""

    def __init__(self) -> None:
        self._rules = RuleContactParser()

    def __call__(self, text: str) -> PartyParse:
        masked = [w for w in text.split() if "*" in w]
        if not masked:
            return self._rules(text)
        name, at = text.split(maxsplit=1)[0], text.index(masked[0])
        why = tuple(f"phone {w!r} is not a mainland mobile or landline number" for w in masked)
        phone = Span(masked[0], at, at + len(masked[0]), 0.99)
        return PartyParse(name=Span(name, 0, len(name), 0.99), phones=(phone,), reasons=why, model_based=True)


def test_a_masked_phone_does_not_make_the_parties_doubtful() -> None:
    # e-waybills print 132****6372: the parser cannot call it a phone, which says nothing about
    # the names and addresses around it.
    doc = make_doc(
        [
            ("收件人：孟芊含 132****6372", 50, 100),
            ("收件地址：湖北省武汉市江汉区前进一路181号", 50, 140),
            ("寄件人：魏林英 137****5174", 50, 300),
            ("寄件地址：江苏省盐城市大丰区花都美食城东门21号楼", 50, 340),
        ]
    )
    res = extractor("waybill", contact_parser=MaskSaying()).extract_document(doc)
    assert res.get("receiver_name") == "孟芊含" and res.get("sender_name") == "魏林英"
    for name in ("receiver_name", "receiver_address", "sender_name", "sender_address"):
        assert not res[name].needs_review, (name, res[name].reasons)
    assert res["receiver_phone"].needs_review  # the masked number itself is never keyed in


class TwoInOne:
    """The block of one party ran into the other's (a tag OCR missed): the parser says so."""

    def __call__(self, text: str) -> PartyParse:
        parsed = MaskSaying()(text)
        if "*" not in text:
            return parsed
        why = "2 details found: '湖北省武汉市江汉区前进一路181号', '江苏省盐城市大丰区中山路1号'"
        return dataclasses.replace(parsed, reasons=(*parsed.reasons, why))


def test_a_masked_phone_does_not_hide_a_block_that_holds_two_parties() -> None:
    doc = make_doc(
        [
            ("收件人：孟芊含 132****6372", 50, 100),
            ("收件地址：湖北省武汉市江汉区前进一路181号", 50, 140),
            *SENDER,
        ]
    )
    res = extractor("waybill", contact_parser=TwoInOne()).extract_document(doc)
    # The party whose own block is in doubt is not keyed in, even where its phone is masked.
    assert res["receiver_address"].needs_review
    assert res["receiver_name"].needs_review


def test_the_carriers_terms_name_parties_but_hold_no_value(waybill: Extractor) -> None:
    doc = make_doc(
        [
            ("收件人：孟芊含 13212346372", 30, 100),
            ("收件地址：湖北省武汉市江汉区前进一路181号", 30, 140),
            ("寄件人：魏林英 13712345174", 30, 200),
            ("寄件地址：江苏省盐城市大丰区花都美食城东门21号楼", 30, 240),
            ("快件送达收件人地址，经收件人或收件人（寄件人）允许的代收人签字，视为送达。", 30, 300),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("sender_name") == "魏林英"
    assert res["sender_name"].alternatives == ()
    assert not res["sender_name"].needs_review, res["sender_name"].reasons


class SplitsTheCompany:
    """What the contact model does with a company glued to its phone: the suffix taken for the
    name, the rest for a second detail."""

    def __call__(self, text: str) -> PartyParse:
        if not text.startswith("开封鼎泰"):
            return RuleContactParser()(text)
        addr = "河南省开封市兰考县迎宾大道与中州路交汇处"
        a = text.index(addr)
        p = text.index("1322")
        return PartyParse(
            name=Span("有限公司", 8, 12, 0.18),
            phones=(Span("13220160129", p, p + 11, 0.99),),
            address=Span(addr, a, a + len(addr), 0.99),
            province=Span("河南省", a, a + 3, 0.99),
            city=Span("开封市", a + 3, a + 6, 0.99),
            district=Span("兰考县", a + 6, a + 9, 0.99),
            detail=Span("开封鼎泰电子商务", 0, 8, 0.6),
            reasons=(f"2 details found: '开封鼎泰电子商务', '{addr}'", "low confidence in name '有限公司' (0.18)"),
            model_based=True,
        )


def test_a_company_name_settles_what_the_parser_said_about_its_pieces() -> None:
    doc = make_doc(
        [
            ("收件人：阳中海 13261116565", 30, 100),
            ("收件地址：浙江省金华市浦江县郑宅镇麟溪南路18号", 30, 140),
            ("寄件人：开封鼎泰电子商务有限公司13220160129", 30, 200),
            ("河南省开封市兰考县迎宾大道与中州路交汇处", 138, 230),
        ]
    )
    res = extractor("waybill", contact_parser=SplitsTheCompany()).extract_document(doc)
    assert res.get("sender_name") == "开封鼎泰电子商务有限公司"
    assert res.get("sender_address") == "河南省开封市兰考县迎宾大道与中州路交汇处"
    assert res.get("sender_detail") == "迎宾大道与中州路交汇处"
    for name in ("sender_name", "sender_address", "receiver_name", "receiver_address"):
        assert not res[name].needs_review, (name, res[name].reasons)


def test_a_party_placed_by_position_leaves_the_marked_party_alone(waybill: Extractor) -> None:
    # The 收 mark was read, the 寄 mark was not (white on black): the receiver's block is known by
    # its mark; only the sender, a block with no address (so not surely a party's), is in doubt.
    doc = make_doc(
        [
            make_line("收", 30, 100, h=60, char_w=60),
            ("赵六 13600001111", 110, 100),
            ("浙江省杭州市西湖区文三路90号", 110, 130),
            ("钱七 13700002222", 110, 200),
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("sender_name") == "钱七" and res["sender_name"].needs_review
    assert res.get("receiver_name") == "赵六"
    for name in ("receiver_name", "receiver_phone", "receiver_address"):
        assert not res[name].needs_review, (name, res[name].reasons)


@pytest.mark.parametrize(("low", "flagged"), [(0.39, True), (0.85, False)])
def test_one_doubtful_character_of_an_address_is_not_keyed_in_unseen(
    waybill: Extractor, low: float, flagged: bool
) -> None:
    # 澴西大道 read 潭西大道 with 0.39 on 潭: the mean of the line hides it.
    address = "湖北省孝感市孝昌县花园镇博士湾大道与潭西大道交汇处"
    scores = [0.99] * len("收件地址：") + [0.99 if c != "潭" else low for c in address]
    doc = make_doc(
        [
            ("收件人：张三", 50, 100),
            ("收件人电话：13812345678", 50, 140),
            make_line("收件地址：" + address, 50, 180, scores=scores),
            *SENDER,
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("receiver_address") == address
    assert res["receiver_address"].needs_review is flagged, res["receiver_address"].reasons
    assert not res["receiver_name"].needs_review


def test_a_second_province_inside_an_address_shows_two_addresses_run_together() -> None:
    from luodi.kie.divisions import address_problems
    from luodi.kie.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    mixed = "云南省怒江傈僳族自治州兰山西省临汾市尧都区向阳路坪白族普米族自治县团结路25号27号"
    assert any("second address" in p for p in address_problems(gaz, mixed))
    for one in ("云南省怒江傈僳族自治州兰坪白族普米族自治县团结路27号", "山西省临汾市尧都区向阳路25号"):
        assert address_problems(gaz, one) == []


def _stubs(
    receiver: str, tag_name: str, tag_address: str = "广东省揭阳市揭西县五经富镇朝阳村委桥西公路边"
) -> list[Any]:
    """An e-waybill: a 收 block at the top, then two stubs that repeat both parties."""
    lines: list[Any] = [
        make_line("收", 30, 100, h=40, char_w=40),
        (f"{tag_name} 13212341234", 110, 100),
        (tag_address, 110, 130),
    ]
    for y in (400, 700):
        lines += [
            (f"收件人：{receiver} 13212341234", 30, y),
            ("广东省揭阳市揭西县五经富镇朝阳村委桥西公路边", 30, y + 30),
            ("寄件人：太原远天物流有限公司 15112348099", 30, y + 80),
            ("山西省太原市阳曲县西大街北二巷", 30, y + 110),
        ]
    return lines


class RunsIntoTheSender:
    """The 收 block's line ran into the sender's column, and the parser took the sender's address."""

    def __call__(self, text: str) -> PartyParse:
        parsed = RuleContactParser()(text)
        addr = "山西省太原市阳曲县西大街北二巷"
        if not (text.startswith("东方") and addr in text):
            return parsed
        at = text.index(addr)
        why = f"2 details found: '五经富镇朝阳村委桥西公路边', '{addr}'"
        return PartyParse(
            name=Span(text[:3], 0, 3, 0.99),
            address=Span(addr, at, at + len(addr), 0.99),
            reasons=(why,),
            model_based=True,
        )


def test_agreeing_stubs_outweigh_a_block_the_parser_could_not_split() -> None:
    merged = "广东省揭阳市揭西县五经富镇朝阳村委桥西公路边 山西省太原市阳曲县西大街北二巷"
    doc = make_doc(_stubs("东方溯", "东方溯", merged))
    res = extractor("waybill", contact_parser=RunsIntoTheSender()).extract_document(doc)
    assert res.get("receiver_address") == "广东省揭阳市揭西县五经富镇朝阳村委桥西公路边"
    assert "conflicting values" not in res["receiver_address"].reasons
    assert not res["receiver_address"].needs_review, res["receiver_address"].reasons


def test_copies_that_differ_in_one_character_are_flagged(waybill: Extractor) -> None:
    # The large print reads 东方溯, both small stubs 东方洲: agreeing copies do not say which is right.
    res = waybill.extract_document(make_doc(_stubs("东方洲", "东方溯")))
    assert res.get("receiver_name") in ("东方洲", "东方溯")
    assert res["receiver_name"].needs_review
    assert any("another copy reads" in r for r in res["receiver_name"].reasons)


def _stubs_reading(readings: list[tuple[str, list[float]]]) -> Any:
    """The receiver printed on one stub per reading: (the name as OCR read it, its characters' scores)."""
    lines: list[Any] = []
    for i, (name, scores) in enumerate(readings):
        y = 100 + 200 * i
        lines += [
            make_line(f"收件人：{name}", 50, y, scores=[0.99] * 4 + scores),
            ("收件人电话：13812345678", 400, y),
            ("收件地址：江苏省南京市玄武区中山路1号", 50, y + 40),
        ]
    return make_doc(lines + [(text, x, y + 300) for text, x, y in SENDER])


def test_of_copies_a_character_apart_the_surer_reading_is_offered(waybill: Extractor) -> None:
    # Two stubs read 减 unsure, one reads 臧 sure: the sure reading is the value, still for review.
    doc = _stubs_reading([("减妍妍", [0.7, 0.99, 0.99]), ("减妍妍", [0.72, 0.99, 0.99]), ("臧妍妍", [0.98] * 3)])
    name = waybill.extract_document(doc)["receiver_name"]
    assert name.value == "臧妍妍" and name.needs_review
    assert "减妍妍" in name.alternatives
    # Read about as sure on every stub: the copies' majority stands.
    doc = _stubs_reading([("减妍妍", [0.9, 0.99, 0.99]), ("减妍妍", [0.9, 0.99, 0.99]), ("臧妍妍", [0.98] * 3)])
    assert waybill.extract_document(doc)["receiver_name"].value == "减妍妍"
    # A rare character read unsure is no weaker a witness than a common look-alike read sure.
    doc = _stubs_reading([("彭垭决", [0.99, 0.71, 0.99]), ("彭垭决", [0.99, 0.7, 0.99]), ("彭址决", [0.98] * 3)])
    name = waybill.extract_document(doc)["receiver_name"]
    assert name.value == "彭垭决" and name.needs_review


class WholeAddressAsDetail:
    """Misled by the company before it, the parser calls the whole address its detail."""

    def __call__(self, text: str) -> PartyParse:
        addr = "吉林省吉林市丰满区吉林大街77号"
        if addr not in text or "公司" not in text:
            return RuleContactParser()(text)
        a, p = text.index(addr), text.index("1322")
        whole = Span(addr, a, a + len(addr), 0.99)
        return PartyParse(
            name=Span("吉林宏明电子商务有限公司", 0, 12, 0.95),
            phones=(Span("13220160129", p, p + 11, 0.99),),
            address=whole,
            detail=whole,
            model_based=True,
        )


def test_address_parts_are_split_again_when_the_block_parse_named_no_division() -> None:
    doc = make_doc(
        [
            ("收件人：阳中海 13261116565", 30, 100),
            ("收件地址：浙江省金华市浦江县郑宅镇麟溪南路18号", 30, 140),
            ("寄件人：吉林宏明电子商务有限公司 13220160129", 30, 200),
            ("吉林省吉林市丰满区吉林大街77号", 138, 230),
        ]
    )
    res = extractor("waybill", contact_parser=WholeAddressAsDetail()).extract_document(doc)
    assert res.get("sender_address") == "吉林省吉林市丰满区吉林大街77号"
    got = {p: res.get(f"sender_{p}") for p in ("province", "city", "district", "detail")}
    assert got == {"province": "吉林省", "city": "吉林市", "district": "丰满区", "detail": "吉林大街77号"}


def test_two_parties_with_the_same_address_are_both_flagged(waybill: Extractor) -> None:
    address = "辽宁省朝阳市双塔区光明街建设路20-6号"
    doc = make_doc(
        [
            ("收件人：白毅", 50, 100),
            ("收件人电话：19919981811", 50, 140),
            ("收件地址：" + address, 50, 180),
            ("寄件人：俞德昱", 50, 300),
            ("寄件人电话：13810614552", 50, 340),
            ("寄件地址：" + address, 50, 380),
        ]
    )
    res = waybill.extract_document(doc)
    for name in ("receiver_address", "sender_address"):
        assert res.get(name) == address
        assert res[name].needs_review and any("the same value as" in r for r in res[name].reasons)
    assert not res["receiver_name"].needs_review


def test_an_address_running_through_a_line_of_the_other_partys_is_flagged(waybill: Extractor) -> None:
    # Two columns, labels above values, photographed: the sender's address wraps (…四平路3 | 33号)
    # and the line beside its first line, 宣县城北路, is the receiver's, read into both.
    boxes = [  # (text, x0, y0, x1, y1)
        ("寄件人信息", 158, 400, 275, 430),
        ("姓名", 161, 435, 197, 460),
        ("上海达辰服饰有限公司", 159, 462, 380, 490),
        ("电话", 157, 492, 198, 515),
        ("13120138666", 156, 517, 299, 545),
        ("地址", 158, 546, 197, 560),
        ("上海上海市虹口区四平路3", 155, 562, 431, 600),
        ("33号", 150, 604, 212, 640),
        ("收件人", 433, 401, 486, 431),
        ("鄂孝希", 432, 433, 504, 457),
        ("收件人电话", 434, 459, 514, 480),
        ("18510575287", 434, 482, 566, 506),
        ("收件地址", 434, 508, 501, 531),
        ("广西壮族自治区来宾市武", 436, 533, 676, 559),
        ("宣县城北路", 436, 562, 554, 600),
    ]
    doc = make_doc(
        [
            make_line(t, x0, y0, h=y1 - y0, char_w=(x1 - x0) / sum(0.55 if c.isascii() else 1.0 for c in t))
            for t, x0, y0, x1, y1 in boxes
        ]
    )
    res = waybill.extract_document(doc)
    assert "宣县城北路" in str(res.get("sender_address")) and "宣县城北路" in str(res.get("receiver_address"))
    for name in ("sender_address", "receiver_address"):
        assert res[name].needs_review and any("runs through a line of" in r for r in res[name].reasons)


class CityFirst:
    """What the contact model does with 重庆市北碚区…: the municipality taken for the city."""

    def __call__(self, text: str) -> PartyParse:
        if not text.startswith("重庆市北碚区"):
            return RuleContactParser()(text)
        return PartyParse(
            address=Span(text, 0, len(text), 0.99),
            city=Span("重庆市", 0, 3, 0.99),
            district=Span("北碚区", 3, 6, 0.99),
            detail=Span(text[6:], 6, len(text), 0.99),
            model_based=True,
        )


@pytest.mark.parametrize(
    ("address", "province", "city"),
    [("重庆市北碚区府幸南路692号", "重庆市", None), ("北京北京市通州区九棵树西路182号", "北京", "北京市")],
)
def test_a_municipality_written_once_is_the_province(address: str, province: str, city: str | None) -> None:
    doc = make_doc(
        [
            ("收件人：张三", 50, 100),
            ("收件人电话：13812345678", 50, 140),
            ("收件地址：" + address, 50, 180),
            *SENDER,
        ]
    )
    res = extractor("waybill", contact_parser=CityFirst()).extract_document(doc)
    assert (res.get("receiver_province"), res.get("receiver_city")) == (province, city)


@pytest.mark.parametrize(
    ("address", "confirmed"),
    [("浙江省杭州市西湖区文三路90号", True), ("浙江省杭州市文三路90号", False)],  # no district: not confirmed
)
def test_address_parts_the_gazetteer_confirms_are_as_sure_as_the_address(
    waybill: Extractor, address: str, confirmed: bool
) -> None:
    doc = make_doc(
        [
            ("收件人：张三", 50, 100),
            ("收件人电话：13812345678", 50, 140),
            make_line("收件地址：" + address, 50, 180, score=0.86),
            *SENDER,
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("receiver_address") == address and not res["receiver_address"].needs_review
    assert res.get("receiver_province") == "浙江省"
    for part in ("province", "city", "district", "detail"):
        if res[f"receiver_{part}"].found:
            assert res[f"receiver_{part}"].needs_review is not confirmed, part


def _two_stubs(first: list[float], second: list[float] | None) -> Any:
    """收件人：刁奕沣 on a stub, again on a second stub when ``second`` gives its scores."""
    pages = [(100, first), (700, second)]
    lines: list[Any] = []
    for y, scores in pages:
        if scores is None:
            continue
        lines += [
            make_line("收件人：刁奕沣", 50, y, scores=[0.99] * 4 + scores),
            ("收件人电话：13812345678", 400, y),
            ("收件地址：江苏省南京市玄武区中山路1号", 50, y + 40),
        ]
    return make_doc(lines + [(text, x, y + 300) for text, x, y in SENDER])


def test_a_character_another_copy_read_sure_is_sure(waybill: Extractor) -> None:
    # 沣 (rare) read at 0.91 on one stub: alone, it needs review.
    alone = waybill.extract_document(_two_stubs([0.99, 0.99, 0.91], None))["receiver_name"]
    assert alone.value == "刁奕沣" and alone.needs_review
    assert any("rare character 沣" in r for r in alone.reasons)
    # The second stub, read less sure on the whole, reads 沣 at 0.99: the character is settled.
    both = waybill.extract_document(_two_stubs([0.99, 0.99, 0.91], [0.91, 0.91, 0.99]))["receiver_name"]
    assert both.value == "刁奕沣" and not both.needs_review, both.reasons
    # Two unsure copies of a character stay unsure.
    unsure = waybill.extract_document(_two_stubs([0.99, 0.99, 0.91], [0.99, 0.99, 0.92]))["receiver_name"]
    assert unsure.needs_review and any("rare character 沣" in r for r in unsure.reasons)


@pytest.mark.parametrize(("number", "accepted"), [("JT1234567890123", True), ("7712345678901", False)])
def test_a_carrier_read_unsure_is_confirmed_by_a_distinctive_number(
    waybill: Extractor, number: str, accepted: bool
) -> None:
    # The carrier's name inside a longer line of small print scores low on its own; a JT number
    # names the same carrier (a bare 13-digit number fits several and confirms nothing).
    doc = make_doc(
        [
            ("极兔速递 客户服务 全国统一 感谢使用", 400, 20),
            (f"运单号：{number}", 30, 60),
            ("收件人：张三丰", 30, 100),
            ("电话：13011269666", 30, 140),
        ]
    )
    car = waybill.extract_document(doc)["carrier"]
    assert car.value == "极兔速递"
    assert car.needs_review is not accepted, car.reasons


def test_an_untagged_copy_of_a_party_is_evidence_on_its_fields(waybill: Extractor) -> None:
    # A two-part stub whose first copy of the sender lost its 寄 mark: found by its name, it is a
    # copy of the labelled sender, and its phone, one digit apart, flags the labelled one.
    lines = [
        ("收件人：梁凤 13031671383", 30, 100),
        ("浙江省丽水市龙泉市幸学西路229号", 30, 130),
        ("天盛家坊专营店 191-4994-1983", 30, 200),
        ("广西壮族自治区南宁市西乡塘区江西路393号", 30, 230),
        ("寄件人：天盛家坊专营店 191-4994-1903", 30, 600),
        ("广西壮族自治区南宁市西乡塘区江西路393号", 30, 630),
    ]
    res = waybill.extract_document(make_doc(lines))
    phone = res["sender_phone"]
    assert phone.value == "19149941903" and phone.needs_review
    assert any("another copy reads '19149941983'" in r for r in phone.reasons)
    # Copies that agree leave the labelled value as it was.
    lines[2] = ("天盛家坊专营店 191-4994-1903", 30, 200)
    assert not waybill.extract_document(make_doc(lines))["sender_phone"].needs_review


class CutsTheShopName:
    """What the contact model did with two blocks: the shop's first character given to nobody
    (盛设计工作室), and the end of an address run into an unsure name (…尚信设计工 + 作室)."""

    def __call__(self, text: str) -> PartyParse:
        if "禾盛设计工作室" in text:
            a, p = text.index("盛设计工作室"), text.index("1893")
            addr = text.index("台湾省")
            return PartyParse(
                name=Span("盛设计工作室", a, a + 6, 0.98),
                phones=(Span("18936647054", p, p + 11, 0.99),),
                address=Span(text[addr:], addr, len(text), 0.99),
                model_based=True,
            )
        if "尚信设计工作室" in text:
            n, p = text.index("作室"), text.index("1303")
            return PartyParse(
                name=Span("作室", n, n + 2, 0.01),
                phones=(Span("13031725922", p, p + 11, 0.99),),
                address=Span(text[:n], 0, n, 0.99),
                reasons=("low confidence in name '作室' (0.01)",),
                model_based=True,
            )
        return RuleContactParser()(text)


def test_what_the_parser_cut_from_a_shop_name_is_put_back_or_flagged() -> None:
    lines = [
        ("寄：18936647054 禾盛设计工作室 台湾省高雄市大社区朝阳南路380号", 30, 100),
        ("收件人：王小明 13912345678", 30, 300),
        ("江苏省南京市玄武区中山路1号", 30, 340),
    ]
    waybill = extractor("waybill", contact_parser=CutsTheShopName())
    assert waybill.extract_document(make_doc(lines)).get("sender_name") == "禾盛设计工作室"
    lines[0] = ("寄：甘肃省甘南藏族自治州合作市学幸东路418号达苑28栋2501室尚信设计工作室13031725922", 30, 100)
    addr = waybill.extract_document(make_doc(lines))["sender_address"]
    assert addr.needs_review and "where the address ends is unclear" in addr.reasons


@pytest.mark.parametrize(
    ("line", "field", "doubt"),
    [
        ("收件地址：北京市大兴区胜利东路173", "receiver_address", "bare street number"),
        ("重量：16.7g", "weight_kg", "grams with decimals"),
    ],
)
def test_values_cut_or_misread_at_their_end_are_flagged(waybill: Extractor, line: str, field: str, doubt: str) -> None:
    doc = make_doc([("收件人：王小明 13912345678", 30, 60), (line, 30, 100), *SENDER])
    got = waybill.extract_document(doc)[field]
    assert got.needs_review and any(doubt in r for r in got.reasons), got.reasons


def test_hong_kong_and_macau_areas_are_no_unknown_cities() -> None:
    from luodi.kie.divisions import address_problems
    from luodi.kie.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    rights = ("香港特别行政区九龙油尖旺区弥敦道1号", "香港九龙旺角弥敦道688号", "澳门氹仔嘉模堂区告利雅施利华街1号")
    for right in rights:
        assert address_problems(gaz, right) == [], right
    assert address_problems(gaz, "香港九龙沙井区弥敦道1号")  # no such district in Hong Kong
    assert address_problems(gaz, "四川省九龙市呷尔镇1号")  # 九龙 is a county of Sichuan, not a city


@pytest.mark.parametrize(
    ("weak", "accepted"), [("潭", {"province", "city", "district"}), ("孝", {"province", "detail"})]
)
def test_an_address_part_is_doubted_only_where_the_weak_character_is(
    waybill: Extractor, weak: str, accepted: set[str]
) -> None:
    # 潭 read at 0.39 in the street flags the address and its detail; the province, city and
    # district around it were read sure. A weak 孝 in 孝感市 and 孝昌县 leaves the province and the
    # street alone.
    address = "湖北省孝感市孝昌县花园镇博士湾大道与潭西大道交汇处"
    scores = [0.99] * len("收件地址：") + [0.99 if c != weak else 0.39 for c in address]
    doc = make_doc(
        [
            ("收件人：张三", 50, 100),
            ("收件人电话：13812345678", 50, 140),
            make_line("收件地址：" + address, 50, 180, scores=scores),
            *SENDER,
        ]
    )
    res = waybill.extract_document(doc)
    assert res["receiver_address"].needs_review
    for part in ("province", "city", "district", "detail"):
        field = res[f"receiver_{part}"]
        assert field.value is not None
        assert field.needs_review is (part not in accepted), (part, field.reasons)


def test_copies_that_disagree_in_the_street_leave_the_divisions_they_agree_on(waybill: Extractor) -> None:
    # Two stubs read the street one character apart: the address and its detail need review; the
    # province, city and district both copies read alike do not.
    lines = []
    for y, street in ((100, "幸福西路229号"), (500, "幸学西路229号")):
        lines += [
            ("收件人：张三 13812345678", 50, y),
            (f"收件地址：浙江省丽水市龙泉市{street}", 50, y + 40),
        ]
    res = waybill.extract_document(make_doc(lines + [(t, x, y + 400) for t, x, y in SENDER]))
    assert res["receiver_address"].needs_review and res["receiver_detail"].needs_review
    for part in ("province", "city", "district"):
        assert not res[f"receiver_{part}"].needs_review, (part, res[f"receiver_{part}"].reasons)


class SaysUnknownCity:
    """Rules, plus the contact model's own remark on the division it could not find."""

    def __call__(self, text: str) -> PartyParse:
        parsed = RuleContactParser()(text)
        return dataclasses.replace(parsed, reasons=(*parsed.reasons, "city '街阳市' is not in the division table"))


def test_a_division_the_parser_also_doubted_still_flags_the_address() -> None:
    # 衡阳市 read 街阳市 (岳阳市 and 益阳市 are one character off too, so nothing is corrected):
    # the parser saying so first must not keep the address from being flagged.
    doc = make_doc(
        [
            ("寄：湖南省街阳市雁峰区城新路689号 余泽强 17678311557", 50, 100),
            ("收件人：张三", 50, 300),
            ("收件人电话：13812345678", 50, 340),
            ("收件地址：江苏省南京市玄武区中山路1号", 50, 380),
        ]
    )
    res = extractor("waybill", contact_parser=SaysUnknownCity()).extract_document(doc)
    assert "街阳市" in str(res.get("sender_address"))
    assert res["sender_address"].needs_review, res["sender_address"].reasons


class NoSarDistricts:
    """What the contact model says of a Hong Kong address: the province, then all of it detail."""

    def __call__(self, text: str) -> PartyParse:
        at = text.find("香港特别行政区")
        if at < 0:
            return RuleContactParser()(text)
        rest = at + len("香港特别行政区")
        return PartyParse(
            address=Span(text[at:], at, len(text), 0.99),
            province=Span("香港特别行政区", at, rest, 0.99),
            detail=Span(text[rest:], rest, len(text), 0.99),
            model_based=True,
        )


def test_a_division_the_parser_left_in_the_detail_is_read_by_the_suffix_rules() -> None:
    doc = make_doc([*SENDER, ("收件人：张三", 50, 100), ("收件人电话：13812345678", 50, 140),
                    ("收件地址：香港特别行政区南区江建西路314号", 50, 180)])  # fmt: skip
    res = extractor("waybill", contact_parser=NoSarDistricts()).extract_document(doc)
    assert res.get("receiver_province") == "香港特别行政区"
    assert res.get("receiver_district") == "南区"
    assert res.get("receiver_detail") == "江建西路314号"


def test_a_romanised_name_with_an_x_is_no_placeholder(waybill: Extractor) -> None:
    doc = make_doc([*SENDER, ("收件人：Xiu-Xuan DUAN", 50, 100), ("收件人电话：13812345678", 50, 140)])
    assert waybill.extract_document(doc).get("receiver_name") == "Xiu-Xuan DUAN"
    template = make_doc([*SENDER, ("收件人：XXX", 50, 100), ("收件人电话：13812345678", 50, 140)])
    assert waybill.extract_document(template).get("receiver_name") is None


def test_a_hong_kong_number_is_a_phone(waybill: Extractor) -> None:
    # +852 and eight digits: no mainland number, but a number to call, keyed in as written. Eight
    # digits with no code stay a landline missing its area code, for review.
    for phone, value, review in (("+852 9123 4567", "+852-91234567", False), ("9123 4567", "91234567", True)):
        doc = make_doc(
            [
                ("运单号：SF1234567890123", 30, 40),
                ("收件人：陈大文", 30, 100),
                (f"收件人电话：{phone}", 30, 140),
                ("收件地址：香港特别行政区九龙油尖旺区弥敦道100号", 30, 180),
                ("寄件人：李四", 30, 260),
                ("寄件人电话：13912345678", 30, 300),
                ("寄件地址：江苏省南京市玄武区中山路1号", 30, 340),
            ]
        )
        res = waybill.extract_document(doc)
        assert (res.get("receiver_phone"), res["receiver_phone"].needs_review) == (value, review)


def test_a_weak_dash_after_the_country_code_is_no_cut_number(waybill: Extractor) -> None:
    # +86-177…: the dash read unsure has digits beyond it, but they are the country code.
    text = "收件人电话：+86-17713753712"
    scores = [0.99] * len(text)
    scores[text.index("-")] = 0.57
    doc = make_doc(
        [
            ("运单号：SF1234567890123", 30, 40),
            ("收件人：陈大文", 30, 100),
            make_line(text, 30, 140, scores=scores),
            ("收件地址：浙江省杭州市西湖区文三路90号", 30, 180),
            *SENDER,
        ]
    )
    res = waybill.extract_document(doc)
    assert res.get("receiver_phone") == "17713753712" and not res["receiver_phone"].needs_review


@pytest.mark.parametrize(("printed", "accepted"), [("PANZHI", False), ("Zhangwei", False), ("PAN ZHI", True)])
def test_a_romanised_name_read_without_its_space_is_found_for_review(
    waybill: Extractor, printed: str, accepted: bool
) -> None:
    # OCR dropped the space of PAN ZHI after the 收货人 label: the value is kept, for review
    # (where its words part is not known); read with the space, it is keyed in.
    doc = make_doc(
        [
            (f"收货人：{printed}", 97, 372),
            ("电话：13789018558", 436, 364),
            ("地址：山西省晋中市左权县平解北街188号", 97, 401),
            *SENDER,
        ]
    )
    name = waybill.extract_document(doc)["receiver_name"]
    assert name.value == printed
    assert name.needs_review is not accepted, name.reasons


def test_a_glued_romanised_name_is_one_word_of_pinyin_syllables() -> None:
    from luodi.kie.names import glued_romanised_name

    assert glued_romanised_name("PANZHI 13789018558") is not None
    assert glued_romanised_name("EXPRESS") is None  # not pinyin
    assert glued_romanised_name("PAN ZHI") is None  # two words: romanised_name's
    assert glued_romanised_name("Tel") is None
