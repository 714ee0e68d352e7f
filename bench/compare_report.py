"""Turn bench/out/compare/*.json (speed and accuracy parts) into bench/results/compare_rapidocr.md/.json.

Called by ``python bench/compare_rapidocr.py report``. The hand-written findings (explanations of
every difference, profile notes) live in bench/compare_findings.md and are copied in verbatim.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from luodi.eval.metrics import GtRegion, PredRegion, e2e_metrics, match_detections, polygon_iou, rec_metrics

FINDINGS = Path(__file__).resolve().parent / "compare_findings.md"
STAGES = ("det", "cls", "rec")


def med(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def gmean(xs: list[float]) -> float:
    xs = [x for x in xs if x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def fmt(x: float, nd: int = 3) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{nd}f}"


# --- speed ----------------------------------------------------------------------------------------
def timed_runs(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The timed rounds; a run that never got past its warm-up falls back to the warm-up call."""
    runs: list[dict[str, Any]] = entry.get("runs") or []
    if not runs and "warmup" in entry:
        runs = [entry["warmup"]]
    return runs


# long: every speed figure of one part, in the order the report reads them
def summarize_speed(part: dict[str, Any]) -> dict[str, Any]:
    g = part["group"]
    images = {n: v for n, v in g["images"].items() if v.get("speed")}
    engines = list(g["info"])
    out: dict[str, Any] = {"engines": {}, "per_image": {}}
    for e in engines:
        wall = cpu = 0.0
        stages = [0.0, 0.0, 0.0]
        infer = [0.0, 0.0, 0.0]
        n = 0
        for v in images.values():
            runs = timed_runs(v[e])
            if not runs:
                continue
            n += 1
            wall += med([r["s"] for r in runs])
            cpu += med([r["cpu"] for r in runs])
            for i in range(3):
                stages[i] += med([r["stages"][i] for r in runs])
                infer[i] += med([r["infer"][i] for r in runs])
        out["engines"][e] = {
            "pages": n,
            "total_s": wall,
            "s_per_page": wall / n if n else float("nan"),
            "cpu_s_per_page": cpu / n if n else float("nan"),
            "stage_s_per_page": {s: stages[i] / n for i, s in enumerate(STAGES)} if n else {},
            "infer_s_per_page": {s: infer[i] / n for i, s in enumerate(STAGES)} if n else {},
            "infer_total_s_per_page": sum(infer) / n if n else float("nan"),
            "pipeline_over_inference": wall / sum(infer) if sum(infer) else float("nan"),
        }
    for name, v in images.items():
        row: dict[str, Any] = {}
        for e in engines:
            runs = timed_runs(v[e])
            row[e] = {
                "s": med([r["s"] for r in runs]) if runs else float("nan"),
                "infer_s": med([sum(r["infer"]) for r in runs]),
                "calls": runs[0]["calls"] if runs else None,
                "det_shape": v[e].get("det_shape"),
                "lines": len(v[e].get("lines", [])),
            }
        out["per_image"][name] = row
    rival = part["rival"]
    ratios = {}
    for e in engines:
        if e == "luodi" or not out["engines"][e]["pages"] or not out["engines"]["luodi"]["pages"]:
            continue
        per = [
            row["luodi"]["s"] / row[e]["s"]
            for row in out["per_image"].values()
            if math.isfinite(row[e]["s"]) and math.isfinite(row["luodi"]["s"]) and row[e]["s"] > 0
        ]
        ratios[e] = {
            "total": out["engines"]["luodi"]["total_s"] / out["engines"][e]["total_s"],
            "gmean_per_image": gmean(per),
            "cpu": out["engines"]["luodi"]["cpu_s_per_page"] / out["engines"][e]["cpu_s_per_page"],
            "infer": out["engines"]["luodi"]["infer_total_s_per_page"] / out["engines"][e]["infer_total_s_per_page"],
        }
    out["ratios"] = ratios
    out["rival"] = rival
    out["timing"] = "timed rounds" if g.get("rounds") else ("warm-up calls only" if ratios else "none")
    return out


