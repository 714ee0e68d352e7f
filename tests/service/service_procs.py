"""Process helpers for the service tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

MODEL = "pp-ocrv6-small"
LUODI = [sys.executable, "-m", "luodi"]
API_KEY = "service-test-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""
    ready_s: float = 0.0

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return int(self.popen.returncode)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def child_env(home: Path, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUODI_SERVE") and k != "LUODI_API_KEYS"}
    # the review queue keeps flagged extractions: in the test's folder, never in the real model home
    env["LUODI_SERVE_REVIEW__DB_URL"] = f"sqlite:///{home / 'review.db'}"
    env["LUODI_SERVE_REVIEW__IMAGES"] = str(home / "review-images")
    env.update(extra or {})
    return env


def wait_ready(proc: Proc, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"server exited with {proc.popen.returncode}:\n{proc.log_text()[-3000:]}")
        try:
            if httpx.get(proc.url + "/readyz", timeout=1).status_code == 200:
                proc.ready_s = time.monotonic() - t0
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server not ready after {timeout}s:\n{proc.log_text()[-3000:]}")
