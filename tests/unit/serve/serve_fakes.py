"""Fakes for the service unit tests: an engine without models, a uvicorn server in a thread."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np
import uvicorn
from PIL import Image

from luodi.errors import UnknownSchemaError
from luodi.serve.app import create_app
from luodi.serve.engine import Outcome
from luodi.serve.settings import ServeSettings


class FakeEngine:
    """Decodes with the real luodi.io (limits apply) and answers a fixed OCR-shaped body."""

    model_name = "fake-model"

    def __init__(self, delay_s: float = 0.0, limits: Any = None) -> None:
        self.delay_s = delay_s
        self.limits = limits
        self.recognized: list[int] = []

    def describe(self) -> dict[str, Any]:
        return {"name": self.model_name, "runtime": {"rec": {"backend": "fake"}}}

    def _pages(self, data: bytes) -> list[np.ndarray]:
        from luodi.io import load_pages

        return load_pages(data, self.limits)

    def ocr(self, data: bytes, *, name: str | None, recognizer: Any = None) -> Outcome:
        pages = self._pages(data)
        time.sleep(self.delay_s)
        texts = recognizer([p[:8, :8] for p in pages]) if recognizer is not None else ["x"] * len(pages)
        body = {
            "source": name,
            "model": self.model_name,
            "pages": [
                {"index": i, "width": p.shape[1], "height": p.shape[0], "lines": [{"text": t, "score": 1.0, "box": []}]}
                for i, (p, t) in enumerate(zip(pages, texts, strict=True))
            ],
            "timings_ms": {"det": 1.0, "cls": 0.0, "rec": 1.0, "total": 2.0},
        }
        return Outcome(body, {"decode": 0.001, "det": 0.001, "cls": 0.0, "rec": 0.001})

    def extract(self, data: bytes, *, schema: str, name: str | None, recognizer: Any = None) -> Outcome:
        self.check_schema(schema)
        self.ocr(data, name=name, recognizer=recognizer)
        body = {"source": name, "schema": schema, "needs_review": False, "fields": {}}
        return Outcome(body, {"kie": 0.001})

    def check_schema(self, schema: str) -> None:
        if schema not in ("waybill", "contact"):
            raise UnknownSchemaError(f"unknown schema {schema!r}")

    def recognize(self, crops: Sequence[Any]) -> list[Any]:
        self.recognized.append(len(crops))
        return [f"crop{c.shape[0]}" for c in crops]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadServer:
    def __init__(self, settings: ServeSettings, engine: Any) -> None:
        self.app = create_app(settings, engine_factory=lambda _: engine)
        self.port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("test server did not become ready")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def png_bytes(width: int = 40, height: int = 20) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, format="PNG")
    return buf.getvalue()
