"""Datasets and bad input: layouts, masks, unreadable files, image kinds, sizes."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from luodi.config import Limits
from luodi.errors import ConfigError, EmptyInputError, TooManyPixelsError
from luodi.vision.config import parse_vision_config
from luodi.vision.data import (
    DataReport,
    iter_readable,
    load_dataset,
    map_to_image,
    read_csv,
    read_image,
    read_mask,
    scan_classes,
    scan_good,
    split_holdout,
    to_input,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from vision_data import make_classes


def test_folder_per_class_pairs_images_with_their_masks(tmp_path: Path) -> None:
    make_classes(tmp_path, {"good": 3, "spot": 2})
    samples, report = scan_classes(tmp_path)
    assert report.per_class == {"good": 3, "spot": 2}
    assert all(s.path.suffix == ".jpg" and s.mask == s.path.with_suffix(".png") for s in samples)
    assert report.masks == 5 and not report.masks_without_image


def test_mask_without_image_and_image_without_mask_are_counted(tmp_path: Path) -> None:
    make_classes(tmp_path, {"good": 3, "spot": 3})
    (tmp_path / "spot" / "spot_0.jpg").unlink()  # its mask stays
    (tmp_path / "spot" / "spot_1.png").unlink()  # its image stays
    samples, report = scan_classes(tmp_path)
    assert report.masks_without_image == [str(tmp_path / "spot" / "spot_0.png")]
    assert report.images_without_mask == 1
    assert all(s.path.suffix == ".jpg" for s in samples), "a lone mask must not become a training image"
    assert "1 masks without an image (skipped)" in report.summary()


def test_suffix_masks(tmp_path: Path) -> None:
    folder = tmp_path / "scratch"
    folder.mkdir()
    for name in ("a.png", "a_mask.png", "b_mask.png"):
        Image.new("L", (20, 20)).save(folder / name)
    samples, report = scan_classes(tmp_path)
    assert [(s.path.name, s.mask.name if s.mask else None) for s in samples] == [("a.png", "a_mask.png")]
    assert report.masks_without_image == [str(folder / "b_mask.png")]


def test_empty_class_folder_is_refused_by_name(tmp_path: Path) -> None:
    make_classes(tmp_path, {"good": 3, "spot": 2})
    (tmp_path / "crack").mkdir()
    with pytest.raises(EmptyInputError, match=r"class folder .*crack holds no images"):
        scan_classes(tmp_path)


def test_no_class_folders(tmp_path: Path) -> None:
    with pytest.raises(EmptyInputError, match="no class folders"):
        scan_classes(tmp_path)
    with pytest.raises(EmptyInputError, match="holds no images"):
        scan_good(tmp_path)


def test_one_class_only_points_at_anomaly_mode(tmp_path: Path) -> None:
    from luodi.vision.classify import train_classifier

    make_classes(tmp_path / "data", {"good": 6})
    cfg = parse_vision_config({"Train": {"data": "data"}, "output_dir": "runs"}, base=tmp_path)
    with pytest.raises(ConfigError, match="luodi train anomaly --good"):
        train_classifier(cfg, name="x")
    assert not (tmp_path / "runs").exists(), "nothing is written before the data is checked"


def test_config_rejects_typos(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Train\.epoch"):
        parse_vision_config({"Train": {"data": "d", "epoch": 3}}, base=tmp_path)


def test_csv_with_splits_and_missing_files(tmp_path: Path) -> None:
    make_classes(tmp_path / "img", {"good": 2, "spot": 2})
    (tmp_path / "list.csv").write_text(
        "path,label,mask,split\n"
        "img/good/good_0.jpg,good,,train\n"
        "img/spot/spot_0.jpg,spot,img/spot/spot_0.png,test\n"
        "img/spot/gone.jpg,spot,img/spot/spot_1.png,train\n"
        "img/spot/also_gone.jpg,spot,,train\n",
        encoding="utf-8",
    )
    samples, report = load_dataset(tmp_path / "list.csv")
    assert [(s.path.name, s.split, s.mask is not None) for s in samples] == [
        ("good_0.jpg", "train", False),
        ("spot_0.jpg", "test", True),
    ]
    assert report.masks_without_image == [str(tmp_path / "img/spot/spot_1.png")]
    assert report.skipped == [f"{tmp_path / 'img/spot/also_gone.jpg'}: no such file"]
    (tmp_path / "bad.csv").write_text("file,class\na,b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="path and label"):
        read_csv(tmp_path / "bad.csv")


def test_corrupt_files_are_skipped_and_counted(tmp_path: Path) -> None:
    make_classes(tmp_path, {"good": 3, "spot": 2})
    (tmp_path / "good" / "good_1.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / "good" / "notes.jpg").write_bytes(b"hello")
    samples, _ = scan_classes(tmp_path)
    report = DataReport()
    read = [s.path.name for s, _ in iter_readable(samples, report)]
    assert "good_1.jpg" not in read and "notes.jpg" not in read and len(read) == len(samples) - 2
    assert len(report.skipped) == 2 and "2 unreadable files skipped" in report.summary()


@pytest.mark.parametrize("mode", ["L", "I;16", "CMYK", "RGBA"])
def test_image_kinds_become_rgb(tmp_path: Path, mode: str) -> None:
    if mode == "I;16":
        img = Image.fromarray((np.arange(40 * 30).reshape(30, 40) * 50).astype(np.uint16))
    else:
        img = Image.new(mode, (40, 30), (10, 20, 30, 255)[: len(mode)] if mode != "L" else 90)
    path = tmp_path / ("x.tif" if mode in ("I;16", "CMYK") else "x.png")
    img.save(path)
    rgb = read_image(path)
    assert rgb.shape == (30, 40, 3) and rgb.dtype == np.uint8


def test_huge_images_hit_the_ocr_pixel_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (400, 300)).save(path)
    with pytest.raises(TooManyPixelsError):
        read_image(path, Limits(max_pixels=100_000))
    report = DataReport()
    from luodi.vision.data import Sample

    assert not list(iter_readable([Sample(path, "good")], report, Limits(max_pixels=100_000)))
    assert "megapixels" in report.skipped[0]


def test_other_sizes_are_resized_to_the_model_and_masks_to_the_image(tmp_path: Path) -> None:
    for h, w in ((50, 300), (400, 90), (224, 224)):
        x = to_input(np.full((h, w, 3), 127, np.uint8), 64)
        assert x.shape == (3, 64, 64) and x.dtype == np.float32
        assert abs(float(x.mean())) < 1e-6  # (127 - 127) / 128
    # native: the image's own pixels, portrait turned to landscape, shrunk past the size only
    assert to_input(np.zeros((50, 300, 3), np.uint8), 640, "native").shape == (3, 50, 300)
    assert to_input(np.zeros((400, 90, 3), np.uint8), 640, "native").shape == (3, 90, 400)
    assert to_input(np.zeros((400, 1200, 3), np.uint8), 600, "native").shape == (3, 200, 600)
    portrait = np.zeros((40, 10, 3), np.uint8)
    portrait[0, 9] = 255  # top-right corner: after a quarter turn counter-clockwise, the top-left
    assert to_input(portrait, 640, "native")[0, 0, 0] > 0
    back = map_to_image(np.rot90(portrait[:, :, 0]).astype(np.float32), 40, 10, "native")
    assert back.shape == (40, 10) and back[0, 9] == 255
    mask = np.zeros((20, 30), np.uint8)
    mask[5:10, 5:10] = 255
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    big = read_mask(tmp_path / "m.png", (40, 60))
    assert big.shape == (40, 60) and big.dtype == bool and big.sum() == 100


def test_holdout_is_stable_by_name(tmp_path: Path) -> None:
    make_classes(tmp_path, {"good": 30})
    samples, _ = scan_good(tmp_path / "good")
    a = split_holdout(samples, 0.3)
    b = split_holdout(list(reversed(samples)), 0.3)
    assert {s.path for s in a[1]} == {s.path for s in b[1]}
    assert 3 <= len(a[1]) <= 16
