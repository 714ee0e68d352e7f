"""CPU time of extraction alone, over OCR readings cached by ``bench/kie_documents.py --cache``.

    PYTHONPATH=/tmp/before/src .venv/bin/python bench/kie_extract_cpu.py --schema id_card \\
        --readings '/tmp/kbk/fcache/id_card-*.pkl' --passes 5
    .venv/bin/python bench/kie_extract_cpu.py --schema id_card --readings '/tmp/kbk/fcache/id_card-*.pkl'

Extracts every reading ``--passes`` times and prints the median and mean CPU milliseconds per
document (process time, so a loaded shared machine moves it less than wall time). Run two trees
alternately (PYTHONPATH) and compare within one sitting: "not slower" is a ratio, never a
threshold in a test.
"""

from __future__ import annotations

import argparse
import glob
import pickle
import statistics
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schema", default="id_card")
    ap.add_argument("--readings", required=True, help="a glob of pickled OCR readings (one Document each)")
    ap.add_argument("--passes", type=int, default=5)
    args = ap.parse_args()
    from luodi.kie import Extractor

    ex = Extractor(args.schema, ocr=None)
    paths = sorted(glob.glob(args.readings))
    if not paths:
        raise SystemExit(f"no readings match {args.readings}")
    docs = [pickle.loads(open(p, "rb").read()) for p in paths]  # noqa: SIM115 - read whole, closed at once
    ex.extract_document(docs[0])  # first call: lazy tables and models
    per: list[float] = []
    for _ in range(args.passes):
        for doc in docs:
            t0 = time.process_time()
            ex.extract_document(doc)
            per.append(time.process_time() - t0)
    print(
        f"{len(docs)} documents x {args.passes}: median {1000 * statistics.median(per):.2f} ms CPU, "
        f"mean {1000 * statistics.mean(per):.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
