"""Values written by hand are keyed in unseen only where an independent check confirms them.

OCR misreads handwriting with full confidence (a written 3 read 8 at 0.98), so confidence does
not tell a handwritten misreading from a right value. Where the schema says its forms are filled
in by hand (``handwriting: true``), OCR measures each character's ink colour
(:mod:`luodi.ocr.ink`, ``Line.char_blue``): a value written in ballpoint blue on a form printed
in black is handwritten. It needs review unless a check that does not trust the reading alone
holds:

- the amount and its capitals (人民币…元整) agree (two writings of one sum);
- a UnionPay card number's Luhn check digit holds, an ID number's checksum holds;
- a party's bank names a known bank, a city and a district of that city (the gazetteer's names);
- another reading on the page not in pen ink (the teller's machine print) gives the same value
  (the decision's agreeing copies: the least blue of them is the value's ink).

Black-ink handwriting is not seen by this cue (the hue is the only signal it uses).
"""

from __future__ import annotations

import dataclasses
import statistics
from decimal import Decimal, InvalidOperation

from luodi.kie.banks import branch_place_known
from luodi.kie.divisions import DivisionIndex
from luodi.kie.layout import Run
from luodi.kie.result import FieldResult
from luodi.kie.schema import Schema
from luodi.kie.validators import check_id_number, luhn_ok, parse_capital_amount

# The upper-quartile blue lead of a value's characters from which it counts as written in pen ink.
# Chosen on dev renders (docs/kie.md, "Handwriting"): print reaches 0.003, ballpoint 0.05-0.2.
PEN_BLUE = 0.03
HANDWRITTEN = "written by hand (pen ink) and not confirmed by an independent check"


def ink_blue(run: Run) -> float | None:
    """The upper-quartile blue lead of the run's characters (None where OCR did not measure it)."""
    values: list[float] = []
    for p in run:
        line = p.tline.line
        # (a Line pickled before char_blue existed has no such slot: a cached reading, unmeasured)
        blue: tuple[float, ...] = getattr(line, "char_blue", ())
        if len(blue) != len(line.text):
            return None
        values += [blue[i] for i in range(p.start, p.end) if not line.text[i].isspace()]
    if not values:
        return None
    # The upper quartile: printed characters between written ones (2019 年 01 月 22 日: the 年月日
    # are the form's) do not hide the writing; one stray tinted character does not make print.
    return statistics.quantiles(values, n=4, method="inclusive")[2] if len(values) > 1 else values[0]


def handwritten(f: FieldResult) -> bool:
    return dict(f.evidence).get("ink_blue", 0.0) >= PEN_BLUE


def flag_handwritten(decided: dict[str, FieldResult], schema: Schema, divisions: DivisionIndex | None) -> None:
    """Every accepted value written in pen ink that no independent check confirms needs review
    (module docstring). Runs after the cross-field checks: a disagreeing amount is flagged by then."""
    types = {n: s.type for n, s in schema.fields.items()}
    confirmed = _amounts_agree(decided, schema)
    for name, f in list(decided.items()):
        if not f.found or f.needs_review or not handwritten(f) or name in confirmed:
            continue
        value = str(f.value)
        kind = types.get(name)
        if kind == "account" and value.startswith("62") and 16 <= len(value) <= 19 and luhn_ok(value):
            continue  # a UnionPay card number's check digit holds
        if kind == "id_number" and check_id_number(value).ok:
            continue
        branch = "branch" in schema.fields[name].validators
        if branch and divisions is not None and branch_place_known(value, divisions):
            continue  # a known bank, city and district of that city: two dictionaries agree
        decided[name] = dataclasses.replace(f, needs_review=True, flagged=True, reasons=(*f.reasons, HANDWRITTEN))


def _amounts_agree(decided: dict[str, FieldResult], schema: Schema) -> set[str]:
    """The fields of an amount_words_match check whose figure and capitals spell the same sum."""
    out: set[str] = set()
    for check in schema.checks:
        if check.check != "amount_words_match" or len(check.fields) != 2:
            continue
        amount, words = (decided.get(n) for n in check.fields)
        if amount is None or words is None or not amount.found or not words.found:
            continue
        parsed = parse_capital_amount(str(words.value))
        try:
            figure = Decimal(str(amount.value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            continue
        if parsed is not None and parsed == figure:
            out.update(check.fields)
    return out
