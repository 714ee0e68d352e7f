from __future__ import annotations

import pytest

from luodi.eval.metrics import (
    EntitySpan,
    GtRegion,
    PredRegion,
    bio_spans,
    det_metrics,
    e2e_metrics,
    edit_distance,
    entity_metrics,
    field_metrics,
    match_detections,
    normalize_text,
    polygon_iou,
    rec_metrics,
    span_metrics,
)


def box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


# --- text / recognition --------------------------------------------------------------------------
def test_edit_distance_hand_cases() -> None:
    assert edit_distance("", "") == 0
    assert edit_distance("张三", "张三") == 0
    assert edit_distance("张三", "张山") == 1  # substitution
    assert edit_distance("张三丰", "张三") == 1  # deletion
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "上海") == 2


def test_normalize_full_width_and_spaces() -> None:
    assert normalize_text("电话：１５９ 5230\u3000１928") == "电话:15952301928"
    assert normalize_text("（收）") == "(收)"


def test_rec_metrics_hand_computed() -> None:
    labels = ["电话：123", "上海市", "ABCD"]
    preds = ["电话:123", "上海市", "ABD"]
    m = rec_metrics(preds, labels)
    assert m.n == 3
    assert m.line_accuracy == pytest.approx(1 / 3)  # only 上海市 exact
    assert m.line_accuracy_norm == pytest.approx(2 / 3)  # ： vs : folded by NFKC
    # raw edits: 1 (：→:) + 0 + 1 (missing C) = 2 over 6 + 3 + 4 = 13 label chars
    assert m.edits == 2
    assert m.label_chars == 13
    assert m.one_minus_cer == pytest.approx(1 - 2 / 13)
    assert m.one_minus_cer_norm == pytest.approx(1 - 1 / 13)
    assert m.cer == pytest.approx(2 / 13)


def test_one_minus_cer_is_not_clipped() -> None:
    m = rec_metrics(["一二三四"], ["一"])
    assert m.one_minus_cer == pytest.approx(1 - 3)


def test_rec_metrics_length_mismatch() -> None:
    with pytest.raises(ValueError, match="2 predictions for 1 labels"):
        rec_metrics(["a", "b"], ["a"])


def test_rec_metrics_empty() -> None:
    m = rec_metrics([], [])
    assert m.n == 0 and m.line_accuracy == 0.0


