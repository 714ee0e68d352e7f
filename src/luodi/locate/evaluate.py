"""Score the stored document locator with the code as it is now, on the scenes training held back.

    python -m luodi.locate.evaluate [--model DIR]

Why this exists beside ``metrics.json``: that file is written once, when the model is trained, by
:func:`luodi.locate.train.evaluate` with the inference code of that moment. The post-processing in
:mod:`luodi.locate.locator` (the second look at 896 px, the cut down to print, geometry's corners) is
deliberately not in the training fingerprint (:mod:`luodi.locate.fingerprint`: it does not change
the weights), so it can change after training without the stored metrics following. Here the same
100 held-back dev scenes are scored twice with today's code:

- ``model``: the network's own documents (mask, kernels, quads), no post-processing: what the
  weights decide, comparable across changes to the post-processing;
- ``located``: :meth:`DocumentLocator.locate`, everything included: what ``metrics.json`` holds
  when the code has not changed since training.

Both run on 448-px thumbnails, as training renders them: the second look at 896 px cannot add
anything there, and the cut down to print sees a coarser image than on a frame. Frame-level numbers
(4-12 MP, through the whole reader) are ``bench/parcel_bench.py``'s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["score"]


def score(model_dir: Path) -> dict[str, Any]:
    """``{"stored": metrics.json, "model": ..., "located": ...}`` for the model in ``model_dir``."""
    from luodi.locate.locator import DocumentLocator
    from luodi.locate.store import verify_model_dir
    from luodi.locate.train import PARTIES, LocatorConfig, _instances, _iou_mask, evaluate, render_set
    from luodi.synth.parcel import write_fake_ner

    verify_model_dir(model_dir)
    cfg = LocatorConfig(**json.loads((model_dir / "config.json").read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        ner = str(write_fake_ner(Path(tmp) / "parties.txt", PARTIES, cfg.seed))
        val = render_set(cfg, cfg.val_scenes, cfg.seed + 1000, ner)
    onnx = model_dir / "locator.onnx"
    locator = DocumentLocator.from_onnx(onnx)
    found = total = false = 0
    for image, target in val:
        instances = _instances(target)
        matched: set[int] = set()
        for doc in locator._model_documents(image, image, locator.side):
            ious = [_iou_mask(doc.polygon, inst, image.shape[:2]) for inst in instances]
            best = int(np.argmax(ious)) if ious else -1
            if best >= 0 and ious[best] >= 0.5 and best not in matched:
                matched.add(best)
            else:
                false += 1
        found += len(matched)
        total += len(instances)
    model = {
        "recall": round(found / max(total, 1), 4),
        "false_per_frame": round(false / max(len(val), 1), 4),
        "documents": total,
        "frames": len(val),
    }
    stored = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    return {"stored": stored, "model": model, "located": evaluate(onnx, val)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m luodi.locate.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the store's doc-locator)")
    args = parser.parse_args(argv)
    from luodi.locate.store import default_model_dir

    print(json.dumps(score(args.model or default_model_dir()), indent=2), file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
