"""Fixtures for the io tests: where the sample photos live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def rapidocr_samples() -> Path:
    """RapidOCR's test images shipped in tests/data/doc_samples (Apache-2.0)."""
    return REPO_ROOT / "tests" / "data" / "doc_samples" / "rapidocr"
