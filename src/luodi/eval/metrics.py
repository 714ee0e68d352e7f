"""Evaluation metrics as pure functions: recognition, detection, end-to-end, KIE fields, NER entities.

Nothing here loads a model or reads a file, so every number can be checked by hand in a unit test and
other parts of luodi (KIE, NER, training) can call the same definitions.

Definitions (what each number means):

* **line accuracy** — fraction of lines whose prediction equals the label exactly.
* **1-CER** — ``1 - sum(edit distance) / sum(label length)`` over the set (character error rate
  weighted by label length, the usual corpus-level CER). It can go below 0 when predictions are much
  longer than labels; it is not clipped, so a bad model is not hidden.
* **normalised** variants apply :func:`normalize_text` (NFKC, which folds full-width forms to half
  width, then removes all whitespace) to both sides first: printed Chinese mixes ``：`` and ``:``,
  and stock models differ in which one they emit.
* **detection** precision/recall/hmean at IoU ≥ 0.5 with one-to-one matching (greedy by descending
  IoU). Labels transcribed ``###`` are "don't care": they count neither as ground truth nor, when a
  prediction matches one or lies mostly inside one, as a false positive.
* **end-to-end** — a ground-truth line counts as found when a detection matches it (as above) and its
  recognised text equals the label (raw, and after normalisation).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import Levenshtein
from shapely.geometry import Polygon
from shapely.validation import make_valid

Point = tuple[float, float]


# --- text ----------------------------------------------------------------------------------------
def normalize_text(text: str) -> str:
    """NFKC (full width → half width, compatibility forms folded) and drop every whitespace character."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    return int(Levenshtein.distance(a, b))


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _hmean(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


# --- recognition ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecMetrics:
    """Corpus-level recognition metrics; see the module docstring for the definitions."""

    n: int
    line_accuracy: float
    line_accuracy_norm: float
    one_minus_cer: float
    one_minus_cer_norm: float
    edits: int
    edits_norm: int
    label_chars: int
    label_chars_norm: int

    @property
    def cer(self) -> float:
        return 1.0 - self.one_minus_cer

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "line_accuracy": round(self.line_accuracy, 4),
            "line_accuracy_norm": round(self.line_accuracy_norm, 4),
            "one_minus_cer": round(self.one_minus_cer, 4),
            "one_minus_cer_norm": round(self.one_minus_cer_norm, 4),
            "cer": round(self.cer, 4),
            "edits": self.edits,
            "label_chars": self.label_chars,
        }


def rec_metrics(predictions: Sequence[str], labels: Sequence[str]) -> RecMetrics:
    """Line accuracy and 1-CER of ``predictions`` against ``labels`` (same order, same length)."""
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels")
    exact = exact_norm = edits = edits_norm = chars = chars_norm = 0
    for pred, gold in zip(predictions, labels, strict=True):
        pn, gn = normalize_text(pred), normalize_text(gold)
        exact += pred == gold
        exact_norm += pn == gn
        edits += edit_distance(pred, gold)
        edits_norm += edit_distance(pn, gn)
        chars += len(gold)
        chars_norm += len(gn)
    n = len(labels)
    return RecMetrics(
        n=n,
        line_accuracy=_ratio(exact, n),
        line_accuracy_norm=_ratio(exact_norm, n),
        one_minus_cer=1.0 - _ratio(edits, chars) if chars else 0.0,
        one_minus_cer_norm=1.0 - _ratio(edits_norm, chars_norm) if chars_norm else 0.0,
        edits=edits,
        edits_norm=edits_norm,
        label_chars=chars,
        label_chars_norm=chars_norm,
    )


# --- detection -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GtRegion:
    """A ground-truth region for :func:`match_detections` (``ignore`` = a ``###`` region)."""

    points: Sequence[Point]
    text: str = ""
    ignore: bool = False


@dataclass(frozen=True, slots=True)
class PredRegion:
    points: Sequence[Point]
    text: str = ""


@dataclass(frozen=True, slots=True)
class ImageMatch:
    """The matching of one image: pairs (gt index, pred index, IoU) plus what was excluded."""

    pairs: tuple[tuple[int, int, float], ...]
    n_gt: int  # not counting ignored regions
    n_pred: int  # not counting predictions that fell on ignored regions
    ignored_preds: tuple[int, ...] = ()
    e2e_correct: int = 0
    e2e_correct_norm: int = 0


