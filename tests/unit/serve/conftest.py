"""A real uvicorn server in a thread around a pipeline of fake sessions: the HTTP layer without model files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_fakes import ThreadServer, fake_pipeline

from luodi.serve.settings import ServeSettings


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ThreadServer]]:
    """Start a server with ``ServeSettings(**overrides)``; stopped at the end of the test."""
    started: list[ThreadServer] = []

    def start(*, delay_s: float = 0.0, rec: Any = None, **overrides: Any) -> ThreadServer:
        """The pipeline is built from the server's own core settings (store, limits), as in production."""
        overrides.setdefault("home", tmp_path / "home")
        settings = ServeSettings(**overrides)
        srv = ThreadServer(settings, lambda s: fake_pipeline(s.core, delay_s=delay_s, rec=rec))
        started.append(srv.__enter__())
        return srv

    yield start
    for srv in started:
        srv.__exit__()


@pytest.fixture
def no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUODI_API_KEYS", raising=False)
