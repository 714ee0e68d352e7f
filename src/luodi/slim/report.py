"""The before/after report of a quantization: sizes, latency per stage and end to end, accuracy.

Latency is measured on real pages (the calibration pages, each with its own crop widths), FP32 and
INT8 interleaved round by round and summarised by the median, because other work on the machine
shifts absolute times between rounds. Accuracy is scored on the user's label files: a PaddleOCR rec
label file gives line accuracy; a KIE ``labels.jsonl`` gives waybill field (micro) accuracy.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from luodi.config import usable_cores
from luodi.errors import InputError, OutputError
from luodi.slim.calibrate import STAGES, CalibrationSet, list_calibration_files
from luodi.slim.toolchains import StageRecipe
from luodi.zoo.spec import Bundle

ROUNDS = 3


@dataclass(frozen=True)
class QuantizeReport:
    """JSON-ready facts; :meth:`to_markdown` renders them for people."""

    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(json.dumps(self.data))
        return out

    def with_bundle(self, bundle: Bundle) -> QuantizeReport:
        data = dict(self.data)
        data["registered"] = {
            "name": bundle.name,
            "files": [{"path": str(f.path), "role": f.role, "bytes": f.bytes} for f in bundle.files],
        }
        return replace(self, data=data)

    def write(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``X.json`` and ``X.md`` next to each other (``path`` may end in either or neither)."""
        p = Path(path)
        stem = p.with_suffix("") if p.suffix in (".json", ".md") else p
        json_path, md_path = stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".md")
        try:
            stem.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            md_path.write_text(self.to_markdown(), encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write the report to {stem}: {exc}") from exc
        return json_path, md_path

    def to_markdown(self) -> str:  # noqa: PLR0912, PLR0915 - one report section after another
        d = self.to_dict()
        out = [f"# INT8 quantization of {d['base']} → {d['name']}", "", "```", d["command"], "```", ""]
        env = d["environment"]
        out.append(
            f"Machine: {env['cpu']}, {env['cores']} cores; FP32 on {d['runtime']}, "
            f"INT8 on {d.get('int8_runtime', d['runtime'])}; "
            f"load average {env['load_start']} at start, {env['load_end']} at end. "
            f"Calibration: {d['calibration']['pages']} pages from `{d['calibration']['folder']}`, "
            f"samples {d['calibration']['samples']}."
        )
        out += ["", "## Size", "", "| stage | FP32 bytes | INT8 bytes | ratio |", "|---|---|---|---|"]
        for stage, s in d["size"].items():
            out.append(f"| {stage} | {s['fp32']:,} | {s['int8']:,} | {s['ratio']:.1%} |")
        lat = d["latency"]
        out += [
            "",
            f"## Latency (median of {lat['rounds']} interleaved rounds over {lat['pages']} pages, ms per page)",
            "",
        ]
        same = lat.get("fp32_int8_runtime_ms")
        if same:
            rt = d.get("int8_runtime")
            out += [
                f"| stage | FP32 ({d['runtime']}) | FP32 ({rt}) | INT8 ({rt}) | speed-up | of which INT8 |",
                "|---|---|---|---|---|---|",
            ]
        else:
            out += ["| stage | FP32 | INT8 | speed-up |", "|---|---|---|---|"]
        for stage in (*STAGES, "total"):
            if stage in lat["fp32_ms"]:
                a, b = lat["fp32_ms"][stage], lat["int8_ms"][stage]
                if same:
                    c = same[stage]
                    gain, own = (a / b, c / b) if b else (0.0, 0.0)
                    out.append(f"| {stage} | {a:.1f} | {c:.1f} | {b:.1f} | {gain:.2f}x | {own:.2f}x |")
                else:
                    out.append(f"| {stage} | {a:.1f} | {b:.1f} | {a / b if b else 0:.2f}x |")
        out.append("")
        if same:
            out.append(
                "Speed-up: INT8 against the FP32 model on the default runtime; *of which INT8*: against the "
                "same FP32 model on the INT8 model's runtime (what quantization adds beyond the runtime)."
            )
            out.append("")
        if lat.get("first_pass_ms"):
            out.append(
                "First pass over the same pages (allocation, and OpenVINO compiling each new input shape "
                f"once), ms per page: {', '.join(f'{k} {v:.1f}' for k, v in lat['first_pass_ms'].items())}."
            )
            out.append("")
        prec = lat["precision"]
        out.append(f"Precision that ran: {'; '.join(f'{k} {v}' for k, v in prec.items())}.")
        if d["accuracy"]:
            out += [
                "",
                "## Accuracy",
                "",
                "| labels | metric | n | FP32 | INT8 | change |",
                "|---|---|---|---|---|---|",
            ]
            for a in d["accuracy"]:
                for metric in a["metrics"]:
                    f32, i8 = a["fp32"][metric], a["int8"][metric]
                    change = "" if f32 is None or i8 is None else f"{100 * (i8 - f32):+.1f} pt"
                    out.append(f"| {a['labels']} | {metric} | {a['n']} | {f32} | {i8} | {change} |")
        out += ["", "## Recipe (what stayed in float)", ""]
        for stage, r in d["recipes"].items():
            if r.get("mode") == "float":
                out.append(f"- {stage}: not quantized — the whole stage in float, stored as FP16 OpenVINO IR")
                continue
            kept = [*r["ignore_names"], *(f"all {t}" for t in r["ignore_ops"]), *r["ignore_patterns"]]
            if r.get("float_first"):
                kept.insert(0, f"the first {r['float_first']} layers with weights")
            for pos in r.get("float_positions") or ():
                kept.append(_nth_layer(pos))
            if r.get("mode") == "weights":
                out.append(
                    f"- {stage}: {r['toolchain']}, INT8 weights only (per-channel, asymmetric), computing in "
                    f"float; FP16 weights: {', '.join(kept) if kept else 'none'}"
                )
                continue
            out.append(
                f"- {stage}: {r['toolchain']}{' (transformer scheme: SmoothQuant)' if r.get('transformer') else ''}, "
                f"per-channel {r['per_channel']}, calibration {r['calibration']}"
                f"{' ' + json.dumps(r['options']) if r.get('options') else ''}; "
                f"kept in float: {', '.join(kept) if kept else 'nothing beyond non-quantizable ops'}"
            )
        if "registered" in d:
            out += ["", f"Registered as `{d['registered']['name']}`:", ""]
            out += [f"- {f['role']}: {f['path']} ({f['bytes']:,} bytes)" for f in d["registered"]["files"]]
        return "\n".join(out) + "\n"


def _nth_layer(pos: int) -> str:
    """``-2`` → "the second-to-last layer with weights"; ``0`` → "layer with weights no. 0"."""
    if pos >= 0:
        return f"layer with weights no. {pos}"
    words = {1: "last", 2: "second-to-last", 3: "third-to-last"}
    return f"the {words.get(-pos, f'{-pos}th-to-last')} layer with weights"


def build_report(  # noqa: PLR0913 - keyword-only: every measured part of the report
    *,
    base: Bundle,
    quantized: Bundle,
    calib: CalibrationSet,
    calib_dir: Path,
    recipes: Mapping[str, StageRecipe],
    quantize_seconds: Mapping[str, float],
    labels: Sequence[Path],
    runtime: str | None,
    threads: int | None,
    latency_pages: int,
    command: str,
) -> QuantizeReport:
    from luodi.ocr.pipeline import OCR

    load_start = _load()
    size = _sizes(base, quantized)
    fp32_runtime = runtime or "onnxruntime"
    int8_runtime = quantized.runtime or fp32_runtime
    engines = {
        "fp32": OCR(base, runtime=fp32_runtime, threads=threads),
        "int8": OCR(quantized, runtime=int8_runtime, threads=threads),
    }
    if int8_runtime != fp32_runtime:  # timed only: what the runtime alone gives, without INT8
        engines["fp32_int8_runtime"] = OCR(base, runtime=int8_runtime, threads=threads)
    latency = _latency(engines, _first_pages(calib_dir, latency_pages))
    bundles = {"fp32": base, "int8": quantized, "fp32_int8_runtime": base}
    latency["precision"] = {
        key: {stage: stage_precision(getattr(bundles[key], stage), info) for stage, info in e.runtime_info.items()}
        for key, e in engines.items()
    }

    scored = {k: engines[k] for k in ("fp32", "int8")}
    accuracy = [_accuracy(scored, p) for p in labels]
    data = {
        "name": quantized.name,
        "base": base.name,
        "command": command,
        "runtime": fp32_runtime,
        "int8_runtime": int8_runtime,
        "threads": threads,
        "environment": _environment(load_start),
        "calibration": {
            "folder": str(calib_dir),
            "pages": calib.pages,
            "samples": {s: calib.count(s) for s in calib.samples},
            "skipped": list(calib.skipped),
        },
        "recipes": {s: r.to_dict() for s, r in recipes.items()},
        "seconds": {k: round(v, 2) for k, v in quantize_seconds.items()},
        "size": size,
        "latency": latency,
        "accuracy": accuracy,
    }
    return QuantizeReport(data)


def _environment(load_start: float | None) -> dict[str, Any]:
    """The machine the report was measured on, and its load average at the start and now."""
    return {
        "cpu": _cpu_name(),
        "cores": usable_cores(),
        "python": platform.python_version(),
        "versions": _versions(),
        "load_start": load_start,
        "load_end": _load(),
    }


def _sizes(base: Bundle, quantized: Bundle) -> dict[str, dict[str, Any]]:
    """Bytes of each stage both bundles have, FP32 and INT8, and their ratio; then the total."""
    size = {}
    for stage in STAGES:
        fp32, int8 = stage_bytes(getattr(base, stage)), stage_bytes(getattr(quantized, stage))
        if not fp32 or not int8:
            continue
        size[stage] = {"fp32": fp32, "int8": int8, "ratio": round(int8 / fp32, 4)}
    fp32_total = sum(s["fp32"] for s in size.values())
    int8_total = sum(s["int8"] for s in size.values())
    size["total"] = {"fp32": fp32_total, "int8": int8_total, "ratio": round(int8_total / max(fp32_total, 1), 4)}
    return size


def _first_pages(calib_dir: Path, n: int) -> list[Any]:
    """The first ``n`` pages of the calibration folder's readable files, to time the engines on."""
    from luodi.io import load_pages

    pages: list[Any] = []
    for name in list_calibration_files(calib_dir):
        try:
            pages.extend(load_pages(name))
        except InputError:
            continue
        if len(pages) >= n:
            break
    return pages[:n]


def _latency(engines: Mapping[str, Any], pages: Sequence[Any]) -> dict[str, Any]:
    per: dict[str, dict[str, list[float]]] = {k: {s: [] for s in (*STAGES, "total")} for k in engines}
    first: dict[str, float] = {}
    for key, engine in engines.items():
        # warm-up over every page: first calls allocate, and openvino compiles each new shape once
        # (timed apart: a long-running service pays it once per shape, a one-shot CLI call every time)
        t0 = time.perf_counter()
        for page in pages:
            engine.run_pages([page])
        first[key] = round(1000 * (time.perf_counter() - t0) / max(len(pages), 1), 1)
    for _ in range(ROUNDS):
        for key, engine in engines.items():
            sums = dict.fromkeys((*STAGES, "total"), 0.0)
            for page in pages:
                t = engine.run_pages([page]).timings
                sums["det"] += t.det
                sums["cls"] += t.cls
                sums["rec"] += t.rec
                sums["total"] += t.total
            for s, v in sums.items():
                per[key][s].append(v / max(len(pages), 1))
    return {
        "pages": len(pages),
        "rounds": ROUNDS,
        "first_pass_ms": first,
        **{
            f"{key}_ms": {s: round(statistics.median(v), 2) for s, v in stages.items() if v}
            for key, stages in per.items()
        },
        "speedup": _speedup(per["fp32"], per["int8"]),
        **(
            {"speedup_same_runtime": _speedup(per["fp32_int8_runtime"], per["int8"])}
            if "fp32_int8_runtime" in per
            else {}
        ),
    }


def _speedup(a: Mapping[str, list[float]], b: Mapping[str, list[float]]) -> dict[str, float]:
    return {
        s: round(statistics.median(a[s]) / max(statistics.median(b[s]), 1e-9), 3) for s in (*STAGES, "total") if a[s]
    }


def stage_bytes(spec: Any) -> int:
    """Bytes of the file(s) a stage runs from: its OpenVINO IR (.xml + .bin) or its ONNX file."""
    if spec is None:
        return 0
    ir = getattr(spec, "openvino_model", None)
    if ir is not None:
        xml = Path(ir)
        return xml.stat().st_size + xml.with_suffix(".bin").stat().st_size
    return Path(spec.model).stat().st_size if spec.model is not None else 0


def stage_precision(spec: Any, info: Any) -> str:
    """What ran: the runtime reports its float precision only, so INT8 is read from the graph."""
    float_part = str(getattr(info, "precision", "fp32"))
    ir = getattr(spec, "openvino_model", None)
    if ir is not None and getattr(info, "backend", None) == "openvino":
        xml = Path(ir).read_text(encoding="utf-8", errors="replace")
        if 'type="FakeQuantize"' in xml:
            return f"int8 (FakeQuantize), rest {float_part}"
        if 'element_type="u8"' in xml or 'element_type="i8"' in xml:
            return f"int8 weights, {float_part} compute"
        return float_part
    model = getattr(spec, "model", None)
    if model is not None and has_qdq(Path(model)):
        return f"int8 (QDQ), rest {float_part}"
    return float_part


def has_qdq(path: Path) -> bool:
    try:
        import onnx
    except ImportError:  # pragma: no cover - onnx comes with the slim extra
        return False
    model = onnx.load(str(path), load_external_data=False)
    return any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node)


