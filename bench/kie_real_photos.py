"""The waybill extractor on the real photos of ``shared/data/doc_samples``: what it makes up.

    LUODI_SHARED=/work/shared .venv/bin/python bench/kie_real_photos.py   # writes bench/results/kie_real_photos.md

None of the 13 real photos (``doc_samples/paddleocr/imgs``) nor the bank-card photo
(``datasets/cmb_demo.jpg``) is an express waybill: a boarding pass, a train ticket, a hospital
report, an ICBC POS slip, signboards, a garment label... (``shared/data/README.md``). So they cannot
score issue #11's real-waybill target (names, phones and addresses right on waybill photos; the
photos that target is measured on are not in this repository). What they can measure is the issue's
bad-input rule on real camera images: a page with no waybill gives empty fields and is flagged.
Every waybill value read off them is invented (the carrier too: none of them names a carrier); a
value accepted without review (``needs_review: false``) is the failure that matters.

Without the shared data folder the script says so and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def shared_dir() -> Path | None:
    env = os.environ.get("LUODI_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    return path if path.is_dir() else None


def photos(shared: Path) -> list[Path]:
    base = shared / "data" / "doc_samples" / "paddleocr"
    return [*sorted((base / "imgs").glob("*.jpg")), *sorted((base / "datasets").glob("*.jpg"))]


def _git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--results", type=Path, default=BENCH / "results" / "kie_real_photos.md")
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    shared = shared_dir()
    if shared is None:
        print("kie_real_photos: the shared data folder was not found ($LUODI_SHARED or ../shared); nothing scored")
        return 0
    from luodi import OCR
    from luodi.kie import Extractor

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()[0]
    head = _git_head()
    ocr = OCR(args.model)
    extractor = Extractor("waybill", ocr=ocr)
    rows, extracted, accepted, flagged = [], 0, 0, 0
    files = photos(shared)
    for path in files:
        doc = ocr(str(path))
        result = extractor.extract_document(doc)
        values = [f for f in result.fields if f.value is not None]
        taken = [f for f in values if not f.needs_review]
        extracted += len(values)
        accepted += len(taken)
        flagged += bool(result.needs_review)
        shown = "; ".join(f"{f.name}={f.value!s}{'' if f.needs_review else ' (ACCEPTED)'}" for f in values) or "–"
        flag = result.needs_review
        rows.append(f"| `{path.name}` | {len(doc.lines)} | {len(values)} | {len(taken)} | {flag} | {shown} |")
    run = {"started": started, "load": (load_start, os.getloadavg()[0]), "head": head, "shared": shared}
    text = _report(args, run, len(files), (extracted, accepted, flagged), rows)
    args.results.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))
    return 0


def _report(
    args: argparse.Namespace, run: dict[str, Any], n: int, counts: tuple[int, int, int], rows: list[str]
) -> list[str]:
    """The results page: the command and machine, what these photos can and cannot measure, the totals
    against issue #11's bad-input rule, and a row per photo."""
    extracted, accepted, flagged = counts
    load_start, load_end = run["load"]
    cmd = shlex.join([".venv/bin/python", *sys.argv])
    return [
        "# Waybill extractor on real photos that are not waybills (issue #11, bad input)",
        "",
        "```",
        f"$ LUODI_SHARED={run['shared']} {cmd}",
        "```",
        "",
        f"Run {run['started']} on {platform.machine()}, {os.cpu_count()} CPUs · OCR `{args.model}` · waybill schema, "
        f"default options · load average {load_start:.2f} at start, {load_end:.2f} at end · code at `{run['head']}`.",
        "",
        *([args.note, ""] if args.note else []),
        "The 13 real photos of `doc_samples/paddleocr/imgs` and the bank-card photo `datasets/cmb_demo.jpg` "
        "(shared/data/README.md): none is an express waybill, so every waybill value read off them is invented "
        "and one accepted without review is wrong. They do NOT measure issue #11's real-waybill target "
        "(≥ 13 of 14 party fields right on waybill photos): no real waybill photo is in the repository or in "
        "the shared data, so that target is not measured here. These photos are a dev check (they have been "
        "looked at before), not a blind set.",
        "",
        f"**{n} photos: {extracted} values extracted, {accepted} accepted without review, "
        f"{flagged} of {n} pages flagged.** Issue #11 (a page with no form): fields empty — "
        f"{'met' if extracted == 0 else f'NOT met ({extracted} values left for review)'}; the document flagged "
        f"and nothing accepted — {'met' if accepted == 0 and flagged == n else 'NOT met'}.",
        "",
        "| photo | OCR lines | values extracted | accepted without review | page flagged | values |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
