"""Connections benchmark (issue #17 item 3): /healthz latency of a real ``luodi serve`` while
hundreds of idle or slowloris connections are open, and whether the server closes them.

Phases, each measured with ``--probes`` sequential GETs of /healthz on fresh connections:
  * alone;
  * with N idle connections open (connected, nothing sent);
  * with N slowloris connections (a request head trickled a header line every second);
then how many of those connections the server closed by itself within its header timeout + 5 s,
and the server's open descriptors before and after.

    .venv/bin/python bench/serve_connections.py --out bench/results/serve_connections.md
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def healthz_once(port: int) -> float:
    """One GET /healthz on a fresh connection, read to the end; milliseconds. A raw socket: an
    httpx client per probe would spend more on its own set-up than the server does."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    elapsed = (time.perf_counter() - t0) * 1000
    assert reply.startswith(b"HTTP/1.1 200"), reply[:100]
    return elapsed


def probe(port: int, n: int) -> dict[str, float]:
    times = [healthz_once(port) for _ in range(n)]
    times.sort()
    return {
        "p50_ms": statistics.median(times),
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
        "max_ms": times[-1],
    }


def connect_many(port: int, n: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]


def closed_count(socks: list[socket.socket], wait_s: float) -> int:
    deadline = time.monotonic() + wait_s
    closed = 0
    for s in socks:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            while s.recv(4096):
                pass
            closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except TimeoutError:
            pass
    return closed


class Loris:
    """Slowloris clients: each sends a request line, then a header line every second, forever."""

    def __init__(self, socks: list[socket.socket]) -> None:
        self.socks = socks
        self.stop = threading.Event()
        for s in socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        i = 0
        while not self.stop.wait(1.0):
            i += 1
            for s in self.socks:
                with contextlib.suppress(OSError):  # closed by the server: what we measure
                    s.sendall(f"X-{i}: y\r\n".encode())


# long: one run in order: start the service, hold the idle connections, probe, write the report
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--header-timeout-s", type=float, default=10.0, help="the server's (the default)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    port = free_port()
    env = {**os.environ, "LUODI_SERVE_CONNECTIONS__HEADER_TIMEOUT_S": str(args.header_timeout_s)}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "luodi", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--jobs-dir", str(Path(tmp) / "jobs")]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
            rows: list[tuple[str, dict[str, float], str]] = []
            fds0 = open_fds(proc.pid)
            rows.append(("alone", probe(port, args.probes), ""))

            idle = connect_many(port, args.connections)
            time.sleep(0.5)
            fds_idle = open_fds(proc.pid)
            rows.append((f"{args.connections} idle connections", probe(port, args.probes), f"server fds {fds_idle}"))
            idle_closed = closed_count(idle, args.header_timeout_s + 5)
            for s in idle:
                s.close()

            loris_socks = connect_many(port, args.connections)
            loris = Loris(loris_socks)
            time.sleep(1.5)
            rows.append((f"{args.connections} slowloris connections", probe(port, args.probes), ""))
            loris_closed = closed_count(loris_socks, args.header_timeout_s + 5)
            loris.stop.set()
            for s in loris_socks:
                s.close()
            time.sleep(1)
            fds_end = open_fds(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)

    load = os.getloadavg()
    base = rows[0][1]["p50_ms"]
    lines = [
        "# /healthz under idle and slowloris connections (issue #17 item 3)",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/serve_connections.py', *sys.argv[1:]])}`",
        "",
        f"Real `luodi serve` (1 process, default settings; header timeout {args.header_timeout_s:g} s) on "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"at the end. {args.probes} sequential GET /healthz per phase, each on a fresh connection.",
        "",
        "| phase | p50 ms | p99 ms | max ms | p50 / alone | note |",
        "|---|---|---|---|---|---|",
    ]
    for name, r, note in rows:
        ratio = r["p50_ms"] / base
        lines.append(f"| {name} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {ratio:.2f} | {note} |")
    lines += [
        "",
        f"- idle connections the server closed within header timeout + 5 s: {idle_closed} / {args.connections}",
        f"- slowloris connections the server closed within header timeout + 5 s: {loris_closed} / {args.connections}",
        f"- server file descriptors: {fds0} before, {fds_idle} with the idle connections, {fds_end} at the end",
        "",
        "Target: /healthz < 100 ms while 500 idle connections are open.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
