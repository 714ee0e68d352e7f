"""How fast OCR engines run on the caller's own pages: the library behind ``luodi bench``.

>>> from luodi.eval.speed import measure_speed
>>> report = measure_speed({"v6": OCR("pp-ocrv6-small"), "int8": OCR("pp-ocrv6-small-int8")}, pages)  # doctest: +SKIP
>>> print(report.to_markdown())                                                                   # doctest: +SKIP

Each engine first runs once over every page, timed apart (the first pass): first calls allocate,
and OpenVINO compiles one model per new input shape, so a one-shot command pays far more per page
than a long-running service does once it is warm. Then come ``rounds`` rounds; in each, every engine
runs over all pages in turn, so a change of load on the machine (other processes, thermal limits)
hits every engine alike instead of whichever happened to run last. Per-stage times come from the
engine's own ``Document.timings`` (decoding is left out: it is the same for every engine), averaged
per page within a round and summarised by the median over rounds.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from luodi.config import usable_cores
from luodi.errors import EmptyInputError
from luodi.ocr.result import Timings

if TYPE_CHECKING:
    from luodi.ocr.options import OCROptions
    from luodi.ocr.pipeline import OCR

STAGES = ("locate", "det", "cls", "rec", "total")
_RUNTIME_PACKAGES = ("onnxruntime", "openvino", "paddlepaddle")


@dataclass(frozen=True, slots=True)
class StageRuntime:
    """What one stage of an engine ran on, as the inference session reports it."""

    stage: str
    backend: str
    device: str
    threads: int | None
    precision: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "device": self.device,
            "threads": self.threads,
            "precision": self.precision,
        }


@dataclass(frozen=True, slots=True)
class EngineSpeed:
    """One engine's numbers; every time is milliseconds per page."""

    name: str
    model: str
    runtime: tuple[StageRuntime, ...]
    first_pass_ms_per_page: float
    ms_per_page: Timings  # per stage, median over rounds
    round_total_ms_per_page: tuple[float, ...]  # total of each round, in order: how much they swing
    pages_per_s: float  # one page at a time, from the median total
    speedup: float  # the first engine's median total / this engine's; > 1 is faster
    # text lines read per page: an engine that finds fewer lines also does less recognition work
    lines_per_page: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "runtime": {r.stage: r.to_dict() for r in self.runtime},
            "first_pass_ms_per_page": round(self.first_pass_ms_per_page, 2),
            "ms_per_page": self.ms_per_page.to_dict(),
            "round_total_ms_per_page": [round(v, 2) for v in self.round_total_ms_per_page],
            "pages_per_s": round(self.pages_per_s, 3),
            "speedup": round(self.speedup, 3),
            "lines_per_page": round(self.lines_per_page, 2),
        }


@dataclass(frozen=True, slots=True)
class Environment:
    cpu: str
    cores: int  # cores this process may run on (affinity), not the machine's total
    load_start: float | None  # 1-minute load average
    load_end: float | None
    python: str
    luodi: str
    packages: tuple[tuple[str, str], ...] = ()  # installed inference runtimes and their versions

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu": self.cpu,
            "cores": self.cores,
            "load_start": self.load_start,
            "load_end": self.load_end,
            "python": self.python,
            "luodi": self.luodi,
            "packages": dict(self.packages),
        }


