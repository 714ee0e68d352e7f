from __future__ import annotations

import dataclasses

import pytest

from luodi.errors import ConfigError
from luodi.ocr.options import OCROptions


def test_frozen() -> None:
    opts = OCROptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.use_det = False  # type: ignore[misc]


def test_replace_returns_new_validated_copy() -> None:
    opts = OCROptions()
    other = opts.replace(use_cls=False, det_limit_side=1280)
    assert other.use_cls is False and other.det_limit_side == 1280
    assert opts.use_cls is True and opts.det_limit_side == 960
    with pytest.raises(ConfigError, match="det_thresh"):
        opts.replace(det_thresh=1.5)
    with pytest.raises(ConfigError, match="unknown OCR option"):
        opts.replace(nonsense=1)


@pytest.mark.parametrize(
    "bad",
    [
        {"det_limit_side": 8},
        {"det_limit_type": "avg"},
        {"rec_batch_size": 0},
        {"drop_score": -0.1},
        {"det_unclip_ratio": 0},
    ],
)
def test_validation(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        OCROptions(**bad)  # type: ignore[arg-type]


def test_hashable_and_comparable() -> None:
    assert OCROptions() == OCROptions()
    assert len({OCROptions(), OCROptions(use_cls=False)}) == 2
