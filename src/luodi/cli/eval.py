"""``luodi eval rec|det|e2e``: score a model on a labelled dataset (PaddleOCR label formats).

The report goes to stdout (JSON by default, or a short text table); ``--errors FILE`` writes one
JSON line per sample the model got wrong, for looking at the failures. ``kie`` and ``ner`` join the
group when their modules (owned by the KIE and NER code) are installed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from luodi.cli import common
from luodi.cli.lazy import LazyGroup

# Subcommands that live in other modules; absent modules simply do not show up.
_EXTRA: dict[str, str] = {
    "kie": "luodi.cli.eval_kie:kie",
    "ner": "luodi.cli.eval_ner:ner",
    "text": "luodi.cli.eval_text:text",
    "vision": "luodi.cli.eval_vision:vision",
}


@click.group("eval", cls=LazyGroup, lazy_commands=_EXTRA)
def eval_() -> None:
    """Score a model on a labelled dataset: line accuracy, 1-CER, detection P/R/hmean."""


_common = common.options(
    click.option(
        "--labels",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="PaddleOCR label file; image paths are relative to its folder.",
    ),
    common.model,
    common.runtime,
    common.threads,
    click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True),
    click.option(
        "--errors",
        "errors_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the wrongly read samples here, one JSON object per line.",
    ),
    click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N samples."),
)


def _progress(total: int, what: str) -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit=what, file=sys.stderr, leave=False)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)
        if done >= _total:
            bar.close()

    return update


def _warn_failures(failures: Sequence[Any]) -> None:
    # Failed images are scored as empty readings (so a broken set cannot look good); say so on
    # stderr, since a wrong image folder would otherwise only show up as a low accuracy.
    if failures:
        click.echo(f"warning: {len(failures)} images could not be read, first: {failures[0].error}", err=True)


def _emit(
    report: dict[str, Any], fmt: str, failures: Sequence[Any], errors_file: Path | None, errors: Sequence[Any]
) -> None:
    """Write the wrongly read samples (``errors``) to ``errors_file`` when asked, warn of images that
    could not be read, and print the report."""
    if errors_file is not None:
        from luodi.eval.runner import write_jsonl

        write_jsonl(errors_file, errors)
    _warn_failures(failures)
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(_text_report(report))


def _text_report(r: dict[str, Any]) -> str:
    head = f"{r['task']}  model={r['model']}  labels={r['labels']}"
    rows = [head]
    if r["task"] == "rec":
        rows += [
            f"  lines              {r['n']}",
            f"  line accuracy      {r['line_accuracy']:.4f}   normalised {r['line_accuracy_norm']:.4f}",
            f"  1-CER              {r['one_minus_cer']:.4f}   normalised {r['one_minus_cer_norm']:.4f}",
            f"  time               {r['seconds']:.1f} s   {r['ms_per_sample']:.1f} ms/line",
        ]
    else:
        rows += [
            f"  images             {r['n_images']}   gt {r['n_gt']}   pred {r['n_pred']}   matched {r['matched']}",
            f"  det P/R/hmean      {r['precision']:.4f} / {r['recall']:.4f} / {r['hmean']:.4f}   "
            f"mean IoU {r['mean_iou']:.3f}",
        ]
        if "e2e" in r:
            e = r["e2e"]
            rows.append(f"  e2e P/R/hmean      {e['precision']:.4f} / {e['recall']:.4f} / {e['hmean']:.4f}")
            rows.append(
                f"  e2e normalised     {e['precision_norm']:.4f} / {e['recall_norm']:.4f} / {e['hmean_norm']:.4f}"
            )
        rows.append(f"  time               {r['seconds']:.1f} s   {r['s_per_image']:.3f} s/image")
    if r.get("failures"):
        rows.append(f"  failures           {r['failures']} images could not be read (scored as empty)")
    return "\n".join(rows)


@eval_.command("rec")
@_common
@click.option(
    "--cls/--no-cls",
    "use_cls",
    default=False,
    show_default=True,
    help="Run the 0/180 classifier first (off: score the recogniser alone, as PaddleOCR's rec eval does).",
)
def rec(*, labels: Path, fmt: str, errors_file: Path | None, limit: int | None, use_cls: bool, **engine: Any) -> None:
    """Recognition: each image is one text line (label file: path<TAB>text)."""
    from luodi import OCR, OCROptions
    from luodi.eval.datasets import read_rec_labels
    from luodi.eval.runner import evaluate_rec

    samples = read_rec_labels(labels)[:limit]
    # drop_score=0: a low-confidence reading is still a reading; dropping it would score it as empty.
    options = OCROptions(use_det=False, use_cls=use_cls, drop_score=0.0)
    report = evaluate_rec(OCR(**engine), samples, options, progress=_progress(len(samples), "line"))
    out = {**report.to_dict(), "labels": str(labels), "options": {"use_cls": use_cls}}
    _emit(out, fmt, report.failures, errors_file, report.errors())


def _det_like(task: str) -> Callable[..., None]:
    def command(
        *,
        labels: Path,
        fmt: str,
        errors_file: Path | None,
        limit: int | None,
        use_cls: bool,
        iou: float,
        det_limit: int | None,
        **engine: Any,
    ) -> None:
        from luodi import OCR, OCROptions
        from luodi.eval.datasets import read_det_labels
        from luodi.eval.runner import evaluate_det

        samples = read_det_labels(labels)[:limit]
        ocr = OCR(**engine)
        options = OCROptions(use_cls=use_cls)
        if det_limit is not None:
            options = options.replace(det_limit_side=det_limit)
        report = evaluate_det(ocr, samples, options, iou_threshold=iou, progress=_progress(len(samples), "image"))
        out = {
            **report.to_dict(task),
            "labels": str(labels),
            "options": {"use_cls": use_cls, "iou": iou, "det_limit_side": options.det_limit_side},
        }
        _emit(out, fmt, report.failures, errors_file, report.errors(task))

    command.__name__ = task
    return command


_det_options = common.options(
    click.option("--cls/--no-cls", "use_cls", default=True, show_default=True, help="0/180 classifier."),
    click.option("--iou", type=click.FloatRange(0.05, 1.0), default=0.5, show_default=True, help="IoU for a match."),
    click.option("--det-limit", type=click.IntRange(32, 8192), default=None, help="Longer side fed to the detector."),
)


det = eval_.command("det", help="Detection: precision/recall/hmean at IoU 0.5 (label file: path<TAB>JSON).")(
    _common(_det_options(_det_like("det")))
)
e2e = eval_.command("e2e", help="End to end: detection plus recognition; a line counts when matched and read exactly.")(
    _common(_det_options(_det_like("e2e")))
)
