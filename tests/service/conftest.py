"""Real processes for the service tests: ``luodi serve`` / ``luodi worker`` subprocesses on loopback
ports and a private ``redis-server`` (Debian's), each stopped by the fixture that started it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from service_procs import LUODI, MODEL, Proc, child_env, free_port, wait_ready


@pytest.fixture(scope="session")
def model_pulled() -> str:
    from luodi.errors import ModelNotPulledError
    from luodi.zoo import get_bundle

    try:
        get_bundle(MODEL)
    except ModelNotPulledError:
        pytest.skip(f"model {MODEL} is not pulled (run `luodi models pull {MODEL}` or `make setup`)")
    return MODEL


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; `make setup` does it)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def start_server(tmp_path_factory: pytest.TempPathFactory, model_pulled: str) -> Iterator[Callable[..., Proc]]:
    """``start_server(*cli_args, env={...})`` runs ``luodi serve`` on a free loopback port until ready."""
    procs: list[Proc] = []

    def start(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> Proc:
        workdir = tmp_path_factory.mktemp("serve")
        port = free_port()
        log = workdir / "serve.log"
        cmd = [*LUODI, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", model_pulled, *args]
        with open(log, "wb") as fh:
            popen = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=child_env(workdir, env))
        proc = Proc(popen, log, url=f"http://127.0.0.1:{port}")
        procs.append(proc)
        if wait:
            wait_ready(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()


@pytest.fixture
def start_worker(tmp_path: Path, model_pulled: str) -> Iterator[Callable[..., Proc]]:
    procs: list[Proc] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Proc:
        log = tmp_path / f"worker-{len(procs)}.log"
        cmd = [*LUODI, "worker", "--model", model_pulled, *args]
        with open(log, "wb") as fh:
            popen = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=child_env(tmp_path, env))
        proc = Proc(popen, log)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()