def label_kind(path: Path) -> str:
    """``kie`` for a labels.jsonl (JSON objects with "fields"), else ``rec`` (path<TAB>text)."""
    if path.suffix == ".jsonl":
        return "kie"
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                return "kie" if line.lstrip().startswith("{") else "rec"
    raise InputError(f"--eval-labels: {path} is empty")


def _accuracy(engines: Mapping[str, Any], path: Path) -> dict[str, Any]:
    kind = label_kind(path)
    result: dict[str, Any] = {"labels": str(path), "kind": kind}
    if kind == "rec":
        from luodi.eval import read_rec_labels
        from luodi.eval.runner import evaluate_rec
        from luodi.ocr.options import OCROptions

        samples = read_rec_labels(path)
        result["metrics"] = ["line_accuracy", "line_accuracy_norm", "one_minus_cer"]
        for key, engine in engines.items():
            rep = evaluate_rec(engine, samples, OCROptions(use_det=False))
            m = rep.metrics.to_dict()
            result["n"] = len(samples)
            result[key] = {
                "line_accuracy": m.get("line_accuracy"),
                "line_accuracy_norm": m.get("line_accuracy_norm"),
                "one_minus_cer": m.get("one_minus_cer"),
                "seconds": round(rep.seconds, 2),
            }
        return result
    from luodi.kie.evaluate import Score, evaluate, read_labels
    from luodi.kie.extractor import Extractor

    records = read_labels(path)
    result["metrics"] = ["field_accuracy", "document_exact_rate"]
    for key, engine in engines.items():
        score = Score()
        t = time.perf_counter()
        for _ in evaluate(Extractor("waybill", ocr=engine), records, score, root=path.parent):
            pass
        summary = score.summary()
        result["n"] = summary["fields_scored"]
        result[key] = {
            "field_accuracy": summary["micro_accuracy"],
            "document_exact_rate": summary["document_exact_rate"],
            "documents": summary["documents"],
            "seconds": round(time.perf_counter() - t, 2),
        }
    return result


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not on Linux
        return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    return platform.processor() or "unknown"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("onnxruntime", "onnx", "openvino", "nncf"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out
