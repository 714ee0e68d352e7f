"""Synthetic railway tickets (火车票): a document type that prints no labels.

    sample = render_ticket(7, DocOptions(layouts=("dev",), degrade="photo"))

A ticket says which station is the departure and which the arrival only by where it prints them
(departure left of the train number, arrival right), and the date, seat, price and passenger
without a word before them. It is the test case of learned layouts (:mod:`luodi.kie.learned`):
a schema of labels and patterns cannot tell the two stations apart.

Styles (the layout name; holdout styles are kept out of development, see docs/kie.md):

- ``blue_magnetic`` (dev): the blue card of 2012-2020, station pinyin under the names, the
  passenger's masked ID number and name on one line;
- ``red_soft`` (dev): the older pink card: the train number carries 次, no pinyin, the check-in
  gate top right, the class before the price;
- ``blue_2013`` (dev): the blue card as sold around 2013 (the layout of the one real ticket photo
  in the shared samples): the date above the stations, no 站, the name on its own line;
- ``e_voucher`` (holdout): the reimbursement voucher (报销凭证) of e-tickets, on white paper with a
  QR code, the e-ticket number printed, everything shifted and resized.

Labels: serial, departure_station, arrival_station (without 站), train_number, date (ISO),
time (HH:MM:SS), carriage_seat (05车12A号), seat_class, price (a number), id_number (masked as
printed), name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from luodi.errors import ConfigError
from luodi.synth.documents import DocOptions, DocSample, finish, resolve
from luodi.synth.families import pick_font, split_name
from luodi.synth.parties import person_name
from luodi.synth.waybill_canvas import Canvas, FontFamily, Style

# (station, pinyin as printed under it): real stations, public facts.
STATIONS: tuple[tuple[str, str], ...] = (
    ("北京南", "Beijingnan"), ("北京西", "Beijingxi"), ("上海虹桥", "Shanghaihongqiao"), ("上海", "Shanghai"),
    ("广州南", "Guangzhounan"), ("深圳北", "Shenzhenbei"), ("杭州东", "Hangzhoudong"), ("南京南", "Nanjingnan"),
    ("武汉", "Wuhan"), ("长沙南", "Changshanan"), ("成都东", "Chengdudong"), ("重庆北", "Chongqingbei"),
    ("西安北", "Xi'anbei"), ("郑州东", "Zhengzhoudong"), ("天津西", "Tianjinxi"), ("济南西", "Jinanxi"),
    ("青岛北", "Qingdaobei"), ("合肥南", "Hefeinan"), ("福州南", "Fuzhounan"), ("厦门北", "Xiamenbei"),
    ("南昌西", "Nanchangxi"), ("贵阳北", "Guiyangbei"), ("昆明南", "Kunmingnan"), ("南宁东", "Nanningdong"),
    ("石家庄", "Shijiazhuang"), ("太原南", "Taiyuannan"), ("沈阳北", "Shenyangbei"), ("长春西", "Changchunxi"),
    ("哈尔滨西", "Ha'erbinxi"), ("兰州西", "Lanzhouxi"), ("苏州北", "Suzhoubei"), ("无锡东", "Wuxidong"),
    ("宁波", "Ningbo"), ("温州南", "Wenzhounan"), ("徐州东", "Xuzhoudong"), ("洛阳龙门", "Luoyanglongmen"),
    ("宜昌东", "Yichangdong"), ("岳阳东", "Yueyangdong"), ("衡阳东", "Hengyangdong"), ("桂林北", "Guilinbei"),
    ("汕头", "Shantou"), ("珠海", "Zhuhai"), ("东莞南", "Dongguannan"), ("佛山西", "Foshanxi"),
    ("大连北", "Dalianbei"), ("烟台", "Yantai"), ("潍坊", "Weifang"), ("绵阳", "Mianyang"),
    ("宝鸡南", "Baojinan"), ("芜湖", "Wuhu"), ("金华", "Jinhua"), ("义乌", "Yiwu"),
    ("嘉兴南", "Jiaxingnan"), ("常州北", "Changzhoubei"), ("镇江南", "Zhenjiangnan"), ("蚌埠南", "Bengbunan"),
    ("信阳东", "Xinyangdong"), ("孝感北", "Xiaoganbei"), ("株洲西", "Zhuzhouxi"), ("韶关", "Shaoguan"),
)  # fmt: skip
SEAT_CLASSES = ("二等座", "二等座", "二等座", "一等座", "商务座", "硬座", "硬卧", "软卧", "无座")
OFFICES = ("售", "售", "网")


@dataclass(frozen=True, slots=True)
class Ticket:
    serial: str
    departure: tuple[str, str]
    arrival: tuple[str, str]
    train: str
    year: int
    month: int
    day: int
    hour: int
    minute: int
    carriage: int
    seat: str  # 12A, 076 or "" (无座)
    seat_class: str
    price: float
    id_masked: str
    name: str
    office: str  # where it was sold: 北京南售
    gate: int

    @property
    def carriage_seat(self) -> str:
        if not self.seat:
            return f"{self.carriage:02d}车无座"
        if self.seat.endswith("铺"):  # a berth: 05车12号下铺
            return f"{self.carriage:02d}车{self.seat[:2]}号{self.seat[2:]}"
        return f"{self.carriage:02d}车{self.seat}号"

    def fields(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "departure_station": self.departure[0],
            "arrival_station": self.arrival[0],
            "train_number": self.train,
            "date": f"{self.year:04d}-{self.month:02d}-{self.day:02d}",
            "time": f"{self.hour:02d}:{self.minute:02d}:00",
            "carriage_seat": self.carriage_seat,
            "seat_class": self.seat_class,
            "price": self.price,
            "id_number": self.id_masked,
            "name": self.name,
        }


def make_ticket(rng: np.random.Generator) -> Ticket:
    i, j = rng.choice(len(STATIONS), size=2, replace=False)
    seat_class = SEAT_CLASSES[int(rng.integers(0, len(SEAT_CLASSES)))]
    prefix = (
        "GDC"[int(rng.integers(0, 3))]
        if "座" in seat_class and seat_class != "硬座"
        else "ZTK"[int(rng.integers(0, 3))]
    )
    train = prefix + str(int(rng.integers(1, 10 ** int(rng.integers(1, 5)))))
    if seat_class == "无座":
        seat = ""
    elif seat_class in ("硬卧", "软卧"):
        seat = f"{int(rng.integers(1, 20)):02d}{'上中下'[int(rng.integers(0, 3))]}铺"
    elif seat_class == "硬座":
        seat = f"{int(rng.integers(1, 119)):03d}"
    else:
        seat = f"{int(rng.integers(1, 18)):02d}{'ABCDF'[int(rng.integers(0, 5))]}"
    price = round(float(rng.uniform(9, 1800)) * 2) / 2
    region = int(rng.integers(110000, 659000))
    born = int(rng.integers(1950, 2010))
    id_masked = f"{region}{born}****{int(rng.integers(0, 1000)):03d}{'0123456789X'[int(rng.integers(0, 11))]}"
    office = STATIONS[int(rng.integers(0, len(STATIONS)))][0] + OFFICES[int(rng.integers(0, len(OFFICES)))]
    return Ticket(
        serial="ABCDEFGHJKLMNPQRSTUVWXYZ"[int(rng.integers(0, 24))] + f"{int(rng.integers(0, 10**6)):06d}",
        departure=STATIONS[int(i)],
        arrival=STATIONS[int(j)],
        train=train,
        year=int(rng.integers(2015, 2027)),
        month=int(rng.integers(1, 13)),
        day=int(rng.integers(1, 29)),
        hour=int(rng.integers(5, 24)),
        minute=int(rng.integers(0, 60)),
        carriage=int(rng.integers(1, 17)),
        seat=seat,
        seat_class=seat_class,
        price=price,
        id_masked=id_masked,
        name=person_name(rng),
        office=office,
        gate=int(rng.integers(1, 30)),
    )


_W, _H = 900, 560
Color = tuple[int, int, int]
_RED = (200, 40, 40)


def _guilloche(cv: Canvas, tint: Color, line: Color, rng: np.random.Generator) -> None:
    cv.draw.rounded_rectangle((0, 0, _W - 1, _H - 1), radius=18, fill=tint)
    xs = np.arange(0, _W, 5)
    for k in range(0, _H, 22):
        ys = k + 5 * np.sin(xs / 35 + float(rng.uniform(0, 6.28)))
        cv.draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=line, width=1)


def _station(cv: Canvas, x: float, y: float, st: tuple[str, str], size: int, pinyin: int) -> float:
    """Station name with a smaller 站 after it (and its pinyin below when ``pinyin`` > 0); returns
    the right end."""
    box = cv.text(x, y, st[0], size, bold=True)
    right = cv.text(box[2] + 4, y + size - int(size * 0.72), "站", int(size * 0.72))[2]
    if pinyin:
        cv.text(x, box[3] + 8, st[1], pinyin)
    return float(right)


def _arrow(cv: Canvas, x0: float, x1: float, y: float) -> None:
    cv.draw.line((x0, y, x1, y), fill=cv.style.ink, width=3)
    cv.draw.polygon(((x1, y), (x1 - 14, y - 7), (x1 - 14, y + 7)), fill=cv.style.ink)


def blue_magnetic(t: Ticket, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(_W, _H, Style(family, 30, (25, 25, 30), (255, 255, 255), (70, 90, 120)))
    _guilloche(cv, (200, 225, 242), (180, 210, 235), rng)
    jx, jy = (int(v) for v in rng.integers(-12, 13, size=2))
    cv.text(40 + jx, 24 + jy, t.serial, 32, fill=_RED)
    cv.text(650 + jx, 30 + jy, t.office, 26)
    _station(cv, 60 + jx, 90 + jy, t.departure, 46, 20)
    cv.text(380 + jx, 84 + jy, t.train, 40, bold=True)
    _arrow(cv, 360 + jx, 520 + jx, 142 + jy)
    _station(cv, 580 + jx, 90 + jy, t.arrival, 46, 20)
    cv.text(60 + jx, 200 + jy, f"{t.year}年{t.month:02d}月{t.day:02d}日{t.hour:02d}:{t.minute:02d}开", 30)
    cv.text(600 + jx, 200 + jy, t.carriage_seat, 30)
    cv.text(60 + jx, 252 + jy, f"¥{t.price:.1f}元", 30)
    cv.text(600 + jx, 252 + jy, t.seat_class, 30)
    cv.text(60 + jx, 304 + jy, "限乘当日当次车", 26)
    cv.text(60 + jx, 356 + jy, f"{t.id_masked}{t.name}", 28)
    cv.draw.rectangle((60 + jx, 412 + jy, 560 + jx, 490 + jy), outline=cv.style.ink, width=2)
    cv.text(80 + jx, 420 + jy, "买票请到12306 发货请到95306", 22)
    cv.text(80 + jx, 456 + jy, "中国铁路祝您旅途愉快", 22)
    cv.text(40 + jx, 512 + jy, f"{rng.integers(10**13, 10**14)}{t.serial} {t.office}", 20)
    return cv.finish(margin=0, min_height=_H)


def red_soft(t: Ticket, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(_W, _H, Style(family, 30, (30, 20, 25), (255, 255, 255), (120, 70, 80)))
    _guilloche(cv, (246, 214, 220), (236, 196, 204), rng)
    jx, jy = (int(v) for v in rng.integers(-12, 13, size=2))
    cv.text(50 + jx, 30 + jy, t.serial, 34, fill=_RED)
    cv.text(620 + jx, 36 + jy, f"检票:{t.gate}", 26)
    _station(cv, 70 + jx, 104 + jy, t.departure, 44, 0)
    cv.text(390 + jx, 96 + jy, f"{t.train}次", 38, bold=True)
    _arrow(cv, 370 + jx, 530 + jx, 150 + jy)
    _station(cv, 590 + jx, 104 + jy, t.arrival, 44, 0)
    cv.text(70 + jx, 196 + jy, f"{t.year}年{t.month:02d}月{t.day:02d}日 {t.hour:02d}:{t.minute:02d}开", 30)
    cv.text(600 + jx, 196 + jy, t.carriage_seat, 30)
    cv.text(70 + jx, 250 + jy, t.seat_class, 28)
    cv.text(250 + jx, 250 + jy, f"¥{t.price:.1f}元", 30)
    cv.text(70 + jx, 304 + jy, "限乘当日当次车", 26)
    cv.text(400 + jx, 304 + jy, "在3日内到有效", 24)
    cv.text(70 + jx, 360 + jy, f"{t.id_masked} {t.name}", 28)
    cv.text(70 + jx, 440 + jy, f"{t.office} {rng.integers(10**9, 10**10)}", 22)
    return cv.finish(margin=0, min_height=_H)


def blue_2013(t: Ticket, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    """The blue card as sold around 2013: the date above the stations, no 站, the name on its own
    line above the masked ID number, the class in small print under the seat."""
    cv = Canvas(_W, _H, Style(family, 30, (25, 25, 35), (255, 255, 255), (70, 90, 120)))
    _guilloche(cv, (214, 234, 246), (190, 220, 238), rng)
    jx, jy = (int(v) for v in rng.integers(-12, 13, size=2))
    cv.text(50 + jx, 28 + jy, t.serial, 32, fill=_RED)
    cv.text(600 + jx, 34 + jy, t.office, 28)
    cv.text(60 + jx, 84 + jy, f"{t.year}年{t.month:02d}月{t.day:02d}日{t.hour:02d}:{t.minute:02d}开", 30)
    cv.text(590 + jx, 84 + jy, t.carriage_seat, 30)
    cv.text(650 + jx, 124 + jy, t.seat_class, 22)
    cv.text(80 + jx, 160 + jy, t.departure[0], 44, bold=True)
    cv.text(70 + jx, 214 + jy, t.departure[1], 22)
    cv.text(330 + jx, 150 + jy, f"{t.train}次", 38)
    _arrow(cv, 320 + jx, 470 + jx, 200 + jy)
    cv.text(560 + jx, 160 + jy, t.arrival[0], 44, bold=True)
    cv.text(550 + jx, 214 + jy, t.arrival[1], 22)
    cv.text(60 + jx, 262 + jy, f"¥{t.price:.2f}元", 30)
    cv.text(60 + jx, 310 + jy, "限乘当日当次车", 26)
    cv.text(60 + jx, 350 + jy, t.name, 30)
    cv.text(400 + jx, 360 + jy, f"检票口{t.gate}", 30)
    cv.text(60 + jx, 394 + jy, t.id_masked, 30)
    digits = "".join(str(d) for d in rng.integers(0, 10, size=20))
    cv.text(50 + jx, 460 + jy, "-".join(digits[k : k + 4] for k in range(0, 20, 4)), 24)
    cv.text(650 + jx, 450 + jy, "和谐号", 32, bold=True)
    cv.qr(660 + jx, 280 + jy, 130, rng)
    return cv.finish(margin=0, min_height=_H)


def e_voucher(t: Ticket, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(_W, 620, Style(family, 30, (20, 20, 20), (255, 255, 255), (60, 60, 60)))
    cv.draw.rectangle((0, 0, _W - 1, 619), fill=(252, 252, 250), outline=(90, 120, 170), width=4)
    jx, jy = (int(v) for v in rng.integers(-10, 11, size=2))
    cv.text(36 + jx, 20 + jy, t.serial, 30, fill=_RED)
    cv.text(360 + jx, 20 + jy, "报销凭证", 34, bold=True)
    cv.text(660 + jx, 26 + jy, t.office, 24)
    _station(cv, 50 + jx, 96 + jy, t.departure, 50, 22)
    cv.text(392 + jx, 92 + jy, t.train, 42, bold=True)
    _arrow(cv, 372 + jx, 540 + jx, 154 + jy)
    _station(cv, 590 + jx, 96 + jy, t.arrival, 50, 22)
    cv.text(50 + jx, 214 + jy, f"{t.year}年{t.month:02d}月{t.day:02d}日 {t.hour:02d}:{t.minute:02d}开", 32)
    cv.text(590 + jx, 214 + jy, t.carriage_seat, 32)
    cv.text(50 + jx, 268 + jy, f"¥{t.price:.1f}元", 32)
    cv.text(590 + jx, 268 + jy, t.seat_class, 32)
    cv.text(50 + jx, 322 + jy, "仅供报销使用", 26)
    cv.text(50 + jx, 376 + jy, f"{t.id_masked}{t.name}", 30)
    cv.text(50 + jx, 440 + jy, "电子客票号:" + "".join(str(d) for d in rng.integers(0, 10, size=12)), 24)
    cv.text(50 + jx, 490 + jy, "中国铁路祝您旅途愉快", 24)
    cv.text(50 + jx, 560 + jy, f"{rng.integers(10**13, 10**14)}{t.serial} {t.office}", 20)
    cv.qr(700 + jx, 360 + jy, 150, rng)
    return cv.finish(margin=0, min_height=620)


@dataclass(frozen=True, slots=True)
class TicketStyle:
    name: str
    render: Callable[[Ticket, FontFamily, np.random.Generator], Image.Image]
    holdout: bool


TICKET_STYLES: dict[str, TicketStyle] = {
    s.name: s
    for s in (
        TicketStyle("blue_magnetic", blue_magnetic, False),
        TicketStyle("red_soft", red_soft, False),
        TicketStyle("blue_2013", blue_2013, False),
        TicketStyle("e_voucher", e_voucher, True),
    )
}


def resolve_ticket_styles(names: tuple[str, ...]) -> tuple[str, ...]:
    return resolve(names, {n: s.holdout for n, s in TICKET_STYLES.items()}, "ticket")


def render_ticket(index: int, options: DocOptions | None = None) -> DocSample:
    """Ticket number ``index`` of the set ``options`` describes (deterministic): styles round-robin,
    fonts, papers and backgrounds of the style's split."""
    opts = options or DocOptions()
    if index < 0:
        raise ConfigError("sample index must be non-negative")
    names = resolve_ticket_styles(opts.layouts)
    style = TICKET_STYLES[names[index % len(names)]]
    split = split_name(style.holdout)
    rng = np.random.default_rng([opts.seed, index, 0x7C7])
    ticket = make_ticket(rng)
    text = (
        "".join(s for s, _ in STATIONS) + ticket.name + "站年月日开车号座卧铺无上中下元限乘当次检票售网报销凭证仅供使用"
    )
    family = pick_font(split, rng, text + "电子客票号在内到有效买请发货中国铁路祝您旅途愉快")
    page = style.render(ticket, family, rng)
    image, applied, photo_meta = finish(page, opts.degrade, split, rng)
    meta: dict[str, Any] = {
        "seed": opts.seed,
        "index": index,
        "split": split,
        "families": {"layout": style.name, "font": family.name}
        | {k: photo_meta[k] for k in ("paper", "background") if k in photo_meta},
        "degradations": applied,
    }
    return DocSample(
        index=index,
        image=np.ascontiguousarray(image),
        schema="ticket",
        layout=style.name,
        holdout=style.holdout,
        degrade=opts.degrade,
        fields=ticket.fields(),
        meta=meta,
        text_layer=tuple(page.info.get("texts", ())),
    )
