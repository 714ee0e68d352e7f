"""A real uvicorn server in a thread around a fake engine: the HTTP layer without model files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_fakes import FakeEngine, ThreadServer

from luodi.serve.settings import ServeSettings


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ThreadServer]]:
    """Start a server with ``ServeSettings(**overrides)``; stopped at the end of the test."""
    started: list[ThreadServer] = []

    def start(engine: Any = None, **overrides: Any) -> ThreadServer:
        overrides.setdefault("home", tmp_path / "home")
        settings = ServeSettings(**overrides)
        srv = ThreadServer(settings, engine if engine is not None else FakeEngine(limits=settings.resolved_limits()))
        started.append(srv.__enter__())
        return srv

    yield start
    for srv in started:
        srv.__exit__()


@pytest.fixture
def no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUODI_API_KEYS", raising=False)
