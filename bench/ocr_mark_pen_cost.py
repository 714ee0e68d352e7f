"""CPU cost of the OCR option mark_pen (luodi.ocr.ink): the same receipts read with it off and on.

    .venv/bin/python bench/ocr_mark_pen_cost.py

Six photographed (seed 811) and six scanned (seed 821) dev-style bank receipts, each read with
the bank_receipt schema's OCR options with ``mark_pen`` off and on, the order alternated per page
and round, two rounds; CPU seconds of the process (a ratio measured in one run: the machine is shared).
"""

from __future__ import annotations

import os
import time


def main() -> int:
    from luodi import OCR
    from luodi.kie import Extractor
    from luodi.synth.bank_receipt import render_bank_receipt
    from luodi.synth.documents import DocOptions

    ocr = OCR("pp-ocrv6-small")
    on = Extractor("bank_receipt", ocr=ocr).ocr_options()
    off = on.replace(mark_pen=False)
    pages = [
        render_bank_receipt(i, DocOptions(layouts=("dev",), degrade=d, seed=s, source="dev")).image
        for d, s in (("photo", 811), ("scan", 821))
        for i in range(6)
    ]
    ocr(pages[0], off)  # warm up
    cpu = {"off": 0.0, "on": 0.0}
    load0 = os.getloadavg()[0]
    for rnd in range(2):
        for k, img in enumerate(pages):
            order = [("off", off), ("on", on)] if (k + rnd) % 2 == 0 else [("on", on), ("off", off)]
            for name, opts in order:
                t = time.process_time()
                ocr(img, opts)
                cpu[name] += time.process_time() - t
    print(
        f"pages {len(pages)} x 2 rounds; CPU s off {cpu['off']:.2f} on {cpu['on']:.2f} "
        f"ratio {cpu['on'] / cpu['off']:.4f}; load {load0:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