@dataclass(frozen=True, slots=True)
class SpeedReport:
    """The result of :func:`measure_speed`; ``to_dict()`` is JSON-ready, ``to_markdown()`` for people."""

    engines: tuple[EngineSpeed, ...]
    pages: int
    megapixels_per_page: float  # mean over the pages
    rounds: int
    environment: Environment
    sources: tuple[str, ...] = ()  # the files the pages came from, when the caller knows them

    @property
    def baseline(self) -> str:
        """The engine speed-ups are measured against (the first one)."""
        return self.engines[0].name

    def to_dict(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "megapixels_per_page": round(self.megapixels_per_page, 3),
            "rounds": self.rounds,
            "sources": list(self.sources),
            "baseline": self.baseline,
            "engines": [e.to_dict() for e in self.engines],
            "environment": self.environment.to_dict(),
        }

    def to_markdown(self) -> str:
        env = self.environment
        out = [
            "# OCR speed on your pages",
            "",
            f"{self.pages} page{'s' if self.pages != 1 else ''} (mean {self.megapixels_per_page:.2g} megapixels), "
            f"{self.rounds} interleaved round{'s' if self.rounds != 1 else ''} after a first pass; "
            "ms per page, median over rounds, one page at a time.",
            "",
            *_sources_line(self.sources),
            "| engine | det | cls | rec | total | pages/s | speed-up | first pass | rounds (total) | lines/page |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        ]
        for e in self.engines:
            t = e.ms_per_page
            spread = ", ".join(f"{v:.1f}" for v in e.round_total_ms_per_page)
            out.append(
                f"| {e.name} | {t.det:.1f} | {t.cls:.1f} | {t.rec:.1f} | {t.total:.1f} | {e.pages_per_s:.2f} | "
                f"{e.speedup:.2f}x | {e.first_pass_ms_per_page:.1f} | {spread} | {e.lines_per_page:.1f} |"
            )
        out += [
            "",
            f"Speed-up: the median total of `{self.baseline}` (the first engine) divided by each engine's. "
            "Total covers the whole page (detection, orientation, recognition and the work between them), "
            "not decoding the file, which is the same for every engine.",
            "",
            "Lines/page: text lines each engine read; an engine that finds fewer lines also has less to "
            "recognise, so compare speed between engines that read about the same. "
            "First pass: the same pages once before the rounds, where allocation happens and OpenVINO "
            "compiles a model for each new input shape. A long-running service (`luodi serve`) pays that "
            "once per shape; every one-shot `luodi ocr` call pays it again.",
            "",
            "## What ran",
            "",
            "| engine | model | stage | backend | device | threads | precision |",
            "|---|---|---|---|---|---:|---|",
        ]
        for e in self.engines:
            for r in e.runtime:
                threads = "" if r.threads is None else str(r.threads)
                out.append(
                    f"| {e.name} | {e.model} | {r.stage} | {r.backend} | {r.device} | {threads} | {r.precision} |"
                )
        packages = ", ".join(f"{k} {v}" for k, v in env.packages)
        out += [
            "",
            "## Machine",
            "",
            f"{env.cpu}, {env.cores} core{'s' if env.cores != 1 else ''} available; "
            f"Python {env.python}, luodi {env.luodi}{', ' + packages if packages else ''}.",
            "",
            f"Load average (1 min): {_fmt_load(env.load_start)} at start, {_fmt_load(env.load_end)} at end. "
            "Timings on a loaded machine swing: other work takes cores away from one round and not the next. "
            "Interleaving the engines spreads that evenly, but trust the numbers most when the load average "
            "stays well below the core count, and compare the rounds column for how much they moved.",
        ]
        return "\n".join(out) + "\n"

    def to_text(self) -> str:
        """A compact table for a terminal."""
        header = ("engine", "det", "cls", "rec", "total", "pages/s", "speed-up", "first pass", "lines/page")
        rows = [header]
        for e in self.engines:
            t = e.ms_per_page
            rows.append(
                (
                    e.name,
                    f"{t.det:.1f}",
                    f"{t.cls:.1f}",
                    f"{t.rec:.1f}",
                    f"{t.total:.1f}",
                    f"{e.pages_per_s:.2f}",
                    f"{e.speedup:.2f}x",
                    f"{e.first_pass_ms_per_page:.1f}",
                    f"{e.lines_per_page:.1f}",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in rows
        ]
        env = self.environment
        lines += [
            "",
            f"ms per page, median of {self.rounds} interleaved round{'s' if self.rounds != 1 else ''} over "
            f"{self.pages} page{'s' if self.pages != 1 else ''}; speed-up against {self.baseline}; "
            "first pass includes allocation and OpenVINO shape compiles.",
            f"{env.cpu}, {env.cores} cores; load average {_fmt_load(env.load_start)} at start, "
            f"{_fmt_load(env.load_end)} at end (timings on a loaded machine swing).",
        ]
        for e in self.engines:
            what = " | ".join(
                f"{r.stage}: {r.backend}"
                + (f", {r.threads} threads" if r.threads is not None else "")
                + f", {r.precision}"
                for r in e.runtime
            )
            lines.append(f"{e.name}: {what}")
        return "\n".join(lines) + "\n"


def measure_speed(
    engines: Mapping[str, OCR],
    pages: Sequence[np.ndarray],
    rounds: int = 3,
    options: OCROptions | None = None,
    *,
    precision: Mapping[str, Mapping[str, str]] | None = None,
    on_page: Callable[[], None] | None = None,
) -> SpeedReport:
    """Time every engine on ``pages`` (RGB ``uint8`` arrays); speed-ups are against the first engine.

    ``precision`` (engine name → stage → label) replaces the float precision the runtime reports,
    e.g. with "int8 (FakeQuantize), rest bf16" read from the model graph. ``on_page`` is called
    after every page run (outside the timed span), for a progress bar. Raises ``ValueError`` for no
    engines or ``rounds < 1`` and :class:`~luodi.errors.EmptyInputError` for no pages.
    """
    if not engines:
        raise ValueError("measure_speed needs at least one engine")
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    if not pages:
        raise EmptyInputError("no pages to measure on")
    load_start = _load()
    n = len(pages)

    lines: dict[str, float] = {}

    def one_pass(name: str, engine: OCR) -> Timings:
        sums = dict.fromkeys(STAGES, 0.0)
        found = 0
        for page in pages:
            # one page per call, as `luodi ocr` and the service run them
            doc = engine.run_pages([page], options)
            for stage in STAGES:
                sums[stage] += getattr(doc.timings, stage)
            found += len(doc.lines)
            if on_page is not None:
                on_page()
        lines[name] = found / n
        return Timings(**{s: v / n for s, v in sums.items()})

    first = {name: one_pass(name, engine).total for name, engine in engines.items()}
    per_round: dict[str, list[Timings]] = {name: [] for name in engines}
    for _ in range(rounds):
        # every engine in turn within a round: a change of load hits all of them alike
        for name, engine in engines.items():
            per_round[name].append(one_pass(name, engine))

    runtimes = {name: _runtimes(engine, (precision or {}).get(name, {})) for name, engine in engines.items()}
    models = {name: engine.model_name for name, engine in engines.items()}
    results = summarise(models, runtimes, first, per_round, lines)
    megapixels = sum(int(p.shape[0]) * int(p.shape[1]) for p in pages) / n / 1e6
    return SpeedReport(
        engines=results,
        pages=n,
        megapixels_per_page=megapixels,
        rounds=rounds,
        environment=environment(load_start),
    )


def _runtimes(engine: OCR, labels: Mapping[str, str]) -> tuple[StageRuntime, ...]:
    """How each stage of ``engine`` runs; ``labels`` (stage → label) replace the precision its runtime reports."""
    return tuple(
        StageRuntime(
            stage=stage,
            backend=info.backend.value,
            device=info.device,
            threads=info.threads,
            precision=labels.get(stage, info.precision),
        )
        for stage in ("det", "cls", "rec")
        if (info := engine.runtime_info.get(stage)) is not None
    )


def summarise(
    models: Mapping[str, str],
    runtimes: Mapping[str, tuple[StageRuntime, ...]],
    first_pass_ms: Mapping[str, float],
    rounds: Mapping[str, Sequence[Timings]],
    lines_per_page: Mapping[str, float] | None = None,
) -> tuple[EngineSpeed, ...]:
    """Per-engine medians, pages/s and speed-up against the first engine (pure; no timing here)."""
    medians = {
        name: Timings(**{s: statistics.median(getattr(t, s) for t in per) for s in STAGES})
        for name, per in rounds.items()
    }
    base = next(iter(medians.values())).total
    out = []
    for name, med in medians.items():
        out.append(
            EngineSpeed(
                name=name,
                model=models[name],
                runtime=runtimes[name],
                first_pass_ms_per_page=first_pass_ms[name],
                ms_per_page=med,
                round_total_ms_per_page=tuple(t.total for t in rounds[name]),
                pages_per_s=1000.0 / med.total if med.total > 0 else 0.0,
                speedup=base / med.total if med.total > 0 else 0.0,
                lines_per_page=(lines_per_page or {}).get(name, 0.0),
            )
        )
    return tuple(out)


def environment(load_start: float | None = None) -> Environment:
    """The machine as it is now; ``load_start`` is the load average taken when measuring began."""
    from importlib.metadata import PackageNotFoundError, version

    packages = []
    for pkg in _RUNTIME_PACKAGES:
        try:
            packages.append((pkg, version(pkg)))
        except PackageNotFoundError:
            continue
    try:
        luodi_version = version("luodi")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        luodi_version = "unknown"
    cores = usable_cores()
    return Environment(
        cpu=cpu_name(),
        cores=cores,
        load_start=load_start,
        load_end=_load(),
        python=platform.python_version(),
        luodi=luodi_version,
        packages=tuple(packages),
    )


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):  # no load average on this platform
        return None


def _sources_line(sources: tuple[str, ...], shown: int = 10) -> list[str]:
    if not sources:
        return []
    names = ", ".join(f"`{s}`" for s in sources[:shown])
    more = f" and {len(sources) - shown} more" if len(sources) > shown else ""
    return [f"Pages from {names}{more}.", ""]


def _fmt_load(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"
