"""The general regression set that ships with luodi: text + a deterministic render spec.

Every fine-tune is scored on it before and after (``luodi train rec`` prints the table), and export
refuses a model that lost more than ``Report.max_drop`` on its general rows, or on its pooled rows of
dot-matrix printers no recipe trains on (``unseen``), in exact line accuracy or in line accuracy
ignoring spaces and width, unless told to accept it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from luodi.errors import ModelRegressionError

HERE = Path(__file__).resolve().parent
SPEC = HERE / "spec.yml"


@dataclass(frozen=True, slots=True)
class RegressionSet:
    name: str
    style: str
    severity: str
    n: int
    seed: int
    family: str | None = None  # the renderer family of this set; None: the spec's


@dataclass(frozen=True, slots=True)
class RegressionSpec:
    text: Path
    family: str
    general: tuple[str, ...]
    sets: tuple[RegressionSet, ...]
    digest: str  # of the spec and the text: the render cache key
    unseen: tuple[str, ...] = ()  # dot-matrix rows from printers no recipe draws: pooled, they gate export too


def load_spec(path: Path = SPEC) -> RegressionSpec:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = path.parent / raw["text"]
    digest = hashlib.sha256(path.read_bytes() + text.read_bytes()).hexdigest()[:10]
    sets = tuple(RegressionSet(**s) for s in raw["sets"])
    return RegressionSpec(text, raw["family"], tuple(raw["general"]), sets, digest, tuple(raw.get("unseen", ())))


def render(spec: RegressionSpec, root: Path, limit: int | None = None) -> dict[str, Path]:
    """Render (or reuse) every set under ``root``; returns the label file of each by name.

    ``limit`` renders only each set's first lines (line k does not depend on how many are rendered).
    """
    from luodi.synth import generate_lines, read_text_lines

    texts = read_text_lines(spec.text)
    out: dict[str, Path] = {}
    for s in spec.sets:
        n = min(s.n, limit) if limit else s.n
        folder = root / f"regression-{spec.digest}" / f"{s.name}-{n}"
        if not (folder / "DONE").is_file():
            family = s.family or spec.family
            generate_lines(texts, folder, style=s.style, n=n, seed=s.seed, severity=s.severity, family=family)
            (folder / "DONE").write_text("ok\n", encoding="utf-8")
        out[s.name] = folder / "labels.txt"
    return out


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    n: int
    before: float
    after: float
    # line accuracy ignoring spaces and full/half width: a run that learns spaces back can gain exact
    # lines while losing characters, and only this shows the loss (None in reports from before it)
    before_norm: float | None = None
    after_norm: float | None = None

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def delta_norm(self) -> float | None:
        if self.before_norm is None or self.after_norm is None:
            return None
        return self.after_norm - self.before_norm


def _falls(r: Row, max_drop: float) -> list[str]:
    """Each measure of ``r`` that lost more than ``max_drop``, with its own before -> after: the exact
    numbers beside a normalised drop would not add up to it."""
    out = []
    if -r.delta > max_drop + 1e-9:
        out.append(f"{100 * -r.delta:.1f} points exact ({r.before:.3f} -> {r.after:.3f})")
    d = r.delta_norm
    if d is not None and -d > max_drop + 1e-9:
        out.append(f"{100 * -d:.1f} points ignoring spaces and width ({r.before_norm:.3f} -> {r.after_norm:.3f})")
    return out


@dataclass(frozen=True, slots=True)
class Report:
    """Before/after line accuracy: the user's eval set, the general set, each other style."""

    rows: tuple[Row, ...]
    general: tuple[str, ...]
    max_drop: float
    # rows of dot-matrix printers no recipe draws: a fine-tune that learned its training printers' look
    # and lost these is refused like one that lost the general set (reports from before: none)
    unseen: tuple[str, ...] = ()

    def general_row(self) -> Row | None:
        return self._pooled(self.general, "general set")

    def unseen_row(self) -> Row | None:
        return self._pooled(self.unseen, "unseen dot-matrix")

    def _pooled(self, names: tuple[str, ...], label: str) -> Row | None:
        picked = [r for r in self.rows if r.name in names]
        if not picked:
            return None
        n = sum(r.n for r in picked)

        def mean(values: list[float | None]) -> float | None:
            if any(v is None for v in values):
                return None
            return sum(v * r.n for v, r in zip(values, picked, strict=True) if v is not None) / n

        name = f"{label}: " + " + ".join(r.name.split(": ")[-1] for r in picked)
        before, after = mean([r.before for r in picked]), mean([r.after for r in picked])
        assert before is not None and after is not None
        return Row(name, n, before, after, mean([r.before_norm for r in picked]), mean([r.after_norm for r in picked]))

    def losses(self) -> list[str]:
        """What the general set (and the pooled unseen dot-matrix rows) lost beyond ``max_drop``."""
        out = []
        for row, where in (
            (self.general_row(), "the general regression set"),
            (self.unseen_row(), "unseen dot-matrix printers"),
        ):
            losses = self._row_losses(row)
            if row is not None and losses:
                out.append(f"{' and '.join(losses)} on {where} ({row.n} lines)")
        return out

    def _row_losses(self, g: Row | None) -> list[str]:
        """Exact and/or normalised line accuracy ``g`` lost beyond ``max_drop``."""
        if g is None:
            return []
        out = []
        if -g.delta > self.max_drop + 1e-9:
            out.append(f"{100 * -g.delta:.1f} points of exact line accuracy ({g.before:.3f} -> {g.after:.3f})")
        d = g.delta_norm
        if d is not None and -d > self.max_drop + 1e-9:
            out.append(
                f"{100 * -d:.1f} points of line accuracy ignoring spaces and width ({g.before_norm:.3f} -> "
                f"{g.after_norm:.3f}: characters read wrong)"
            )
        return out

    def regressed(self) -> bool:
        return bool(self.losses())

    def warnings(self) -> list[str]:
        """The other styles' rows that lost more than ``max_drop``, said loudly when the user's eval set rose.

        These rows are rendered with fonts, printers and text no recipe trains on. A fine-tune that
        lifts its own eval set and lowers them learned the look of its training lines, not the style:
        every dot-matrix fine-tune measured so far did that (bench/results/finetune.md). They do not
        gate export (only the general rows do); they are the user's evidence before deploying.
        """
        mine = next((r for r in self.rows if r.name == "your eval set"), None)
        rose = mine is not None and mine.delta > self.max_drop
        out = []
        for r in self.rows:
            if not r.name.startswith("regression: ") or r.name in self.general:
                continue
            falls = _falls(r, self.max_drop)
            if not falls:
                continue
            text = (
                f"{r.name.split(': ', 1)[1]} lines from a renderer, fonts and text this run never saw fell "
                f"{' and '.join(falls)} ({r.n} lines)"
            )
            if rose and mine is not None:
                text += (
                    f" while your eval set rose {100 * mine.delta:+.1f} points: the model learned the look of"
                    " its training lines, not the style; compare it with the stock model on your own scans"
                    " before deploying"
                )
            out.append(text)
        return out

    def table(self) -> str:
        lines = [
            "| set | n | before | after | change | normalised before | after | change |",
            "|---|---|---|---|---|---|---|---|",
        ]
        pooled = (p for p in (self.general_row(), self.unseen_row()) if p is not None)
        for r in (*self.rows, *pooled):
            d = r.delta_norm
            norm = (
                f"{r.before_norm:.3f} | {r.after_norm:.3f} | {100 * d:+.1f} pt"
                if d is not None and r.before_norm is not None and r.after_norm is not None
                else "– | – | –"
            )
            lines.append(f"| {r.name} | {r.n} | {r.before:.3f} | {r.after:.3f} | {100 * r.delta:+.1f} pt | {norm} |")
        lines.extend(f"\n**WARNING**: {w}." for w in self.warnings())
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [
                {"name": r.name, "n": r.n, "before": r.before, "after": r.after}
                | ({"before_norm": r.before_norm, "after_norm": r.after_norm} if r.delta_norm is not None else {})
                for r in self.rows
            ],
            "general": list(self.general),
            "unseen": list(self.unseen),
            "max_drop": self.max_drop,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        rows = tuple(Row(**r) for r in data["rows"])
        return cls(rows, tuple(data["general"]), float(data["max_drop"]), tuple(data.get("unseen", ())))

    def refusal(self) -> str:
        return (
            f"the fine-tuned model loses {'; and '.join(self.losses())}; the limit is {100 * self.max_drop:.1f} "
            "points; export it anyway with --accept-regression"
        )


REPORT_FILE = "report.json"


def save_report(report: Report, run_dir: Path) -> None:
    (run_dir / REPORT_FILE).write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    (run_dir / "report.md").write_text(report.table() + "\n", encoding="utf-8")


def check_export(run_dir: Path, accept_regression: bool) -> Report | None:
    """Raise ModelRegressionError when the run's report shows a loss over the limit and it was not accepted."""
    path = run_dir / REPORT_FILE
    if not path.is_file():
        return None
    report = Report.from_json(json.loads(path.read_text(encoding="utf-8")))
    if report.regressed() and not accept_regression:
        raise ModelRegressionError(report.refusal())
    return report
