"""Overload benchmark (issue #17 item 8): 40 clients against a real ``luodi serve``, with the queue
sized by count only (``--latency-target-s 0``: the old behaviour, 16 may wait) and with shedding by
the latency target (the default, 2.5 s).

Each client posts one document to /v1/ocr, again and again for ``--seconds``; on 503 it waits the
Retry-After the server gave, as a well-behaved client does. Reported per phase: answers 200 and
503, the latency of the 200s (p50/p95/max) and its ratio to one client alone, and how fast a 503
came back. Loopback only; both phases in one run, on one server build, so their ratio holds on a
loaded machine.

    .venv/bin/python bench/service_overload.py --out bench/results/service_overload.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
IMAGE = REPO / "tests" / "data" / "doc_samples" / "rapidocr" / "ch_en_num.jpg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


async def client_loop(url: str, image: bytes, until: float, ok: list[float], shed: list[float]) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        while time.monotonic() < until:
            t0 = time.monotonic()
            r = await client.post(url + "/v1/ocr", files={"file": ("a.jpg", image, "image/jpeg")})
            took = time.monotonic() - t0
            if r.status_code == 200:
                ok.append(took)
            elif r.status_code == 503:
                shed.append(took)
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))
            else:
                raise RuntimeError(f"unexpected {r.status_code}: {r.text[:200]}")


async def load(url: str, image: bytes, clients: int, seconds: float) -> tuple[list[float], list[float]]:
    ok: list[float] = []
    shed: list[float] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(client_loop(url, image, until, ok, shed) for _ in range(clients)))
    return ok, shed


def start(port: int, workdir: Path, latency_target_s: float) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "luodi", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--jobs-dir", str(workdir / "jobs")]  # fmt: skip
    env = {**os.environ, "LUODI_SERVE_LATENCY_TARGET_S": str(latency_target_s)}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.2)


def phase(latency_target_s: float, args: argparse.Namespace, image: bytes) -> tuple[list[float], ...]:
    """One server, one client alone, then ``--clients`` at once: (alone, 200 times, 503 times)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start(port, Path(tmp), latency_target_s)
        url = f"http://127.0.0.1:{port}"
        try:
            alone, _ = asyncio.run(load(url, image, 1, args.alone_seconds))
            ok, shed = asyncio.run(load(url, image, args.clients, args.seconds))
        finally:
            proc.terminate()
            proc.wait(30)
    return alone, ok, shed


def summary(alone: list[float], ok: list[float], shed: list[float], seconds: float) -> dict[str, float]:
    base = statistics.median(alone)
    nan = float("nan")
    return {
        "alone_p50": base,
        "ok": len(ok),
        "shed": len(shed),
        "p50": statistics.median(ok) if ok else nan,
        "p95": pct(ok, 0.95),
        "max": max(ok) if ok else nan,
        "ratio": (statistics.median(ok) / base) if ok else nan,
        "shed_p50": statistics.median(shed) if shed else nan,
        "throughput": len(ok) / seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--alone-seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two set-ups")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    image = IMAGE.read_bytes()
    load0 = os.getloadavg()
    # the two set-ups alternate, round after round, so a change in the machine's load hits both
    runs: dict[float, list[list[float]]] = {0.0: [[], [], []], 2.5: [[], [], []]}
    for _ in range(args.rounds):
        for target, acc in runs.items():
            for kept, new in zip(acc, phase(target, args, image), strict=True):
                kept.extend(new)
    total = args.seconds * args.rounds
    rows = [
        ("count only (queue_size 16, latency_target_s 0)", summary(*runs[0.0], total)),
        ("shed by latency target (default, 2.5 s)", summary(*runs[2.5], total)),
    ]
    load1 = os.getloadavg()
    lines = [
        "# Overload: 40 clients, queue by count vs shed by latency target (issue #17 item 8)",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/service_overload.py', *sys.argv[1:]])}`",
        "",
        f"Real `luodi serve` (1 process, default concurrency and queue_size 16), {args.clients} clients for "
        f"{args.seconds:g} s per phase, {args.rounds} rounds alternating the set-ups, posting `{IMAGE.name}` "
        "to /v1/ocr, each waiting Retry-After on a 503. "
        f"{platform.machine()}, {os.cpu_count()} cores; load average {load0[0]:.1f} before, {load1[0]:.1f} after "
        "(other work shares the machine: compare the phases, not the absolute times).",
        "",
        "| set-up | one client alone p50 s | 200s | 503s | 200 p50 s | 200 p95 s | 200 max s | p50 / alone "
        "| 503 p50 s | 200s per s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['alone_p50']:.2f} | {r['ok']:.0f} | {r['shed']:.0f} | {r['p50']:.2f} | {r['p95']:.2f} | "
            f"{r['max']:.2f} | {r['ratio']:.1f} | {r['shed_p50']:.3f} | {r['throughput']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
