"""Ray Data's own CPU while a pool of 4 actors works: per second, per task, and by driver thread (issue #15).

The actors' function sleeps (``--sleep`` seconds per document) instead of computing, so every CPU second
measured is Ray's and Ray Data's, not the work's: the driver (by thread), Ray Data's helper actors,
Ray's daemons and the actors' own background. The pipeline is the one ``luodi batch`` builds
(``from_items`` → ``map_batches`` over an ``ActorPoolStrategy`` of 4 actors of 0.5 CPU →
``iter_batches`` in the driver); variants change one thing each:

- ``batch 1`` / ``batch 4``: documents per task (the bench's and the CLI's default): per-task costs;
- ``quiet iterator``: ``iter_batches(prefetch_batches=0)`` and ``memory_usage_poll_interval_s=None``
  (Ray Data's knobs for the driver's prefetch thread and the actors' per-task memory poll).

Each variant runs in its own process with its own local Ray (``ray.init(num_cpus=2)`` as ``luodi
batch`` starts one), ``--repeats`` times, alternating. The window is from the 4th document back to
the 4th-last (start-up and tail left out).

    .venv/bin/python bench/ray_data_idle_work.py [--docs 64] [--sleep 1.0] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"batch 1": (1, False), "batch 4": (4, False), "quiet iterator": (1, True)}
_HELPERS = ("_StatsActor", "_AutoscalingCoordinatorActor", "ActorLocationTracker", "SplitCoordinator")
GROUPS = ("driver", "ray data helpers", "ray daemons", "actors (idle work)")


def _group(proc: Any, me: int) -> str:
    both = f"{proc.name()} {' '.join(proc.cmdline())}"
    if "MapWorker" in both:
        return GROUPS[3]
    if any(h in both for h in _HELPERS):
        return GROUPS[1]
    return GROUPS[0] if proc.pid == me else GROUPS[2]


class Sleeper:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        n = len(batch["index"])
        time.sleep(self.seconds * n)
        return {"index": batch["index"], "ok": np.ones(n, bool), "line": np.asarray(["{}" * 500] * n, dtype=object)}


def _threads() -> Counter[str]:
    """CPU seconds of this process's threads, by name (Python's, or the kernel's for Ray's C++ threads)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: Counter[str] = Counter()
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            stat = Path(f"/proc/{os.getpid()}/task/{tid}/stat").read_text()
            comm = Path(f"/proc/{os.getpid()}/task/{tid}/comm").read_text().strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        name = names.get(int(tid), comm)
        out[name.split("-dataset")[0].split(" (")[0]] += (int(fields[11]) + int(fields[12])) / tick
    return out


def one_run(docs: int, sleep: float, variant: str) -> dict[str, Any]:
    """In a child process: the pipeline, and the CPU of each group over the window."""
    import logging

    import psutil
    import ray
    import ray.data

    batch, quiet = VARIANTS[variant]
    ray.init(num_cpus=2, logging_level=logging.WARNING, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    if quiet:
        context.memory_usage_poll_interval_s = None
    seen: dict[tuple[int, float], float] = {}
    groups: dict[tuple[int, float], str] = {}

    def totals() -> Counter[str]:
        root = psutil.Process(os.getpid())
        for p in [root, *root.children(recursive=True)]:
            try:
                key, times = (p.pid, p.create_time()), p.cpu_times()
                seen[key] = times.user + times.system
                if key not in groups or p.name().startswith("ray::"):
                    groups[key] = _group(p, root.pid)
            except psutil.Error:
                continue
        out: Counter[str] = Counter()
        for key, cpu in seen.items():
            out[groups[key]] += cpu
        return out

    items = [{"index": i, "ref": f"doc-{i}"} for i in range(docs)]
    ds = ray.data.from_items(items, override_num_blocks=-(-docs // batch)).map_batches(
        Sleeper,
        fn_constructor_kwargs={"seconds": sleep},
        batch_size=batch,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=4),
        num_cpus=0.5,
    )
    got, start, end = 0, None, None
    for out in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0 if quiet else 1):
        got += len(out["index"])
        if start is None and got >= 4:
            start = (time.time(), totals(), _threads())
        if end is None and got >= docs - 4:
            end = (time.time(), totals(), _threads())
    ray.shutdown()
    assert start is not None and end is not None
    seconds = end[0] - start[0]
    cores = {g: round((end[1][g] - start[1][g]) / seconds, 4) for g in GROUPS}
    threads = {t: round((end[2][t] - start[2][t]) / seconds, 4) for t in end[2] if end[2][t] - start[2][t] > 0}
    tasks = (got - 8) / batch
    return {"variant": variant, "seconds": round(seconds, 2), "tasks_per_s": round(tasks / seconds, 2)} | {
        "cores": cores,
        "total_cores": round(sum(cores.values()), 4),
        "driver_threads": dict(sorted(threads.items(), key=lambda kv: -kv[1])[:6]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=64)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(args.docs, args.sleep, args.child)))
        return
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    rows = []
    for r in range(args.repeats):
        for variant in VARIANTS if r % 2 == 0 else list(VARIANTS)[::-1]:
            load = os.getloadavg()[0]
            cmd = [sys.executable, __file__, "--docs", str(args.docs), "--sleep", str(args.sleep), "--child", variant]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1]) | {"load": round(load, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| variant | tasks/s | " + " | ".join(GROUPS) + " | total cores | runs (load) |")
    print("|---|---:|" + "---:|" * (len(GROUPS) + 1) + "---|")
    for variant in VARIANTS:
        these = [r for r in rows if r["variant"] == variant]
        med = {g: statistics.median(r["cores"][g] for r in these) for g in GROUPS}
        cells = " | ".join(f"{med[g]:.3f}" for g in GROUPS)
        tasks = statistics.median(r["tasks_per_s"] for r in these)
        total = statistics.median(r["total_cores"] for r in these)
        loads = ", ".join(f"{r['load']:.0f}" for r in these)
        print(f"| {variant} | {tasks:.2f} | {cells} | {total:.3f} | {len(these)} ({loads}) |")


if __name__ == "__main__":
    main()
