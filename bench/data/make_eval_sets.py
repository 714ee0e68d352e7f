"""Generate luodi's evaluation sets reproducibly (images are not committed; this script is).

    .venv/bin/python bench/data/make_eval_sets.py --out bench/out/eval

Text comes from the dev split of the express-waybill NER data (shared/data/express_ner/dev.txt):
names, phones, addresses, labelled fields and chunks of the records. The train split is what the
KIE/NER/fine-tuning side learns from, so evaluation text stays unseen. Each set has its own seed;
the same luodi version, fonts and seed give byte-identical images (manifest.json lists a sha256 of
every label file and of all images together, to check that).

Sets (PaddleOCR label formats, image paths relative to the label file):
  rec_print        300 printed lines, 10 CJK fonts, mild degradations
  rec_print_hard   200 printed lines: strong blur, noise, JPEG, rotation, perspective, low resolution
  rec_dotmatrix    200 impact-printer lines (dot grids from bitmap fonts; half mild, half hard)
  rec_thermal      100 thermal-receipt lines
  rec_stamp        100 printed lines crossed by a red seal
  det_pages         20 rendered pages with 5-12 lines each (det labels, some "###" regions)
  rec_photos         9 real photo crops with known text from shared/data/doc_samples (absolute paths)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from luodi.data import EXPRESS_NER
from luodi.eval.datasets import RecSample, read_det_labels, read_rec_labels, write_rec_labels
from luodi.synth.lines import generate_lines, generate_pages
from luodi.synth.text import extract_lines, read_express_ner

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"

# name -> (style, severity, count, seed); a tuple of parts is concatenated into one set.
LINE_SETS: dict[str, list[tuple[str, str, int, int]]] = {
    "rec_print": [("print", "mild", 300, 101)],
    "rec_print_hard": [("print", "hard", 200, 102)],
    "rec_dotmatrix": [("dotmatrix", "mild", 100, 103), ("dotmatrix", "hard", 100, 104)],
    "rec_thermal": [("thermal", "mild", 100, 105)],
    "rec_stamp": [("stamp", "mild", 100, 106)],
}
PAGES = {"name": "det_pages", "n": 20, "seed": 107, "lines_per_page": (5, 12)}

# Real crops whose text is known from upstream PaddleOCR / RapidOCR documentation and tests.
PHOTOS: list[tuple[str, str]] = [
    ("paddleocr/imgs_words/ch/word_1.jpg", "韩国小馆"),
    ("paddleocr/imgs_words/ch/word_2.jpg", "汉阳鹦鹉家居建材市场E区25-26号"),
    ("paddleocr/imgs_words/ch/word_3.jpg", "电话：15952301928"),
    ("paddleocr/imgs_words/ch/word_4.jpg", "实力活力"),
    ("paddleocr/imgs_words/ch/word_5.jpg", "西湾监管"),
    ("paddleocr/imgs_words/chinese_traditional/chinese_cht_1.png", "始終如壹"),
    ("paddleocr/imgs_words/chinese_traditional/chinese_cht_2.png", "不離不棄"),
    ("rapidocr/test_without_det.jpg", "在中国作家协会第三届儿童文学"),
    ("rapidocr/text_cls.jpg", "怪我咯"),  # upside down: needs the 0/180 classifier
]


def _digest(label_file: Path, image_paths: list[Path]) -> dict[str, str]:
    h = hashlib.sha256()
    for p in sorted(image_paths):
        h.update(p.read_bytes())
    return {
        "labels_sha256": hashlib.sha256(label_file.read_bytes()).hexdigest(),
        "images_sha256": h.hexdigest(),
    }


def make_line_set(name: str, parts: list[tuple[str, str, int, int]], texts: list[str], out: Path) -> dict:
    set_dir = out / name
    samples: list[RecSample] = []
    for k, (style, severity, n, seed) in enumerate(parts):
        part_dir = set_dir / f"part{k}" if len(parts) > 1 else set_dir
        report = generate_lines(texts, part_dir, style=style, n=n, seed=seed, severity=severity)
        samples.extend(read_rec_labels(report.label_file))
    label_file = set_dir / "labels.txt"
    if len(parts) > 1:
        write_rec_labels(label_file, samples)
    return {
        "labels": str(label_file.relative_to(out)),
        "n": len(samples),
        "parts": [{"style": s, "severity": v, "n": n, "seed": seed} for s, v, n, seed in parts],
        **_digest(label_file, [s.path for s in samples]),
    }


# long: options, then each evaluation set in turn, then the manifest
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "eval")
    ap.add_argument("--ner", type=Path, default=EXPRESS_NER / "dev.txt", help="express NER dev split")
    ap.add_argument("--photos", type=Path, default=SHARED / "doc_samples", help="shared doc_samples folder")
    ap.add_argument("--only", nargs="*", default=None, help="only these sets (default: all)")
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    texts = extract_lines(read_express_ner(args.ner), seed=0)
    manifest: dict[str, object] = {
        "command": "python bench/data/make_eval_sets.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "text_source": str(args.ner),
        "n_text_lines": len(texts),
        "sets": {},
    }
    sets: dict[str, object] = {}
    wanted = set(args.only) if args.only else None
    manifest_file = out / "manifest.json"
    if wanted is not None and manifest_file.is_file():
        # a partial run keeps the entries of the sets it did not touch
        sets.update(json.loads(manifest_file.read_text(encoding="utf-8")).get("sets", {}))
    for name, parts in LINE_SETS.items():
        if wanted is None or name in wanted:
            sets[name] = make_line_set(name, parts, texts, out)
            print(f"{name}: {sets[name]['n']} lines", file=sys.stderr)  # type: ignore[index]

    if wanted is None or PAGES["name"] in wanted:
        report = generate_pages(
            texts,
            out / str(PAGES["name"]),
            n=int(PAGES["n"]),  # type: ignore[call-overload]
            seed=int(PAGES["seed"]),  # type: ignore[call-overload]
            lines_per_page=PAGES["lines_per_page"],  # type: ignore[arg-type]
        )
        det = read_det_labels(report.label_file)
        sets[str(PAGES["name"])] = {
            "labels": str(report.label_file.relative_to(out)),
            "n": len(det),
            "n_regions": sum(len(s.regions) for s in det),
            "n_ignored": sum(r.ignore for s in det for r in s.regions),
            "seed": PAGES["seed"],
            **_digest(report.label_file, [s.path for s in det]),
        }
        print(f"det_pages: {len(det)} pages", file=sys.stderr)

    if wanted is None or "rec_photos" in wanted:
        photos = [RecSample((args.photos / rel).resolve(), text) for rel, text in PHOTOS]
        missing = [str(s.path) for s in photos if not s.path.is_file()]
        if missing:
            print(f"rec_photos: missing {missing}", file=sys.stderr)
            return 1
        label_file = out / "rec_photos" / "labels.txt"
        write_rec_labels(label_file, photos)
        sets["rec_photos"] = {
            "labels": str(label_file.relative_to(out)),
            "n": len(photos),
            "note": "absolute paths into shared/data/doc_samples; run with the 0/180 classifier (text_cls.jpg)",
            **_digest(label_file, [s.path for s in photos]),
        }

    manifest["sets"] = sets
    manifest["seconds"] = round(time.perf_counter() - t0, 1)
    manifest_file.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {manifest_file} in {manifest['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
