"""Synthetic parcel scenes: determinism, ground truth that matches the pixels, families, files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from luodi.errors import ConfigError
from luodi.synth.parcel import (
    DEV_FAMILIES,
    FAMILIES,
    HOLDOUT_FAMILIES,
    LabelArt,
    ParcelOptions,
    generate_parcels,
    render_scene,
    resolve_families,
    write_fake_ner,
)
from luodi.synth.waybill_data import load_parties

SMALL = {"megapixels": (0.3, 0.5)}


def _art(k: int) -> LabelArt:
    """A white label with dark text-like bars and a dark frame (no fonts needed)."""
    img = np.full((300, 200, 3), 250, np.uint8)
    lines = []
    for j, y in enumerate(range(30, 270, 40)):
        x1 = 40 + (37 * (j + k)) % 120
        img[y : y + 14, 20 : 20 + x1] = 20
        lines.append((f"line{j}", (20, y, 20 + x1, y + 14)))
    cv2.rectangle(img, (2, 2), (197, 297), (0, 0, 0), 2)
    return LabelArt(img, {"tracking_number": f"T{k}"}, "fake", False, k, tuple(lines))


def test_families_split_and_resolve() -> None:
    assert set(DEV_FAMILIES).isdisjoint(HOLDOUT_FAMILIES)
    assert set(DEV_FAMILIES) | set(HOLDOUT_FAMILIES) == set(FAMILIES)
    for group in (DEV_FAMILIES, HOLDOUT_FAMILIES):  # both groups have bags or cartons and floors
        assert {FAMILIES[f].kind for f in group} == {"surface", "background"}
    assert resolve_families(["holdout"]) == HOLDOUT_FAMILIES
    assert resolve_families(["poly_dark,rollers", "poly_dark"]) == ("poly_dark", "rollers")
    with pytest.raises(ConfigError, match="unknown parcel texture family"):
        resolve_families(["velvet"])
    with pytest.raises(ConfigError, match="surface"):
        ParcelOptions(families=("rollers",))
    for bad in ({"labels": (3, 1)}, {"megapixels": (5, 200)}, {"scale": 0}, {"cut_off_rate": 2}, {"seed": -1}):
        with pytest.raises(ConfigError):
            ParcelOptions(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_draws_deterministically(name: str) -> None:
    draw = FAMILIES[name].draw
    a = draw(np.random.default_rng(4), 120, 160)
    b = draw(np.random.default_rng(4), 120, 160)
    assert a.shape == (120, 160, 3) and a.dtype == np.float32 and np.array_equal(a, b)
    assert np.isfinite(a).all() and a.min() >= 0 and float(a.std()) > 1  # textured, not a flat fill
    if name in ("film_pattern", "paper_mailer", "tiles_light"):  # the bright dev surfaces the locator needs
        assert float(np.median(a)) > 150


def test_same_seed_same_scene_and_labels_inside_the_frame() -> None:
    opts = ParcelOptions(seed=5, labels=(1, 4), **SMALL)  # type: ignore[arg-type]
    a = render_scene(2, opts, labels=_art)
    b = render_scene(2, opts, labels=_art)
    assert np.array_equal(a.image, b.image) and a.jpeg_bytes() == b.jpeg_bytes()
    assert not np.array_equal(a.image, render_scene(3, opts, labels=_art).image)
    h, w = a.image.shape[:2]
    assert 0.3e6 * 0.95 <= h * w <= 0.5e6 * 1.05
    for scene in (render_scene(i, opts, labels=_art) for i in range(6)):
        assert 1 <= len(scene.labels) <= 4
        h, w = scene.image.shape[:2]
        for placed in scene.labels:
            assert not placed.cut_off and placed.visible == pytest.approx(1.0, abs=1e-3)
            assert (
                (placed.quad >= -1).all() and (placed.quad[:, 0] <= w + 1).all() and (placed.quad[:, 1] <= h + 1).all()
            )


def test_quad_and_line_boxes_are_where_the_label_is_drawn() -> None:
    opts = ParcelOptions(seed=1, labels=(1, 1), families=("poly_dark",), **SMALL)  # type: ignore[arg-type]
    scene = render_scene(0, opts, labels=_art)
    (placed,) = scene.labels
    img = scene.image.astype(np.float32).mean(axis=2)
    inside = np.zeros(img.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(placed.quad).astype(np.int32)], 1)
    core = cv2.erode(inside, np.ones((9, 9), np.uint8))
    ring = cv2.dilate(inside, np.ones((25, 25), np.uint8)) - cv2.dilate(inside, np.ones((9, 9), np.uint8))
    # the label is paper (bright, with dark bars); around it a dark bag
    assert np.median(img[core > 0]) > 150 > np.median(img[ring > 0])
    assert len(placed.lines) == 6
    for _, box in placed.lines:
        mask = np.zeros(img.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 1)
        assert img[mask > 0].mean() < np.median(img[core > 0]) - 40  # dark text under each line box


def test_cut_off_and_empty_frames() -> None:
    cut = ParcelOptions(seed=2, labels=(1, 1), cut_off_rate=1.0, **SMALL)  # type: ignore[arg-type]
    for i in range(3):
        scene = render_scene(i, cut, labels=_art)
        assert scene.labels and scene.labels[0].cut_off and 0.5 <= scene.labels[0].visible < 0.95
    empty = ParcelOptions(seed=2, empty_rate=1.0, **SMALL)  # type: ignore[arg-type]
    assert all(not render_scene(i, empty, labels=_art).labels for i in range(3))


def test_fake_parties_parse_and_files_are_written(tmp_path: Path) -> None:
    ner = write_fake_ner(tmp_path / "parties.txt", 30, seed=3)
    parties = load_parties("train", ner)
    assert len(parties) == 30 and all(p.name and p.phone.isdigit() and p.district for p in parties)
    opts = ParcelOptions(seed=4, labels=(1, 2), ner_file=str(ner), **SMALL)  # type: ignore[arg-type]
    records = generate_parcels(2, tmp_path / "set", opts)
    lines = (tmp_path / "set" / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == records
    for rec in records:
        assert (tmp_path / "set" / rec["image"]).is_file() and not rec["holdout"]
        for label in rec["labels"]:
            assert (tmp_path / "set" / label["flat"]).is_file()
            assert len(label["quad"]) == 4 and label["fields"]["tracking_number"]
            assert label["lines"] and all(len(x["box"]) == 4 for x in label["lines"])


def test_cli_writes_a_holdout_set(tmp_path: Path) -> None:
    from luodi.cli import cli as main

    ner = write_fake_ner(tmp_path / "parties.txt", 20)
    out = tmp_path / "hold"
    args = ["synth", "parcel", "-n", "1", "-o", str(out), "--families", "holdout", "--megapixels", "0.3-0.4"]
    result = CliRunner().invoke(main, [*args, "--ner-file", str(ner), "--no-flat"])
    assert result.exit_code == 0, result.output
    rec = json.loads((out / "labels.jsonl").read_text(encoding="utf-8"))
    assert rec["holdout"] and set(rec["families"]) <= set(HOLDOUT_FAMILIES)
    assert not (out / "flat").exists()
    bad = CliRunner().invoke(main, ["synth", "parcel", "-n", "1", "-o", str(out), "--megapixels", "0.01-1"])
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError) and "megapixels" in str(bad.exception)
