"""Fixtures for the io tests: where the shared sample photos live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared data folder: $LUODI_SHARED, else ../shared next to the repository."""
    candidate = Path(os.environ.get("LUODI_SHARED") or REPO_ROOT.parent / "shared")
    if not (candidate / "data").is_dir():
        pytest.skip(f"shared data not found at {candidate} (set LUODI_SHARED to the folder holding data/)")
    return candidate


@pytest.fixture(scope="session")
def rapidocr_samples(shared_dir: Path) -> Path:
    folder = shared_dir / "data" / "doc_samples" / "rapidocr"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return folder
