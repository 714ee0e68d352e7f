"""The dev / holdout split of synthetic-document families, party sources and photo-like rendering."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from luodi.synth import families, parties, photo
from luodi.synth.waybill import LAYOUTS, WaybillOptions, render_waybill
from luodi.synth.waybill_canvas import available_families


def test_every_registry_agrees_with_the_split_table() -> None:
    from luodi.synth.bank_receipt import STYLES
    from luodi.synth.id_card import CARD_LAYOUTS

    for kind, reg in (("waybill", LAYOUTS), ("bank_receipt", STYLES), ("id_card", CARD_LAYOUTS)):
        assert set(families.LAYOUTS[kind]["dev"]) == {n for n, v in reg.items() if not v.holdout}
        fresh = {n for n, v in reg.items() if getattr(v, "fresh", False)}
        assert set(families.LAYOUTS[kind].get("fresh", ())) == fresh
        assert all(reg[n].holdout for n in fresh)
        assert set(families.LAYOUTS[kind]["holdout"]) == {n for n, v in reg.items() if v.holdout} - fresh
    for table, registry in ((families.PAPERS, photo.PAPERS), (families.BACKGROUNDS, photo.BACKGROUNDS)):
        assert set(table["dev"]) == {n for n, t in registry.items() if not t.holdout}
        assert set(table["holdout"]) == {n for n, t in registry.items() if t.holdout}
    assert set(families.PARTY_SOURCES["dev"]) == {n for n, s in parties.SOURCES.items() if not s.holdout}
    assert set(families.PARTY_SOURCES["holdout"]) == {n for n, s in parties.SOURCES.items() if s.holdout}
    for table in (families.PRINT_FONTS, families.HAND_FONTS, families.PARTY_SOURCES, families.PAPERS):
        assert not set(table["dev"]) & set(table["holdout"])
    # every family is named in the module docstring, so the split is documented where it is defined
    doc = families.__doc__ or ""
    named = [*LAYOUTS, *STYLES, *CARD_LAYOUTS, *photo.PAPERS, *photo.BACKGROUNDS, *parties.SOURCES]
    named += [f for t in (families.PRINT_FONTS, families.HAND_FONTS) for fs in t.values() for f in fs]
    assert [n for n in named if n not in doc] == []


def test_fonts_come_from_the_samples_split(mini_ner: Path) -> None:
    installed = {f.name for f in available_families()}
    for layout in LAYOUTS.values():
        split = families.split_name(layout.holdout)
        for index in range(2):
            sample = render_waybill(index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout.name,), seed=7))
            fam = sample.meta["families"]
            assert sample.meta["split"] == split
            if set(families.PRINT_FONTS[split]) & installed:
                assert fam["font"] in families.PRINT_FONTS[split], (layout.name, fam)
            if layout.hand and set(families.HAND_FONTS[split]) & installed:
                assert fam["hand_font"] in families.HAND_FONTS[split]
            for role in ("receiver", "sender"):
                assert fam["parties"][role] in families.PARTY_SOURCES[split]


def test_party_sources_draw_plausible_parties(mini_ner: Path) -> None:
    from luodi.synth.waybill_data import load_parties

    ner = load_parties("train", mini_ner)
    rng = np.random.default_rng(0)
    for source in parties.SOURCES:
        for _ in range(20):
            p = parties.draw_party(source, rng, ner)
            assert p.name and p.address and re.fullmatch(r"1[3-9]\d{9}", p.phone)
            if source.startswith("romanised"):
                assert re.fullmatch(r"[A-Z][A-Za-z\-]*,? [A-Z][A-Za-z\-]*", p.name), p.name
            elif source == "company":
                assert p.name.endswith(("有限公司", "旗舰店"))
            elif source == "ner":
                assert p in ner
            else:
                assert re.search(r"[\u4e00-\u9fff]", p.name)
    # without NER data the dev sources still give parties (generated persons, companies)
    assert parties.draw_party("ner", rng, ()).record == -1
    assert parties.draw_party("company", rng, ()).name.endswith(("有限公司", "旗舰店"))


def test_missing_ner_data_falls_back_to_generated_parties(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from luodi.synth import waybill_data

    monkeypatch.setattr(waybill_data, "_candidate_files", lambda split: [tmp_path / f"{split}.txt"])
    sample = render_waybill(0, WaybillOptions(layouts=("labelled_rows",), seed=1))
    assert sample.meta["ner_split"] is None and sample.fields["receiver_name"]
    assert sample.meta["ner_records"]["receiver"] == -1


@pytest.mark.parametrize("level", photo.LEVELS)
def test_photo_levels_keep_the_labels_and_name_their_families(level: str, mini_ner: Path) -> None:
    for index, layout in enumerate(("tag_block", "carbon_form")):
        clean = render_waybill(index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout,), seed=3))
        shot = render_waybill(index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout,), seed=3, degrade=level))
        again = render_waybill(index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout,), seed=3, degrade=level))
        assert shot.fields == clean.fields and shot.jpeg_bytes() == again.jpeg_bytes()
        fam = shot.meta["families"]
        split = shot.meta["split"]
        assert fam["paper"] in families.PAPERS[split] and fam["background"] in families.BACKGROUNDS[split]
        h, w = shot.image.shape[:2]
        assert 400 <= max(h, w) <= 1400 and shot.image.dtype == np.uint8
        assert shot.meta["degradations"][-1].startswith("jpeg")
        if layout == "carbon_form":
            assert "carbon_ghost" in shot.meta["degradations"]
        # the page is still there: dark strokes on a lighter page, not a washed-out frame
        gray = shot.image.mean(axis=2)
        assert 0.005 < float((gray < 100).mean()) < 0.6


def test_stamp_and_glare_mark_the_page() -> None:
    font = available_families()[0].regular.get(20)
    from PIL import Image

    page = Image.new("RGB", (300, 300), (255, 255, 255))
    stamped = np.asarray(photo.stamp(page, (150, 150), 80, "业务专用章", font=font, rng=np.random.default_rng(0)))
    red = (stamped[..., 0].astype(int) - stamped[..., 1]) > 60
    assert 0.02 < float(red.mean()) < 0.5
    dark = np.full((200, 200, 3), 60, np.uint8)
    bright = photo.glare(dark, np.random.default_rng(1))
    assert bright.max() > 150 and float(np.median(bright)) < 100
