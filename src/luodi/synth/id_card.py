"""Synthetic resident ID cards (居民身份证), front and back, with ``id_card`` schema labels.

    luodi synth id-card -n 20 -o out/ids --layout dev --degrade photo

The data is fake but valid: the ID number starts with a real county-level division code of the
address (from the gazetteer, else a small built-in list), encodes the birth date and the sex (the
17th digit is odd for men) and ends with the ISO 7064 MOD 11-2 check character. Validity follows the
rules by age at issue (under 16: 5 years, 16–25: 10, 26–45: 20, older: 长期). No photo: a grey
silhouette stands in. Layouts and their split (:mod:`luodi.synth.families`):

- ``card_scan`` (dev): front above back on white, as a colour scan of both sides;
- ``card_photocopy`` (holdout): both sides anywhere on a grey A4 photocopy, toner noise, a side
  sometimes turned a little.

Labels: name, sex, ethnicity (without 族), birth_date, address, id_number, issuing_authority,
valid_from and valid_to (ISO dates, or 长期).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from luodi.errors import ConfigError, LuodiError
from luodi.synth.documents import DocOptions, DocSample, finish, load_ner_persons, resolve
from luodi.synth.families import pick_font, split_name
from luodi.synth.parties import gazetteer_address, person_name
from luodi.synth.waybill_canvas import Canvas, FontFamily, Style
from luodi.synth.waybill_data import Party

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
ETHNICITIES = ("汉",) * 18 + ("回", "满", "壮", "苗", "维吾尔", "土家", "彝", "蒙古", "藏", "朝鲜")


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-character ID number."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True, slots=True)
class IdCard:
    name: str
    sex: str
    ethnicity: str
    birth: _dt.date
    address: str
    number: str
    authority: str
    valid_from: _dt.date
    valid_to: _dt.date | None  # None: 长期

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sex": self.sex,
            "ethnicity": self.ethnicity,
            "birth_date": self.birth.isoformat(),
            "address": self.address,
            "id_number": self.number,
            "issuing_authority": self.authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else "长期",
        }


def _division_code(province: str, city: str | None, district: str) -> str:
    """The adcode of the district (a made-up but well-formed one when the gazetteer lacks it)."""
    try:
        from luodi.kie.gazetteer import Level, get_gazetteer

        gaz = get_gazetteer()
    except (LuodiError, ImportError):  # optional data: a plausible code instead
        return "330106"
    found = gaz.lookup(district, Level.DISTRICT)
    for d in found:
        parent = gaz.get(d.province_code)
        if parent is not None and parent.name == province:
            return d.code
    return found[0].code if found else "330106"


def _years_valid(age: int) -> int | None:
    if age < 16:
        return 5
    if age <= 25:
        return 10
    if age <= 45:
        return 20
    return None


def make_card(rng: np.random.Generator, ner: Sequence[Party], split: str) -> IdCard:
    province, city, district, detail = gazetteer_address(rng)
    # dev cards take the names of the NER persons, holdout cards generated ones
    name = ner[int(rng.integers(0, len(ner)))].name if split == "dev" and ner else person_name(rng)
    birth = _dt.date(int(rng.integers(1950, 2008)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    sex = "男" if rng.random() < 0.5 else "女"
    seq = int(rng.integers(0, 100)) * 10 + int(rng.choice([1, 3, 5, 7, 9] if sex == "男" else [0, 2, 4, 6, 8]))
    first17 = f"{_division_code(province, city, district)}{birth:%Y%m%d}{seq:03d}"
    issue_age = int(rng.integers(16, 70))
    issued = _dt.date(min(birth.year + issue_age, 2025), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    years = _years_valid(issued.year - birth.year)
    valid_to = issued.replace(year=issued.year + years) if years else None
    if district.endswith("区"):  # a city district has a branch of the city's bureau
        police = f"{city or province}公安局{district.removesuffix('区')}分局"
    else:  # counties, county-level cities and banners have their own bureau
        police = f"{district}公安局"
    return IdCard(
        name=name,
        sex=sex,
        ethnicity=ETHNICITIES[int(rng.integers(0, len(ETHNICITIES)))],
        birth=birth,
        address=f"{province}{city or ''}{district}{detail}",
        number=first17 + check_character(first17),
        authority=police,
        valid_from=issued,
        valid_to=valid_to,
    )


_CARD_W, _CARD_H = 856, 540  # 85.6 x 54 mm at 10 px/mm


def _card_background(cv: Canvas, rng: np.random.Generator) -> None:
    """The pale blue-green guilloche of the card, drawn as fine wavy lines."""
    tint = (int(rng.integers(225, 240)), int(rng.integers(236, 248)), int(rng.integers(240, 252)))
    cv.draw.rounded_rectangle((0, 0, _CARD_W - 1, _CARD_H - 1), radius=30, fill=tint, outline=(180, 190, 200))
    xs = np.arange(0, _CARD_W, 4)
    for k in range(0, _CARD_H, 18):
        phase = float(rng.uniform(0, 6.28))
        ys = k + 6 * np.sin(xs / 40 + phase)
        cv.draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(205, 222, 230), width=1)


def _front(card: IdCard, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    style = Style(family, 28, (20, 20, 20), (255, 255, 255), (60, 90, 140))
    cv = Canvas(_CARD_W, _CARD_H, style)
    _card_background(cv, rng)
    label, value = 24, 30
    x, y = 60, 50
    cv.text(x, y, "姓名", label, fill=style.gray)
    cv.text(x + 90, y - 2, card.name, value, bold=True)
    y += 62
    cv.text(x, y, "性别", label, fill=style.gray)
    cv.text(x + 90, y - 2, card.sex, value)
    cv.text(x + 200, y, "民族", label, fill=style.gray)
    cv.text(x + 290, y - 2, card.ethnicity, value)
    y += 62
    cv.text(x, y, "出生", label, fill=style.gray)
    b = card.birth
    cv.text(x + 90, y - 2, f"{b.year}  年  {b.month}  月  {b.day}  日", value)
    y += 62
    cv.text(x, y, "住址", label, fill=style.gray)
    for line in cv.wrap(card.address, value, 420):
        cv.text(x + 90, y - 2, line, value)
        y += 42
    cv.text(x, 440, "公民身份号码", label, fill=style.gray)
    cv.text(x + 190, 436, card.number, 34, bold=True)
    # the photo: a grey head-and-shoulders silhouette
    px, py = 600, 70
    cv.draw.rectangle((px, py, px + 200, py + 250), fill=(232, 236, 240))
    cv.draw.ellipse((px + 55, py + 40, px + 145, py + 150), fill=(150, 155, 160))
    cv.draw.pieslice((px + 10, py + 150, px + 190, py + 330), 180, 360, fill=(150, 155, 160))
    out = cv.image.copy()
    out.info["texts"] = list(cv.texts)
    return out


def _back(card: IdCard, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    style = Style(family, 28, (20, 20, 20), (255, 255, 255), (60, 90, 140))
    cv = Canvas(_CARD_W, _CARD_H, style)
    _card_background(cv, rng)
    cv.draw.ellipse((60, 40, 200, 180), outline=(200, 40, 40), width=6)  # the emblem's place
    cv.draw.ellipse((100, 80, 160, 140), fill=(210, 60, 50))
    cv.text(300, 60, "中华人民共和国", 44, bold=True)
    cv.text(300, 140, "居民身份证", 56, bold=True)
    cv.text(150, 370, "签发机关", 24, fill=style.gray)
    cv.text(280, 366, card.authority, _fit_width(cv, card.authority, 30, 520))
    cv.text(150, 440, "有效期限", 24, fill=style.gray)
    sep = "." if rng.random() < 0.8 else "-"
    start = card.valid_from.strftime(f"%Y{sep}%m{sep}%d")
    end = card.valid_to.strftime(f"%Y{sep}%m{sep}%d") if card.valid_to else "长期"
    cv.text(280, 436, f"{start}-{end}", 30)
    out = cv.image.copy()
    out.info["texts"] = list(cv.texts)
    return out


def _fit_width(cv: Canvas, text: str, size: int, width: float) -> int:
    while size > 14 and cv.text_width(text, size) > width:
        size -= 1
    return size


def _sheet(sides: Sequence[Image.Image], positions: Sequence[tuple[int, int]], size: tuple[int, int]) -> Image.Image:
    sheet = Image.new("RGB", size, (255, 255, 255))
    mask = Image.new("L", (_CARD_W, _CARD_H), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, _CARD_W - 1, _CARD_H - 1), radius=30, fill=255)
    texts: list[tuple[str, tuple[int, int, int, int]]] = []
    for side, (x, y) in zip(sides, positions, strict=True):
        sheet.paste(side, (x, y), mask)
        texts += [(t, (b[0] + x, b[1] + y, b[2] + x, b[3] + y)) for t, b in side.info.get("texts", ())]
    sheet.info["texts"] = texts
    return sheet


def card_scan(card: IdCard, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    front, back = _front(card, family, rng), _back(card, family, rng)
    return _sheet((front, back), ((40, 40), (40, 40 + _CARD_H + 60)), (_CARD_W + 80, 2 * _CARD_H + 140))


def card_photocopy(card: IdCard, family: FontFamily, rng: np.random.Generator) -> Image.Image:
    front, back = _front(card, family, rng), _back(card, family, rng)
    w, h = 1240, 1754  # A4 at 150 dpi
    x0 = int(rng.integers(60, w - _CARD_W - 60))
    y0 = int(rng.integers(60, 300))
    y1 = y0 + _CARD_H + int(rng.integers(60, 300))
    x1 = int(rng.integers(60, w - _CARD_W - 60))
    sheet = _sheet((front, back), ((x0, y0), (x1, y1)), (w, h))
    # a photographed copy is framed on the cards, not on the empty rest of the A4 sheet
    left, top = max(0, min(x0, x1) - 70), max(0, y0 - 70)
    right, bottom = min(w, max(x0, x1) + _CARD_W + 70), min(h, y1 + _CARD_H + 70)
    texts = [(t, (b[0] - left, b[1] - top, b[2] - left, b[3] - top)) for t, b in sheet.info["texts"]]
    sheet = sheet.crop((left, top, right, bottom))
    gray = np.asarray(sheet.convert("L"), np.float32)
    # toner: contrast pushed, speckles, grey cast; the text layer stays (boxes unchanged)
    gray = np.clip((gray - 128) * float(rng.uniform(1.2, 1.6)) + 128 + float(rng.uniform(-10, 5)), 0, 255)
    specks = rng.random(gray.shape) < 0.002
    gray[specks] = float(rng.uniform(0, 80))
    gray = cv2.GaussianBlur(gray, (0, 0), 0.7)
    out = Image.fromarray(np.asarray(gray, np.uint8)).convert("RGB")
    out.info["texts"] = texts
    return out


@dataclass(frozen=True, slots=True)
class CardLayout:
    name: str
    render: Callable[[IdCard, FontFamily, np.random.Generator], Image.Image]
    holdout: bool


CARD_LAYOUTS: dict[str, CardLayout] = {
    lay.name: lay
    for lay in (CardLayout("card_scan", card_scan, False), CardLayout("card_photocopy", card_photocopy, True))
}


def resolve_card_layouts(names: Sequence[str]) -> tuple[str, ...]:
    return resolve(names, {n: lay.holdout for n, lay in CARD_LAYOUTS.items()}, "ID card")


def render_id_card(index: int, options: DocOptions | None = None) -> DocSample:
    """Card number ``index`` of the set ``options`` describes (deterministic)."""
    opts = options or DocOptions()
    if index < 0:
        raise ConfigError("sample index must be non-negative")
    names = resolve_card_layouts(opts.layouts)
    lay = CARD_LAYOUTS[names[index % len(names)]]
    split = split_name(lay.holdout)
    rng = np.random.default_rng([opts.seed, index, 0x1DCA])
    card = make_card(rng, load_ner_persons(opts), split)
    text = card.name + card.address + card.authority + card.ethnicity + "姓名性别民族出生年月日住址公民身份号码"
    text += "签发机关有效期限中华人民共和国居民证长期"
    family = pick_font(split, rng, text)
    page = lay.render(card, family, rng)
    image, applied, photo_meta = finish(page, opts.degrade, split, rng)
    meta: dict[str, Any] = {
        "seed": opts.seed,
        "index": index,
        "split": split,
        "families": {
            "layout": lay.name,
            "font": family.name,
            **{k: photo_meta[k] for k in ("paper", "background") if k in photo_meta},
        },
        "degradations": applied,
    }
    return DocSample(
        index=index,
        image=np.ascontiguousarray(image),
        schema="id_card",
        layout=lay.name,
        holdout=lay.holdout,
        degrade=opts.degrade,
        fields=card.fields(),
        meta=meta,
        text_layer=tuple(page.info.get("texts", ())),
    )
