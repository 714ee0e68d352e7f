"""Service load benchmark: a bounded loopback load generator against a real ``luodi serve``.

Measures, on this machine:
  * ready time: process start -> /readyz 200 (models pulled, several starts);
  * throughput and p50/p95/p99 latency of POST /v1/ocr at several client concurrencies, with the
    cross-request recognition batcher off and on (a fixed request count per level);
  * the offline pipeline (``luodi.OCR`` called in-process, sequentially) on the same images and cores;
  * server RSS over a soak of small requests.

Loopback only, a fixed number of requests per phase. Writes a Markdown report (``--out``).

    .venv/bin/python bench/service_load.py --out bench/results/service.md
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
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
DOC_IMAGES = (
    "paddleocr/imgs/00006737.jpg",
    "paddleocr/imgs/00056221.jpg",
    "paddleocr/imgs/00057937.jpg",
    "paddleocr/imgs/00077949.jpg",
    "paddleocr/imgs/00111002.jpg",
    "rapidocr/ch_en_num.jpg",
)
SOAK_IMAGE = "rapidocr/text_rec.jpg"


def samples_dir() -> Path:
    env = os.environ.get("LUODI_SHARED")
    base = Path(env) if env else REPO.parent / "shared"
    return base / "data" / "doc_samples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    ready_s: float

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(
    args: argparse.Namespace, *, batching: bool, workdir: Path, layout: tuple[int, int] | None = None
) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "luodi", "serve", "--host", "127.0.0.1", "--port", str(port), "--model", args.model]
    # batching can only group crops of requests that are in the pipeline at the same time: give it more slots
    slots = args.batching_server_concurrency if batching else args.server_concurrency
    threads = args.threads
    if layout is not None:
        threads, slots = layout
    cmd += ["--queue-size", "64", "--jobs-dir", str(workdir / f"jobs-{port}")]
    if slots:
        cmd += ["--concurrency", str(slots)]
    cmd += ["--batching" if batching else "--no-batching", "--log-level", "info"]
    if threads:
        cmd += ["--threads", str(threads)]
    if batching:
        cmd += ["--max-batch-size", str(args.max_batch_size), "--max-wait-ms", str(args.max_wait_ms)]
    env = {k: v for k, v in os.environ.items() if k != "LUODI_API_KEYS"}
    t0 = time.monotonic()
    log = open(workdir / f"serve-{port}.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - t0 < 120:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(workdir / f'serve-{port}.log').read_text()[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return Server(proc, url, time.monotonic() - t0)
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("server not ready in 120 s")


async def load(url: str, bodies: list[tuple[str, bytes]], concurrency: int) -> tuple[float, list[float], int]:
    """Send every body once with ``concurrency`` clients; (wall seconds, latencies, non-200 count)."""
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            nonlocal failures
            while True:
                try:
                    name, data = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                try:
                    r = await client.post("/v1/ocr", files={"file": (name, data, "image/jpeg")})
                except httpx.TransportError as exc:  # counted and reported, not fatal to the run
                    print(f"request failed after {time.perf_counter() - t0:.1f} s: {exc!r}", flush=True)
                    failures += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    failures += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return wall, latencies, failures


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# long: one run in order: options, each server layout at each concurrency, the offline baseline, the report
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--requests", type=int, default=48, help="requests per concurrency level")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--batching", choices=["off", "on", "both"], default="both")
    ap.add_argument("--server-concurrency", type=int, default=None, help="inference slots [server default]")
    ap.add_argument(
        "--layout",
        action="append",
        default=[],
        metavar="THREADSxSLOTS",
        help="extra batching-off server with this many threads per session and inference slots (repeatable)",
    )
    ap.add_argument("--batching-server-concurrency", type=int, default=4, help="inference slots with batching on")
    ap.add_argument("--threads", type=int, default=None, help="server threads per session [server default]")
    ap.add_argument("--offline-threads", type=int, default=None, help="offline OCR threads [runtime default]")
    ap.add_argument("--max-batch-size", type=int, default=16)
    ap.add_argument("--max-wait-ms", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds the requests are split into")
    ap.add_argument("--soak", type=int, default=2000, help="small requests in the RSS soak (0 = skip)")
    ap.add_argument("--soak-concurrency", type=int, default=4)
    ap.add_argument("--ready-runs", type=int, default=3)
    ap.add_argument("--no-offline", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    root = samples_dir()
    images = [(Path(p).name, (root / p).read_bytes()) for p in DOC_IMAGES]
    bodies = [images[i % len(images)] for i in range(args.requests)]
    levels = [int(c) for c in args.concurrency.split(",")]
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.batching]
    lines: list[str] = []
    out = lines.append
    workdir = Path(tempfile.mkdtemp(prefix="luodi-bench-"))
    print(f"server logs in {workdir}", flush=True)

    cmd = " ".join(["python", "bench/service_load.py", *sys.argv[1:]])
    out("# Service benchmark (`luodi serve`, loopback)\n")
    out(f"Command: `{cmd}`  ")
    cpu = platform.processor() or platform.machine()
    load_avg = os.getloadavg()[0]
    py = platform.python_version()
    out(f"Machine: {os.cpu_count()} CPUs, {cpu}, Python {py}; load average at start {load_avg:.1f}  ")
    out(
        f"Model {args.model}; server: 1 process, {args.server_concurrency or 'default (cores)'} inference slots "
        f"({args.batching_server_concurrency} with batching on, max batch {args.max_batch_size}, "
        f"max wait {args.max_wait_ms} ms), "
        f"threads per session {args.threads or 'server default (cores // slots)'}; offline threads "
        f"{args.offline_threads or 'runtime default'}; {args.requests} requests per level over "
        f"{len(DOC_IMAGES)} real document photos (323x430 to 1000x750), POST /v1/ocr multipart.\n"
    )

    ready: list[float] = []
    for _ in range(args.ready_runs):
        srv = start_server(args, batching=False, workdir=workdir)
        ready.append(srv.ready_s)
        srv.stop()
    out(
        f"## Ready time (process start -> /readyz 200)\n\n{', '.join(f'{r:.2f} s' for r in ready)} "
        f"(median {statistics.median(ready):.2f} s)\n"
    )

    out("## Throughput and latency\n")
    out(
        f"Interleaved: {args.rounds} rounds; each round runs every (batching, clients) cell and the offline pipeline "
        f"on {len(bodies) // args.rounds} requests, so load from other processes hits all cells alike. "
        "CPU s/req is the server process's user+system time per request (all threads): it does not depend on how "
        "much CPU other processes take, so it is the fair figure for 'does batching pay'.\n"
    )
    configs: dict[str, tuple[bool, tuple[int, int] | None]] = {("on" if b else "off"): (b, None) for b in modes}
    for spec in args.layout:
        t, sl = (int(x) for x in spec.lower().split("x"))
        configs[f"off, {t} thr x {sl} slots"] = (False, (t, sl))
    servers = {
        label: start_server(args, batching=b, workdir=workdir, layout=lay) for label, (b, lay) in configs.items()
    }
    walls: dict[tuple[str, int], float] = {}
    lats: dict[tuple[str, int], list[float]] = {}
    cpus: dict[tuple[str, int], float] = {}
    fails: dict[tuple[str, int], int] = {}
    offline_wall = 0.0
    offline_cpu = 0.0
    per_round = max(1, len(bodies) // args.rounds)
    engine = None
    if not args.no_offline:
        from luodi import OCR

        engine = OCR(args.model, threads=args.offline_threads)
        for name, data in images:  # warm-up, as the servers get
            engine(data, name=name)
    try:
        for srv in servers.values():
            asyncio.run(load(srv.url, images, 1))  # warm-up: every image once
        for r in range(args.rounds):
            chunk = bodies[r * per_round : (r + 1) * per_round]
            for b, srv in servers.items():
                for c in levels:
                    cpu0 = cpu_seconds(srv.proc.pid)
                    wall, lat, bad = asyncio.run(load(srv.url, chunk, c))
                    cpus[(b, c)] = cpus.get((b, c), 0.0) + cpu_seconds(srv.proc.pid) - cpu0
                    walls[(b, c)] = walls.get((b, c), 0.0) + wall
                    lats.setdefault((b, c), []).extend(lat)
                    fails[(b, c)] = fails.get((b, c), 0) + bad
            if engine is not None:
                c0, t0 = time.process_time(), time.perf_counter()
                for name, data in chunk:
                    engine(data, name=name)
                offline_wall += time.perf_counter() - t0
                offline_cpu += time.process_time() - c0
            print(f"round {r + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        for srv in servers.values():
            srv.stop()
    done_n = per_round * args.rounds
    out("| server | clients | req/s | p50 s | p95 s | p99 s | p99/p50 | CPU s/req | non-200 |")
    out("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    results: dict[tuple[str, int], float] = {}
    p_ratio: dict[tuple[str, int], float] = {}
    for key in sorted(walls, key=lambda k: (list(configs).index(k[0]), k[1])):
        b, c = key
        lat = lats[key]
        rps = done_n / walls[key]
        p50, p95, p99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
        results[key] = rps
        p_ratio[key] = p99 / p50
        out(
            f"| {b} | {c} | {rps:.2f} | {p50:.3f} | {p95:.3f} | {p99:.3f} | {p99 / p50:.2f} | "
            f"{cpus[key] / done_n:.3f} | {fails[key]} |"
        )
    out("")

    offline_rps = None
    if engine is not None:
        offline_rps = done_n / offline_wall
        out("## Offline pipeline\n")
        out(
            f"In-process `OCR(...)(bytes)`, sequential, the same requests interleaved with the service runs: "
            f"**{offline_rps:.2f} req/s**, {offline_cpu / done_n:.3f} CPU s/req.\n"
        )

    if args.soak:
        small = (Path(SOAK_IMAGE).name, (root / SOAK_IMAGE).read_bytes())
        srv = start_server(args, batching=False, workdir=workdir)
        try:
            warm = max(200, args.soak // 10)
            asyncio.run(load(srv.url, [small] * warm, args.soak_concurrency))
            rss0 = rss_bytes(srv.proc.pid)
            peak = rss0
            done = 0
            chunk = max(100, args.soak // 10)
            t0 = time.perf_counter()
            bad_total = 0
            while done < args.soak:
                n = min(chunk, args.soak - done)
                _, _, bad = asyncio.run(load(srv.url, [small] * n, args.soak_concurrency))
                bad_total += bad
                done += n
                peak = max(peak, rss_bytes(srv.proc.pid))
            wall = time.perf_counter() - t0
            rss1 = rss_bytes(srv.proc.pid)
        finally:
            srv.stop()
        growth = (rss1 - rss0) / rss0 * 100
        out("## RSS soak\n")
        out(
            f"{args.soak} requests of a 362x78 one-line image ({SOAK_IMAGE}) at {args.soak_concurrency} clients after "
            f"{warm} warm-up requests, {wall:.0f} s, {bad_total} non-200. RSS after warm-up {rss0 / 2**20:.1f} MiB, "
            f"at the end {rss1 / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB): growth **{growth:+.2f}%**.\n"
        )

    out("## Against the targets\n")
    base = results.get(("off", 1))
    if base:
        c4 = results.get(("off", 4))
        if c4:
            out(f"- concurrency-4 / sequential throughput (batching off): {c4 / base:.2f}x (target >= 1.3x, goal 1.8x)")
            out(f"- p99/p50 at concurrency 4 (batching off): {p_ratio[('off', 4)]:.2f} (target <= 3)")
        if offline_rps:
            best = max(v for (b, _), v in results.items() if b == "off")
            out(f"- best service throughput / offline pipeline: {best / offline_rps:.2f}x (target >= 0.9x)")
    if ("on", 4) in results and ("off", 4) in results:
        out(f"- batching on / off at concurrency 4: {results[('on', 4)] / results[('off', 4)]:.2f}x")
    out(f"- ready time median {statistics.median(ready):.2f} s (target <= 5 s)")
    out(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} (other processes on this machine skew every figure)")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
