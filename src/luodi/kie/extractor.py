"""Schema-driven key-information extraction over an OCR :class:`~luodi.ocr.result.Document`.

The :class:`Extractor` assembles three parts and holds no other state:

* the proposers (:mod:`luodi.kie.proposers`): functions of one page's reading that put forward
  candidate values;
* the decision step (:mod:`luodi.kie.decide`): one value per field from the candidates, by type;
* its dependencies, passed in or built once from the arguments: the contact parser
  (``contact_parser=``, :mod:`luodi.kie.parties`), the division gazetteer (``gazetteer=``),
  the OCR engine (``ocr=``) and, optionally, a second recogniser that reads again the lines of
  the values about to be accepted (``second_reading=``, :mod:`luodi.kie.second_reading`).

It is immutable after construction and safe to share between threads; extraction is deterministic
and pure Python over the OCR lines, so it costs a small fraction of OCR time.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from luodi.errors import InputError, ModelNotPulledError
from luodi.kie.calibration import Calibration
from luodi.kie.candidates import Pool, Reading, SchemaTables
from luodi.kie.decide import Decider
from luodi.kie.divisions import DivisionIndex
from luodi.kie.formtext import FormText
from luodi.kie.layout import PageLayout, Piece, Run, make_lines, run_text
from luodi.kie.learned import LearnedLayout
from luodi.kie.learned_read import LayoutReader
from luodi.kie.parties import MemoParser, ModelContactParser, PartyParser
from luodi.kie.proposers import propose_contact, propose_page
from luodi.kie.result import Extraction
from luodi.kie.schema import Schema, load_schema
from luodi.kie.second_reading import SecondReading
from luodi.ocr.result import Document, Line, Page

if TYPE_CHECKING:
    import numpy as np

    from luodi.kie.gazetteer import Gazetteer
    from luodi.ocr.options import OCROptions
    from luodi.ocr.pipeline import OCR

log = logging.getLogger(__name__)


class Extractor:
    """Extract the fields of a schema from images, OCR documents or free text.

    ``schema`` is a built-in name (``waybill``, ``contact``, ``bank_receipt``, ``id_card``), a
    path to a YAML schema, or a :class:`~luodi.kie.schema.Schema`. ``ocr`` is an existing OCR
    engine to share; otherwise one is built on the first image call from ``model``/``runtime``/
    ``threads``/``settings``. ``review_threshold`` overrides the schema's threshold.
    ``contact_parser`` splits party blocks into name, phones and address (default: a
    :class:`~luodi.kie.parties.ModelContactParser` over the store's contact model, rules where it is
    not installed); ``gazetteer`` is the division table (default: the installed package's, none
    when it is missing). ``calibration`` turns the decision's evidence into the probability that a
    value is right: ``"builtin"`` for the one fitted for a built-in schema (waybill), or a
    :class:`~luodi.kie.calibration.Calibration`; None (the default, see docs/kie.md for why) keeps
    the heuristic score. ``learned`` is a layout learned from labelled examples
    (:mod:`luodi.kie.learned`, ``luodi train kie``): where a document prints no labels, it places
    the fields by position and text shape beside the schema's labels and patterns.
    ``second_reading`` (:class:`~luodi.kie.second_reading.SecondReading`, e.g.
    ``SecondReading.from_model("pp-ocrv4")``) reads the lines of accepted values again with an
    independent recogniser and flags values it reads otherwise; it needs the page images, so it
    acts on image calls and on ``extract_document(doc, pages=…)``.
    """

    def __init__(  # noqa: PLR0913 - keyword-only options of the public constructor
        self,
        schema: str | Path | Schema = "waybill",
        *,
        ocr: OCR | None = None,
        model: str | None = None,
        runtime: str | None = None,
        threads: int | None = None,
        settings: Any = None,
        review_threshold: float | None = None,
        contact_parser: PartyParser | None = None,
        gazetteer: Gazetteer | None = None,
        calibration: Calibration | Literal["builtin"] | None = None,
        learned: LearnedLayout | None = None,
        second_reading: SecondReading | None = None,
    ) -> None:
        self.schema: Schema = load_schema(schema)
        if review_threshold is not None and not 0.0 <= review_threshold <= 1.0:
            raise InputError(f"review_threshold must be within 0..1, got {review_threshold}")
        self.review_threshold = self.schema.review_threshold if review_threshold is None else review_threshold
        self._threshold_given = review_threshold is not None
        self._tables = SchemaTables.of(self.schema)
        self._form_text = FormText(self.schema)
        if gazetteer is None:
            gazetteer = _installed_gazetteer()
        self.gazetteer = gazetteer
        self._divisions = DivisionIndex(gazetteer) if gazetteer is not None else None
        self.contact_parser: PartyParser = (
            contact_parser if contact_parser is not None else ModelContactParser(gazetteer=gazetteer)
        )
        self.calibration = Calibration.builtin(self.schema.name) if calibration == "builtin" else calibration
        # A layout learned from labelled examples (`luodi train kie`): read beside labels and patterns.
        if learned is not None:
            learned.check_schema(self.schema)
        self._learned = LayoutReader(learned, self.schema, self.review_threshold) if learned is not None else None
        self.second_reading = second_reading
        self._ocr = ocr
        self._ocr_args = {"model": model, "runtime": runtime, "threads": threads, "settings": settings}
        self._ocr_lock = threading.Lock()

    # --- entry points ------------------------------------------------------------------------
    @property
    def ocr(self) -> OCR:
        """The OCR engine (built once, on first use, so constructing an Extractor is cheap)."""
        if self._ocr is None:
            with self._ocr_lock:
                if self._ocr is None:
                    from luodi.ocr.pipeline import OCR

                    self._ocr = OCR(**self._ocr_args)
        return self._ocr

    def ocr_options(self, base: OCROptions | None = None) -> OCROptions:
        """The OCR options this schema's documents are read with: ``base`` (the defaults when
        None) with the stamps' red ink taken out before reading where the schema says its
        documents are stamped (``stamps: true``, the bank receipt), and pen ink marked where they
        are filled in by hand (``handwriting: true``)."""
        from luodi.ocr.options import OCROptions

        opts = base if base is not None else OCROptions()
        if self.schema.stamps and not opts.drop_stamps:
            opts = opts.replace(drop_stamps=True)
        if self.schema.handwriting and not opts.mark_pen:
            opts = opts.replace(mark_pen=True)
        return opts

    def __call__(self, source: Any, *, name: str | None = None) -> Extraction:
        if self.second_reading is None:
            return self.extract_document(self.ocr(source, self.ocr_options(), name=name))
        # The second reading crops the page images again: decode them here, once.
        from luodi.io import load_pages

        if name is None and isinstance(source, str | os.PathLike):
            name = os.fspath(source)
        t0 = time.perf_counter()
        settings = self._ocr_args["settings"]
        pages = load_pages(source, getattr(settings, "limits", None))
        doc = self.ocr.run_pages(pages, self.ocr_options(), source=name)
        total = (time.perf_counter() - t0) * 1000.0
        doc = dataclasses.replace(doc, timings=dataclasses.replace(doc.timings, total=total))
        return self.extract_document(doc, pages=pages)

    def extract_text(self, text: str, *, name: str | None = None) -> Extraction:
        """Fields of one party in free text (the ``contact`` schema, or any schema's party roles)."""
        if not isinstance(text, str):
            raise InputError("extract_text expects a str")
        if self.schema.mode != "contact":
            # Labelled text ("收件人：张三\n电话：…"): one line per text line, stacked on a page.
            return _without_boxes(self.extract_document(_text_document(text, name)))
        t0 = time.perf_counter()
        rd, decide = self._reading()
        pool = Pool()
        if text.strip():
            propose_contact(rd, text, None, pool)
        result = decide(pool, source=name, pages=0)
        return _with_timing(result, {"extract": (time.perf_counter() - t0) * 1000})

    def extract_document(self, doc: Document, *, pages: Sequence[np.ndarray] | None = None) -> Extraction:
        """The fields of ``doc``; ``pages`` (its page images, RGB) let the second reading, where the
        extractor has one, read the lines of accepted values again."""
        t0 = time.perf_counter()
        rd, decide = self._reading()
        pool = Pool()
        for page in doc.pages:
            if self.schema.mode == "contact":
                lines = sorted(make_lines(page), key=lambda t: (t.y0, t.x0))
                run: Run = tuple(Piece(t, 0, len(t.text)) for t in lines)
                if run:
                    propose_contact(rd, run_text(run), run, pool)
            else:
                propose_page(rd, PageLayout(make_lines(page), self._tables.lexicon), pool)
        result = decide(pool, source=doc.source, pages=len(doc.pages))
        if self._learned is not None and self.schema.mode == "document":
            result = self._learned(result, doc)
        timings = {"ocr": doc.timings.total, "extract": (time.perf_counter() - t0) * 1000}
        if self.second_reading is not None and pages:
            t1 = time.perf_counter()
            result = self.second_reading(result, pages, self.schema, self._divisions)
            timings["second_reading"] = (time.perf_counter() - t1) * 1000
            timings["extract"] += timings["second_reading"]
        return _with_timing(result, timings)

    def _reading(self) -> tuple[Reading, Decider]:
        """The tools of one extraction: a contact parser that remembers its answers for this
        document only (the same block comes back on multi-part stubs)."""
        parse = MemoParser(self.contact_parser)
        return (
            Reading(self._tables, parse),
            Decider(
                self.schema,
                self.review_threshold,
                self._divisions,
                parse,
                self._form_text,
                self.calibration,
                threshold_given=self._threshold_given,
            ),
        )


def _installed_gazetteer() -> Gazetteer | None:
    try:
        from luodi.kie.gazetteer import Gazetteer

        return Gazetteer.from_package()
    except ModelNotPulledError as exc:  # optional data: without it no division is checked
        log.warning("no division gazetteer: %s", exc.message)
        return None


def _text_document(text: str, name: str | None) -> Document:
    lines = []
    for i, row in enumerate(t for t in text.splitlines() if t.strip()):
        n = len(row)
        box = ((0.0, 40.0 * i), (20.0 * n, 40.0 * i), (20.0 * n, 40.0 * i + 20), (0.0, 40.0 * i + 20))
        positions = tuple((k + 0.5) / n for k in range(n))
        lines.append(Line(row, 1.0, box, tuple(1.0 for _ in row), positions))
    return Document(name, "text", (Page(0, 0, 0, tuple(lines)),))


def _without_boxes(result: Extraction) -> Extraction:
    fields = tuple(dataclasses.replace(f, box=None) for f in result.fields)
    return dataclasses.replace(result, fields=fields, pages=0)


def _with_timing(result: Extraction, timings: dict[str, float]) -> Extraction:
    return dataclasses.replace(result, timings_ms=tuple((k, round(v, 3)) for k, v in timings.items()))
