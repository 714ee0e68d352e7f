"""Fakes for the service unit tests: a pipeline over fake sessions, a uvicorn server in a thread."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable, Mapping

import httpx
import numpy as np
import uvicorn
from PIL import Image, ImageDraw

from luodi.config import Settings, load_settings
from luodi.ocr.pipeline import OCR
from luodi.pipeline import Pipeline
from luodi.runtime.fake import FakeSession
from luodi.serve.app import create_app
from luodi.serve.conn import uvicorn_options
from luodi.serve.settings import ServeSettings

CHARS = ["<blank>", *"abcdefghijk"]


class SlowRec(FakeSession):
    """The fake recogniser (reads dark column bands), taking ``delay_s`` per call and counting its batches."""

    def __init__(self, delay_s: float = 0.0) -> None:
        inner = FakeSession.rec(num_classes=len(CHARS))
        super().__init__(inner._fn)
        self.delay_s = delay_s

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        time.sleep(self.delay_s)
        return super().run(inputs)


def fake_pipeline(settings: Settings | None = None, *, delay_s: float = 0.0, rec: SlowRec | None = None) -> Pipeline:
    """The real Pipeline (decoding, limits, OCR engine, extraction) around fake sessions: each page is
    one text line (no detector), read by the fake recogniser."""
    settings = settings if settings is not None else load_settings()
    ocr = OCR.from_sessions(
        rec=rec if rec is not None else SlowRec(delay_s),
        characters=CHARS,
        model_name="fake-model",
        limits=settings.limits,
    )
    return Pipeline(settings, ocr=ocr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadServer:
    def __init__(self, settings: ServeSettings, pipeline_factory: Callable[[ServeSettings], Pipeline]) -> None:
        self.app = create_app(settings, pipeline_factory=pipeline_factory)
        self.port = free_port()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on", **uvicorn_options(settings)
        )
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
    """A white image with a dark bar across its middle: the fake recogniser reads it as text."""
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((0, height // 3, width - 1, 2 * height // 3), fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
