"""Extraction schemas: YAML files validated by pydantic models.

A schema names the fields to extract and, for each, its type (which picks the validator and
normaliser), the label synonyms printed before it, optional value patterns, whether it is required
and, for waybills, which party (sender / receiver) it belongs to. Built-in schemas live next to this
module in ``schemas/*.yaml``; a user schema is any YAML file of the same shape.

Errors name the file and the line: the YAML is composed into nodes first, so a pydantic error
location (``fields.receiver_name.type``) can be walked back to the node's line.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from luodi.errors import SchemaError, UnknownSchemaError
from luodi.kie.validators import CHECKERS, FIELD_TYPES

# What a field is to its party: a waybill's sender has a name, phone and address; a bank receipt's
# payer a name, an account and a bank.
Role = Literal["name", "phone", "address", "account", "bank"]
Party = str  # a party of the schema's `parties:` (sender, receiver; payer, payee)
AddressPart = Literal["province", "city", "district", "detail"]
_ROLE_OF_TYPE: dict[str, Role] = {"name": "name", "phone": "phone", "address": "address", "account": "account"}


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "text"
    labels: tuple[str, ...] = ()
    patterns: tuple[str, ...] = Field((), description="regexes; group 1 (or the match) is the value")
    validators: tuple[str, ...] = Field((), description="extra checks applied to the normalised value")
    required: bool = False
    party: Party | None = None
    role: Role | None = None
    source: str | None = Field(None, description="address_part: the address field it is parsed from")
    part: AddressPart | None = None
    multiline: bool | None = Field(None, description="value may continue on the lines below")
    scan: bool = Field(False, description="search the whole page for the patterns when no label is found")
    description: str = ""

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in FIELD_TYPES:
            raise ValueError(f"unknown field type {value!r}; known: {', '.join(sorted(FIELD_TYPES))}")
        return value

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from exc
        return value

    @field_validator("validators")
    @classmethod
    def _known_validators(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name not in CHECKERS:
                raise ValueError(f"unknown validator {name!r}; known: {', '.join(sorted(CHECKERS))}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == "address_part" and (self.source is None or self.part is None):
            raise ValueError("an address_part field needs `source` (an address field) and `part`")
        if self.party is not None and self.effective_role is None and self.type != "address_part":
            raise ValueError(
                "a party field needs `role` (name, phone, address, account or bank) unless its type implies one"
            )
        return self

    @property
    def effective_role(self) -> Role | None:
        return self.role or _ROLE_OF_TYPE.get(self.type)

    @property
    def is_multiline(self) -> bool:
        return self.multiline if self.multiline is not None else self.type == "address"


class PartySpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tags: tuple[str, ...] = Field((), description="one-character marks such as 收 / 寄 before a block")
    headers: tuple[str, ...] = Field((), description="section titles such as 收件人信息")
    prefixes: tuple[str, ...] = Field(
        (),
        description="words printed before a generic label to name the party (付款 + 户名, 收款方 + 开户行): "
        "each prefix with each generic label is a label of the party's field of that role",
    )


class CheckSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    check: Literal["amount_words_match", "id_card_consistency"]
    fields: tuple[str, ...]


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    mode: Literal["document", "contact"] = "document"
    review_threshold: float = Field(0.8, ge=0.0, le=1.0)
    simplified: bool = Field(
        False,
        description="convert traditional characters in name / address / text values to simplified "
        "(the OCR models read some fonts and handwriting as 廣東省); raw keeps what OCR read",
    )
    parties: dict[Party, PartySpec] = {}
    generic_labels: dict[Role, tuple[str, ...]] = Field(
        {}, description="labels without a party (姓名, 电话, 地址), assigned to the party of their section"
    )
    fields: dict[str, FieldSpec]
    checks: tuple[CheckSpec, ...] = ()
    stamps: bool = Field(
        False,
        description="documents carry stamps over their text (转讫, 业务专用章): a value under one needs review",
    )
    handwriting: bool = Field(
        False,
        description="forms are filled in by hand: characters in pen ink are marked (OCR option mark_pen) and a "
        "value written in them needs review unless an independent check confirms it",
    )
    form_text: tuple[str, ...] = Field(
        (), description="text printed on blank forms (hints, grid cells, placeholders): never a value"
    )

    @model_validator(mode="after")
    def _references(self) -> Schema:
        if not self.fields:
            raise ValueError("a schema needs at least one field")
        for name, spec in self.fields.items():
            if spec.source is not None and spec.source not in self.fields:
                raise ValueError(f"field {name!r}: source {spec.source!r} is not a field of this schema")
            if spec.party is not None and spec.party not in self.parties:
                known = ", ".join(self.parties) or "none: add `parties:`"
                raise ValueError(f"field {name!r}: party {spec.party!r} is not a party of this schema ({known})")
        for check in self.checks:
            for name in check.fields:
                if name not in self.fields:
                    raise ValueError(f"check {check.check!r}: {name!r} is not a field of this schema")
        _check_label_collisions(self)
        return self


def composed_labels(schema: Schema) -> list[tuple[str, str]]:
    """(label, field) pairs a party's ``prefixes`` make with the generic labels of each role the
    party has a field for: 付款 + 户名 → payer_name, 收款方 + 开户行 → payee_bank."""
    out: list[tuple[str, str]] = []
    for party, pspec in schema.parties.items():
        for role, labels in schema.generic_labels.items():
            field = next((n for n, f in schema.fields.items() if f.party == party and f.effective_role == role), None)
            if field is not None:
                out += [(prefix + label, field) for prefix in pspec.prefixes for label in labels]
    return out


def _check_label_collisions(schema: Schema) -> None:
    """A printed label names one field. Two fields may share a label only when both have
    ``patterns`` that cut their own part out of the value (交易时间 2024-03-05 12:43 gives the
    date and the time); a field's label may not be a generic label, nor a tag or header of the
    other party, since the extractor could not tell which is meant."""
    from luodi.kie.normalize import fold_label

    def key(label: str) -> str:
        folded = fold_label(label)
        return folded if label.isascii() else folded.replace(" ", "")

    owners: dict[str, list[str]] = {}
    for name, spec in schema.fields.items():
        for label in dict.fromkeys(key(lab) for lab in spec.labels):
            owners.setdefault(label, []).append(name)
    for label, name in composed_labels(schema):
        if name not in owners.setdefault(key(label), []):
            owners[key(label)].append(name)
    for label, names in owners.items():
        if len(names) > 1 and not all(schema.fields[n].patterns for n in names):
            raise ValueError(
                f"label {label!r} is listed by fields {', '.join(names)}: a label must name one field "
                "(fields that share a label each need `patterns` that cut out their part of the value)"
            )
    for role, labels in schema.generic_labels.items():
        for label in labels:
            if key(label) in owners:
                raise ValueError(
                    f"generic {role} label {label!r} is also a label of field {owners[key(label)][0]}: "
                    "give it to one of them"
                )
    for party, pspec in schema.parties.items():
        for label in (*pspec.tags, *pspec.headers):
            clash = [n for n in owners.get(key(label), []) if schema.fields[n].party not in (None, party)]
            if clash:
                raise ValueError(f"{party} tag or header {label!r} is a label of the other party's field {clash[0]}")


BUILTIN = ("waybill", "contact", "bank_receipt", "id_card")


def list_schemas() -> tuple[str, ...]:
    return BUILTIN


def load_schema(schema: str | Path | Schema) -> Schema:
    """A built-in schema by name, or a YAML file by path."""
    if isinstance(schema, Schema):
        return schema
    text = str(schema)
    if text in BUILTIN:
        return _builtin(text)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UnknownSchemaError(f"schema file {text} does not exist")
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SchemaError(f"cannot read schema file {text}: {exc}") from exc
        return parse_schema(source, origin=text)
    raise UnknownSchemaError(
        f"unknown schema {text!r}; built-in schemas: {', '.join(BUILTIN)}, or a path to a .yaml file"
    )


@cache
def _builtin(name: str) -> Schema:
    source = resources.files("luodi.kie").joinpath("schemas", f"{name}.yaml").read_text(encoding="utf-8")
    return parse_schema(source, origin=f"<builtin {name}.yaml>")


def parse_schema(source: str, *, origin: str = "<schema>") -> Schema:
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        raise SchemaError(f"{origin}{where}: invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise SchemaError(f"{origin}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"{origin}:1: a schema must be a mapping with `name` and `fields`")
    try:
        return Schema.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        line = _line_of(root, loc)
        where = ".".join(str(p) for p in loc) or "schema"
        message = error["msg"].removeprefix("Value error, ")
        raise SchemaError(f"{origin}:{line}: {where}: {message}") from exc


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the deepest node on the path ``loc`` that exists."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for key in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    child, line = v, k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
