"""Which Ray process takes the per-second CPU of an idle ``luodi batch --engine ray`` session (issue #15).

bench/results/batch_ray_overhead.md found Ray's per-second cost (0.06 cores with no page in flight)
to be most of what a page costs outside the actors. This splits it by process: a local Ray session
started as ``luodi batch`` starts it (``num_cpus=2``, 4 actors of 0.5 CPU), idle for ``--window``
seconds, once per variant:

- ``default``: as luodi starts it;
- ``no dashboard``: ``include_dashboard=False`` (the dashboard link is required by issue #15);
- ``quiet reporting``: Ray's per-second reporting slowed or off (``RAY_task_events_report_interval_ms=0``,
  ``RAY_metrics_report_interval_ms=60000``, ``RAY_event_stats=0``): the dashboard's task and metric
  views would go empty;
- both.

    .venv/bin/python bench/ray_idle_by_process.py [--window 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter

PROBE = """
import json, logging, sys, time, psutil, ray
def tree():
    out = {}
    for p in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            t = p.cpu_times(); out[(p.pid, p.create_time())] = (t.user + t.system, p.name(), " ".join(p.cmdline()))
        except psutil.Error:
            pass
    return out
ray.init(logging_level=logging.WARNING, log_to_driver=False, num_cpus=2, include_dashboard=sys.argv[2] == "1")
@ray.remote(num_cpus=0.5)
class Idle:
    def ping(self):
        return 1
actors = [Idle.remote() for _ in range(4)]
ray.get([a.ping.remote() for a in actors])
time.sleep(10)
a, t0 = tree(), time.perf_counter()
time.sleep(float(sys.argv[1]))
b, t1 = tree(), time.perf_counter()
print(json.dumps([[v[1], v[2][:300], (v[0] - a.get(k, (0,))[0]) / (t1 - t0)] for k, v in b.items()]))
ray.shutdown()
"""

QUIET = {"RAY_task_events_report_interval_ms": "0", "RAY_metrics_report_interval_ms": "60000", "RAY_event_stats": "0"}
VARIANTS = {
    "default": (True, {}),
    "no dashboard": (False, {}),
    "quiet reporting": (True, QUIET),
    "no dashboard, quiet reporting": (False, QUIET),
}
GROUPS = ("4 idle actors", "dashboard", "raylet", "gcs_server", "log monitor", "other ray daemons", "driver")


def group_of(name: str, cmdline: str) -> str:
    both = f"{name} {cmdline}"
    if "ray::Idle" in both:
        return "4 idle actors"
    if "dashboard" in both.lower():
        return "dashboard"
    if name == "raylet":
        return "raylet"
    if name == "gcs_server":
        return "gcs_server"
    if "log_monitor" in cmdline:
        return "log monitor"
    if cmdline.startswith(sys.executable + " -c"):
        return "driver"
    return "other ray daemons"


def run(window: float, dashboard: bool, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(window), "1" if dashboard else "0"],
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **env},
        capture_output=True,
        text=True,
        timeout=window + 300,
        check=True,
    )
    by: Counter[str] = Counter()
    for name, cmdline, cores in json.loads(done.stdout.splitlines()[-1]):
        by[group_of(name, cmdline)] += cores
    return {g: by[g] for g in GROUPS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    results = {}
    for label, (dashboard, env) in VARIANTS.items():
        results[label] = run(args.window, dashboard, env)
        load.append(os.getloadavg()[0])
    print(f"load average (1 min) {min(load):.1f}-{max(load):.1f}; cores over a {args.window:g} s idle window")
    print("| process | " + " | ".join(VARIANTS) + " |")
    print("|---|" + "---:|" * len(VARIANTS))
    for g in (*GROUPS, "total"):
        cells = [sum(r.values()) if g == "total" else r[g] for r in results.values()]
        print(f"| {g} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
