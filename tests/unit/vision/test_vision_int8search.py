"""The INT8 anomaly model's bank search (luodi.vision.int8search) against the float search."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from luodi.errors import ConfigError, ModelError
from luodi.vision.bundle import SEARCH_FLOAT, SEARCH_INT8, VisionMeta
from luodi.vision.int8search import Int8BankSearch, quantize_rows
from luodi.vision.patchcore import nearest_distances, score_map


def _separated(
    rng: np.random.Generator, rows: int, dim: int, queries: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A bank of well-separated rows (far apart against the quantisation step) and queries each
    near one known row: (bank, queries, the row each query was drawn near)."""
    bank = (rng.normal(size=(rows, dim)) * 10.0).astype(np.float32)
    near = rng.integers(rows, size=queries)
    q = (bank[near] + rng.normal(size=(queries, dim)) * 0.3).astype(np.float32)
    return bank, q, near


def _brute(q: np.ndarray, bank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest rows and distances by definition, in float64, one query at a time."""
    b = bank.astype(np.float64)
    d = np.array([np.sqrt(((b - row) ** 2).sum(1)) for row in q.astype(np.float64)])
    return d.argmin(1), d.min(1)


def test_rows_are_quantised_symmetrically_per_row() -> None:
    rng = np.random.default_rng(0)
    bank = rng.normal(size=(50, 12)).astype(np.float32) * rng.uniform(0.01, 100, size=(50, 1)).astype(np.float32)
    bank[3] = 0.0
    q, scale = quantize_rows(bank)
    assert q.dtype == np.int8 and scale.shape == (50,)
    assert np.abs(q).max(axis=1)[np.arange(50) != 3].min() == 127  # each row uses its full range
    err = np.abs(q * scale[:, None] - bank)
    assert (err <= scale[:, None] / 2 + 1e-6).all()  # within half a step of its own row's scale
    assert not q[3].any() and scale[3] == 1.0  # a zero row stays zero, no division by zero


def test_int8_search_picks_the_float_search_neighbour_and_its_exact_distance() -> None:
    rng = np.random.default_rng(1)
    bank, q, near = _separated(rng, 3000, 24, 400)
    search = Int8BankSearch(bank)
    idx = search.nearest(q)
    want_idx, want_d = _brute(q, bank)
    assert (want_idx == near).all()  # the data are as separated as meant
    np.testing.assert_array_equal(idx, want_idx)
    # the distance is the float one to that row, not the integer score's
    np.testing.assert_allclose(search.distances(q), want_d, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(search.distances(q), nearest_distances(q, bank), rtol=1e-3, atol=1e-3)
    assert search.distances(bank[[5, 2999]]).max() == 0.0  # the bank's own rows: found, distance 0


def test_misses_land_on_a_near_row_never_below_the_true_distance() -> None:
    # unstructured data, where near rows are close against the quantisation step: the search may
    # pick another row, but its distance is the float distance to a real row of the bank
    rng = np.random.default_rng(2)
    bank = rng.normal(size=(40_000, 16)).astype(np.float32)  # blocks of 100 query rows
    q = rng.normal(size=(257, 16)).astype(np.float32)
    search = Int8BankSearch(bank)
    idx, got = search.nearest(q), search.distances(q)
    want_idx, want_d = _brute(q, bank)
    np.testing.assert_allclose(got, np.linalg.norm(q - bank[idx], axis=1), rtol=1e-5, atol=1e-5)
    assert (got >= want_d - 1e-4).all()
    assert (idx == want_idx).mean() > 0.9  # mostly the nearest row itself (97% here)
    assert (got / want_d).max() < 1.05  # and a miss is a near row, not an arbitrary one (0.7% here)


def test_score_map_with_the_int8_search_equals_the_float_map_on_separated_data() -> None:
    rng = np.random.default_rng(3)
    bank, q, _ = _separated(rng, 2000, 16, 6 * 7)
    fmap = np.ascontiguousarray(q.T.reshape(16, 6, 7))
    got = score_map(fmap, bank, search=Int8BankSearch(bank))
    # the float search's |p|^2 + 2 min(|b|^2 / 2 - p.b) loses a few digits to cancellation; the
    # distance to the chosen row is taken directly, so it matches brute force more closely
    np.testing.assert_allclose(got, score_map(fmap, bank), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(got.ravel(), _brute(q, bank)[1], rtol=1e-5, atol=1e-5)


def test_the_search_is_shared_by_threads() -> None:
    rng = np.random.default_rng(4)
    bank, q, _ = _separated(rng, 5000, 32, 300)
    search = Int8BankSearch(bank)
    want = search.distances(q)
    results: list[np.ndarray] = []

    def work() -> None:
        for _ in range(5):
            results.append(search.distances(q))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    for r in results:
        np.testing.assert_array_equal(r, want)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ModelError, match="non-empty 2-D"):
        Int8BankSearch(np.zeros((0, 8), np.float32))
    search = Int8BankSearch(np.ones((10, 8), np.float32))
    with pytest.raises(ModelError, match="width 8"):
        search.nearest(np.ones((3, 7), np.float32))
    assert search.distances(np.zeros((0, 8), np.float32)).shape == (0,)


def test_vision_json_search_field_is_backward_compatible() -> None:
    base = VisionMeta(kind="anomaly", image_size=320, backbone="efficientnet-lite2", extra=(("bank_images", 4),))
    # FP32 bundles keep the vision.json they had: no "search" key, the float search
    assert "search" not in base.to_json()
    assert VisionMeta.from_json(json.loads(json.dumps(base.to_json()))) == base
    assert VisionMeta.from_json(base.to_json()).search == SEARCH_FLOAT
    int8 = VisionMeta.from_json({**base.to_json(), "search": "int8"})
    assert int8.search == SEARCH_INT8 and int8.to_json()["search"] == "int8" and int8.extra == base.extra
    with pytest.raises(ModelError, match="unknown bank search"):
        VisionMeta.from_json({**base.to_json(), "search": "fp16"})


def test_inspector_refuses_an_unknown_search() -> None:
    from luodi.vision.inspector import Inspector

    with pytest.raises(ConfigError, match="search must be one of float, int8"):
        Inspector("any-model", search="fp16")
