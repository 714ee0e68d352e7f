"""Learned layouts for a document type without labels (issue #12 item 7): railway tickets.

    python bench/kie_learned.py            # 10 train, 60 dev, 30 holdout photos

Renders railway tickets (:mod:`luodi.synth.ticket`) as photos, learns a layout from ``--n-train``
of the dev styles through ``luodi train kie``'s API (:func:`luodi.kie.learned.read_examples` +
:func:`luodi.kie.learned.learn`, real OCR), then extracts ``--n-dev`` other dev-style photos and
``--n-holdout`` photos of the held-out style (e_voucher: a layout, fonts, papers and backgrounds
the learner never saw) with the hand-written schema alone (examples/kie/ticket.yaml) and with the
schema plus the learned layout, on the same OCR. Reports field accuracy (right values / labelled
fields), auto-accept rate and the precision of what is accepted without review, per field.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCHEMA = ROOT / "examples" / "kie" / "ticket.yaml"


def render(folder: Path, n: int, styles: str, seed: int, degrade: str) -> list[dict[str, Any]]:
    from luodi.synth.documents import DocOptions, write_set
    from luodi.synth.ticket import render_ticket

    opts = DocOptions(layouts=(styles,), degrade=degrade, seed=seed)
    records = write_set(n, folder, lambda i: render_ticket(i, opts))
    return records


# The one real railway ticket in the shared samples (PaddleOCR's doc images, Apache-2.0; read by
# eye here, the image is not copied): a dev check of the blue_2013 style it was modelled on.
REAL_TICKET = "data/doc_samples/paddleocr/imgs/00056221.jpg"
REAL_LABELS = {
    "serial": "Z57A001950",
    "departure_station": "杭州东",
    "arrival_station": "上海虹桥",
    "train_number": "G7512",
    "date": "2013-07-07",
    "time": "13:39:00",
    "carriage_seat": "06车12B号",
    "seat_class": "二等座",
    "price": 73.0,
    "id_number": "3623301993****0941",
    "name": "余友红",
}


def shared_dir() -> Path | None:
    env = os.environ.get("LUODI_SHARED")
    path = Path(env) if env else ROOT.parent / "shared"
    return path if path.is_dir() else None


def real_check(ocr: Any, schema: Any, args: argparse.Namespace) -> dict[str, Any] | None:
    """Learn from ``--n-train`` rendered tickets of the blue_2013 style and read the real photo
    (None without the shared samples)."""
    from luodi.kie import Extractor
    from luodi.kie.learned import learn, read_examples, same_value
    from luodi.locate.extract import extract_documents

    shared = shared_dir()
    if shared is None or not (shared / REAL_TICKET).is_file():
        return None
    folder = args.out / "train_blue_2013"
    render(folder, args.n_train, "blue_2013", args.seed + 3, args.degrade)
    layout = learn(schema, read_examples(folder / "labels.jsonl", ocr, schema=schema))
    doc = ocr(str(shared / REAL_TICKET))
    out: dict[str, Any] = {}
    for key, ex in (
        ("schema_only", Extractor(schema, ocr=ocr)),
        ("learned", Extractor(schema, ocr=ocr, learned=layout)),
    ):
        got = extract_documents(ex, doc).first
        out[key] = {
            f.name: {
                "value": f.value,
                "right": f.value is not None and same_value(REAL_LABELS[f.name], f.value),
                "needs_review": f.needs_review,
                "reasons": list(f.reasons),
            }
            for f in got.fields
        }
    return out


def score(results: Sequence[dict[str, Any]], fields: Sequence[str]) -> dict[str, Any]:
    from luodi.kie.learned import same_value

    total = right = accepted = accepted_right = 0
    per: dict[str, list[int]] = {f: [0, 0, 0, 0] for f in fields}  # labelled, right, accepted, accepted right
    docs_right = 0
    for r in results:
        all_right = True
        for name in fields:
            gold = r["gold"].get(name)
            if gold is None:
                continue
            got = r["fields"][name]
            ok = got["value"] is not None and same_value(gold, got["value"])
            acc = got["value"] is not None and not got["needs_review"]
            total += 1
            right += ok
            accepted += acc
            accepted_right += acc and ok
            p = per[name]
            p[0] += 1
            p[1] += ok
            p[2] += acc
            p[3] += acc and ok
            all_right &= ok
        docs_right += all_right
    return {
        "documents": len(results),
        "fields": total,
        "accuracy": round(right / total, 4) if total else None,
        "auto_accept": round(accepted / total, 4) if total else None,
        "accepted_precision": round(accepted_right / accepted, 4) if accepted else None,
        "accepted": accepted,
        "accepted_wrong": accepted - accepted_right,
        "documents_all_right": round(docs_right / len(results), 4) if results else None,
        "per_field": {
            f: {
                "accuracy": round(p[1] / p[0], 4) if p[0] else None,
                "auto_accept": round(p[2] / p[0], 4) if p[0] else None,
                "accepted_precision": round(p[3] / p[2], 4) if p[2] else None,
            }
            for f, p in per.items()
        },
    }


def _row(field: str, a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    def f(x: Any) -> str:
        return "–" if x is None else f"{x:.3f}"

    a = a or {}
    b = b or {}
    return (
        f"| {field} | {f(a.get('accuracy'))} | {f(b.get('accuracy'))} | {f(b.get('auto_accept'))} | "
        f"{f(b.get('accepted_precision'))} |"
    )


def render_markdown(report: dict[str, Any]) -> str:
    out = [
        "# Learned layouts: railway tickets from 10 labelled photos (issue #12 item 7)",
        "",
        f"Run {report['started']} · git {report['git']} · OCR `{report['model']}` · load average "
        f"{report['load'][0]:.2f} at start, {report['load'][1]:.2f} at end (2 shared cores) · "
        f"{report['seconds']:.0f} s",
        "",
        f"Command: `{report['command']}`",
        "",
        "Train: "
        f"{report['train']['n']} photos of the dev styles ({', '.join(report['dev_styles'])}), "
        f"degrade `{report['degrade']}`, "
        f"seed {report['seed']}. The learned layout: {report['train']['fields']} fields, "
        + "; ".join(
            f"an arrangement of {v['examples']} examples with anchors {', '.join(v['anchors']) or 'none'}"
            for v in report["train"]["variants"]
        )
        + f"; {len(report['train']['notes'])} labelled values not found in the OCR text.",
        "Schema only: examples/kie/ticket.yaml (patterns, no labels: what a new user writes). "
        "Learned: the same schema with the layout learned from the train photos.",
        "",
    ]
    for name in ("dev", "holdout"):
        res = report["sets"][name]
        base, learned = res["schema_only"], res["learned"]
        title = "dev styles, other photos" if name == "dev" else "held-out style (e_voucher), blind"
        out += [
            f"## {title}: {learned['documents']} photos, {learned['fields']} labelled fields",
            "",
            "| | schema only | learned |",
            "|---|---|---|",
            f"| field accuracy | {base['accuracy']:.3f} | **{learned['accuracy']:.3f}** |",
            f"| auto-accepted (share of fields) | {base['auto_accept']:.3f} | {learned['auto_accept']:.3f} |",
            f"| precision of accepted | {_p(base['accepted_precision'])} | {_p(learned['accepted_precision'])} |",
            f"| accepted and wrong | {base['accepted_wrong']} | {learned['accepted_wrong']} |",
            f"| documents with every field right | {base['documents_all_right']:.3f} | "
            f"{learned['documents_all_right']:.3f} |",
            "",
            "| field | accuracy, schema only | accuracy, learned | auto-accept, learned "
            "| precision of accepted, learned |",
            "|---|---|---|---|---|",
        ]
        for field in learned["per_field"]:
            out.append(_row(field, base["per_field"].get(field), learned["per_field"].get(field)))
        out.append("")
        if res["errors"]:
            out += ["Learned errors (gold → read; accepted ones marked **accepted**):", ""]
            out += [f"- {e}" for e in res["errors"][:25]]
            out.append("")
    out += _real_markdown(report.get("real"))
    return "\n".join(out)


def _real_markdown(real: dict[str, Any] | None) -> list[str]:
    if real is None:
        return ["## The real ticket photo", "", "Not run: the shared samples are not here (LUODI_SHARED).", ""]
    out = [
        "## The real ticket photo (dev check, not a measurement: one photo)",
        "",
        f"`{REAL_TICKET}` of the shared samples, read with a layout learned from 10 rendered tickets of the "
        "blue_2013 style (modelled on this photo's layout, so not blind).",
        "",
        "| field | expected | schema only | learned | learned: review? |",
        "|---|---|---|---|---|",
    ]
    for name, gold in REAL_LABELS.items():
        a, b = real["schema_only"][name], real["learned"][name]

        def cell(x: dict[str, Any]) -> str:
            return f"{x['value']} {'✓' if x['right'] else '✗'}"

        review = "review: " + "; ".join(b["reasons"][:2]) if b["needs_review"] else "accepted"
        out.append(f"| {name} | {gold} | {cell(a)} | {cell(b)} | {review} |")
    right = {k: sum(v["right"] for v in real[k].values()) for k in real}
    out += ["", f"Right: schema only {right['schema_only']}/11, learned {right['learned']}/11.", ""]
    return out


def _p(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}"


def _git() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# long: one run in order: options, the sets rendered and read, the layout learned, scored, the report
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-train", type=int, default=10)
    ap.add_argument("--n-dev", type=int, default=60)
    ap.add_argument("--n-holdout", type=int, default=30)
    ap.add_argument("--degrade", default="photo")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--out", type=Path, default=BENCH / "out" / "kie_learned")
    ap.add_argument("--results", type=Path, default=BENCH / "results" / "kie_learned")
    ap.add_argument("--render-only", action="store_true", help="rewrite the markdown from the results JSON")
    args = ap.parse_args(argv)
    if args.render_only:
        saved = json.loads(args.results.with_suffix(".json").read_text(encoding="utf-8"))
        saved.setdefault("dev_styles", ["blue_magnetic", "red_soft", "blue_2013"])
        args.results.with_suffix(".md").write_text(render_markdown(saved) + "\n", encoding="utf-8")
        return 0

    from luodi import OCR
    from luodi.kie import Extractor
    from luodi.kie.learned import learn, read_examples
    from luodi.kie.schema import load_schema
    from luodi.locate.extract import extract_documents
    from luodi.synth.ticket import resolve_ticket_styles

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    git = _git()
    t0 = time.perf_counter()
    schema = load_schema(SCHEMA)
    ocr = OCR(args.model)
    train_dir = args.out / "train"
    train = render(train_dir, args.n_train, "dev", args.seed, args.degrade)
    layout = learn(schema, read_examples(train_dir / "labels.jsonl", ocr, schema=schema))
    args.out.mkdir(parents=True, exist_ok=True)
    layout.save(args.out / "ticket.learned.json")
    systems = {"schema_only": Extractor(schema, ocr=ocr), "learned": Extractor(schema, ocr=ocr, learned=layout)}
    report: dict[str, Any] = {
        "started": started,
        "git": git,
        "model": args.model,
        "degrade": args.degrade,
        "seed": args.seed,
        "dev_styles": list(resolve_ticket_styles(("dev",))),
        "command": ("LUODI_SHARED=" + os.environ["LUODI_SHARED"] + " " if "LUODI_SHARED" in os.environ else "")
        + "python bench/kie_learned.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "train": {
            "n": len(train),
            "variants": [{"examples": v.examples, "anchors": [a.text for a in v.anchors]} for v in layout.variants],
            "fields": len(layout.field_names),
            "notes": list(layout.notes),
        },
        "sets": {},
    }
    names = list(schema.fields)
    for set_name, styles, n, seed in (
        ("dev", "dev", args.n_dev, args.seed + 1),
        ("holdout", "holdout", args.n_holdout, args.seed + 2),
    ):
        folder = args.out / set_name
        records = render(folder, n, styles, seed, args.degrade)
        per_system: dict[str, list[dict[str, Any]]] = {k: [] for k in systems}
        errors: list[str] = []
        for rec in records:
            doc = ocr(str(folder / rec["image"]))
            for key, ex in systems.items():
                got = extract_documents(ex, doc).first
                fields = {f.name: {"value": f.value, "needs_review": f.needs_review} for f in got.fields}
                per_system[key].append({"gold": rec["fields"], "fields": fields, "layout": rec["layout"]})
                if key == "learned":
                    errors += _errors(rec, got, names)
        report["sets"][set_name] = {
            **{k: score(v, names) for k, v in per_system.items()},
            "errors": errors,
        }
        print(
            set_name,
            {k: (v["accuracy"], v["accepted_precision"]) for k, v in report["sets"][set_name].items() if k != "errors"},
        )
    report["real"] = real_check(ocr, schema, args)
    report["seconds"] = time.perf_counter() - t0
    report["load"] = (load0, os.getloadavg()[0])
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.with_suffix(".json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    args.results.with_suffix(".md").write_text(render_markdown(report) + "\n", encoding="utf-8")
    print(render_markdown(report))
    return 0


def _errors(rec: dict[str, Any], got: Any, names: Sequence[str]) -> list[str]:
    from luodi.kie.learned import same_value

    out = []
    for name in names:
        gold = rec["fields"].get(name)
        f = got[name]
        if gold is not None and not (f.value is not None and same_value(gold, f.value)):
            mark = " **accepted**" if f.found and not f.needs_review else ""
            why = "; ".join(f.reasons[:2])
            out.append(f"{rec['image']} ({rec['layout']}) {name}: {gold!r} → {f.value!r}{mark} ({why})")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
