"""Benchmark (b): luodi vs RapidOCR with the same model files, the same pixels and the same threads.

    bench/make_venvs.sh rapidocr                                   # bench/.venv-rapidocr (pinned)
    .venv/bin/python bench/compare_rapidocr.py speed --model pp-ocrv4 --threads 2
    .venv/bin/python bench/compare_rapidocr.py speed --model pp-ocrv6-small --threads 2
    .venv/bin/python bench/compare_rapidocr.py speed --model pp-ocrv4 --threads 1        # optional
    .venv/bin/python bench/compare_rapidocr.py accuracy --model pp-ocrv4
    .venv/bin/python bench/compare_rapidocr.py accuracy --model pp-ocrv6-small
    .venv/bin/python bench/compare_rapidocr.py report     # -> bench/results/compare_rapidocr.md/.json

Pairs: PP-OCRv4 = luodi ``pp-ocrv4`` vs rapidocr-onnxruntime 1.4.4 with its own bundled models;
PP-OCRv6 small = luodi ``pp-ocrv6-small`` vs rapidocr 3.10.0 with its own bundled models. The
model files are checked byte for byte (sha256) before anything runs.

Each engine lives in its own process (bench/compare_worker.py, RapidOCR under its own venv); both
are started together and called alternately, image by image, with the order flipped every round
(A B, B A, ...), so background load on this shared machine hits both alike. Times are medians
over the rounds. Every ``session.run`` is timed inside the workers, which gives the pure
inference time of each stage for both tools.

Settings: "defaults" runs each tool as it ships; "matched" gives both the same detector input size
(RapidOCR's limit_type=min, 736), the same DB post-processing (box 0.5, unclip 1.6, dilation),
the same batching and padding (cls 6, rec 6 padded to >= 320 px) and the same DB normalisation
(ImageNet mean/std, which PaddleOCR uses; RapidOCR's default is 0.5/0.5), with RapidOCR's extra
page resize and letterbox switched off. Part files go to bench/out/compare/ (not committed);
``report`` turns all parts into the committed results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "compare"
PAGES = OUT / "pages"
RESULTS = ROOT / "bench" / "results"
RAPID_PY = ROOT / "bench" / ".venv-rapidocr" / "bin" / "python"
LUODI_PY = ROOT / ".venv" / "bin" / "python"
PADDLE_PY = ROOT / "bench" / ".venv-paddleocr" / "bin" / "python"
WORKER = ROOT / "bench" / "compare_worker.py"
SAMPLES = Path(os.environ.get("LUODI_DOC_SAMPLES", "/work/shared/data/doc_samples"))
EVAL = ROOT / "bench" / "out" / "eval"

RIVAL = {"pp-ocrv4": "rapidocr_onnxruntime", "pp-ocrv6-small": "rapidocr"}
RIVAL_FILES = {
    "pp-ocrv4": ("rapidocr_onnxruntime/models", {
        "det": "ch_PP-OCRv4_det_infer.onnx", "rec": "ch_PP-OCRv4_rec_infer.onnx",
        "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx"}),
    "pp-ocrv6-small": ("rapidocr/models", {
        "det": "PP-OCRv6_det_small.onnx", "rec": "PP-OCRv6_rec_small.onnx",
        "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}),
}  # fmt: skip

# pages timed for speed: real photos of several kinds and sizes + synthetic pages. Ten, so that a run
# with three engines and three rounds stays within ~10 minutes even on a heavily loaded 2-core machine.
SPEED_IMAGES = [
    "paddleocr/imgs/00006737.jpg", "paddleocr/imgs/00009282.jpg", "paddleocr/imgs/00056221.jpg",
    "paddleocr/imgs/00057937.jpg", "paddleocr/imgs/1.jpg", "paddleocr/datasets/cmb_demo.jpg",
    "rapidocr/ch_en_num.jpg", "rapidocr/img_exif_orientation.jpg",
    "examples/sample_page.jpg", "eval/det_pages/images/page_0001.png",
]  # fmt: skip
KNOWN_E2E = {  # known texts of doc_samples (same as tests/integration/test_ocr.py)
    "rapidocr/img_exif_orientation.jpg": ["我是中国人"],
    "rapidocr/black_font_color_transparent.png": ["我是中国人"],
    "rapidocr/white_font_color_transparent.png": ["我是中国人"],
    "rapidocr/text_cls.jpg": ["怪我咯"],
    "rapidocr/ch_en_num.jpg": ["正品促销", "大桶装更划算", "强力去污符合国标"],  # first lines only
}
KNOWN_REC = {
    "paddleocr/imgs_words/ch/word_1.jpg": "韩国小馆",
    "paddleocr/imgs_words/ch/word_2.jpg": "汉阳鹦鹉家居建材市场E区25-26号",
    "paddleocr/imgs_words/ch/word_3.jpg": "电话：15952301928",
    "paddleocr/imgs_words/ch/word_4.jpg": "实力活力",
    "paddleocr/imgs_words/ch/word_5.jpg": "西湾监管",
    "rapidocr/text_rec.jpg": "韩国小馆",
}
REC_SETS = ["rec_print", "rec_print_hard", "rec_dotmatrix", "rec_thermal", "rec_stamp"]


# --- helpers --------------------------------------------------------------------------------------
def resolve(name: str) -> Path:
    if name.startswith("examples/"):
        return ROOT / name
    if name.startswith("eval/"):
        return EVAL / name.removeprefix("eval/")
    return SAMPLES / name


def page_file(name: str) -> Path:
    """Decode once with luodi.io (EXIF, alpha on white, grey -> RGB) so both tools get these pixels."""
    import numpy as np

    from luodi.io import load_pages

    out = PAGES / (name.replace("/", "__") + ".npy")
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        (page,) = load_pages(resolve(name))
        np.save(out, page)
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_same_models(model: str) -> dict[str, Any]:
    """The rival's bundled model files must be the very files luodi's bundle uses."""
    from luodi.zoo import get_bundle

    bundle = get_bundle(model)
    site = next((RAPID_PY.parent.parent / "lib").glob("python3*/site-packages"))
    subdir, files = RIVAL_FILES[model]
    out: dict[str, Any] = {}
    for stage, fname in files.items():
        ours = getattr(bundle, stage).model
        theirs = site / subdir / fname
        a, b = sha256(Path(ours)), sha256(theirs)
        if a != b:
            raise SystemExit(f"{stage}: {ours} ({a[:12]}) differs from {theirs} ({b[:12]})")
        out[stage] = {"sha256": a, "luodi": str(ours), "rival": f"{subdir}/{fname}"}
    return out


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def git_commit() -> str:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return r.stdout.strip() or "unknown"


class Worker:
    def __init__(self, engine: str, model: str, settings: str, threads: int) -> None:
        py = {"luodi": LUODI_PY, "paddleocr": PADDLE_PY}.get(engine, RAPID_PY)
        if engine != "luodi" and settings == "matched_spin":
            settings = "matched"  # the rivals spin anyway (ONNX Runtime's default)
        cmd = [str(py), str(WORKER), "--engine", engine, "--model", model, "--settings", settings]
        cmd += ["--threads", str(threads)]
        self.name = engine
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        # the worker's stderr goes to a log under bench/out/compare/logs, for when one dies
        log_dir = OUT / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = log_dir / f"{engine}-{model}-{settings}-t{threads}-{os.getpid()}.log"
        with self.log.open("w", encoding="utf-8") as err:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, env=env
            )

    def ask(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.name} died (exit {self.proc.wait()}), see {self.log}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write('{"op": "quit"}\n')
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self.proc.wait(timeout=30)


def median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


# --- speed ----------------------------------------------------------------------------------------
def cmd_speed(args: argparse.Namespace) -> None:
    model, threads = args.model, args.threads
    models = check_same_models(model)
    speed_images = SPEED_IMAGES[: args.max_images]
    names = list(speed_images)
    pages = {n: str(page_file(n)) for n in names}
    rival = RIVAL[model]
    for settings in args.settings:
        started = time.time()
        load_before = os.getloadavg()
        workers = {"luodi": Worker("luodi", model, settings, threads), rival: Worker(rival, model, settings, threads)}
        if model == "pp-ocrv4" and PADDLE_PY.exists() and not args.no_paddle:
            workers["paddleocr"] = Worker("paddleocr", model, settings, threads)
        info = {k: w.ask({"op": "info"}) for k, w in workers.items()}
        per: dict[str, dict[str, Any]] = {
            n: {"speed": n in speed_images, **{k: {"runs": []} for k in workers}} for n in names
        }
        # warm-up: one call per image per engine (first calls pay for ORT's shape-specific setup)
        for n in names:
            for k, w in workers.items():
                r = w.ask({"op": "run", "page": pages[n]})
                per[n][k]["lines"] = r["lines"]
                per[n][k]["det_shape"] = r["det_shape"]
                # kept apart from the timed runs: a first call per shape pays ORT/MKL-DNN set-up costs
                per[n][k]["warmup"] = {
                    "s": r["seconds"],
                    "cpu": r["cpu"],
                    "stages": r["stages"],
                    "infer": r["infer"],
                    "calls": r["infer_calls"],
                }
        rounds = 0
        order = list(workers)
        # the budget bounds the timed rounds; the warm-up pass is bounded by the number of pages
        warm_s = time.time() - started
        started = time.time()
        meta = {"model": model, "rival": rival, "threads": threads, "settings": settings, "models_sha256": models}
        write_speed_part(meta, speed_group(info, per, rounds, load_before, warm_s, started, final=False))

        for rnd in range(args.rounds):
            if time.time() - started > args.budget:
                break
            for i, n in enumerate(speed_images):
                # rotate who goes first, image by image and round by round
                shift = (rnd + i) % len(order)
                seq = order[shift:] + order[:shift]
                for k in seq:
                    r = workers[k].ask({"op": "run", "page": pages[n]})
                    per[n][k]["runs"].append(
                        {
                            "s": r["seconds"],
                            "cpu": r["cpu"],
                            "stages": r["stages"],
                            "infer": r["infer"],
                            "calls": r["infer_calls"],
                        }
                    )
            rounds += 1
            write_speed_part(
                meta, speed_group(info, per, rounds, load_before, warm_s, started, final=False)
            )  # a run cut short still leaves its rounds
            print(f"{model} t={threads} {settings}: round {rounds} done, {time.time() - started:.0f}s", file=sys.stderr)
        for w in workers.values():
            w.close()
        print(write_speed_part(meta, speed_group(info, per, rounds, load_before, warm_s, started, final=True)))


def speed_group(
    info: dict[str, Any],
    per: dict[str, Any],
    rounds: int,
    load_before: tuple[float, float, float],
    warm_s: float,
    started: float,
    *,
    final: bool,
) -> dict[str, Any]:
    return {
        "info": info,
        "rounds": rounds,
        "complete": final,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "images": per,
        "warmup_seconds": round(warm_s, 1),
        "timed_seconds": round(time.time() - started, 1),
    }


def write_speed_part(meta: dict[str, Any], group: dict[str, Any]) -> Path:
    part = {
        "kind": "speed",
        **meta,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "git": git_commit(),
        "command": "python bench/compare_rapidocr.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "group": group,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"speed-{meta['model']}-t{meta['threads']}-{meta['settings']}.json"
    path.write_text(json.dumps(part, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


# --- accuracy -------------------------------------------------------------------------------------
def cmd_accuracy(args: argparse.Namespace) -> None:
    from luodi.eval.datasets import read_det_labels, read_rec_labels

    model = args.model
    models = check_same_models(model)
    rival = RIVAL[model]
    started = time.time()
    rec_items: dict[str, list[tuple[str, str]]] = {
        "known_words": [(str(page_file(n)), t) for n, t in KNOWN_REC.items()],
    }
    manifest = json.loads((EVAL / "manifest.json").read_text(encoding="utf-8")) if EVAL.exists() else {"sets": {}}
    for name in REC_SETS:
        if name not in manifest["sets"]:
            continue
        samples = read_rec_labels(EVAL / manifest["sets"][name]["labels"])[: args.limit]
        items = []
        for s in samples:
            rel = "eval/" + str(s.path.relative_to(EVAL))
            items.append((str(page_file(rel)), s.label))
        rec_items[name] = items
    det_samples = read_det_labels(EVAL / "det_pages" / "det_labels.txt") if (EVAL / "det_pages").exists() else []
    e2e_names = list(KNOWN_E2E) + ["eval/" + str(s.path.relative_to(EVAL)) for s in det_samples]
    groups: dict[str, Any] = {}
    for settings in args.settings:
        workers = {"luodi": Worker("luodi", model, settings, args.threads)}
        workers[rival] = Worker(rival, model, settings, args.threads)
        info = {k: w.ask({"op": "info"}) for k, w in workers.items()}
        rec_out: dict[str, Any] = {}
        for set_name, items in rec_items.items():
            rows = []
            for path, label in items:
                row: dict[str, Any] = {"page": Path(path).name, "label": label}
                for k, w in workers.items():
                    r = w.ask({"op": "run", "page": path, "mode": "rec"})
                    row[k] = r["lines"][0]["text"] if r["lines"] else ""
                    row[k + "_score"] = r["lines"][0]["score"] if r["lines"] else 0.0
                rows.append(row)
            rec_out[set_name] = rows
        e2e_out: dict[str, Any] = {}
        for n in e2e_names:
            e2e_out[n] = {k: w.ask({"op": "run", "page": str(page_file(n))})["lines"] for k, w in workers.items()}
        for w in workers.values():
            w.close()
        groups[settings] = {"info": info, "rec": rec_out, "e2e": e2e_out}
        print(f"{model} accuracy {settings}: {time.time() - started:.0f}s", file=sys.stderr)
    part = {
        "kind": "accuracy",
        "model": model,
        "rival": rival,
        "threads": args.threads,
        "limit_per_set": args.limit,
        "models_sha256": models,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "git": git_commit(),
        "command": "python bench/compare_rapidocr.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "det_labels": {
            "eval/" + str(s.path.relative_to(EVAL)): [
                {"text": r.transcription, "points": [list(p) for p in r.points]} for r in s.regions
            ]
            for s in det_samples
        },
        "groups": groups,
        "seconds": round(time.time() - started, 1),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    out_path = OUT / f"accuracy-{model}.json"
    out_path.write_text(json.dumps(part, ensure_ascii=False, indent=1), encoding="utf-8")
    print(out_path)


def main() -> None:
    ap = argparse.ArgumentParser(description="luodi vs RapidOCR: same models, same pixels, same threads")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("speed", help="interleaved timing of both engines on the same pages")
    sp.add_argument("--model", choices=sorted(RIVAL), required=True)
    sp.add_argument("--threads", type=int, default=2)
    sp.add_argument("--rounds", type=int, default=3, help="timed rounds after the warm-up (median over them)")
    sp.add_argument(
        "--settings",
        nargs="+",
        default=["defaults", "matched"],
        choices=["defaults", "matched", "matched_spin"],
        help="matched_spin = matched, with luodi's ORT threads spinning like RapidOCR's",
    )
    sp.add_argument("--no-paddle", action="store_true", help="leave PaddleOCR 2.9.1 out of the v4 run")
    sp.add_argument("--max-images", type=int, default=None, help="only the first N images (smoke test)")
    sp.add_argument(
        "--budget",
        type=float,
        default=480.0,
        help="seconds of timed rounds after the warm-up pass; no new round starts after it",
    )
    ac = sub.add_parser("accuracy", help="text of both engines on inputs with known text")
    ac.add_argument("--model", choices=sorted(RIVAL), required=True)
    ac.add_argument("--threads", type=int, default=2)
    ac.add_argument("--limit", type=int, default=100, help="samples per recognition set")
    ac.add_argument("--settings", nargs="+", default=["defaults", "matched"], choices=["defaults", "matched"])
    sub.add_parser("report", help="bench/out/compare/*.json -> bench/results/compare_rapidocr.md/.json")
    args = ap.parse_args()
    if args.cmd == "speed":
        cmd_speed(args)
    elif args.cmd == "accuracy":
        cmd_accuracy(args)
    else:
        from compare_report import cmd_report  # bench/compare_report.py, next to this file

        cmd_report(OUT, RESULTS)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