def text_agreement(lines_a: list[dict[str, Any]], lines_b: list[dict[str, Any]]) -> dict[str, Any]:
    """Pair the two engines' lines by box IoU >= 0.5 (greedy, best first) and compare texts."""
    cands = []
    for i, a in enumerate(lines_a):
        for j, b in enumerate(lines_b):
            if a["box"] is None or b["box"] is None:
                continue
            iou = polygon_iou([tuple(p) for p in a["box"]], [tuple(p) for p in b["box"]])
            if iou >= 0.5:
                cands.append((iou, i, j))
    cands.sort(reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    same = 0
    diffs = []
    for _iou, i, j in cands:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        if lines_a[i]["text"] == lines_b[j]["text"]:
            same += 1
        else:
            diffs.append((lines_a[i]["text"], lines_b[j]["text"]))
    only_a = [lines_a[i]["text"] for i in range(len(lines_a)) if i not in used_a]
    only_b = [lines_b[j]["text"] for j in range(len(lines_b)) if j not in used_b]
    return {"same": same, "diff": diffs, "only_luodi": only_a, "only_rival": only_b}


# --- accuracy -------------------------------------------------------------------------------------
def summarize_accuracy(part: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    labels = part["det_labels"]
    for settings, g in part["groups"].items():
        engines = list(g["info"])
        rec: dict[str, Any] = {}
        for set_name, rows in g["rec"].items():
            gold = [r["label"] for r in rows]
            rec[set_name] = {e: rec_metrics([r[e] for r in rows], gold).to_dict() | {"n": len(rows)} for e in engines}
            rec[set_name]["disagreements"] = [
                {"page": r["page"], "label": r["label"], **{e: r[e] for e in engines}}
                for r in rows
                if len({r[e] for e in engines}) > 1
            ]
        known = {}
        for name, lines_by_engine in g["e2e"].items():
            if name.startswith("eval/"):
                continue
            known[name] = {e: [ln["text"] for ln in lines_by_engine[e]] for e in engines}
        e2e = {}
        for e in engines:
            matches = []
            for name, regions in labels.items():
                gts = [GtRegion(points=[tuple(p) for p in r["points"]], text=r["text"]) for r in regions]
                preds = [PredRegion(points=[tuple(p) for p in ln["box"]], text=ln["text"]) for ln in g["e2e"][name][e]]
                matches.append(match_detections(gts, preds))
            e2e[e] = e2e_metrics(matches).to_dict() if matches else {}
        out[settings] = {"rec": rec, "known_e2e": known, "det_pages_e2e": e2e, "info": g["info"]}
    return out


# --- rendering ------------------------------------------------------------------------------------
def settings_table(info: dict[str, Any]) -> str:
    rows = []
    for e, i in info.items():
        opts = i.get("options", {})
        keep = {k: v for k, v in opts.items() if k not in ("use_det", "use_cls")}
        rows.append(f"- **{e}** {i.get('version', '')} (threads {i.get('threads')}): `{json.dumps(keep)}`")
    return "\n".join(rows)


# long: the report's sections in reading order (its inputs in bench/out/compare are not kept, so a split could not
# be checked against the committed report)
def render(speed: list[dict[str, Any]], acc: list[dict[str, Any]]) -> str:
    out: list[str] = ["# luodi vs RapidOCR (and PaddleOCR 2.9.1): same models, same pixels, same threads", ""]
    parts = speed + acc
    if not parts:
        return "\n".join([*out, "No parts found in bench/out/compare/."])
    m = parts[0]["machine"]
    out += [
        "Commands (each run writes one part file under bench/out/compare/; `report` renders this page):",
        "",
        "```",
        "bench/make_venvs.sh",
        *sorted({p["command"] for p in parts}),
        "python bench/compare_rapidocr.py report",
        "```",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, kernel {m['kernel']}. "
        f"Dates: {min(p['date'] for p in parts)} to {max(p['date'] for p in parts)} (UTC); git {parts[0]['git']}.",
        "The machine was shared with other helpers running test suites: the 1-minute load average sat far "
        "above the 2 cores (see each table), so absolute times are inflated. Engines were called alternately "
        "image by image (the first engine rotates every image and round), so load hits all of them alike, "
        "and ratios are the figures to read. CPU seconds (all threads of the engine's process) are given as "
        "a second, less load-sensitive measure.",
        "",
    ]
    if FINDINGS.exists():
        out += [FINDINGS.read_text(encoding="utf-8").strip(), ""]
    shas = {p["model"]: p["models_sha256"] for p in parts}
    out += ["## Same model files (sha256)", "", "| bundle | stage | sha256 | rival's file |", "|---|---|---|---|"]
    for model, stages in shas.items():
        for st, v in stages.items():
            out.append(f"| {model} | {st} | `{v['sha256'][:16]}…` | {v['rival']} |")
    out.append("")

    # speed summary
    out += [
        "## Speed: seconds per page (median of the timed rounds per image, mean over the pages)",
        "",
        "`luodi/x` = luodi's total time over all pages divided by the other engine's (below 0.8 meets the "
        "target); `gmean` = geometric mean of the per-image ratios; `cpu` = the same ratio of CPU seconds; "
        "`pipe/inf` = end-to-end time over the summed `session.run` / `predictor.run` time of that engine.",
        "",
        "| model | threads | settings | engine | s/page | CPU s/page | det | cls | rec | inference s/page "
        "| pipe/inf | luodi/x total | gmean | cpu | rounds | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summaries = []
    for p in sorted(speed, key=lambda p: (p["model"], -p["threads"], p["settings"])):
        s = summarize_speed(p)
        summaries.append((p, s))
        g = p["group"]
        load = f"{g['loadavg_before'][0]:.1f}→{g['loadavg_after'][0]:.1f}"
        rounds = g["rounds"] if g["rounds"] else "0 (warm-up call)" if s["timing"] != "none" else "none"
        if s["timing"] == "none":
            continue
        for e, v in s["engines"].items():
            r = s["ratios"].get(e)
            st = v["stage_s_per_page"]
            out.append(
                f"| {p['model']} | {p['threads']} | {p['settings']} | {e} | {fmt(v['s_per_page'])} "
                f"| {fmt(v['cpu_s_per_page'])} | {fmt(st.get('det', float('nan')))} "
                f"| {fmt(st.get('cls', float('nan')))} | {fmt(st.get('rec', float('nan')))} "
                f"| {fmt(v['infer_total_s_per_page'])} | {fmt(v['pipeline_over_inference'], 2)} "
                f"| {fmt(r['total'], 2) if r else ''} | {fmt(r['gmean_per_image'], 2) if r else ''} "
                f"| {fmt(r['cpu'], 2) if r else ''} | {rounds} | {load} |"
            )
    out += [
        "",
        "Stage columns are what each tool reports itself: luodi's det includes cropping and reading order; "
        "RapidOCR's det includes its pre/post-processing but not cropping; PaddleOCR's likewise.",
        "",
    ]
    # inference per stage
    out += [
        "### Pure inference per stage (s/page, summed `run` calls) and calls per page",
        "",
        "| model | threads | settings | engine | det infer | cls infer | rec infer | det input (first page) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p, s in summaries:
        if s["timing"] == "none":
            continue
        first = next(iter(s["per_image"].values()))
        for e, v in s["engines"].items():
            inf = v["infer_s_per_page"]
            out.append(
                f"| {p['model']} | {p['threads']} | {p['settings']} | {e} | {fmt(inf.get('det', float('nan')))} "
                f"| {fmt(inf.get('cls', float('nan')))} | {fmt(inf.get('rec', float('nan')))} "
                f"| {first[e]['det_shape']} |"
            )
    out.append("")
    # per image (threads 2 only, to keep it readable)
    for p, s in summaries:
        if p["threads"] != 2 or s["timing"] == "none":
            continue
        engines = list(s["engines"])
        head = " | ".join(f"{e} s" for e in engines)
        out += [
            f"### Per page: {p['model']}, {p['threads']} threads, {p['settings']} ({s['timing']})",
            "",
            f"| page | {head} | luodi/{s['rival']} | det input luodi / {s['rival']} | lines luodi / {s['rival']} |",
            "|---" * (len(engines) + 4) + "|",
        ]
        for name, row in s["per_image"].items():
            times = " | ".join(fmt(row[e]["s"]) for e in engines)
            rv = s["rival"]
            ratio = row["luodi"]["s"] / row[rv]["s"] if row[rv]["s"] else float("nan")
            out.append(
                f"| {name} | {times} | {fmt(ratio, 2)} | {row['luodi']['det_shape']} / {row[rv]['det_shape']} "
                f"| {row['luodi']['lines']} / {row[rv]['lines']} |"
            )
        out.append("")
    # text agreement on the speed pages
    out += ["## Same pages, same model: do the texts agree?", ""]
    agreement: dict[str, Any] = {}
    for p, s in summaries:
        if p["threads"] != 2:
            continue
        g = p["group"]
        key = f"{p['model']}/{p['settings']}"
        tot = {"same": 0, "diff": 0, "only_luodi": 0, "only_rival": 0}
        details = []
        for e in g["info"]:
            if e == "luodi":
                continue
            for name, v in g["images"].items():
                ag = text_agreement(v["luodi"].get("lines", []), v[e].get("lines", []))
                if e == s["rival"]:
                    tot["same"] += ag["same"]
                    tot["diff"] += len(ag["diff"])
                    tot["only_luodi"] += len(ag["only_luodi"])
                    tot["only_rival"] += len(ag["only_rival"])
                if ag["diff"] or ag["only_luodi"] or ag["only_rival"]:
                    details.append((e, name, ag))
        agreement[key] = {"totals": tot, "details": details}
        out += [
            f"### {p['model']}, {p['settings']} (luodi vs {s['rival']})",
            "",
            f"Lines paired by box IoU >= 0.5: {tot['same']} identical, {tot['diff']} different; "
            f"{tot['only_luodi']} only in luodi, {tot['only_rival']} only in {s['rival']}.",
            "",
        ]
        for e, name, ag in details:
            bits = [f"`{a}` ≠ `{b}`" for a, b in ag["diff"]]
            if ag["only_luodi"]:
                bits.append("only luodi: " + ", ".join(f"`{t}`" for t in ag["only_luodi"]))
            if ag["only_rival"]:
                bits.append(f"only {e}: " + ", ".join(f"`{t}`" for t in ag["only_rival"]))
            out.append(f"- vs {e}, {name}: " + "; ".join(bits))
        out.append("")
    # accuracy parts
    acc_summaries = []
    for p in sorted(acc, key=lambda p: p["model"]):
        a = summarize_accuracy(p)
        acc_summaries.append((p, a))
        out += [f"## Accuracy with known text: {p['model']} (luodi vs {p['rival']})", ""]
        for settings, v in a.items():
            engines = list(v["info"])
            out += [
                f"### {settings}",
                "",
                "Recognition only (each crop is one line; no detector, no classifier): "
                "line accuracy / 1-CER, then the samples where the engines disagree.",
                "",
                "| set | n | " + " | ".join(f"{e} acc | {e} 1-CER" for e in engines) + " | disagree |",
                "|---|---|" + "---|---|" * len(engines) + "---|",
            ]
            for set_name, r in v["rec"].items():
                cells = " | ".join(f"{r[e]['line_accuracy']:.3f} | {r[e]['one_minus_cer']:.4f}" for e in engines)
                out.append(f"| {set_name} | {r[engines[0]]['n']} | {cells} | {len(r['disagreements'])} |")
            out.append("")
            for set_name, r in v["rec"].items():
                for d in r["disagreements"][:12]:
                    out.append(
                        f"- {set_name} {d['page']}: label `{d['label']}`; "
                        + "; ".join(f"{e} `{d[e]}`" for e in engines)
                    )
                if len(r["disagreements"]) > 12:
                    out.append(f"- {set_name}: {len(r['disagreements']) - 12} more in compare_rapidocr.json")
            out += ["", "Whole pipeline on pages with known text:", ""]
            for name, texts in v["known_e2e"].items():
                out.append(f"- {name}: " + "; ".join(f"{e} `{' / '.join(t)}`" for e, t in texts.items()))
            if v["det_pages_e2e"]:
                out += [
                    "",
                    "Synthetic labelled pages (bench/out/eval/det_pages, end-to-end: a line counts when "
                    "detected with IoU >= 0.5 and read exactly):",
                    "",
                    "| engine | gt lines | predicted | correct | precision | recall | hmean |",
                    "|---|---|---|---|---|---|---|",
                ]
                for e, m in v["det_pages_e2e"].items():
                    out.append(
                        f"| {e} | {m['n_gt']} | {m['n_pred']} | {m['correct']} | {m['precision']:.3f} "
                        f"| {m['recall']:.3f} | {m['hmean']:.3f} |"
                    )
            out += ["", "Effective settings:", "", settings_table(v["info"]), ""]
    # settings of the speed groups
    out += ["## Effective settings of the speed runs (as each engine reported them)", ""]
    for p, _s in summaries:
        if p["threads"] != 2:
            continue
        out += [f"### {p['model']} {p['settings']}", "", settings_table(p["group"]["info"]), ""]
    return "\n".join(out) + "\n"


def cmd_report(parts_dir: Path, results: Path) -> None:
    speed = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(parts_dir.glob("speed-*.json"))]
    acc = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(parts_dir.glob("accuracy-*.json"))]
    results.mkdir(parents=True, exist_ok=True)
    md = render(speed, acc)
    (results / "compare_rapidocr.md").write_text(md, encoding="utf-8")
    summary = {
        "speed": [
            {
                "model": p["model"],
                "threads": p["threads"],
                "settings": p["settings"],
                "command": p["command"],
                "date": p["date"],
                "rounds": p["group"]["rounds"],
                "loadavg": [p["group"]["loadavg_before"], p["group"]["loadavg_after"]],
                "info": p["group"]["info"],
                **summarize_speed(p),
            }
            for p in speed
        ],
        "accuracy": [
            {"model": p["model"], "command": p["command"], "date": p["date"], **summarize_accuracy(p)} for p in acc
        ],
        "machine": (speed or acc)[0]["machine"] if (speed or acc) else None,
    }
    (results / "compare_rapidocr.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1, default=float), encoding="utf-8"
    )
    print(results / "compare_rapidocr.md")
