"""The OCR engine: detection → crop → (0/180 classification) → recognition → reading order.

``OCR`` loads its sessions once and is immutable afterwards; every call takes its own
``OCROptions``. All per-call state lives on the stack, and the sessions are safe to share between
threads, so one engine serves any number of threads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from luodi.config import Limits, Settings, get_settings
from luodi.errors import InputError, ModelError
from luodi.ocr.cls import Classifier
from luodi.ocr.crop import crop_quad, is_tall, reading_quad, rotate_180, rotate_tall
from luodi.ocr.ctc import load_characters
from luodi.ocr.det import DET_MEAN, DET_STD, Detector
from luodi.ocr.options import OCROptions
from luodi.ocr.order import reading_order, vertical_reading_order
from luodi.ocr.rec import Recognizer
from luodi.ocr.result import Document, Line, Page, Quad, RecResult, Timings
from luodi.ocr.tensor import REC_WIDTH_BUCKETS
from luodi.runtime.base import InferenceSession, RuntimeInfo, run_best
from luodi.runtime.factory import create_session, parse_backend
from luodi.zoo.spec import Bundle, StageSpec

__all__ = ["OCR", "OCROptions", "RecResult", "RecognizeFn"]

#: The ``recognizer=`` hook of :meth:`OCR.run_pages`: upright line crops in, one result per crop out.
RecognizeFn = Callable[[Sequence[np.ndarray]], Sequence[RecResult]]

_DEFAULT_OPTIONS = OCROptions()


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

    def __init__(
        self,
        model: str | Bundle | None = None,
        *,
        runtime: str | None = None,
        threads: int | None = None,
        settings: Settings | None = None,
        device: str = "cpu",
        wrap_session: Callable[[str, InferenceSession], InferenceSession] | None = None,
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
    ) -> OCR:
        """An engine over sessions you built yourself (a fake in tests, or a custom backend).

        ``characters`` is the full CTC class list: index 0 is the blank.
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
        )
        return engine

    def _setup(
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
    ) -> None:
        def norm(spec: StageSpec | None, mean: Any, std: Any) -> dict[str, Any]:
            if spec is None:
                return {"mean": mean, "std": std, "scale": 1.0 / 255.0}
            return {"mean": tuple(spec.mean), "std": tuple(spec.std), "scale": spec.scale}

        half = (0.5, 0.5, 0.5)
        object.__setattr__(self, "model_name", model_name)
        object.__setattr__(self, "_det", None if det is None else Detector(det, **norm(det_spec, DET_MEAN, DET_STD)))
        object.__setattr__(self, "_cls", None if cls is None else Classifier(cls, **norm(cls_spec, half, half)))
        object.__setattr__(self, "_rec", Recognizer(rec, characters, **norm(rec_spec, half, half)))
        object.__setattr__(self, "_limits", limits)
        object.__setattr__(self, "_rec_min_width", rec_min_width)
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
        t = doc.timings
        return Document(
            source=doc.source,
            model=doc.model,
            pages=doc.pages,
            timings=Timings(det=t.det, cls=t.cls, rec=t.rec, total=total),
        )

    def run_pages(
        self,
        pages: Sequence[np.ndarray],
        options: OCROptions | None = None,
        *,
        source: str | None = None,
        recognizer: RecognizeFn | None = None,
    ) -> Document:
        """OCR already-decoded pages (RGB uint8 H×W×3). ``recognizer`` replaces the rec stage."""
        opts = options if options is not None else _DEFAULT_OPTIONS
        if not isinstance(opts, OCROptions):
            raise TypeError(f"options must be OCROptions, not {type(opts).__name__}")
        t0 = time.perf_counter()
        totals = [0.0, 0.0, 0.0]
        out_pages = []
        for index, page in enumerate(pages):
            _check_image(page, f"page {index}")
            out_pages.append(self._run_page(page, index, opts, recognizer, totals))
        total = (time.perf_counter() - t0) * 1000.0
        return Document(
            source=source,
            model=self.model_name,
            pages=tuple(out_pages),
            timings=Timings(det=totals[0], cls=totals[1], rec=totals[2], total=total),
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
        t0 = time.perf_counter()
        if opts.use_det and self._det is not None:
            quads = [b.quad for b in self._det(page, opts)]
            crops = [crop_quad(page, q) for q in quads]
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
            crops = [page]
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
        for quad, is_vertical, flip, res in zip(quads, tall, flipped, results, strict=True):
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
                )
            )
        return Page(index=index, width=width, height=height, lines=tuple(lines))


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
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad.tolist()
    return ((x0, y0), (x1, y1), (x2, y2), (x3, y3))


def _check_image(img: Any, what: str) -> None:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        got = f"{img.dtype} array of shape {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
        raise InputError(f"{what} must be an RGB uint8 array of shape H×W×3, got {got}")
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise InputError(f"{what} is empty ({img.shape[1]}×{img.shape[0]} pixels)")
