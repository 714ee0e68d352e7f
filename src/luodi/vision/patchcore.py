"""PatchCore-style anomaly scoring: a memory bank of patch features of good parts, nearest-neighbour
distances as the anomaly map, greedy coreset subsampling to keep the bank small.

Pure numpy, no model code: the features come from whatever extractor the caller ran.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from luodi.vision.data import NATIVE, map_to_image


def greedy_coreset(
    features: np.ndarray, n: int, *, project_to: int = 64, seed: int = 0, chunk: int = 32768
) -> np.ndarray:
    """Indices of ``n`` rows chosen by greedy k-centre (each pick the row farthest from those picked).

    Distances are taken after a random projection to ``project_to`` dimensions (Johnson-
    Lindenstrauss: the ordering survives, the cost drops). Past ``chunk`` rows, the rows are dealt at
    random into parts of at most ``chunk`` and each part keeps its share of ``n`` on its own: the
    cost of a step falls with the part's size (and its distances stay in cache), so the whole costs
    about total/chunk times less than one greedy pass, at the price of some near-duplicates across
    parts. BLAS runs on one thread here: each step is one matrix-vector product, which a second
    thread slows down (measured 6 ms against 26 ms per step on 85k x 64 with the other core busy).
    """
    total = len(features)
    if n >= total:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    x = np.ascontiguousarray(features, dtype=np.float32)
    if x.shape[1] > project_to:
        proj = rng.normal(size=(x.shape[1], project_to)).astype(np.float32) / np.sqrt(project_to)
        x = x @ proj
    if total <= chunk:
        return _greedy(x, n, rng)
    parts = np.array_split(rng.permutation(total), -(-total // chunk))
    quotas = np.diff(np.round(np.cumsum([0] + [len(p) for p in parts]) * n / total).astype(np.int64))
    picked = [p[_greedy(np.ascontiguousarray(x[p]), int(q), rng)] for p, q in zip(parts, quotas, strict=True) if q]
    return np.sort(np.concatenate(picked))


def _greedy(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    total = len(x)
    norms = np.einsum("ij,ij->i", x, x)
    picked = np.empty(n, dtype=np.int64)
    with threadpool_limits(1):
        first = int(rng.integers(total))
        picked[0] = first
        dist = norms + norms[first] - 2.0 * (x @ x[first])
        for k in range(1, n):
            i = int(dist.argmax())
            picked[k] = i
            np.minimum(dist, norms + norms[i] - 2.0 * (x @ x[i]), out=dist)
    return picked


def fit_projection(patches: np.ndarray, dim: int) -> np.ndarray:
    """The bank's projection onto the ``dim`` principal axes of ``patches`` (N x D), as one
    (D + 1) x ``dim`` array: rows 0..D-1 the axes, row D the offset (minus the mean's coordinates),
    so :func:`project` gives centred coordinates.

    Why: distances between good patches and the bank are mostly made of the few directions good
    texture varies in; the smallest-variance components matter less. On the magnetic tiles' dev
    splits (Lite2, stages 3+4, 208 values) 96 axes let the bank hold twice the patches (coreset
    20%) for 1.13x the CPU per image, which scored higher than all 208 values at 10%; the
    projection alone at 10% lost on parts never seen (bench/results/vision.md)."""
    x = np.asarray(patches, dtype=np.float64)
    mean = x.mean(0)
    _, vecs = np.linalg.eigh(np.cov(x - mean, rowvar=False))  # ascending eigenvalues
    axes = vecs[:, ::-1][:, :dim]
    return np.vstack([axes, -(mean @ axes)[None]]).astype(np.float32)


def project(patches: np.ndarray, projection: np.ndarray | None) -> np.ndarray:
    """``patches`` (N x D) in the projection's coordinates (N x d); unchanged without one."""
    if projection is None:
        return np.ascontiguousarray(patches, dtype=np.float32)
    return np.ascontiguousarray(patches @ projection[:-1] + projection[-1], dtype=np.float32)


def nearest_distances(patches: np.ndarray, bank: np.ndarray, bank_norms: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distance of each row of ``patches`` (P x D) to its nearest row of ``bank`` (M x D)."""
    norms = bank_norms if bank_norms is not None else np.einsum("ij,ij->i", bank, bank)
    half = (0.5 * norms).astype(np.float32)
    out = np.empty(len(patches), dtype=np.float32)
    # one block of products near 16 MB: smaller blocks were slower (the product is the cost, and
    # BLAS runs it best in large blocks: 64 rows took 1.6x the time of 380 on the tiles' bank)
    step = max(1, 4_000_000 // max(1, len(bank)))
    for start in range(0, len(patches), step):
        p = patches[start : start + step]
        # min_j |p - b_j|^2 = |p|^2 + 2 min_j (|b_j|^2 / 2 - p.b_j): the product, then one pass in
        # place and one min over the block; building the whole d2 block took four passes and three
        # more blocks of memory (measured on one thread: 32 -> 20 CPU-ms for 380 x 11,269 x 192)
        g = p @ bank.T
        np.subtract(half, g, out=g)
        out[start : start + step] = np.einsum("ij,ij->i", p, p) + 2.0 * g.min(axis=1)
    return np.sqrt(np.maximum(out, 0.0))


class BankSearch(Protocol):
    """Another way to the nearest bank rows (``luodi.vision.int8search``): each patch's distance."""

    def distances(self, patches: np.ndarray) -> np.ndarray: ...


def score_map(
    feature_map: np.ndarray,
    bank: np.ndarray,
    bank_norms: np.ndarray | None = None,
    projection: np.ndarray | None = None,
    search: BankSearch | None = None,
) -> np.ndarray:
    """The anomaly map (h x w) of one image's feature map (D x h x w); with ``projection`` (see
    :func:`fit_projection`) the patches are projected as the bank was; with ``search`` (built over
    the same ``bank``) the nearest rows are found by it instead of the float search."""
    d, h, w = feature_map.shape
    # one BLAS thread: next to ONNX Runtime's own threads (which spin between runs) a second BLAS
    # thread made inspection slower, not faster: measured on the tiles' anomaly model on 2 cores
    # at load ~2, 102 ms -> 38 ms per image (the product is about 380 x 11,442 x 192)
    with threadpool_limits(1):
        patches = project(feature_map.reshape(d, h * w).T, projection)
        if search is not None:
            return search.distances(patches).reshape(h, w)
        return nearest_distances(patches, bank, bank_norms).reshape(h, w)


def image_score(amap: np.ndarray, *, border: int = 0, top: int = 1) -> float:
    """The image's anomaly score: the mean of its ``top`` most anomalous patches (PatchCore: the
    single most anomalous one), leaving out a ring of ``border`` patches when the map is large enough.

    Why a border: a part photographed edge to edge (the magnetic tiles) has its outline, chamfers
    and the background on the outer ring of patches, which varies from part to part far more than
    the surface does; on the tiles' validation split the ring alone raised good images' scores
    enough to cost 0.1 of image AUROC. A defect there still shows on the heat map."""
    inner = amap[border:-border, border:-border] if border and min(amap.shape) > 2 * border + 2 else amap
    flat = inner.ravel()
    k = max(1, min(top, flat.size))
    return float(np.partition(flat, flat.size - k)[flat.size - k :].mean())


def heat_map(
    amap: np.ndarray, height: int, width: int, *, size: int, resize: str, border: int = 0, sigma: float = 4.0
) -> np.ndarray:
    """The patch map back on the ``height x width`` image (bilinear; turned back for a portrait image
    under ``native``) and smoothed by a Gaussian of ``sigma`` pixels of the network input. The outer
    ``border`` ring of patches (see :func:`image_score`) is capped at the map's median first: the
    part's outline there lit up good images' edges (pixel AUROC 0.789 -> 0.807 on the tiles'
    validation split)."""
    if border and min(amap.shape) > 2 * border + 2:
        ring = np.ones(amap.shape, bool)
        ring[border:-border, border:-border] = False
        amap = np.where(ring, np.minimum(amap, np.median(amap)), amap)
    up = map_to_image(amap, height, width, resize)
    long_side = max(height, width)
    s = sigma * long_side / (size if resize != NATIVE else min(long_side, size))
    return cv2.GaussianBlur(up, (0, 0), sigmaX=s, sigmaY=s) if s > 0.5 else up


# the heat map's Gaussian, in pixels of the network input. On the magnetic tiles' dev split
# (stages 3+4, bench/results/vision.md) sigma 4 / 8 / 12 / 16 / 24 gave image AUROC 0.939 / 0.948 /
# 0.948 / 0.947 / 0.944 and pixel AUROC 0.821 / 0.831 / 0.841 / 0.848 / 0.858: the widest before
# image AUROC starts to fall (large, diffuse defects gain from it; a thin crack's spot widens)
SIGMA = 16.0
HEAT_MAX = "heat_max"  # image score: the maximum of the smoothed heat map
TOP_PATCHES = "top"  # image score: the mean of the top patches inside the border (bundles before heat_max)
SCORE_MODES = (HEAT_MAX, TOP_PATCHES)


def score_and_heat(  # noqa: PLR0913 - keyword-only: how the bundle scores (VisionMeta's fields)
    amap: np.ndarray,
    height: int,
    width: int,
    *,
    size: int,
    resize: str,
    border: int,
    top: int,
    sigma: float,
    mode: str,
) -> tuple[float, np.ndarray]:
    """The image score and the heat map (``height x width``) of one patch map.

    ``heat_max`` (the default since it was measured): the score is the heat map's maximum, i.e.
    patch distances with the outer ring capped, brought to the image and Gaussian-smoothed. On
    the magnetic tiles' dev split it beat the mean of the top 3 inner patches (image AUROC 0.931
    -> 0.947 with sigma 16, stages 3+4): smoothing rewards a defect that lights up several
    neighbouring patches over a single noisy patch, which good parts' texture produces.
    ``top``: :func:`image_score` (bundles made before)."""
    heat = heat_map(amap, height, width, size=size, resize=resize, border=border, sigma=sigma)
    if mode == HEAT_MAX:
        return float(heat.max()), heat
    return image_score(amap, border=border, top=top), heat


def threshold_for(scores: np.ndarray, false_alarm_rate: float) -> float:
    """The score above which at most ``false_alarm_rate`` of these good images would be flagged."""
    if not len(scores):
        raise ValueError("no scores to choose a threshold from")
    q = float(np.quantile(np.asarray(scores, dtype=np.float64), 1.0 - false_alarm_rate, method="higher"))
    return float(np.nextafter(q, np.inf))  # strictly above the chosen good image's score