# --- detection -----------------------------------------------------------------------------------
def test_polygon_iou_hand_cases() -> None:
    assert polygon_iou(box(0, 0, 10, 10), box(0, 0, 10, 10)) == pytest.approx(1.0)
    # overlap 5x10 = 50, union 150
    assert polygon_iou(box(0, 0, 10, 10), box(5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert polygon_iou(box(0, 0, 10, 10), box(20, 20, 30, 30)) == 0.0
    # a bow-tie (points out of order) is repaired rather than crashing
    assert polygon_iou([(0, 0), (10, 10), (10, 0), (0, 10)], box(0, 0, 10, 10)) > 0


def test_match_one_to_one_and_threshold() -> None:
    gts = [GtRegion(box(0, 0, 100, 20), "甲"), GtRegion(box(0, 30, 100, 50), "乙")]
    preds = [
        PredRegion(box(0, 0, 100, 20), "甲"),  # perfect match for gt 0
        PredRegion(box(2, 0, 100, 20), "甲"),  # duplicate of gt 0: must not match twice
        PredRegion(box(0, 30, 40, 50), "乙"),  # IoU 0.4 with gt 1: below 0.5
    ]
    m = match_detections(gts, preds)
    assert [(i, j) for i, j, _ in m.pairs] == [(0, 0)]
    assert (m.n_gt, m.n_pred) == (2, 3)
    d = det_metrics([m])
    assert d.precision == pytest.approx(1 / 3)
    assert d.recall == pytest.approx(1 / 2)
    assert d.hmean == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_greedy_takes_best_iou_first() -> None:
    # pred 0 overlaps both gts; it is the best partner for gt 1, and gt 0 has its own better pred.
    gts = [GtRegion(box(0, 0, 100, 20)), GtRegion(box(10, 0, 110, 20))]
    preds = [PredRegion(box(9, 0, 109, 20)), PredRegion(box(0, 0, 100, 20))]
    m = match_detections(gts, preds)
    assert [(i, j) for i, j, _ in m.pairs] == [(0, 1), (1, 0)]


def test_ignore_regions_are_dont_care() -> None:
    gts = [
        GtRegion(box(0, 0, 100, 20), "上海"),
        GtRegion(box(0, 40, 100, 60), "###", ignore=True),
    ]
    preds = [
        PredRegion(box(0, 0, 100, 20), "上海"),
        PredRegion(box(10, 42, 60, 58), "乱码"),  # inside the ignored region: not a false positive
        PredRegion(box(200, 200, 260, 220), "噪声"),  # a genuine false positive
    ]
    m = match_detections(gts, preds)
    assert m.n_gt == 1
    assert m.ignored_preds == (1,)
    assert m.n_pred == 2
    d = det_metrics([m])
    assert (d.precision, d.recall) == (pytest.approx(0.5), pytest.approx(1.0))


def test_e2e_needs_match_and_text() -> None:
    gts = [GtRegion(box(0, 0, 100, 20), "电话：123"), GtRegion(box(0, 30, 100, 50), "北京")]
    preds = [PredRegion(box(0, 0, 100, 20), "电话:123"), PredRegion(box(0, 30, 100, 50), "北京")]
    m = match_detections(gts, preds)
    assert (m.e2e_correct, m.e2e_correct_norm) == (1, 2)
    e = e2e_metrics([m, match_detections([GtRegion(box(0, 0, 10, 10), "x")], [])])
    assert e.n_gt == 3 and e.n_pred == 2
    assert e.recall == pytest.approx(1 / 3)
    assert e.precision == pytest.approx(1 / 2)
    assert e.recall_norm == pytest.approx(2 / 3)
    assert e.precision_norm == pytest.approx(1.0)


def test_no_predictions_no_gt() -> None:
    d = det_metrics([match_detections([], [])])
    assert (d.precision, d.recall, d.hmean) == (0.0, 0.0, 0.0)


# --- KIE fields ----------------------------------------------------------------------------------
def test_field_metrics_hand_computed() -> None:
    golds = [
        {"name": "张三", "phone": "13812345678", "weight_kg": 1.5},
        {"name": "李四", "phone": None, "address": "上海市"},
    ]
    preds = [
        {"name": "张三", "phone": "13812345678", "weight_kg": "1.5"},  # 3/3, numbers compared as text
        {"name": "李四", "phone": "021-1234", "address": None},  # spurious phone, missed address
    ]
    m = field_metrics(preds, golds)
    assert (m.correct, m.total) == (4, 6)
    assert m.micro_accuracy == pytest.approx(4 / 6)
    assert m.document_exact_rate == pytest.approx(0.5)
    assert m.per_field["phone"].correct == 1 and m.per_field["phone"].total == 2
    assert m.per_field["address"].accuracy == 0.0
    assert m.to_dict()["per_field"]["name"]["accuracy"] == 1.0


def test_field_metrics_restrict_and_normalize() -> None:
    golds = [{"name": "张三", "phone": "１３８"}]
    preds = [{"name": "张 三", "phone": "138"}]
    assert field_metrics(preds, golds).micro_accuracy == 0.0
    assert field_metrics(preds, golds, normalize=True).micro_accuracy == 1.0
    only = field_metrics(preds, golds, fields=["phone", "item"], normalize=True)
    assert set(only.per_field) == {"phone", "item"}
    assert only.per_field["item"].total == 0
    assert only.total == 1


# --- NER spans -----------------------------------------------------------------------------------
def test_bio_spans_suffix_and_prefix_style() -> None:
    suffix = ["P-B", "P-I", "O", "T-B", "T-I", "T-I", "A1-B", "A1-I"]
    assert bio_spans(suffix) == [EntitySpan(0, 2, "P"), EntitySpan(3, 6, "T"), EntitySpan(6, 8, "A1")]
    prefix = ["B-PER", "I-PER", "B-LOC", "O", "S-ORG", "B-X", "E-X"]
    assert bio_spans(prefix) == [
        EntitySpan(0, 2, "PER"),
        EntitySpan(2, 3, "LOC"),
        EntitySpan(4, 5, "ORG"),
        EntitySpan(5, 7, "X"),
    ]


def test_bio_spans_stray_inside_starts_new_span() -> None:
    assert bio_spans(["O", "I-A", "I-A", "I-B"]) == [EntitySpan(1, 3, "A"), EntitySpan(3, 4, "B")]


def test_bio_bad_tag() -> None:
    with pytest.raises(ValueError, match="not a BIO tag"):
        bio_spans(["X-Y"])


def test_entity_metrics_hand_computed() -> None:
    gold = [["P-B", "P-I", "T-B", "T-I"], ["A1-B", "A1-I", "O"]]
    pred = [["P-B", "P-I", "T-B", "O"], ["A1-B", "A1-I", "O"]]
    m = entity_metrics(gold, pred)
    # gold spans: P(0,2) T(2,4) A1(0,2); pred: P(0,2) T(2,3) A1(0,2) -> tp 2, fp 1, fn 1
    assert (m.overall.tp, m.overall.fp, m.overall.fn) == (2, 1, 1)
    assert m.precision == pytest.approx(2 / 3)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.per_type["T"].f1 == 0.0
    assert m.per_type["P"].f1 == 1.0


def test_span_metrics_direct() -> None:
    m = span_metrics([[EntitySpan(0, 2, "name")]], [[EntitySpan(0, 2, "name"), EntitySpan(3, 5, "phone")]])
    assert m.precision == 0.5 and m.recall == 1.0


def test_entity_metrics_length_mismatch() -> None:
    with pytest.raises(ValueError, match="sequence 0"):
        entity_metrics([["O", "O"]], [["O"]])
