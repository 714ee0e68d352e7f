"""The naive regex baseline of bench/kie_bench.py does what its docstring says (and no more)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).resolve().parents[3] / "bench" / "baselines" / "naive_regex.py"


@pytest.fixture(scope="module")
def naive() -> ModuleType:
    spec = importlib.util.spec_from_file_location("naive_regex", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_labelled_rows_are_read(naive: ModuleType) -> None:
    lines = [
        "顺丰速运",
        "运单号：SF1234567890123",
        "收件人：宣荣嗣 电话：16620200077",
        "地址：甘肃省白银市会宁县河畔镇十字街",
        "寄件人：张铱 电话：13601328173",
        "地址：广东省梅州市大埔县茶阳镇胜利路",
        "物品：文件 件数：2 重量：3斤",
        "备注：易碎品 轻拿轻放",
    ]
    out = naive.extract("waybill", lines)
    assert out == {
        "carrier": "顺丰速运",
        "tracking_number": "SF1234567890123",
        "receiver_name": "宣荣嗣",
        "receiver_phone": "16620200077",
        "receiver_address": "甘肃省白银市会宁县河畔镇十字街",
        "receiver_province": "甘肃省",
        "receiver_city": "白银市",
        "receiver_district": "会宁县",
        "receiver_detail": "河畔镇十字街",
        "sender_name": "张铱",
        "sender_phone": "13601328173",
        "sender_address": "广东省梅州市大埔县茶阳镇胜利路",
        "sender_province": "广东省",
        "sender_city": "梅州市",
        "sender_district": "大埔县",
        "sender_detail": "茶阳镇胜利路",
        "item": "文件",
        "pieces": 2,
        "weight_kg": 1.5,
        "remarks": "易碎品 轻拿轻放",
    }


def test_naive_rules_fail_where_documented(naive: ModuleType) -> None:
    # sender printed first: the first mobile is taken as the receiver's; tag-only blocks give no names
    lines = ["寄 张铱 13601328173", "广东省梅州市大埔县茶阳镇胜利路", "收 宣荣嗣 16620200077", "甘肃省白银市会宁县"]
    out = naive.extract("waybill", lines)
    assert out["receiver_phone"] == "13601328173"
    assert "receiver_name" not in out and "receiver_address" not in out
    assert naive.extract("id_card", lines) == {}


def test_bank_slip_value_on_the_next_line(naive: ModuleType) -> None:
    lines = ["中国工商银行", "交易日期(DATE)", "2012-10-23", "流水号(TRACE NO)", "000016", "金额(AMOUNT): RMB 1,234.50"]
    out = naive.extract("bank_receipt", lines)
    assert out["bank"] == "中国工商银行"
    assert out["date"] == "2012-10-23"
    assert out["serial_number"] == "000016"
    assert out["amount"] == "1234.50"
