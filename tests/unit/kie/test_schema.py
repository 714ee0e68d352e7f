"""Schema loading: built-ins, user YAML files, and errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from docfactory import extractor, make_doc

from luodi.errors import SchemaError, UnknownSchemaError
from luodi.kie import list_schemas, load_schema

WAYBILL_FIELDS = [
    "carrier",
    "carrier_code",
    "order_number",
    "tracking_number",
    "sender_name",
    "sender_phone",
    "sender_address",
    "receiver_name",
    "receiver_phone",
    "receiver_address",
    "weight_kg",
    "pieces",
    "item",
    "remarks",
]


def test_builtin_schemas_and_field_names() -> None:
    assert set(list_schemas()) == {"waybill", "contact", "bank_receipt", "id_card"}
    waybill = load_schema("waybill")
    parts = [f"{p}_{k}" for p in ("sender", "receiver") for k in ("province", "city", "district", "detail")]
    assert set(waybill.fields) == set(WAYBILL_FIELDS) | set(parts)
    assert set(load_schema("contact").fields) == {"name", "phone", "address", "province", "city", "district", "detail"}
    bank = set(load_schema("bank_receipt").fields)
    assert {
        "bank",
        "date",
        "serial_number",
        "payer_name",
        "payer_account",
        "payee_name",
        "payee_account",
        "amount",
        "amount_in_words",
        "purpose",
    } <= bank
    assert set(load_schema("id_card").fields) == {
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "address",
        "id_number",
        "issuing_authority",
        "valid_from",
        "valid_to",
    }


def test_unknown_schema_lists_the_builtins() -> None:
    with pytest.raises(UnknownSchemaError, match="waybill"):
        load_schema("invoice")
    with pytest.raises(UnknownSchemaError, match="does not exist"):
        extractor("/nonexistent/schema.yaml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_schema_from_a_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
name: parcel_tag
fields:
  order_id:
    type: text
    labels: [订单编号]
    patterns: ['([A-Z]{2}\\d{6})']
    required: true
  phone:
    type: phone
    labels: [联系电话]
""",
    )
    ex = extractor(path)
    res = ex.extract_document(make_doc([("订单编号：AB123456 加急", 50, 50), ("联系电话：13812345678", 50, 90)]))
    assert res.schema == "parcel_tag"
    assert res.get("order_id") == "AB123456"
    assert res.get("phone") == "13812345678"
    assert not res.needs_review


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nfields:\n  a:\n    type: text\n    labels: [one, two\n  b: {type: text}\n")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    assert str(path) in err.value.message
    assert ":6:" in err.value.message or ":5:" in err.value.message


def test_unknown_type_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nfields:\n  a:\n    type: text\n  b:\n    labels: [金额]\n    type: money\n")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    msg = err.value.message
    assert msg.startswith(f"{path}:7:"), msg
    assert "fields.b.type" in msg and "unknown field type 'money'" in msg


def test_bad_regex_and_unknown_validator(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nfields:\n  a:\n    type: text\n    patterns: ['([0-9]']\n")
    with pytest.raises(SchemaError, match=r"mine\.yaml:5: fields\.a\.patterns: bad regex"):
        load_schema(path)
    path = _write(tmp_path, "name: x\nfields:\n  a:\n    type: text\n    validators: [luhn]\n")
    with pytest.raises(SchemaError, match=r":5: fields\.a\.validators: unknown validator 'luhn'"):
        load_schema(path)


def test_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"mine\.yaml:1: a schema must be a mapping"):
        load_schema(_write(tmp_path, "- just\n- a list\n"))
    with pytest.raises(SchemaError, match=r"mine\.yaml:1: fields: Field required"):
        load_schema(_write(tmp_path, "name: x\n"))
    with pytest.raises(SchemaError, match=r":4: fields\.a\.colour: Extra inputs"):
        load_schema(_write(tmp_path, "name: x\nfields:\n  a:\n    colour: red\n"))
    with pytest.raises(SchemaError, match="source 'nowhere'"):
        load_schema(_write(tmp_path, "name: x\nfields:\n  p: {type: address_part, source: nowhere, part: city}\n"))
    with pytest.raises(SchemaError, match=r":2: review_threshold"):
        load_schema(_write(tmp_path, "name: x\nreview_threshold: 2\nfields:\n  a: {type: text}\n"))
