"""Calibration data: the tensors each stage really sees when the pipeline reads the user's pages.

The FP32 engine runs over the calibration pages with every session wrapped in a recorder, so det
gets its resized pages, and cls/rec get the crops the pipeline cut from its own detections, with
the exact pre-processing (resize, normalisation, real widths) the quantized model will meet later.
Batches are split into single samples: the calibrators see per-crop statistics, and a sample of
any width can be fed to any toolchain.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from luodi.errors import EmptyInputError, InputError, InputNotFoundError, LuodiError
from luodi.runtime.base import InferenceSession, SessionWrapper

#: Fewer pages than this give too few detections for stable activation ranges.
MIN_CALIB_PAGES = 4
#: A recogniser calibrated on fewer line crops than this is refused.
MIN_REC_CROPS = 16

STAGES = ("det", "cls", "rec")


@dataclass(frozen=True)
class CalibrationSet:
    """Recorded model inputs per stage: ``{stage: [{input_name: array with batch 1}, ...]}``."""

    samples: Mapping[str, Sequence[Mapping[str, np.ndarray]]]
    pages: int
    skipped: tuple[str, ...] = ()  # calibration files that could not be read, with the reason

    def count(self, stage: str) -> int:
        return len(self.samples.get(stage, ()))


class _Recorder(SessionWrapper):
    """An ``InferenceSession`` that keeps a copy of every input, one entry per batch row."""

    def __init__(self, inner: InferenceSession) -> None:
        super().__init__(inner)
        self.store: list[dict[str, np.ndarray]] = []
        self.lock = threading.Lock()

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        rows = {name: np.asarray(value) for name, value in inputs.items()}
        batch = min(v.shape[0] for v in rows.values()) if rows else 0
        with self.lock:
            for i in range(batch):
                self.store.append({name: np.ascontiguousarray(v[i : i + 1]) for name, v in rows.items()})
        return self.inner.run(inputs)


def list_calibration_files(calib_dir: str | Path) -> list[str]:
    """The image/PDF files of a calibration folder; clear errors for a missing or empty one."""
    from luodi.io import iter_sources

    path = Path(calib_dir)
    if not path.exists():
        raise InputNotFoundError(f"calibration folder {path} does not exist")
    if not path.is_dir():
        raise InputError(f"--calib must be a folder of page images, but {path} is a file")
    try:
        files = list(iter_sources([str(path)]))
    except LuodiError:
        raise
    except OSError as exc:
        raise InputError(f"cannot read calibration folder {path}: {exc}") from exc
    if not files:
        raise EmptyInputError(f"calibration folder {path} holds no image or PDF files")
    return files


def collect(  # noqa: PLR0913 - keyword options of the public API
    model: str,
    calib_dir: str | Path,
    *,
    home: Path | None = None,
    min_pages: int = MIN_CALIB_PAGES,
    max_pages: int = 64,
    max_samples: Mapping[str, int] | None = None,
    seed: int = 0,
    engine_factory: Callable[..., object] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CalibrationSet:
    """Run ``model`` (FP32) over the pages in ``calib_dir`` and record every stage's inputs.

    Unreadable files are skipped and listed; fewer than ``min_pages`` readable pages raise
    ``InputError``. ``max_samples`` caps the kept samples per stage (a seeded random subset, so
    long documents do not crowd out short ones); ``engine_factory`` replaces :class:`luodi.OCR`
    (tests pass one over fake sessions).
    """
    from luodi.io import load_pages

    files = list_calibration_files(calib_dir)
    caps = {"det": 48, "cls": 256, "rec": 400, **dict(max_samples or {})}
    recorders: dict[str, _Recorder] = {}

    def wrap(stage: str, session: InferenceSession) -> InferenceSession:
        recorders[stage] = _Recorder(session)
        return recorders[stage]

    if engine_factory is None:
        from luodi.config import get_settings
        from luodi.ocr.pipeline import OCR

        settings = get_settings()
        if home is not None:
            settings = settings.model_copy(update={"home": home})
        engine: object = OCR(model, runtime="onnxruntime", settings=settings, wrap_session=wrap)
    else:
        engine = engine_factory(model, wrap_session=wrap)

    pages_done = 0
    skipped: list[str] = []
    for k, name in enumerate(files):
        if pages_done >= max_pages:
            break
        try:
            pages = load_pages(name)
        except InputError as exc:
            skipped.append(f"{name}: {exc.message}")
            continue
        for page in pages[: max(0, max_pages - pages_done)]:
            engine.run_pages([page])  # type: ignore[attr-defined]
            pages_done += 1
        if progress is not None:
            progress(k + 1, len(files))
    if pages_done < min_pages:
        why = f"; unreadable: {'; '.join(skipped[:3])}" if skipped else ""
        raise InputError(f"calibration needs at least {min_pages} readable pages, {calib_dir} gave {pages_done}{why}")
    samples = _subsampled(recorders, caps, seed)
    if "rec" in recorders and len(samples.get("rec", ())) < MIN_REC_CROPS:
        raise InputError(
            f"the calibration pages gave only {len(samples.get('rec', ()))} text lines; "
            f"at least {MIN_REC_CROPS} are needed: add pages with printed text"
        )
    return CalibrationSet(samples=samples, pages=pages_done, skipped=tuple(skipped))


def _subsampled(
    recorders: Mapping[str, _Recorder], caps: Mapping[str, int], seed: int
) -> dict[str, list[dict[str, np.ndarray]]]:
    """Each stage's recorded inputs, cut to its cap by a seeded random subset kept in order."""
    rng = random.Random(seed)
    samples: dict[str, list[dict[str, np.ndarray]]] = {}
    for stage, rec in recorders.items():
        kept = list(rec.store)
        cap = caps.get(stage, len(kept))
        if len(kept) > cap:
            kept = [kept[i] for i in sorted(rng.sample(range(len(kept)), cap))]
        samples[stage] = kept
    return samples
