"""Batch throughput: ``luodi batch extract`` on Ray (1, 2, 4 actors) against the local engine and ``luodi extract``.

Every configuration reads the same rendered waybill pages (``luodi synth waybill``, dev layouts) and
runs as its own process, the way a user runs it; the configurations take turns, round after round
(the order rotates), so that a machine shared with other work slows them alike. Each run reports:

- ``wall``: the command's whole time (import, Ray start, model loads, every page, the last part);
- ``steady``: pages/s between the (skip+1)-th and the (skip+1)-th-last page committed (one page per
  part, the parts' marker mtimes), which leaves out start-up and the tail: the rate a long run keeps.

- ``CPU s/page``: user + system CPU of the command and every process under it (Ray's daemons and
  actors included), whole and over the steady window, split into the workers' and the rest's.

The targets (issue #15): with 4 actors on this machine's cores, ≥ 0.9× the best local configuration
(one process, 1 or 2 inference threads) in the same round, judged on CPU per page on a shared
machine (wall rates there follow each run's share of the cores); and ``batch --engine local`` no
slower than ``luodi extract`` on the same folder (``local, CLI defaults``). The projection for 10
million pages a day uses the measured CPU per page. Results: bench/results/batch*.md and .json.

    .venv/bin/python bench/batch_bench.py [--pages 24] [--rounds 2] [--only CONFIG ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from luodi.config import usable_cores  # noqa: E402

PAGES_PER_DAY = 10_000_000
#: cores of the node the projection is sized in (a common cloud/cluster node)
NODE_CORES = 16


@dataclass(frozen=True)
class Config:
    name: str
    args: tuple[str, ...]
    kind: str  # "local" | "ray" | "extract"
    actors: int = 0
    tag: str = ""  # tells apart configurations with the same actors in the ratios' names (ray4_dashboard_...)
    src: Path | None = None  # run luodi from this source tree instead of this checkout's (a baseline)


def configs(cores: int) -> list[Config]:
    out = [
        Config("local, 1 thread", ("--engine", "local", "--threads", "1"), "local"),
        Config(f"local, {cores} threads", ("--engine", "local", "--threads", str(cores)), "local"),
    ]
    for actors in (1, 2, 4):
        cpus = cores / actors
        out.append(
            Config(
                f"ray, {actors} actor{'s' * (actors > 1)}",
                ("--engine", "ray", "--actors", str(actors), "--cpus-per-actor", f"{cpus:g}"),
                "ray",
                actors,
            )
        )
    # the same 4-actor pool with the dashboard and Ray's reporting on (what a Ray started by luodi ran before)
    out.append(Config("ray, 4 actors, dashboard", (*out[-1].args, "--dashboard"), "ray", 4, "_dashboard"))
    # the CLI's own part and batch sizes (500, 4): what `luodi extract` is compared with, no steady rate
    out.append(Config("local, CLI defaults", ("--engine", "local", "--threads", str(cores)), "local-defaults"))
    out.append(Config("luodi extract (folder)", (), "extract"))
    return out


def load() -> float:
    return os.getloadavg()[0]


def steady_rate(commits: list[float], part_size: int, skip: int) -> float | None:
    """Pages/s between commit ``skip`` and commit ``len - 1 - skip``: at both ends the same number of pages
    are in flight (one per actor), so they cancel; the first wave (actors starting together) and the tail
    (actors running dry) are left out."""
    first, last = skip, len(commits) - 1 - skip
    if last <= first or commits[last] <= commits[first]:
        return None
    return round(part_size * (last - first) / (commits[last] - commits[first]), 4)


def _spent(commits: list[float], skip: int, samples: list[Sample], column: int) -> tuple[float, float] | None:
    """CPU seconds of a sample column between the steady window's two commits, and the window's seconds."""
    first, last = skip, len(commits) - 1 - skip
    if last <= first:
        return None
    times, cpu = [s[0] for s in samples], [s[column] for s in samples]
    spent = float(np.interp(commits[last], times, cpu) - np.interp(commits[first], times, cpu))
    return spent, commits[last] - commits[first]


def steady_cpu(commits: list[float], part_size: int, skip: int, samples: list[Sample], column: int) -> float | None:
    """CPU seconds per page over the same window as :func:`steady_rate` (the CPU samples interpolated)."""
    got = _spent(commits, skip, samples, column)
    pages = part_size * (len(commits) - 1 - 2 * skip)
    return None if got is None else round(got[0] / pages, 3)


def overhead_cores(commits: list[float], skip: int, samples: list[Sample]) -> float | None:
    """Cores busy outside the workers during the steady window (Ray's daemons and driver; ~0 without Ray)."""
    total, workers = _spent(commits, skip, samples, 1), _spent(commits, skip, samples, 2)
    if total is None or workers is None or total[1] <= 0:
        return None
    return round((total[0] - workers[0]) / total[1], 3)


# long: one configuration's run: its command line, the run with CPU sampled, then its row
def run_one(
    config: Config, pages: Path, work: Path, model: str, part_size: int, batch_size: int, skip: int
) -> dict[str, Any]:
    out = work / "runs" / config.name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(config.src or ROOT / "src"), "RAY_USAGE_STATS_ENABLED": "0"}
    if config.kind == "extract":
        out.mkdir(parents=True)
        cmd = [
            sys.executable,
            "-m",
            "luodi",
            "extract",
            str(pages),
            "-m",
            model,
            "--format",
            "jsonl",
            "-o",
            str(out / "all.jsonl"),
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "luodi",
            "batch",
            "extract",
            str(pages),
            "-o",
            str(out),
            "-m",
            model,
            "--no-progress",
        ]
        if config.kind != "local-defaults":
            cmd += ["--part-size", str(part_size), "--batch-size", str(batch_size)]
        cmd += config.args
    load_before = load()
    started = time.time()
    t0 = time.perf_counter()
    done, samples = run_counting_cpu(cmd, env, ray=config.kind == "ray")
    cpu = samples[-1][1]
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{config.name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    count = len(list(pages.iterdir()))
    row: dict[str, Any] = {"config": config.name, "kind": config.kind, "actors": config.actors, "pages": count}
    row |= {"tag": config.tag, "src": str(config.src) if config.src else None}
    row |= {
        "wall_s": round(wall, 2),
        "wall_pps": round(count / wall, 4),
        "load_before": load_before,
        "load_after": load(),
        "cpu_s_per_page": round(cpu / count, 3),
    }
    if config.kind == "extract":
        lines = (out / "all.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == count, (len(lines), count)
        row["steady_pps"] = None
        return row
    report = json.loads(done.stdout.splitlines()[-1])
    assert (report["inputs"], report["out"], report["failed"], report["duplicates"]) == (count, count, 0, 0), report
    if config.kind == "local-defaults":
        row["steady_pps"] = None
        return row
    commits = sorted(p.stat().st_mtime for p in (out / "_parts").glob("*.json"))
    row["steady_pps"] = steady_rate(commits, part_size, skip)
    row["steady_cpu_s_per_page"] = steady_cpu(commits, part_size, skip, samples, 1)
    row["steady_worker_cpu_s_per_page"] = steady_cpu(commits, part_size, skip, samples, 2)
    row["steady_overhead_cores"] = overhead_cores(commits, skip, samples)
    row["cores"] = usable_cores()
    row["first_part_s"] = round(commits[0] - started, 2)
    return row


Sample = tuple[float, float, float]  # time, CPU seconds so far (all processes), of which in the workers


def run_counting_cpu(
    cmd: list[str], env: dict[str, str], *, ray: bool
) -> tuple[subprocess.CompletedProcess[str], list[Sample]]:
    """Run ``cmd``; also samples, every 0.5 s, of the user + system CPU of it and every process under it, Ray's
    daemons and actors included (each process's last half second is missed). The workers are the Ray actors
    (``MapWorker``) or, without Ray, the command's own process; the rest is overhead (Ray's daemons, the driver)."""
    import psutil

    seen: dict[tuple[int, float], float] = {}
    workers: set[tuple[int, float]] = set()
    samples: list[Sample] = []
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for p in tree:
                try:
                    times, key = p.cpu_times(), (p.pid, p.create_time())
                    seen[key] = times.user + times.system
                    if ("MapWorker" in " ".join(p.cmdline()[:1])) if ray else p.pid == root.pid:
                        workers.add(key)
                except psutil.Error:
                    pass
            samples.append(_sample(seen, workers))
            time.sleep(0.5)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())
    samples.append(_sample(seen, workers))
    return done, samples


def _sample(seen: dict[tuple[int, float], float], workers: set[tuple[int, float]]) -> Sample:
    return time.time(), sum(seen.values()), sum(seen[key] for key in workers)


def make_pages(work: Path, count: int) -> Path:
    pages = work / f"pages-{count}" / "images"
    if not pages.is_dir() or len(list(pages.iterdir())) != count:
        shutil.rmtree(pages.parent, ignore_errors=True)
        cmd = [
            sys.executable,
            "-m",
            "luodi",
            "synth",
            "waybill",
            "-n",
            str(count),
            "-o",
            str(pages.parent),
            "--seed",
            "1501",
        ]
        subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, check=True, capture_output=True)
    return pages