def _polygon(points: Sequence[Point]) -> Polygon:
    poly = Polygon([(float(x), float(y)) for x, y in points])
    if not poly.is_valid:
        # Self-intersecting label polygons (points out of order) occur in real datasets; repairing
        # them keeps their area instead of crashing the whole evaluation.
        fixed = make_valid(poly)
        polys = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon)]
        poly = max(polys, key=lambda g: g.area) if polys else Polygon()
    return poly


def polygon_iou(a: Sequence[Point], b: Sequence[Point]) -> float:
    """Intersection over union of two polygons (0 for degenerate ones)."""
    pa, pb = _polygon(a), _polygon(b)
    if pa.is_empty or pb.is_empty:
        return 0.0
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return float(inter / union) if union > 0 else 0.0


def match_detections(gts: Sequence[GtRegion], preds: Sequence[PredRegion], iou_threshold: float = 0.5) -> ImageMatch:
    """One-to-one matching of predictions to ground truth in one image.

    Greedy by descending IoU, so each region takes its best still-free partner. A prediction that
    matches an ignored region, or lies more than half inside one, is dropped from the counts (ICDAR
    "don't care" protocol) instead of being counted as a false positive.
    """
    gt_polys = [_polygon(g.points) for g in gts]
    pred_polys = [_polygon(p.points) for p in preds]

    ignored_preds: set[int] = set()
    for j, pp in enumerate(pred_polys):
        if pp.is_empty or pp.area <= 0:
            continue
        for i, g in enumerate(gts):
            if g.ignore and not gt_polys[i].is_empty:
                inter = pp.intersection(gt_polys[i]).area
                if inter / pp.area > 0.5 or polygon_iou(g.points, preds[j].points) >= iou_threshold:
                    ignored_preds.add(j)
                    break

    candidates: list[tuple[float, int, int]] = []
    for i, (g, gp) in enumerate(zip(gts, gt_polys, strict=True)):
        if g.ignore or gp.is_empty:
            continue
        for j, pp in enumerate(pred_polys):
            if j in ignored_preds or pp.is_empty or not gp.intersects(pp):
                continue
            inter = gp.intersection(pp).area
            union = gp.area + pp.area - inter
            iou = inter / union if union > 0 else 0.0
            if iou >= iou_threshold:
                candidates.append((iou, i, j))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_gt: set[int] = set()
    used_pred: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for iou, i, j in candidates:
        if i in used_gt or j in used_pred:
            continue
        used_gt.add(i)
        used_pred.add(j)
        pairs.append((i, j, float(iou)))
    pairs.sort()
    correct = sum(1 for i, j, _ in pairs if preds[j].text == gts[i].text)
    correct_norm = sum(1 for i, j, _ in pairs if normalize_text(preds[j].text) == normalize_text(gts[i].text))
    return ImageMatch(
        pairs=tuple(pairs),
        n_gt=sum(1 for g in gts if not g.ignore),
        n_pred=len(preds) - len(ignored_preds),
        ignored_preds=tuple(sorted(ignored_preds)),
        e2e_correct=correct,
        e2e_correct_norm=correct_norm,
    )


@dataclass(frozen=True, slots=True)
class DetMetrics:
    n_images: int
    n_gt: int
    n_pred: int
    matched: int
    precision: float
    recall: float
    hmean: float
    mean_iou: float  # over matched pairs

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_images": self.n_images,
            "n_gt": self.n_gt,
            "n_pred": self.n_pred,
            "matched": self.matched,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "hmean": round(self.hmean, 4),
            "mean_iou": round(self.mean_iou, 4),
        }


@dataclass(frozen=True, slots=True)
class E2EMetrics:
    n_gt: int
    n_pred: int
    correct: int
    correct_norm: int
    precision: float
    recall: float
    hmean: float
    precision_norm: float
    recall_norm: float
    hmean_norm: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_gt": self.n_gt,
            "n_pred": self.n_pred,
            "correct": self.correct,
            "correct_norm": self.correct_norm,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "hmean": round(self.hmean, 4),
            "precision_norm": round(self.precision_norm, 4),
            "recall_norm": round(self.recall_norm, 4),
            "hmean_norm": round(self.hmean_norm, 4),
        }


