"""Calibrated confidence: the shipped parameters load, probabilities behave, thresholds apply."""

from __future__ import annotations

import pytest
from docfactory import extractor, make_doc, make_line

from luodi.errors import ConfigError
from luodi.kie.calibration import FEATURES, Calibration, field_features, fit_logistic, is_rare


def test_the_shipped_waybill_calibration_loads() -> None:
    cal = Calibration.builtin("waybill")
    assert cal is not None
    assert cal.meta["layouts"].startswith("dev families only")
    assert set(cal.thresholds) >= {"name", "phone", "address"}
    assert Calibration.builtin("no_such_schema") is None


def test_a_fitted_model_orders_by_evidence() -> None:
    good = [field_features(heuristic=0.97, run=(), value="张三", where="inline", valid=True, copies=2)] * 30
    bad = [field_features(heuristic=0.6, run=(), value="张三", where="position", valid=False, copies=1)] * 30
    model = fit_logistic(good + bad, [1] * 30 + [0] * 30)
    assert model(good[0]) > 0.9 > 0.1 > model(bad[0])


def test_a_calibration_for_other_features_is_refused() -> None:
    with pytest.raises(ConfigError, match="other features"):
        Calibration.from_dict({"features": ["bias"], "models": {}})
    assert len(FEATURES) > 10


def test_rare_characters() -> None:
    assert is_rare("榛") and is_rare("昝") and not is_rare("李") and not is_rare("A")


def test_calibrated_extraction_reports_probabilities_and_evidence() -> None:
    doc = make_doc([make_line("收件人：张三丰", 30, 100), ("收件地址：北京市朝阳区建国路88号", 30, 140)])
    plain = extractor("waybill").extract_document(doc)["receiver_address"]
    cal = extractor("waybill", calibration="builtin").extract_document(doc)["receiver_address"]
    assert plain.value == cal.value
    assert dict(cal.evidence)["divisions_known"] >= 2
    assert 0.0 <= cal.score <= 1.0
    # A threshold given by the caller applies to every field, calibrated or not.
    strict = extractor("waybill", calibration="builtin", review_threshold=1.0).extract_document(doc)
    assert strict["receiver_address"].needs_review
