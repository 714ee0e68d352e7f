"""The OCR engine: detection → crop → (0/180 classification) → recognition → reading order.

On photos a document-location stage runs first (docs/ocr.md, "Photos"): each label or sheet found
in the frame is warped upright, turned by its text direction, re-detected at the resolution its
text needs and read on its own; flat scans skip it after one look at a thumbnail.

``OCR`` loads its sessions once and is immutable afterwards; every call takes its own
``OCROptions``. All per-call state lives on the stack, and the sessions are safe to share between
threads, so one engine serves any number of threads.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np

from luodi.config import Limits, Settings, get_settings
from luodi.errors import InputError, ModelError
from luodi.locate.verify import text_groups
from luodi.ocr.cls import Classifier
from luodi.ocr.crop import crop_quad, is_tall, reading_quad, rotate_180, rotate_tall
from luodi.ocr.ctc import load_characters
from luodi.ocr.det import DET_MEAN, DET_STD, Detector, det_input_size, order_quad
from luodi.ocr.ink import blue_lead
from luodi.ocr.line_prep import LinePrep
from luodi.ocr.options import OCROptions
from luodi.ocr.order import reading_order, vertical_reading_order
from luodi.ocr.rec import Recognizer
from luodi.ocr.result import Document, Line, Page, PageDocument, Quad, RecResult, Timings
from luodi.ocr.stamps import drop_stamp_ink
from luodi.ocr.straighten import (
    Patch,
    TextDirection,
    apply,
    bend,
    expand_quad,
    outline_patch,
    rotation_matrix,
    text_direction,
    turn_matrix,
    warp_document,
    warp_patch,
)
from luodi.ocr.tensor import REC_WIDTH_BUCKETS
from luodi.runtime.base import InferenceSession, RuntimeInfo, run_best
from luodi.runtime.factory import create_session, parse_backend
from luodi.zoo.spec import Bundle, StageSpec

if TYPE_CHECKING:
    from luodi.locate.locator import DocumentLocator, LocatedDocument, Location

log = logging.getLogger("luodi.ocr")

__all__ = ["OCR", "OCROptions", "RecResult", "RecognizeFn"]

#: The ``recognizer=`` hook of :meth:`OCR.run_pages`: upright line crops in, one result per crop out.
RecognizeFn = Callable[[Sequence[np.ndarray]], Sequence[RecResult]]

_DEFAULT_OPTIONS = OCROptions()
# a photo where nothing was located but the coarse detection finds at least this many text boxes is
# read whole (a page the locator does not know); fewer, and it is a photo of no document
_MIN_FLAT_BOXES = 3
_MARGIN = 0.015  # located outlines are a few pixels off: warp a little more than the outline
_BENT = 0.03  # an outline straying more than this share of the short side from its quad is unwarped
_DESKEW_DEGREES = 1.5  # text leaning more than this after the warp is levelled and detected again
# a document under this share of the frame is flagged: its print is a few pixels high (a 30-parcel
# sorting-line frame: labels of 0.4-0.7% of 12 MP, lines of 4-10 px, read 0.54 of their fields through
# their true outlines, and the locator's outlines of them are loose)
_SMALL_DOCUMENT = 0.01
_FLIP_SHARE = 0.5  # a document is upside down when the classifier turned more than this share of its text


class OCR:
    """Offline OCR of document images with a PP-OCR model bundle.

    >>> ocr = OCR(model="pp-ocrv6-small")          # doctest: +SKIP
    >>> doc = ocr("waybill.jpg")                    # doctest: +SKIP
    >>> print(doc.text)                             # doctest: +SKIP

    ``model`` is a bundle name from the model store (``luodi models list``) or a ``Bundle``;
    ``runtime`` one of onnxruntime (default), paddle, openvino — unset, the settings' runtime if one
    is configured, else the bundle's own (``openvino`` for the INT8 OpenVINO IR bundles that
    ``luodi quantize`` makes), else onnxruntime; ``threads`` the intra-op threads
    per session (default: the machine's cores). Nothing is downloaded here: a bundle that is not
    pulled raises ``ModelNotPulledError`` naming the command that fetches it. ``wrap_session``
    (stage name, session) → session lets a caller instrument inference (timing, metrics).
    """

    __slots__ = (
        "_cls",
        "_det",
        "_frozen",
        "_limits",
        "_locator",
        "_rec",
        "_rec_min_width",
        "model_name",
        "runtime_info",
    )

    model_name: str
    runtime_info: dict[str, RuntimeInfo]
    _det: Detector | None
    _cls: Classifier | None
    _rec: Recognizer
    _limits: Limits
    _rec_min_width: int
    _locator: DocumentLocator | None

    def __init__(
        self,
        model: str | Bundle | None = None,
        *,
        runtime: str | None = None,
        threads: int | None = None,
        settings: Settings | None = None,
        device: str = "cpu",
        wrap_session: Callable[[str, InferenceSession], InferenceSession] | None = None,
        locator: DocumentLocator | Literal["auto"] | None = "auto",
    ) -> None:
        settings = settings if settings is not None else get_settings()
        if isinstance(model, Bundle):
            bundle = model
        else:
            from luodi.zoo import get_bundle

            bundle = get_bundle(model or settings.model, home=settings.home)
        # the runtime: asked for here, else set in the settings (file/env), else the bundle's own
        # (an INT8 OpenVINO IR bundle from ``luodi quantize`` says "openvino"), else onnxruntime
        configured = settings.runtime if "runtime" in settings.model_fields_set else None
        backend = parse_backend(runtime or configured or bundle.runtime or settings.runtime)
        threads = threads if threads is not None else settings.threads
        if bundle.rec is None:
            raise ModelError(f"bundle {bundle.name!r} has no recogniser, so it cannot be used for OCR")

        def load(spec: StageSpec | None) -> InferenceSession | None:
            if spec is None:
                return None
            return create_session(spec, backend, threads, device=device, openvino_cache_dir=settings.openvino_cache_dir)

        det_session, cls_session, rec_session = load(bundle.det), load(bundle.cls), load(bundle.rec)
        assert rec_session is not None
        # paddle2onnx exports carry the dictionary in the model: the fallback when a bundle has none
        metadata = getattr(rec_session, "metadata", {}) or {}
        if wrap_session is not None:
            det_session = None if det_session is None else wrap_session("det", det_session)
            cls_session = None if cls_session is None else wrap_session("cls", cls_session)
            rec_session = wrap_session("rec", rec_session)
        characters = load_characters(bundle.dictionary, metadata.get("character"))
        self._setup(
            model_name=bundle.name,
            det=det_session,
            cls=cls_session,
            rec=rec_session,
            characters=characters,
            det_spec=bundle.det,
            cls_spec=bundle.cls,
            rec_spec=bundle.rec,
            limits=settings.limits,
            rec_min_width=_bundle_rec_min_width(bundle),
            locator=_load_locator(settings, threads) if locator == "auto" else locator,
        )

    @classmethod
    def from_sessions(
        cls,
        *,
        rec: InferenceSession,
        characters: Sequence[str],
        det: InferenceSession | None = None,
        cls_session: InferenceSession | None = None,
        model_name: str = "custom",
        limits: Limits | None = None,
        rec_min_width: int = 0,
        locator: DocumentLocator | None = None,
    ) -> OCR:
        """An engine over sessions you built yourself (a fake in tests, or a custom backend).

        ``characters`` is the full CTC class list: index 0 is the blank. Without ``locator`` every
        page is read whole.
        """
        engine = cls.__new__(cls)
        engine._setup(
            model_name=model_name,
            det=det,
            cls=cls_session,
            rec=rec,
            characters=list(characters),
            det_spec=None,
            cls_spec=None,
            rec_spec=None,
            limits=limits if limits is not None else get_settings().limits,
            rec_min_width=rec_min_width,
            locator=locator,
        )
        return engine

    def _setup(  # noqa: PLR0913 - keyword-only: every part of an engine
        self,
        *,
        model_name: str,
        det: InferenceSession | None,
        cls: InferenceSession | None,
        rec: InferenceSession,
        characters: list[str],
        det_spec: StageSpec | None,
        cls_spec: StageSpec | None,
        rec_spec: StageSpec | None,
        limits: Limits,
        rec_min_width: int,
        locator: DocumentLocator | None = None,
    ) -> None:
        def norm(spec: StageSpec | None, mean: Any, std: Any) -> dict[str, Any]:
            if spec is None:
                return {"mean": mean, "std": std, "scale": 1.0 / 255.0}
            return {"mean": tuple(spec.mean), "std": tuple(spec.std), "scale": spec.scale}

        half = (0.5, 0.5, 0.5)
        object.__setattr__(self, "model_name", model_name)
        object.__setattr__(self, "_det", None if det is None else Detector(det, **norm(det_spec, DET_MEAN, DET_STD)))
        object.__setattr__(self, "_cls", None if cls is None else Classifier(cls, **norm(cls_spec, half, half)))
        prep = LinePrep.from_extra(rec_spec.extra) if rec_spec is not None else None
        object.__setattr__(self, "_rec", Recognizer(rec, characters, prep=prep, **norm(rec_spec, half, half)))
        object.__setattr__(self, "_limits", limits)
        object.__setattr__(self, "_rec_min_width", rec_min_width)
        object.__setattr__(self, "_locator", locator)
        info = {"rec": rec.info}
        if det is not None:
            info["det"] = det.info
        if cls is not None:
            info["cls"] = cls.info
        object.__setattr__(self, "runtime_info", _ReadOnlyDict(info))
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"OCR engines are immutable (tried to set {name!r}); pass OCROptions per call instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("OCR engines are immutable")

    def __repr__(self) -> str:
        rec = self.runtime_info["rec"]
        return f"OCR(model={self.model_name!r}, runtime={rec.backend.value!r}, threads={rec.threads})"

    @property
    def has_detector(self) -> bool:
        return self._det is not None

    @property
    def has_classifier(self) -> bool:
        return self._cls is not None

    @property
    def locator(self) -> DocumentLocator | None:
        """What finds documents on photos (None: pages are always read whole)."""
        return self._locator

    def warm_up(
        self,
        options: OCROptions | None = None,
        page_sizes: Sequence[tuple[int, int]] = ((1123, 794), (794, 1123)),
    ) -> int:
        """Compile ahead what a backend that compiles per input shape (OpenVINO) would otherwise
        compile on first use: every recognition width bucket, a full classifier batch, and the
        detector at ``page_sizes`` (h, w; default A4 portrait and landscape). Returns how many
        shapes were run; 0 for backends with dynamic shapes, where there is nothing to compile.
        Each shape costs ~0.15 s (FP32) to ~1 s (INT8) unless ``openvino_cache_dir`` has it."""
        opts = options or OCROptions()
        done = 0
        rec = self._rec
        if rec.session.info.static_shapes:
            for width in REC_WIDTH_BUCKETS:
                batch = np.zeros((opts.rec_batch_size, 3, rec.height, width), dtype=np.float32)
                run_best(rec.session, {rec.session.input_names[0]: batch})
                done += 1
        if self._cls is not None and self._cls.session.info.static_shapes:
            crop = np.full((rec.height, rec.height * 4, 3), 255, dtype=np.uint8)
            self._cls.upside_down([crop], opts.cls_thresh, opts.cls_batch_size)
            done += 1
        if self._det is not None and self._det.session.info.static_shapes:
            for h, w in page_sizes:
                self._det(np.full((h, w, 3), 255, dtype=np.uint8), opts)
                done += 1
        return done

    # --- public calls --------------------------------------------------------------------------
    def __call__(
        self,
        source: Any,
        options: OCROptions | None = None,
        *,
        name: str | None = None,
        pdf_dpi: int | None = None,
    ) -> Document:
        """OCR every page of ``source``: a path, the bytes of an image/PDF, an RGB array or a PIL image."""
        from luodi.io import load_pages

        if name is None and isinstance(source, str | os.PathLike):
            name = os.fspath(source)
        t0 = time.perf_counter()
        pages = load_pages(source, self._limits, pdf_dpi=pdf_dpi)
        doc = self.run_pages(pages, options, source=name)
        # decoding belongs to the call's total too
        total = (time.perf_counter() - t0) * 1000.0
        return dataclasses.replace(doc, timings=dataclasses.replace(doc.timings, total=total))

    def run_pages(
        self,
        pages: Iterable[np.ndarray],
        options: OCROptions | None = None,
        *,
        source: str | None = None,
        recognizer: RecognizeFn | None = None,
    ) -> Document:
        """OCR already-decoded pages (RGB uint8 H×W×3). ``recognizer`` replaces the rec stage.

        ``pages`` may be a lazy iterator (``luodi.Pipeline.run(stream=True)``): each page is let go
        before the next one is asked for, so only one decoded page is alive at a time.
        """
        opts = options if options is not None else _DEFAULT_OPTIONS
        if not isinstance(opts, OCROptions):
            raise TypeError(f"options must be OCROptions, not {type(opts).__name__}")
        t0 = time.perf_counter()
        totals = [0.0, 0.0, 0.0, 0.0]  # det, cls, rec, locate (ms)
        out_pages: list[Page] = []
        # no enumerate(): it keeps its last (index, page) tuple alive while the next page decodes
        for page in pages:
            index = len(out_pages)
            _check_image(page, f"page {index}")
            out_pages.append(self._run_page(page, index, opts, recognizer, totals))
            del page  # not held while the next page decodes
        total = (time.perf_counter() - t0) * 1000.0
        return Document(
            source=source,
            model=self.model_name,
            pages=tuple(out_pages),
            timings=Timings(det=totals[0], cls=totals[1], rec=totals[2], total=total, locate=totals[3]),
        )

    def recognize(self, crops: Sequence[np.ndarray], options: OCROptions | None = None) -> list[RecResult]:
        """Read upright single-line crops (RGB uint8), one result per crop, in order."""
        opts = options if options is not None else _DEFAULT_OPTIONS
        for i, crop in enumerate(crops):
            _check_image(crop, f"crop {i}")
        return self._rec(crops, batch_size=opts.rec_batch_size, min_width=self._min_width(opts))

    def _min_width(self, opts: OCROptions) -> int:
        return self._rec_min_width if opts.rec_min_width is None else opts.rec_min_width

    # --- one page ------------------------------------------------------------------------------
    def _run_page(
        self,
        page: np.ndarray,
        index: int,
        opts: OCROptions,
        recognizer: RecognizeFn | None,
        totals: list[float],
    ) -> Page:
        height, width = page.shape[:2]
        if opts.drop_stamps:
            page = drop_stamp_ink(page)
        if self._locates(page, opts):
            assert self._locator is not None
            t0 = time.perf_counter()
            location = self._locator.locate(page)
            totals[3] += (time.perf_counter() - t0) * 1000.0
            if not location.flat:
                return self._run_photo(page, index, location, opts, recognizer=recognizer, totals=totals)
        quads = self._detect(page, opts, totals) if opts.use_det and self._det is not None else None
        lines = self._read(page, quads, opts, recognizer, totals)
        return Page(index=index, width=width, height=height, lines=tuple(lines))

    def _locates(self, page: np.ndarray, opts: OCROptions) -> bool:
        return (
            opts.locate
            and opts.use_det
            and self._locator is not None
            and self._det is not None
            and page.shape[0] * page.shape[1] >= opts.locate_min_pixels
        )

    def _detect(self, image: np.ndarray, opts: OCROptions, totals: list[float]) -> list[np.ndarray]:
        return self._detect_graded(image, opts, totals)[0]

    def _detect_graded(
        self, image: np.ndarray, opts: OCROptions, totals: list[float], weak: float | None = None
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Boxes scoring ``opts.det_box_thresh`` and over, and (``weak``: a lower threshold) all
        boxes scoring ``weak`` and over, from one run of the detector."""
        assert self._det is not None
        t0 = time.perf_counter()
        low = opts.det_box_thresh if weak is None else min(weak, opts.det_box_thresh)
        boxes = self._det(image, opts if low == opts.det_box_thresh else opts.replace(det_box_thresh=low))
        totals[0] += (time.perf_counter() - t0) * 1000.0
        return [b.quad for b in boxes if b.score >= opts.det_box_thresh], [b.quad for b in boxes]

    def _read(
        self,
        image: np.ndarray,
        quads: list[np.ndarray] | None,
        opts: OCROptions,
        recognizer: RecognizeFn | None,
        totals: list[float],
    ) -> list[Line]:
        """Crop, classify and recognise ``quads`` of ``image`` (None: the whole image is one line);
        lines in reading order, boxes in the image's pixels."""
        height, width = image.shape[:2]
        t0 = time.perf_counter()
        if quads is not None:
            crops = [crop_quad(image, q) for q in quads]
            tall = [is_tall(c, opts.tall_ratio) for c in crops]
            # a page written mostly in vertical columns reads right to left; anything else in rows
            vertical = len(crops) > 0 and 2 * sum(tall) > len(crops)
            order = vertical_reading_order(quads) if vertical else reading_order(quads)
            quads = [quads[i] for i in order]
            crops = [crops[i] for i in order]
            tall = [tall[i] for i in order]
            crops = [rotate_tall(c) if t else c for c, t in zip(crops, tall, strict=True)]
        else:
            # no detector: the whole page is one text line
            quads = [np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)]
            crops = [image]
            tall = [False]
        t1 = time.perf_counter()
        flipped = [False] * len(crops)
        if opts.use_cls and self._cls is not None and crops:
            flipped = self._cls.upside_down(crops, opts.cls_thresh, opts.cls_batch_size)
            crops = [rotate_180(c) if f else c for c, f in zip(crops, flipped, strict=True)]
        t2 = time.perf_counter()
        if not crops:
            results: Sequence[RecResult] = []
        elif recognizer is not None:
            results = recognizer(crops)
            if len(results) != len(crops):
                raise ModelError(f"the recognizer returned {len(results)} results for {len(crops)} crops")
        else:
            results = self._rec(crops, batch_size=opts.rec_batch_size, min_width=self._min_width(opts))
        t3 = time.perf_counter()
        totals[0] += (t1 - t0) * 1000.0
        totals[1] += (t2 - t1) * 1000.0
        totals[2] += (t3 - t2) * 1000.0

        lines = []
        for quad, is_vertical, flip, res, crop in zip(quads, tall, flipped, results, crops, strict=True):
            if res.score < opts.drop_score or not res.text.strip():
                continue
            lines.append(
                Line(
                    text=res.text,
                    score=res.score,
                    box=_as_quad(reading_quad(quad, is_vertical, flip)),
                    char_scores=res.char_scores,
                    char_positions=res.char_positions,
                    angle=180 if flip else 0,
                    char_blue=blue_lead(crop, res.char_positions, res.text) if opts.mark_pen else (),
                )
            )
        return lines

    # --- photos ----------------------------------------------------------------------------------
    def _run_photo(
        self,
        page: np.ndarray,
        index: int,
        location: Location,
        opts: OCROptions,
        *,
        recognizer: RecognizeFn | None,
        totals: list[float],
    ) -> Page:
        height, width = page.shape[:2]
        found = list(location.documents)
        if not found:
            return self._nothing_located(page, index, opts, recognizer=recognizer, totals=totals)
        flags: tuple[str, ...] = ()
        if len(found) > opts.max_documents:
            log.warning(
                "page %d: %d documents found, reading the first %d (max_documents)",
                index,
                len(found),
                opts.max_documents,
            )
            flags = ("too_many_documents",)
            found = found[: opts.max_documents]
        page_lines: list[Line] = []
        documents: list[PageDocument] = []
        # documents under _SMALL_DOCUMENT of the frame with any print on them, read or not: a sorting-line
        # frame's labels show one or two text boxes each at most, too few to read, and still need the
        # warning; a bare region (a fold of an empty mailer) shows none
        small = 0
        for doc in found:
            for part, got, boxes in self._read_located(page, doc, opts, recognizer, totals):
                small += boxes > 0 and part.area < _SMALL_DOCUMENT
                chars = 0 if got is None else sum(len(line.text) for line in got[0].lines)
                if got is None or chars < opts.min_document_chars:
                    log.debug("page %d: a located region reading %d characters is no document: dropped", index, chars)
                    continue
                read, in_page = got
                ids = tuple(range(len(page_lines), len(page_lines) + len(in_page)))
                page_lines.extend(in_page)
                documents.append(dataclasses.replace(read, index=len(documents), line_ids=ids))
        if small:
            log.warning(
                "page %d: %d documents under %.0f%% of the frame each: their print is a few pixels high, so some "
                "may be missed or misread (docs/ocr.md, 'Photos'); photograph fewer parcels per frame, or closer",
                index,
                small,
                100 * _SMALL_DOCUMENT,
            )
            flags = (*flags, "small_documents")
        if not documents:
            return self._nothing_located(page, index, opts, recognizer=recognizer, totals=totals, flags=flags)
        return Page(
            index=index,
            width=width,
            height=height,
            lines=tuple(page_lines),
            documents=tuple(documents),
            located=True,
            flags=flags,
        )

    def _nothing_located(
        self,
        page: np.ndarray,
        index: int,
        opts: OCROptions,
        *,
        recognizer: RecognizeFn | None,
        totals: list[float],
        flags: tuple[str, ...] = (),
    ) -> Page:
        """No document on a photo, or a sheet the locator does not know: the coarse detection a scan
        would get decides which (and is reused if it is a sheet). ``flags``: more to say about the page."""
        height, width = page.shape[:2]
        quads = self._detect(page, opts, totals)
        flags = ("no_document", *flags)
        if len(quads) < _MIN_FLAT_BOXES:
            return Page(index=index, width=width, height=height, located=True, flags=flags)
        lines = self._read(page, quads, opts, recognizer, totals)
        return Page(index=index, width=width, height=height, lines=tuple(lines), flags=flags)

    def _read_located(
        self,
        page: np.ndarray,
        found: LocatedDocument,
        opts: OCROptions,
        recognizer: RecognizeFn | None,
        totals: list[float],
    ) -> list[tuple[LocatedDocument, tuple[PageDocument, list[Line]] | None, int]]:
        """One located region read: whole, or (``verify``) as the labels its text says it holds —
        a region much larger than its clusters of text lines (a light bag marked with its label, two
        labels on one bag) is cut down to them and each is straightened and read on its own
        (:mod:`luodi.locate.verify`). Each part with what it read (None: no document) and the number
        of text boxes found on it."""
        image, quads, placed, read = self._straighten(page, found, opts, totals)
        if opts.verify:
            groups = text_groups(quads, image)
            if groups.cut:
                # each label is warped from the page and detected again on its own, not cropped out of
                # the region: a label reaching past the region's outline is cut there (white beyond
                # it), and a region levelled by a large lean was detected below its text's resolution
                # (its small lines missed). Dev frames (seeds 45, 46): fields 238 -> 249 of 319 and
                # 135 -> 145 of 273, CPU +7-11% a frame (bench/results/parcel_parts.md)
                parts = [(_part_of(found, placed.to_page(rect), page.shape[:2]), rect) for rect in groups.rects]
                parts.sort(key=lambda p: (float(p[0].quad[:, 1].min()), float(p[0].quad[:, 0].min())))
                return [
                    (p, self._read_document(page, p, opts, recognizer, totals), _boxes_in(quads, rect))
                    for p, rect in parts
                ]
        got = self._read_document(page, found, opts, recognizer, totals, straightened=(image, read, placed))
        return [(found, got, len(quads))]

    def _read_document(
        self,
        page: np.ndarray,
        found: LocatedDocument,
        opts: OCROptions,
        recognizer: RecognizeFn | None,
        totals: list[float],
        straightened: tuple[np.ndarray, list[np.ndarray], _Placement] | None = None,
    ) -> tuple[PageDocument, list[Line]] | None:
        """Straighten one located document (unless ``straightened`` is given), read it; its lines in
        its own pixels and in the page's. None when the detector sees fewer than ``_MIN_FLAT_BOXES``
        lines of text on it: glare, a bare bag or a crease is dropped before anything is recognised
        on it (a photo of no label costs about one coarse detection)."""
        if straightened is None:
            image, _, placed, quads = self._straighten(page, found, opts, totals)
        else:
            image, quads, placed = straightened
        if len(quads) < _MIN_FLAT_BOXES:
            return None
        lines = self._read(image, quads, opts, recognizer, totals)
        h, w = image.shape[:2]
        text = sum(len(line.text) for line in lines)
        if text and sum(len(line.text) for line in lines if line.angle == 180) > _FLIP_SHARE * text:
            turn = turn_matrix(2, w, h)
            placed = placed.then(turn)
            image = np.ascontiguousarray(image[::-1, ::-1])
            lines = self._reread_turned(image, quads, lines, turn, opts, recognizer, totals)
        lines = self._second_look(image, lines, opts, recognizer, totals)
        page_h, page_w = page.shape[:2]
        page_lines = []
        for i, line in enumerate(lines):
            box = placed.to_page(np.asarray(line.box))
            cut = found.cut_off and _at_edge(box, page_w, page_h)
            page_lines.append(dataclasses.replace(line, box=_as_quad(box), cut_off=cut))
            if cut:
                lines[i] = dataclasses.replace(line, cut_off=True)
        to_page = placed.matrix_to_page()
        quad = apply(to_page, order_quad(apply(np.linalg.inv(to_page), found.quad).astype(np.float32)))
        # the text's direction on the page (the outline may be a little off it)
        ends = placed.to_page(np.array([[w / 2, h / 2], [w / 2 + 1, h / 2]]))
        top = ends[1] - ends[0]
        document = PageDocument(
            index=0,
            quad=_as_quad(quad),
            width=w,
            height=h,
            lines=tuple(lines),
            polygon=tuple((float(x), float(y)) for x, y in found.polygon),
            rotation=math.degrees(math.atan2(-top[1], top[0])),
            score=found.score,
            method=found.method,
            cut_off=found.cut_off,
            transform=tuple(float(v) for v in (to_page / to_page[2, 2]).ravel()),
        )
        return document, page_lines

    def _reread_turned(
        self,
        image: np.ndarray,
        quads: list[np.ndarray],
        lines: list[Line],
        turn: np.ndarray,
        opts: OCROptions,
        recognizer: RecognizeFn | None,
        totals: list[float],
    ) -> list[Line]:
        """A document found upside down, ``image`` already turned by ``turn``: the lines the classifier
        turned were read the right way up and are kept; every other box is read again on the turned
        image, where the classifier's default (not turned) is now the document's own way up. The
        classifier turns a line only when sure (``cls_thresh``): blurred, short and digit-only lines of
        an upside-down label were read upside down (measured on rendered dev frames, docs/ocr.md)."""
        kept = [line for line in lines if line.angle == 180]
        done = {_quad_key(np.asarray(line.box)) for line in kept}
        again = [order_quad(apply(turn, q).astype(np.float32)) for q in quads if _quad_key(q) not in done]
        merged = _turned_lines(kept, turn) + self._read(image, again, opts, recognizer, totals)
        order = reading_order([np.asarray(line.box, np.float32) for line in merged])
        return [merged[i] for i in order]

    def _second_look(
        self,
        image: np.ndarray,
        lines: list[Line],
        opts: OCROptions,
        recognizer: RecognizeFn | None,
        totals: list[float],
    ) -> list[Line]:
        """Lines the classifier turned against their document's own way up are read that way up too,
        and the reading with the higher score is kept: digit strings (0, 1, 6, 8, 9) look much the
        same both ways and the classifier is sure of a wrong turn on some of them."""
        minority = [line for line in lines if line.angle == 180]
        if not minority or not opts.use_cls:
            return lines
        quads = [order_quad(np.asarray(line.box, np.float32)) for line in minority]
        upright = {
            _quad_key(np.asarray(line.box)): line
            for line in self._read(image, quads, opts.replace(use_cls=False), recognizer, totals)
        }
        out = []
        for line in lines:
            other = upright.get(_quad_key(np.asarray(line.box))) if line.angle == 180 else None
            out.append(other if other is not None and other.score > line.score else line)
        return out

    def _straighten(
        self, page: np.ndarray, found: LocatedDocument, opts: OCROptions, totals: list[float]
    ) -> tuple[np.ndarray, list[np.ndarray], _Placement, list[np.ndarray]]:
        """The document warped upright (a Coons patch of its outline when it is bent and ``unwarp``
        is on), turned by its text (a quarter turn, then a fine deskew), and its text boxes detected
        at the resolution the text needs: those scoring ``det_box_thresh`` (they decide the turn, the
        lean, the size and the text check), and the boxes to read (down to ``doc_box_thresh``)."""
        t0 = time.perf_counter()
        quad = expand_quad(found.quad, _MARGIN)
        image, to_warp = warp_document(page, quad, opts.doc_max_side)
        patch = None
        if opts.unwarp and bend(found.polygon, found.quad) > _BENT:
            patch = outline_patch(found.polygon, found.quad, _MARGIN)
            if patch is not None:
                image = warp_patch(page, patch, (image.shape[1], image.shape[0]))
        placed = _Placement(np.eye(3), to_warp, patch, (image.shape[1], image.shape[0]))
        totals[3] += (time.perf_counter() - t0) * 1000.0
        probe = opts.replace(det_limit_side=min(opts.det_limit_side, max(image.shape[:2])), det_limit_type="max")
        quads, read = self._detect_graded(image, probe, totals, opts.doc_box_thresh)
        direction = text_direction(quads)
        if direction.vertical:  # lying on its side: a quarter turn (upside down is the classifier's call)
            turn = turn_matrix(1, image.shape[1], image.shape[0])
            image = np.ascontiguousarray(np.rot90(image))
            quads, read = ([order_quad(apply(turn, q).astype(np.float32)) for q in qs] for qs in (quads, read))
            placed = placed.then(turn)
            direction = text_direction(quads)
        if abs(direction.skew) >= _DESKEW_DEGREES and direction.lines >= 3:
            # the outline was a little off (a bent or torn edge): level the text, and look again
            t0 = time.perf_counter()
            level, (nw, nh) = rotation_matrix(direction.skew, image.shape[1], image.shape[0])
            image = cv2.warpAffine(image, level[:2], (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
            placed = placed.then(level)
            totals[3] += (time.perf_counter() - t0) * 1000.0
            quads, read = self._detect_graded(image, probe, totals, opts.doc_box_thresh)
            direction = text_direction(quads)
        again = self._redetect(image, direction, probe, opts)
        if again is not None:
            quads, read = self._detect_graded(image, again, totals, opts.doc_box_thresh)
        return image, quads, placed, read

    def _redetect(
        self, image: np.ndarray, direction: TextDirection, probe: OCROptions, opts: OCROptions
    ) -> OCROptions | None:
        """The options to detect again with when the probe saw the text too small (or saw none): the
        limit that brings the median line to ``opts.text_height`` detector pixels, a ``"max"`` limit,
        so never past the document's own resolution or ``det_max_side``. None: the probe's boxes stand
        (its lines were big enough, or the probe already saw the document at about that resolution:
        the same detection again would find the same boxes). Enlarging a small document's input up
        to twice was measured on dev frames and read nothing more: its lines are lost to blur, not
        to size (bench/results/parcel_blur.md)."""
        h, w = image.shape[:2]
        height, counted = direction.height, direction.lines
        ph, pw = det_input_size(h, w, probe)
        if counted and height * max(ph / h, pw / w) >= 0.6 * opts.text_height:
            return None
        longest = max(h, w)
        want = longest * opts.text_height / height if counted and height > 0 else longest
        limit = int(min(want, longest, opts.det_max_side, 8192))
        if limit <= 1.2 * max(ph, pw):
            return None
        return opts.replace(det_limit_side=limit, det_limit_type="max")


@dataclass(frozen=True, slots=True)
class _Placement:
    """How a straightened document's pixels relate to the page: ``warp`` (page → the first warped
    image, the quad's homography), or ``patch`` (that image's unit square → page, for a bent
    outline), then ``post`` (turns and deskew, first warped image → document pixels)."""

    post: np.ndarray
    warp: np.ndarray
    patch: Patch | None
    size: tuple[int, int]  # the first warped image's (w, h)

    def then(self, matrix: np.ndarray) -> _Placement:
        return _Placement(matrix @ self.post, self.warp, self.patch, self.size)

    def to_page(self, points: np.ndarray) -> np.ndarray:
        warped = apply(np.linalg.inv(self.post), points)
        if self.patch is None:
            return apply(np.linalg.inv(self.warp), warped)
        w, h = self.size
        return np.asarray(self.patch.at(warped[:, 0] / w, warped[:, 1] / h))

    def matrix_to_page(self) -> np.ndarray:
        """Document pixels → page as one 3×3 matrix: exact for a flat document, the quad's
        homography for a bent one."""
        return np.asarray(np.linalg.inv(self.post @ self.warp))


def _turned_lines(lines: list[Line], turn: np.ndarray) -> list[Line]:
    """Lines of a document turned 180°: boxes through ``turn``, the classifier's angle inverted,
    and the reading order again."""
    turned = [
        dataclasses.replace(
            line, box=_as_quad(apply(turn, np.asarray(line.box))), angle=0 if line.angle == 180 else 180
        )
        for line in lines
    ]
    order = reading_order([np.asarray(line.box, np.float32) for line in turned])
    return [turned[i] for i in order]


def _quad_key(quad: np.ndarray) -> frozenset[tuple[float, float]]:
    """A box's corners whatever their order (a line's box is its detector quad, corners rolled)."""
    return frozenset((round(float(x), 2), round(float(y), 2)) for x, y in np.asarray(quad).reshape(-1, 2))


def _boxes_in(quads: list[np.ndarray], rect: np.ndarray) -> int:
    """How many boxes have their centre inside the upright rectangle ``rect``."""
    x0, y0 = rect.min(0)
    x1, y1 = rect.max(0)
    return sum(1 for q in quads if x0 <= float(q[:, 0].mean()) <= x1 and y0 <= float(q[:, 1].mean()) <= y1)


def _part_of(found: LocatedDocument, quad: np.ndarray, frame: tuple[int, int]) -> LocatedDocument:
    """The label at ``quad`` (page pixels) inside the located region ``found``."""
    from luodi.locate.locator import LocatedDocument
    from luodi.locate.locator import order_quad as clockwise

    h, w = frame
    quad = clockwise(np.asarray(quad, np.float32))
    quad[:, 0] = np.clip(quad[:, 0], 0, w - 1)
    quad[:, 1] = np.clip(quad[:, 1], 0, h - 1)
    area = float(cv2.contourArea(quad)) / (h * w)
    cut = found.cut_off and _at_edge(quad, w, h)
    return LocatedDocument(quad, quad.copy(), found.score, found.method, cut, area)


def _at_edge(box: np.ndarray, width: int, height: int) -> bool:
    tol = 0.005 * max(width, height)
    xs, ys = box[:, 0], box[:, 1]
    return bool(xs.min() <= tol or ys.min() <= tol or xs.max() >= width - tol or ys.max() >= height - tol)


def _load_locator(settings: Settings, threads: int | None) -> DocumentLocator:
    """The trained locator from the store; classical geometry alone where it was not trained."""
    from luodi.errors import ModelNotPulledError
    from luodi.locate.locator import DocumentLocator

    try:
        return DocumentLocator.from_store(settings.home, threads=threads)
    except ModelNotPulledError as exc:
        log.warning("%s; photos are located by classical geometry only", exc)
        return DocumentLocator(None)


def _bundle_rec_min_width(bundle: Bundle) -> int:
    """Narrowest recogniser input for a bundle: its spec's ``extra["rec_min_width"]``, else 0.

    0 means every crop is fed at its real width. PaddleOCR pads short crops to 320 (its training
    canvas); on luodi's 900 synthetic lines that padding decided 5 lines for and 3 against PP-OCRv4
    (noise) and 2 for, 8 against PP-OCRv6 small, at about 30% more recognition time
    (bench/results/pipeline_overhead.md). A bundle that does need it can say so in its spec.
    """
    rec = bundle.rec
    if rec is not None and "rec_min_width" in rec.extra:
        return int(rec.extra["rec_min_width"])
    return 0


class _ReadOnlyDict(dict[str, RuntimeInfo]):
    """``runtime_info`` must not be edited through the engine."""

    def _readonly(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("runtime_info is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]


def _as_quad(quad: np.ndarray) -> Quad:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = np.asarray(quad, dtype=np.float64).tolist()
    return ((x0, y0), (x1, y1), (x2, y2), (x3, y3))


def _check_image(img: Any, what: str) -> None:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        got = f"{img.dtype} array of shape {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
        raise InputError(f"{what} must be an RGB uint8 array of shape H×W×3, got {got}")
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise InputError(f"{what} is empty ({img.shape[1]}×{img.shape[0]} pixels)")