def det_metrics(matches: Sequence[ImageMatch]) -> DetMetrics:
    """Aggregate per-image matchings into corpus-level detection precision/recall/hmean."""
    n_gt = sum(m.n_gt for m in matches)
    n_pred = sum(m.n_pred for m in matches)
    ious = [iou for m in matches for _, _, iou in m.pairs]
    matched = len(ious)
    p, r = _ratio(matched, n_pred), _ratio(matched, n_gt)
    return DetMetrics(
        n_images=len(matches),
        n_gt=n_gt,
        n_pred=n_pred,
        matched=matched,
        precision=p,
        recall=r,
        hmean=_hmean(p, r),
        mean_iou=_ratio(sum(ious), matched),
    )


def e2e_metrics(matches: Sequence[ImageMatch]) -> E2EMetrics:
    """End-to-end precision/recall/hmean: a line counts when it is detected *and* read correctly."""
    n_gt = sum(m.n_gt for m in matches)
    n_pred = sum(m.n_pred for m in matches)
    c = sum(m.e2e_correct for m in matches)
    cn = sum(m.e2e_correct_norm for m in matches)
    p, r = _ratio(c, n_pred), _ratio(c, n_gt)
    pn, rn = _ratio(cn, n_pred), _ratio(cn, n_gt)
    return E2EMetrics(
        n_gt=n_gt,
        n_pred=n_pred,
        correct=c,
        correct_norm=cn,
        precision=p,
        recall=r,
        hmean=_hmean(p, r),
        precision_norm=pn,
        recall_norm=rn,
        hmean_norm=_hmean(pn, rn),
    )


# --- key-information extraction: fields ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldStat:
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return _ratio(self.correct, self.total)


@dataclass(frozen=True, slots=True)
class FieldMetrics:
    """Field-level KIE metrics.

    A field is *scored* in a document when the gold value or the predicted value is present (not
    ``None``/empty): a spurious prediction is an error just like a miss. ``micro_accuracy`` pools all
    scored fields; ``document_exact_rate`` is the share of documents whose scored fields are all right.
    """

    per_field: Mapping[str, FieldStat]
    micro_accuracy: float
    document_exact_rate: float
    n_documents: int
    correct: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_documents": self.n_documents,
            "micro_accuracy": round(self.micro_accuracy, 4),
            "document_exact_rate": round(self.document_exact_rate, 4),
            "correct": self.correct,
            "total": self.total,
            "per_field": {
                k: {"accuracy": round(v.accuracy, 4), "correct": v.correct, "total": v.total}
                for k, v in sorted(self.per_field.items())
            },
        }


def _present(v: object) -> bool:
    return v is not None and v != ""


def _as_text(v: object, normalize: bool) -> str:
    s = str(v)
    return normalize_text(s) if normalize else s


def field_metrics(
    predictions: Sequence[Mapping[str, object]],
    golds: Sequence[Mapping[str, object]],
    fields: Iterable[str] | None = None,
    *,
    normalize: bool = False,
) -> FieldMetrics:
    """Per-field accuracy, micro accuracy and document exact rate.

    ``predictions[k]`` and ``golds[k]`` map field names to values (str, number or ``None``) for
    document ``k``. Values are compared as strings (``normalize=True`` applies :func:`normalize_text`
    first), so ``1.5`` equals ``"1.5"``. ``fields`` restricts scoring to those names; by default every
    name seen in either side is scored.
    """
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions for {len(golds)} gold documents")
    wanted = list(fields) if fields is not None else None
    correct_by: dict[str, int] = {}
    total_by: dict[str, int] = {}
    if wanted is not None:
        for name in wanted:
            correct_by[name] = total_by[name] = 0
    exact_docs = 0
    for pred, gold in zip(predictions, golds, strict=True):
        names = wanted if wanted is not None else sorted(set(pred) | set(gold))
        doc_ok = True
        for name in names:
            g, p = gold.get(name), pred.get(name)
            if not _present(g) and not _present(p):
                continue
            ok = _present(g) and _present(p) and _as_text(g, normalize) == _as_text(p, normalize)
            total_by[name] = total_by.get(name, 0) + 1
            correct_by[name] = correct_by.get(name, 0) + int(ok)
            doc_ok = doc_ok and ok
        exact_docs += doc_ok
    correct, total = sum(correct_by.values()), sum(total_by.values())
    return FieldMetrics(
        per_field={k: FieldStat(correct_by[k], total_by[k]) for k in total_by},
        micro_accuracy=_ratio(correct, total),
        document_exact_rate=_ratio(exact_docs, len(golds)),
        n_documents=len(golds),
        correct=correct,
        total=total,
    )


