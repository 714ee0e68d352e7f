"""Where Ray's CPU goes in ``luodi batch --engine ray``: per page (per batch) or per run and per second.

bench/results/batch_cpu.md found 4 single-thread actors at 1.22 CPU s a page against 1.12 for the local
engine, the actors' own share being 1.11: the rest is outside the workers. This bench splits that rest.

- ``runs``: ``luodi batch extract --engine ray --actors 4`` over N1 and then N2 rendered pages (one page
  per batch and per part, as batch_bench.py), every process of the command sampled every 0.5 s and
  grouped (the driver, the actors, Ray Data's helper actors, Ray's daemons). The slope between the
  two sizes, (CPU at N2 − CPU at N1) / (N2 − N1), is each group's cost **per page**: start-up and
  model loads cancel out. The slope of the whole command minus the actors' is what a page costs
  outside the workers, and that includes every per-batch cost in ``luodi.batch``.
- ``idle``: a local Ray session started the way ``luodi batch`` starts it, holding 4 idle actors for
  ``--window`` seconds, with Ray's metrics collection on and off: the cores Ray takes **per second**
  when no page is processed at all.

    .venv/bin/python bench/batch_ray_overhead.py [--pages 4 16] [--repeats 2] [--window 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from batch_bench import make_pages  # noqa: E402

GROUPS = ("actors", "driver", "ray data helpers", "ray daemons")
_HELPERS = ("_StatsActor", "_AutoscalingCoordinatorActor", "ActorLocationTracker", "SplitCoordinator")


def group_of(cmdline: str, name: str) -> str:
    both = f"{name} {cmdline}"
    if "MapWorker" in both or "ray::Idle" in both:
        return "actors"
    if any(h in both for h in _HELPERS):
        return "ray data helpers"
    if " -m luodi " in f" {cmdline} ":
        return "driver"
    return "ray daemons"


def sample_tree(pid: int, seen: dict[Any, float], names: dict[Any, str]) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    for p in procs:
        try:
            times = p.cpu_times()
            key = (p.pid, p.create_time())
            seen[key] = times.user + times.system
            name = p.name()
            if key not in names or name.startswith("ray::"):
                names[key] = group_of(" ".join(p.cmdline()), name)
        except psutil.Error:
            continue


def run_batch(pages: Path, out: Path, model: str) -> dict[str, float]:
    """CPU seconds per group of one ``luodi batch extract --engine ray --actors 4`` over ``pages``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = [sys.executable, "-m", "luodi", "batch", "extract", str(pages), "-o", str(out), "-m", model]
    cmd += ["--no-progress", "--overwrite", "--part-size", "1", "--batch-size", "1"]
    cmd += ["--engine", "ray", "--actors", "4", "--cpus-per-actor", "0.5", "--threads", "1"]
    seen: dict[Any, float] = {}
    names: dict[Any, str] = {}
    t0 = time.perf_counter()
    log = out.with_name(out.name + ".stdout")
    with log.open("wb") as sink, subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.DEVNULL) as proc:
        while proc.poll() is None:
            sample_tree(proc.pid, seen, names)
            time.sleep(0.5)
    if proc.returncode != 0:
        raise SystemExit(f"the batch run failed ({proc.returncode})")
    report = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    count = len(list(pages.iterdir()))
    assert (report["inputs"], report["out"], report["duplicates"]) == (count, count, 0), report
    by: Counter[str] = Counter()
    for key, cpu in seen.items():
        by[names[key]] += cpu
    return {"wall_s": time.perf_counter() - t0, **{g: by[g] for g in GROUPS}}


IDLE = """
import json, logging, sys, time, psutil, ray
def tree():
    out = {}
    for p in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            t = p.cpu_times(); out[(p.pid, p.create_time())] = (t.user + t.system, p.name(), " ".join(p.cmdline()))
        except psutil.Error:
            pass
    return out
ray.init(logging_level=logging.WARNING, log_to_driver=False, num_cpus=2)
@ray.remote(num_cpus=0.5)
class Idle:
    def ping(self):
        return 1
actors = [Idle.remote() for _ in range(4)]
ray.get([a.ping.remote() for a in actors])
time.sleep(15)
a, t0 = tree(), time.perf_counter()
time.sleep(float(sys.argv[1]))
b, t1 = tree(), time.perf_counter()
print(json.dumps([[v[1], v[2][:200], (v[0] - a.get(k, (0,))[0]) / (t1 - t0)] for k, v in b.items()]))
ray.shutdown()
"""


def run_idle(window: float, metrics: bool) -> dict[str, float]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT / "src")}
    if not metrics:
        env["RAY_enable_metrics_collection"] = "0"
    done = subprocess.run(
        [sys.executable, "-c", IDLE, str(window)],
        env=env,
        capture_output=True,
        text=True,
        timeout=window + 300,
        check=True,
    )
    rows = json.loads(done.stdout.splitlines()[-1])
    by: Counter[str] = Counter()
    for name, cmdline, cores in rows:
        by["driver" if cmdline.startswith(sys.executable + " -c") else group_of(cmdline, name)] += cores
    return {g: by[g] for g in GROUPS}


