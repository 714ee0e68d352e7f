"""Running the frozen feature extractor (ONNX Runtime) over datasets, with the training views."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from luodi.runtime.base import InferenceSession
from luodi.vision.data import SQUARE, DataReport, Sample, iter_readable, to_input

Progress = Callable[[int], None]


def onnx_session(path: Path, threads: int | None = None) -> InferenceSession:
    from luodi.runtime.factory import create_session

    return create_session(path, "onnxruntime", threads)


def run_inputs(session: InferenceSession, inputs: Sequence[np.ndarray], batch: int = 8) -> np.ndarray:
    name = session.input_names[0]
    outs = [session.run({name: np.stack(inputs[i : i + batch])})[0] for i in range(0, len(inputs), batch)]
    return np.concatenate(outs)


def photometric(rgb: np.ndarray, rng: np.random.Generator) -> Any:
    """Brightness/contrast change, sometimes a slight blur or sensor noise: another exposure of the part."""
    img: Any = rgb.astype(np.float32)
    mean = float(img.mean())
    img = (img - mean) * rng.uniform(0.75, 1.3) + mean + rng.uniform(-25, 25)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=rng.uniform(0.5, 1.2))
    if rng.random() < 0.3:
        img = img + rng.normal(0, rng.uniform(2, 6), img.shape)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def views(
    rgb: np.ndarray, *, hflip: bool, vflip: bool, photometric_views: int, rng: np.random.Generator
) -> list[np.ndarray]:
    out = [rgb]
    if hflip:
        out.append(np.ascontiguousarray(rgb[:, ::-1]))
    if vflip:
        out.append(np.ascontiguousarray(rgb[::-1]))
    for _ in range(photometric_views):
        base = out[int(rng.integers(len(out)))]
        out.append(photometric(base, rng))
    return out


def extract(
    session: InferenceSession,
    samples: Iterable[Sample],
    report: DataReport,
    size: int,
    *,
    resize: str = SQUARE,
    make_views: Callable[[np.ndarray], list[np.ndarray]] | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, list[Sample], list[int]]:
    """Pooled features of every readable sample (and of its views): (features, samples kept, row
    owner index). The views of one image share its shape, so they run as one batch."""
    feats, kept, owner = extract_maps(
        session, samples, report, size, resize=resize, make_views=make_views, progress=progress
    )
    if not feats:
        return np.zeros((0,), np.float32), kept, owner
    return np.concatenate(feats), kept, owner


def extract_maps(
    session: InferenceSession,
    samples: Iterable[Sample],
    report: DataReport,
    size: int,
    *,
    resize: str = SQUARE,
    make_views: Callable[[np.ndarray], list[np.ndarray]] | None = None,
    progress: Progress | None = None,
) -> tuple[list[np.ndarray], list[Sample], list[int]]:
    """Like :func:`extract`, one output array per image (its views stacked): feature maps of
    ``native`` inputs differ in shape from image to image."""
    feats: list[np.ndarray] = []
    kept: list[Sample] = []
    owner: list[int] = []
    for s, rgb in iter_readable(samples, report):
        imgs = make_views(rgb) if make_views is not None else [rgb]
        feats.append(run_inputs(session, [to_input(im, size, resize) for im in imgs]))
        owner += [len(kept)] * len(imgs)
        kept.append(s)
        if progress is not None:
            progress(1)
    return feats, kept, owner