def summarise(rows: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    by_round: list[dict[str, Any]] = []
    for r in range(rounds):
        these = {row["config"]: row for row in rows if row["round"] == r}
        locals_ = [row for row in these.values() if row["kind"] == "local"]
        entry: dict[str, Any] = {"round": r, "best_local": "–"}
        if locals_:
            local = max(locals_, key=lambda row: row["steady_pps"])
            local_wall = max(locals_, key=lambda row: row["wall_pps"])
            entry |= {"best_local": local["config"], "best_local_steady_pps": local["steady_pps"]}
            local_cpu = min(row["steady_cpu_s_per_page"] for row in locals_)
        for row in these.values() if locals_ else ():
            if row["kind"] == "ray":
                key = f"ray{row['actors']}{row.get('tag', '')}"
                entry[f"{key}_steady_ratio"] = round(row["steady_pps"] / local["steady_pps"], 3)
                entry[f"{key}_wall_ratio"] = round(row["wall_pps"] / local_wall["wall_pps"], 3)
                entry[f"{key}_cpu_ratio"] = round(local_cpu / row["steady_cpu_s_per_page"], 3)
                if row.get("steady_overhead_cores") is not None:
                    # on a dedicated machine of `cores`: the workers' CPU per page, and Ray's daemons taking a
                    # fixed share of the cores (they are not slowed by a busy machine as the workers are)
                    free = 1 - row["steady_overhead_cores"] / row["cores"]
                    ratio = free * local_cpu / row["steady_worker_cpu_s_per_page"]
                    entry[f"{key}_dedicated_estimate"] = round(ratio, 3)
        default_local = [r for r in these.values() if r["kind"] == "local-defaults"] or [
            r for r in these.values() if r["kind"] == "local" and not r["config"].endswith("1 thread")
        ]
        extract = [row for row in these.values() if row["kind"] == "extract"]
        if default_local and extract:
            entry["local_vs_extract_wall"] = round(extract[0]["wall_s"] / default_local[0]["wall_s"], 3)
            entry["local_vs_extract_cpu"] = round(extract[0]["cpu_s_per_page"] / default_local[0]["cpu_s_per_page"], 3)
        by_round.append(entry)
    keys = [k for k in by_round[0] if k.endswith(("_ratio", "_estimate")) or k.startswith("local_vs_extract")]
    medians = {k: round(statistics.median(e[k] for e in by_round), 3) for k in keys}
    return {"rounds": by_round, "median": medians}


def projection(rows: list[dict[str, Any]], cores: int, ray_ratio: float) -> dict[str, Any]:
    local = {row["config"] for row in rows if row["kind"] == "local"}
    best = max(statistics.median(row["steady_pps"] for row in rows if row["config"] == name) for name in local)
    per_core = best / cores
    need = PAGES_PER_DAY / 86_400
    cores_needed = need / (per_core * ray_ratio)
    one_thread = statistics.median(row["steady_cpu_s_per_page"] for row in rows if row["config"] == "local, 1 thread")
    cpu_cores = need * one_thread / ray_ratio
    return {
        "cpu_s_per_page_1_thread": one_thread,
        "cpu_cores_needed": round(cpu_cores, 1),
        "cpu_nodes_needed": int(-(-cpu_cores // NODE_CORES)),
        "cpu_nodes_with_headroom": int(-(-cpu_cores * 1.3 // NODE_CORES)),
        "pages_per_s_needed": round(need, 2),
        "per_core_pps_measured": round(per_core, 4),
        "ray_efficiency": ray_ratio,
        "cores_needed": round(cores_needed, 1),
        "nodes_needed": int(-(-cores_needed // NODE_CORES)),
        "node_cores": NODE_CORES,
        "nodes_with_headroom": int(-(-cores_needed * 1.3 // NODE_CORES)),
    }


def _cores_used(row: dict[str, Any]) -> float | None:
    """CPU seconds per second over the steady window: the share of the machine the run got."""
    if row.get("steady_pps") is None or row.get("steady_cpu_s_per_page") is None:
        return None
    return float(row["steady_pps"] * row["steady_cpu_s_per_page"])


def _span(rows: list[dict[str, Any]], kind: str) -> str:
    used = [u for row in rows if row["kind"] == kind and (u := _cores_used(row)) is not None]
    return f"{min(used):.2f}–{max(used):.2f}" if used else "–"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def render(result: dict[str, Any]) -> str:
    meta, rows, summary, proj = result["meta"], result["rows"], result["summary"], result["projection"]
    lines = [*_runs_table(meta, rows), *_ratio_lines(rows, summary), *_target_lines(meta, rows, summary)]
    if proj is not None:
        lines += projection_lines(meta, proj)
    return "\n".join(lines)


def _runs_table(meta: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The report's heading, what was run, and a row per run."""
    lines = [
        "# Batch throughput: Ray actor pools vs the local engine (issue #15)",
        "",
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']} · machine: {meta['machine']} · usable cores: {meta['cores']} · "
        f"model: {meta['model']} · {meta['pages']} rendered waybill pages (`luodi synth waybill --seed 1501`), "
        f"part size {meta['part_size']}, batch size {meta['batch_size']} · load average over the run "
        f"{meta['load_min']:.1f}–{meta['load_max']:.1f}: a 2-core machine shared with other work, so compare "
        "ratios within a round, not absolute rates.",
        "",
        f"`steady`: pages/s between page {meta['skip'] + 1} and page {meta['skip'] + 1} from the end committed "
        "(start-up and tail left out); "
        "`wall`: the whole command; `CPU s/page`: user + system CPU of the command's reaped processes per page "
        "(the command and every process under it, Ray's daemons and actors included, sampled every 0.5 s), "
        "over the whole command and over the steady window.",
        "",
        "| round | configuration | wall s | wall pages/s | steady pages/s | first part at s | CPU s/page "
        "| steady CPU s/page | of it in workers | cores outside workers | cores used (steady) | load before → after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        steady = f"{row['steady_pps']:.3f}" if row["steady_pps"] else "–"
        first = f"{row['first_part_s']:.1f}" if "first_part_s" in row else "–"
        lines.append(
            f"| {row['round']} | {row['config']} | {row['wall_s']:.1f} | {row['wall_pps']:.3f} | {steady} | {first} "
            f"| {row['cpu_s_per_page']:.2f} | {_num(row.get('steady_cpu_s_per_page'))} "
            f"| {_num(row.get('steady_worker_cpu_s_per_page'))} | {_num(row.get('steady_overhead_cores'))} "
            f"| {_num(_cores_used(row))} "
            f"| {row['load_before']:.1f} → {row['load_after']:.1f} |"
        )
    return lines


def _ratio_lines(rows: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    """The ratios per round and their median, and how to read them on a shared machine."""
    keys = list(summary["median"])
    lines = ["", "## Ratios (per round, then the median)", "", "| round | best local | " + " | ".join(keys) + " |"]
    lines.append("|---|---|" + "---|" * len(keys))
    for entry in summary["rounds"]:
        cells = " | ".join(f"{entry[k]:.3f}" for k in keys)
        lines.append(f"| {entry['round']} | {entry['best_local']} | {cells} |")
    lines.append("| median | | " + " | ".join(f"{v:.3f}" for v in summary["median"].values()) + " |")
    lines += [
        "",
        "`rayN_steady_ratio`: Ray with N actors over the best local configuration of the round, steady pages/s; "
        "`rayN_wall_ratio`: the same over whole commands (Ray's start and N model loads included); "
        "`rayN_cpu_ratio`: the lowest local steady CPU s/page of the round over Ray's (≥ 0.9: Ray costs at most "
        "10% more CPU per page); `local_vs_extract_wall` / `_cpu`: `luodi extract`'s wall time / CPU per page over "
        "`batch --engine local`'s with the same threads (≥ 1: batch is no slower).",
        "",
        "On this shared machine the wall-time rates depend on the share of the cores each run got and, for the "
        "local runs, on waiting: the local engine commits each part between two documents, and with one-page "
        "parts every page waits for its part's files to be written and fsynced on a disk other jobs write to "
        "(the likely cause, not measured directly), while Ray's driver commits as the actors go on working. "
        "`cores used` (CPU seconds per second in the steady window) shows both: "
        f"{_span(rows, 'local')} for the local runs, {_span(rows, 'ray')} for Ray's in this run. CPU per page "
        "depends on neither, so it is the measure "
        "of Ray's overhead here; the wall ratios are reported as measured, not as Ray's speed.",
        "",
    ]
    return lines


def _target_lines(meta: dict[str, Any], rows: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    """Each target of issue #15 against the medians, met or not."""
    ray4 = summary["median"].get("ray4_steady_ratio", 0)
    ray4_cpu = summary["median"].get("ray4_cpu_ratio", 0)
    lex = summary["median"].get("local_vs_extract_wall", 0)
    lex_cpu = summary["median"].get("local_vs_extract_cpu", 0)
    return [
        "## Targets",
        "",
        *(
            [
                f"- 4 actors ≥ 0.9× the best local configuration: CPU per page **{ray4_cpu:.3f}**, "
                f"{'met' if ray4_cpu >= 0.9 else 'NOT met'}; steady pages/s **{ray4:.3f}** "
                f"({'≥' if ray4 >= 0.9 else '<'} 0.9 on this shared machine)."
            ]
            if "ray4_cpu_ratio" in summary["median"]
            else []
        ),
        *(
            [
                f"- Estimated for a dedicated {meta['cores']}-core machine: (1 − cores outside the workers / "
                f"{meta['cores']}) × local CPU per page / the workers' CPU per page = "
                f"**{summary['median']['ray4_dedicated_estimate']:.3f}** (Ray's daemons and driver take a fixed "
                "share of the cores; on a contended machine they weigh more against the slowed workers)."
            ]
            if "ray4_dedicated_estimate" in summary["median"]
            else []
        ),
        *(
            [
                f"- `batch --engine local` no slower than `luodi extract` on the same folder: extract/batch wall "
                f"**{lex:.3f}**, CPU **{lex_cpu:.3f}**: {'met' if min(lex, lex_cpu) >= 0.97 else 'NOT met'} "
                "(≥ 0.97 counts as equal within noise)"
                + (
                    ""
                    if any(row["kind"] == "local-defaults" for row in rows)
                    else "; here batch commits a part per page (the timing harness), not the CLI's 500: "
                    "the `local, CLI defaults` configuration compares the CLI as shipped."
                )
            ]
            if "local_vs_extract_wall" in summary["median"]
            else []
        ),
        "",
    ]


def projection_lines(meta: dict[str, Any], proj: dict[str, Any]) -> list[str]:
    need, per_core, eff = proj["pages_per_s_needed"], proj["per_core_pps_measured"], proj["ray_efficiency"]
    return [
        "## Projection: 10 million pages a day",
        "",
        f"- Needed: 10,000,000 pages / 86,400 s = **{need:.1f} pages/s**, around the clock.",
        f"- Ray's efficiency: the measured 4-actor CPU ratio, capped at 1: **{eff:.2f}**.",
        f"- From CPU time, which a shared machine inflates far less than wall time: one page costs "
        f"**{proj['cpu_s_per_page_1_thread']:.2f} CPU s** with one thread (`local, 1 thread`, steady, median "
        f"over rounds), so one core does {1 / proj['cpu_s_per_page_1_thread']:.2f} pages/s. Cores: "
        f"{need:.1f} × {proj['cpu_s_per_page_1_thread']:.2f} / {eff:.2f} = **{proj['cpu_cores_needed']:.0f} cores "
        f"= {proj['cpu_nodes_needed']} worker nodes of {proj['node_cores']} cores** "
        "(`--actors-per-node 16 --cpus-per-actor 1`: one single-threaded actor per core); with 30% headroom for "
        f"peaks and retried tasks, **{proj['cpu_nodes_with_headroom']} nodes**, plus a head node that runs no "
        "actors (`ray start --head --num-cpus 0`).",
        f"- An upper bound from wall time on this shared machine: the best local steady rate (median over rounds) "
        f"/ {meta['cores']} cores = {per_core:.3f} pages/s per core; {need:.1f} / ({per_core:.3f} × {eff:.2f}) = "
        f"{proj['cores_needed']:.0f} cores = {proj['nodes_needed']} nodes. Contention inflates CPU "
        "time too (less than wall time), so dedicated nodes should need at most the CPU figure; re-measure on "
        "an idle node of the target type before buying (the command above).",
        "- Memory: one pipeline per actor (RSS in bench/results/rss_soak.md) × 16 actors must fit a node. "
        "Inputs stream from S3; the driver keeps only the open parts (500 records each) and writes them as they fill.",
        "",
    ]


# long: options, then the rounds of every configuration, then summary, projection and report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default="pp-ocrv6-small")
    # one page per part and per task: a commit per page times the run (the CLI's defaults are 500 and 4)
    parser.add_argument("--part-size", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--skip", type=int, default=4, help="commits left out at each end of the steady window")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "batch")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch.md")
    parser.add_argument("--from-log", type=Path, default=None, help="render the rows a run printed (its log)")
    parser.add_argument("--only", action="append", default=[], help="run only this configuration (repeatable)")
    parser.add_argument("--as-command", default=None, help="with --from-log: the command that made the log")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="also run every Ray configuration with luodi from this src/ (another checkout: before vs after)",
    )
    args = parser.parse_args()
    cores = usable_cores()
    plan = [c for c in configs(cores) if not args.only or c.name in args.only]
    if args.baseline_src is not None:
        src = args.baseline_src.resolve()
        # the baseline's own default is what it is: `--dashboard` may be an option it does not know
        ray = [c for c in plan if c.kind == "ray" and "--dashboard" not in c.args]
        plan += [replace(c, name=f"{c.name} (baseline)", tag=f"{c.tag}_baseline", src=src) for c in ray]
    rows: list[dict[str, Any]] = []
    if args.from_log is not None:
        rows = [json.loads(line) for line in args.from_log.read_text().splitlines() if line.startswith("{")]
        complete = [r for r in range(args.rounds) if sum(row["round"] == r for row in rows) == len(plan)]
        rows = [row for row in rows if row["round"] in complete]
        args.rounds = len(complete)
    pages = make_pages(args.work, args.pages) if args.from_log is None else None
    for r in range(args.rounds if pages is not None else 0):
        order = plan if r % 2 == 0 else plan[::-1]  # alternate, so no configuration always runs first
        for config in order:
            row = run_one(config, pages, args.work, args.model, args.part_size, args.batch_size, args.skip)
            row["round"] = r
            rows.append(row)
            print(json.dumps(row), flush=True)
    rows.sort(key=lambda row: (row["round"], [c.name for c in plan].index(row["config"])))
    summary = summarise(rows, args.rounds)
    ray_ratio = min(1.0, summary["median"].get("ray4_cpu_ratio", 1.0))
    loads = [row[k] for row in rows for k in ("load_before", "load_after")]
    meta = {
        "command": args.as_command or "python bench/batch_bench.py " + " ".join(sys.argv[1:]),
        "skip": args.skip,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cores": cores,
        "model": args.model,
        "pages": args.pages,
        "part_size": args.part_size,
        "batch_size": args.batch_size,
        "load_min": min(loads),
        "load_max": max(loads),
    }
    has_local = any(row["config"] == "local, 1 thread" for row in rows)
    result = {
        "meta": meta,
        "rows": rows,
        "summary": summary,
        "projection": projection(rows, cores, ray_ratio) if has_local else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.write_text(render(result), encoding="utf-8")
    print(render(result))


if __name__ == "__main__":
    main()