def render(result: dict[str, Any]) -> str:
    meta, n1, n2 = result["meta"], *result["pages"]
    lines = [
        "# Ray's CPU outside the workers in `luodi batch`: per page or per second (issue #15)",
        "",
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']} · machine: {meta['machine']} · model: {meta['model']} · load average "
        f"{meta['load_min']:.1f}–{meta['load_max']:.1f} (a 2-core machine shared with other work: CPU seconds, "
        "not wall time).",
        "",
        f"## Per page: {n1} and {n2} pages, 4 actors, one page per batch and per part (median of "
        f"{meta['repeats']} runs each)",
        "",
        f"| group | CPU s, {n1} pages | CPU s, {n2} pages | CPU s per page (slope) |",
        "|---|---|---|---|",
    ]
    for g in (*GROUPS, "outside the actors"):
        a, b, s = result["runs"][g]
        lines.append(f"| {g} | {a:.2f} | {b:.2f} | {s:.3f} |")
    idle = result["idle"]
    lines += [
        "",
        f"## Per second: a local Ray session with 4 idle actors, {meta['window']:g} s (cores; one run each)",
        "",
        "| group | metrics collection on | off |",
        "|---|---|---|",
    ]
    for g in (*GROUPS, "total"):
        lines.append(f"| {g} | {idle['on'][g]:.3f} | {idle['off'][g]:.3f} |")
    lines += ["", "## Reading", "", *reading(result), ""]
    return "\n".join(lines)


def reading(result: dict[str, Any]) -> list[str]:
    """Split the per-page cost outside the actors into Ray's per-second cost over the extra time the
    extra pages took (idle cores x wall seconds per page) and the rest, which is per page (per batch)."""
    n1, n2 = result["pages"]
    wall = [statistics.median(r["wall_s"] for r in result["per_size"][str(n)]) for n in (n1, n2)]
    wall_per_page = slope(wall[0], wall[1], n1, n2)
    outside, actors = result["runs"]["outside the actors"][2], result["runs"]["actors"][2]
    idle = result["idle"]["on"]
    timed = (idle["total"] - idle["actors"]) * wall_per_page
    once = result["runs"]["outside the actors"][0] - n1 * outside
    return [
        f"- A page costs {actors:.3f} CPU s in the actors and {outside:.3f} CPU s outside them "
        f"({outside / actors:.1%} of the actors' cost).",
        f"- Ray alone, with no page in flight, takes {idle['total']:.3f} cores: {idle['ray daemons']:.3f} in its "
        f"daemons, {idle['driver']:.3f} in the driver and {idle['actors']:.3f} in the 4 idle actors, spread over "
        f"many processes (metrics collection off: {result['idle']['off']['total']:.3f} cores).",
        f"- Each extra page made the run {wall_per_page:.2f} s longer (wall, shared machine), so Ray's "
        f"per-second cost outside the actors accounts for about {timed:.3f} CPU s of each page; the rest, "
        f"{outside - timed:.3f} CPU s, is the cost per page and per batch (Ray Data's task and block handling, "
        "the driver's part commit, which the local engine pays too).",
        f"- Once per run, outside the actors: about {once:.1f} CPU s (the intercept: Ray's start, Ray Data's "
        "helper actors, the driver's imports), which short runs feel and long ones do not.",
        "- The actors' slope is lower than the steady 1.11 CPU s a page of batch_cpu.md because each actor's "
        "first page carries its warm-up, and the 4-page runs are all first pages; the costs outside the actors "
        "do not depend on it. Against a page's 1.12 CPU s (local, one thread, batch_cpu.md) the per-page part is "
        f"{(outside - timed) / 1.12:.1%} and the per-second part {timed / 1.12:.1%}, so trimming per-batch work "
        f"in luodi.batch could win at most {(outside - timed) / 1.12:.1%}; the rest of what Ray adds is paid per "
        "second and per run.",
    ]


def slope(a: float, b: float, n1: int, n2: int) -> float:
    return (b - a) / (n2 - n1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, nargs=2, default=[4, 16])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--window", type=float, default=40.0)
    parser.add_argument("--model", default="pp-ocrv6-small")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "batch_overhead")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch_ray_overhead.md")
    parser.add_argument("--from-json", type=Path, default=None, help="render an earlier run's .json again")
    args = parser.parse_args()
    if args.from_json is not None:
        args.out.write_text(render(json.loads(args.from_json.read_text(encoding="utf-8"))), encoding="utf-8")
        return
    n1, n2 = args.pages
    loads = [os.getloadavg()[0]]
    per_size: dict[int, list[dict[str, float]]] = {n1: [], n2: []}
    for _ in range(args.repeats):
        for n in (n1, n2):
            pages = make_pages(args.work, n)
            per_size[n].append(run_batch(pages, args.work / f"out-{n}", args.model))
            loads.append(os.getloadavg()[0])
            print(n, json.dumps(per_size[n][-1]), flush=True)
    med = {n: {g: statistics.median(r[g] for r in rows) for g in GROUPS} for n, rows in per_size.items()}
    runs = {g: (med[n1][g], med[n2][g], slope(med[n1][g], med[n2][g], n1, n2)) for g in GROUPS}
    out1 = sum(med[n1][g] for g in GROUPS if g != "actors")
    out2 = sum(med[n2][g] for g in GROUPS if g != "actors")
    runs["outside the actors"] = (out1, out2, slope(out1, out2, n1, n2))
    idle = {}
    for key, metrics in (("on", True), ("off", False)):
        idle[key] = run_idle(args.window, metrics)
        idle[key]["total"] = sum(idle[key][g] for g in GROUPS)
        loads.append(os.getloadavg()[0])
        print(key, json.dumps(idle[key]), flush=True)
    result = {
        "meta": {
            "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": platform.machine(),
            "model": args.model,
            "repeats": args.repeats,
            "window": args.window,
            "load_min": min(loads),
            "load_max": max(loads),
        },
        "pages": [n1, n2],
        "per_size": {str(k): v for k, v in per_size.items()},
        "runs": runs,
        "idle": idle,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    args.out.write_text(render(result), encoding="utf-8")
    print(render(result))


if __name__ == "__main__":
    main()
