"""Optional backends fail with an actionable RuntimeBackendError, never an ImportError."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from luodi.errors import RuntimeBackendError
from luodi.runtime import create_session


def test_openvino_missing_or_bad_file(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not onnx")
    expected = "pip install" if importlib.util.find_spec("openvino") is None else "cannot load"
    with pytest.raises(RuntimeBackendError, match=expected):
        create_session(model, "openvino", threads=1)


def test_paddle_needs_both_files(tmp_path: Path) -> None:
    (tmp_path / "inference.pdmodel").write_bytes(b"x")
    with pytest.raises(RuntimeBackendError, match="Paddle inference files not found"):
        create_session(tmp_path, "paddle", threads=1)
