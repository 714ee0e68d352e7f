"""Inspection metrics against brute-force definitions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from luodi.vision.metrics import PixelAuroc, auroc, classification_metrics
from luodi.vision.patchcore import (
    fit_projection,
    greedy_coreset,
    heat_map,
    image_score,
    nearest_distances,
    project,
    score_and_heat,
    score_map,
    threshold_for,
)


def _brute_auroc(y: np.ndarray, s: np.ndarray) -> float:
    pairs = [(a, b) for a, b in itertools.product(s[y], s[~y])]
    return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)


def test_auroc_matches_the_pair_count_with_ties() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(60) < 0.3
    s = np.round(rng.normal(size=60) + y, 1)  # rounding makes ties
    assert auroc(y, s) == pytest.approx(_brute_auroc(y, s))
    assert np.isnan(auroc(np.zeros(3, bool), np.arange(3.0)))


def test_pixel_auroc_from_histograms_is_close_to_exact() -> None:
    rng = np.random.default_rng(1)
    pix = PixelAuroc(-4, 6)
    ys, ss = [], []
    for _ in range(5):
        m = rng.random((20, 20)) < 0.1
        s = rng.normal(size=(20, 20)) + 1.5 * m
        pix.add(m, s)
        ys.append(m.ravel())
        ss.append(s.ravel())
    assert pix.value() == pytest.approx(auroc(np.concatenate(ys), np.concatenate(ss)), abs=2e-3)


def test_classification_metrics() -> None:
    m = classification_metrics([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], ["a", "b", "c"])
    assert m.accuracy == pytest.approx(4 / 6)
    assert m.recall == {"a": 0.5, "b": 1.0, "c": 0.5}
    assert m.confusion == ((1, 1, 0), (0, 2, 0), (1, 0, 1))
    f1 = [2 * 0.5 * 0.5 / 1.0, 2 * (2 / 3) * 1 / (2 / 3 + 1), 2 * 1 * 0.5 / 1.5]
    assert m.macro_f1 == pytest.approx(sum(f1) / 3)
    assert m.to_dict()["per_class"]["b"]["support"] == 2


def test_coreset_covers_the_outliers_and_distances_are_exact() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 8)).astype(np.float32)
    x[7] = 50.0  # a far point: greedy k-centre must keep it
    picked = greedy_coreset(x, 20, project_to=64)
    assert len(set(picked.tolist())) == 20 and 7 in picked
    q = rng.normal(size=(30, 8)).astype(np.float32)
    brute = np.sqrt(((q[:, None] - x[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(nearest_distances(q, x), brute, rtol=1e-3, atol=1e-3)


def test_nearest_distances_are_exact_across_blocks_and_zero_for_bank_rows() -> None:
    rng = np.random.default_rng(5)
    bank = rng.normal(size=(40_000, 6)).astype(np.float32)  # blocks of 100 query rows
    q = np.concatenate([rng.normal(size=(247, 6)).astype(np.float32) * 2, bank[[3, 39_999]]])
    brute = np.sqrt(((q[:, None] - bank[None]) ** 2).sum(-1)).min(1)
    got = nearest_distances(q, bank)
    np.testing.assert_allclose(got, brute, rtol=1e-3, atol=2e-3)
    assert got[-2:].max() < 2e-3  # rows of the bank itself
    np.testing.assert_allclose(nearest_distances(q, bank, np.einsum("ij,ij->i", bank, bank)), got)


def test_projection_keeps_the_high_variance_axes_and_the_distances_along_them() -> None:
    rng = np.random.default_rng(7)
    basis = np.linalg.qr(rng.normal(size=(12, 12)))[0]  # a random rotation of 12 dimensions
    scale = np.array([9.0, 6.0, 4.0] + [0.01] * 9)  # texture varies along 3 directions only
    x = (rng.normal(size=(2000, 12)) * scale) @ basis.T + 5.0
    proj = fit_projection(x, 3)
    assert proj.shape == (13, 3)
    y = project(x, proj)
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-3)  # centred
    np.testing.assert_allclose(y.std(0), scale[:3], rtol=0.05)  # the largest axes, largest first
    d_full = np.linalg.norm(x[:50, None] - x[None, 50:100], axis=-1)
    d_proj = np.linalg.norm(y[:50, None] - y[None, 50:100], axis=-1)
    np.testing.assert_allclose(d_proj, d_full, rtol=0.01, atol=0.05)
    assert project(x, None).shape == (2000, 12)
    # all axes kept: an exact rotation, the anomaly map is the unprojected one
    bank, fmap = x[:300].astype(np.float32), x[300:320].T.reshape(12, 4, 5).astype(np.float32)
    full = fit_projection(x, 12)
    np.testing.assert_allclose(
        score_map(fmap, project(bank, full), projection=full), score_map(fmap, bank), rtol=1e-3, atol=1e-3
    )
    # dropping an axis with real variance (the third, sd 4) loses the distance along it
    y2 = project(x, fit_projection(x, 2))
    d_two = np.linalg.norm(y2[:50, None] - y2[None, 50:100], axis=-1)
    assert (d_full - d_two).max() > 4.0 and (d_two <= d_full + 0.05).all()


def test_threshold_keeps_the_false_alarm_rate() -> None:
    scores = np.arange(100, dtype=np.float64)
    t = threshold_for(scores, 0.05)
    assert (scores >= t).mean() <= 0.05
    assert (scores >= threshold_for(scores, 0.5)).mean() == pytest.approx(0.49, abs=0.02)


def test_heat_map_comes_back_at_the_image_size() -> None:
    amap = np.zeros((7, 7), np.float32)
    amap[3, 3] = 1
    heat = heat_map(amap, 300, 120, size=224, resize="square")
    assert heat.shape == (300, 120)
    assert np.unravel_index(heat.argmax(), heat.shape)[0] in range(120, 180)


def test_native_heat_map_is_turned_back_for_a_portrait_image() -> None:
    # a 300 x 120 portrait image was seen turned to landscape (120 x 300): its map is 4 x 10
    amap = np.zeros((4, 10), np.float32)
    amap[0, 1] = 1  # one cell of the turned view: its peak must land where those pixels came from
    heat = heat_map(amap, 300, 120, size=640, resize="native")
    assert heat.shape == (300, 120)
    turned = np.rot90(np.arange(300 * 120).reshape(300, 120))  # where each original pixel lands
    r, c = np.unravel_index(int(turned[0 * 30 + 15, 1 * 30 + 15]), (300, 120))
    peak = np.unravel_index(heat.argmax(), heat.shape)
    assert abs(peak[0] - r) <= 30 and abs(peak[1] - c) <= 30, (peak, (r, c))


def test_chunked_coreset_keeps_its_share_and_the_outliers() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5000, 16)).astype(np.float32)
    x[11] = 40.0
    x[4321] = -40.0
    picked = greedy_coreset(x, 300, chunk=1000)
    assert len(picked) == 300 and len(set(picked.tolist())) == 300
    assert {11, 4321} <= set(picked.tolist())

    # each part keeps the far points of its own rows: better coverage than a random draw of as many
    def cover(idx: np.ndarray) -> float:
        return float(nearest_distances(x, x[idx]).max())

    assert cover(picked) < cover(rng.choice(5000, 300, replace=False))


def test_image_score_leaves_out_the_border_ring_and_averages_the_top_patches() -> None:
    amap = np.zeros((6, 8), np.float32)
    amap[0, 0] = 9.0  # on the ring: the part's outline, not counted
    amap[2, 3], amap[3, 4], amap[3, 5] = 3.0, 2.0, 1.0
    assert image_score(amap) == 9.0  # PatchCore's plain maximum
    assert image_score(amap, border=1) == 3.0
    assert image_score(amap, border=1, top=3) == pytest.approx(2.0)
    small = np.arange(9, dtype=np.float32).reshape(3, 3)
    assert image_score(small, border=1) == 8.0  # too small for a ring: the whole map counts
    heat = heat_map(amap, 60, 80, size=640, resize="native", border=1)
    assert heat[:10, :10].max() < 1.0  # the ring is capped at the map's median (0) before smoothing


def test_heat_max_scores_the_smoothed_map_and_top_keeps_the_old_scores() -> None:
    amap = np.zeros((8, 10), np.float32)
    amap[0, 0] = 9.0  # on the ring: capped, does not make the score
    amap[4, 5] = 3.0  # one hot patch
    amap[2:5, 1:4] = 2.0  # a 3x3 blob of warm patches: after smoothing it outscores the single patch
    opts = {"size": 640, "resize": "native", "border": 1, "top": 3}
    score, heat = score_and_heat(amap, 80, 100, **opts, sigma=8.0, mode="heat_max")
    assert heat.shape == (80, 100) and score == float(heat.max())
    assert np.unravel_index(int(heat.argmax()), heat.shape)[1] < 50  # the blob's side, not the hot patch's
    old, old_heat = score_and_heat(amap, 80, 100, **opts, sigma=4.0, mode="top")
    assert old == image_score(amap, border=1, top=3) == pytest.approx((3.0 + 2.0 + 2.0) / 3)
    assert old_heat.shape == (80, 100)