# --- named entities: BIO spans -------------------------------------------------------------------
@dataclass(frozen=True, slots=True, order=True)
class EntitySpan:
    """A typed span ``[start, end)`` in character (token) offsets."""

    start: int
    end: int
    type: str


_POSITIONS = frozenset("BIES")


def _parse_tag(tag: str) -> tuple[str, str]:
    """Return (position, type) for a tag; position is one of B, I, E, S, O.

    Accepts both prefix style (``B-PER``) and the suffix style of PaddleNLP's express NER data
    (``P-B``, ``A1-I``); a bare ``B``/``I`` is an untyped entity.
    """
    if tag in ("O", ""):
        return "O", ""
    if tag in _POSITIONS:
        return tag, ""
    head, sep, tail = tag.partition("-")
    if sep:
        if head in _POSITIONS:
            return head, tail
        pos, _, typ = tag.rpartition("-")
        if typ in _POSITIONS:
            return typ, pos
    raise ValueError(f"not a BIO tag: {tag!r}")


def bio_spans(tags: Sequence[str]) -> list[EntitySpan]:
    """Decode a BIO(ES) tag sequence into entity spans.

    An ``I`` that does not continue an entity of the same type starts a new one (the lenient
    conlleval reading), so a tagger that drops a ``B`` is charged for a wrong span, not a crash.
    """
    spans: list[EntitySpan] = []
    start, typ = -1, ""
    for i, tag in enumerate(tags):
        pos, t = _parse_tag(tag)
        if pos in ("B", "S") or pos == "O" or (pos in ("I", "E") and (start < 0 or t != typ)):
            if start >= 0:
                spans.append(EntitySpan(start, i, typ))
                start, typ = -1, ""
            if pos != "O":
                start, typ = i, t
        if pos in ("S", "E") and start >= 0:
            spans.append(EntitySpan(start, i + 1, typ))
            start, typ = -1, ""
    if start >= 0:
        spans.append(EntitySpan(start, len(tags), typ))
    return spans


@dataclass(frozen=True, slots=True)
class PRF:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _hmean(self.precision, self.recall)

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass(frozen=True, slots=True)
class EntityMetrics:
    """Span-level (exact boundaries and type) entity precision/recall/F1, micro-averaged."""

    overall: PRF
    per_type: Mapping[str, PRF] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.overall.precision

    @property
    def recall(self) -> float:
        return self.overall.recall

    @property
    def f1(self) -> float:
        return self.overall.f1

    def to_dict(self) -> dict[str, Any]:
        return {**self.overall.to_dict(), "per_type": {k: v.to_dict() for k, v in sorted(self.per_type.items())}}


def span_metrics(
    gold_spans: Sequence[Iterable[EntitySpan]], pred_spans: Sequence[Iterable[EntitySpan]]
) -> EntityMetrics:
    """Micro P/R/F1 over documents, a span counting only when start, end and type all match."""
    if len(gold_spans) != len(pred_spans):
        raise ValueError(f"{len(pred_spans)} predicted documents for {len(gold_spans)} gold documents")
    counts: dict[str, list[int]] = {}
    for gold, pred in zip(gold_spans, pred_spans, strict=True):
        gs, ps = set(gold), set(pred)
        for s in gs | ps:
            c = counts.setdefault(s.type, [0, 0, 0])
            if s in gs and s in ps:
                c[0] += 1
            elif s in ps:
                c[1] += 1
            else:
                c[2] += 1
    per_type = {t: PRF(*c) for t, c in counts.items()}
    overall = PRF(*(sum(c[k] for c in counts.values()) for k in range(3)))
    return EntityMetrics(overall, per_type)


def entity_metrics(gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> EntityMetrics:
    """Span-level P/R/F1 from BIO tag sequences (one sequence per sentence, equal lengths)."""
    if len(gold_tags) != len(pred_tags):
        raise ValueError(f"{len(pred_tags)} predicted sequences for {len(gold_tags)} gold sequences")
    for k, (g, p) in enumerate(zip(gold_tags, pred_tags, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sequence {k}: {len(p)} predicted tags for {len(g)} gold tags")
    return span_metrics([bio_spans(g) for g in gold_tags], [bio_spans(p) for p in pred_tags])
