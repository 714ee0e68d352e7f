"""The public API is ``luodi.__all__``: every name resolves, the list only grows, and importing is light."""

from __future__ import annotations

import subprocess
import sys

import luodi
import luodi.errors

# Removing a name from here is a breaking change for users: deprecate it first.
PUBLIC = {
    "Document", "Extraction", "Extractor", "FieldResult", "Item", "ItemResult", "Limits", "Line", "OCR",
    "OCROptions", "Outcome", "Page", "Pipeline", "Settings", "Timings", "__version__", "load_settings",
}  # fmt: skip


def test_every_public_name_resolves() -> None:
    assert set(luodi.__all__) >= PUBLIC
    for name in luodi.__all__:
        assert getattr(luodi, name) is not None, name
    assert sorted(dir(luodi)) == sorted(luodi.__all__)


def test_the_whole_error_tree_is_public() -> None:
    errors = {n for n, v in vars(luodi.errors).items() if isinstance(v, type) and issubclass(v, Exception)}
    assert errors <= set(luodi.__all__)
    assert all(issubclass(getattr(luodi, n), luodi.LuodiError) for n in errors)


def test_import_is_light() -> None:
    code = "import sys, luodi; print(sorted(m for m in ('numpy', 'cv2', 'onnxruntime', 'fastapi') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
