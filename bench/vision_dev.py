"""Dev-split measurements behind the vision defaults (bench/results/vision.md, "Choices").

Never reads the test split of ``vision_bench.split``: the anomaly variants build their bank from
the train split's good tiles and are scored on the val good tiles plus every train/val defect;
the classifier variants are 5-fold cross-validated over train+val.

    python bench/vision_dev.py maps --cap 320              # cache raw stage maps (stages 1-5)
    python bench/vision_dev.py anomaly --cap 320 --stages 3 4 --sigmas 8 16 [--k 3] [--coreset 0.1]
    python bench/vision_dev.py pooled --resize square --size 224   # cache pooled stage features
    python bench/vision_dev.py classify --views square224 --stages 4 5 6

Caches go to bench/out/vision-dev. Scores are printed as JSON lines.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "vision-dev"
GOOD = "MT_Free"
_spec = importlib.util.spec_from_file_location("vision_bench", ROOT / "bench" / "vision_bench.py")
assert _spec is not None and _spec.loader is not None
vb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vb)


def files(data: Path) -> list[Path]:
    return sorted(data.glob("*/Imgs/*.jpg"))


def key(f: Path) -> str:
    return f"{f.parent.parent.name}/{f.name}"


def session_for(stages: tuple[int, ...], pooled: bool) -> Any:
    """ONNX Runtime session of the backbone giving each stage's map (or its avg+max pooling)."""
    import onnxruntime as ort
    import paddle

    from luodi.train.export import to_onnx
    from luodi.vision.bundle import backbone_state
    from luodi.vision.nets import pretrained_backbone

    variant, state = backbone_state("efficientnet-lite0", None)

    class Maps(paddle.nn.Layer):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.b = pretrained_backbone(variant, state)

        def forward(self, x: Any) -> Any:
            maps = self.b.stage_features(x, stages)
            if not pooled:
                return maps
            return [paddle.concat([paddle.mean(m, axis=[2, 3]), paddle.max(m, axis=[2, 3])], axis=1) for m in maps]

    net = Maps()
    net.eval()
    tmp = Path(tempfile.mkdtemp(prefix="vision-dev-"))
    paddle.jit.save(net, str(tmp / "inf"), input_spec=[paddle.static.InputSpec([None, 3, None, None], "float32", "x")])
    program = next(p for p in (tmp / "inf.json", tmp / "inf.pdmodel") if p.is_file())
    to_onnx(program, tmp / "inf.pdiparams", tmp / "m.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(tmp / "m.onnx"), opts, providers=["CPUExecutionProvider"])


def cache_maps(args: argparse.Namespace) -> None:
    from luodi.vision.data import read_image, to_input

    stages = (1, 2, 3, 4, 5)
    sess = session_for(stages, pooled=False)
    res: dict[str, np.ndarray] = {}
    t = time.process_time()
    for f in files(args.data):
        outs = sess.run(None, {"x": to_input(read_image(f), args.cap, "native")[None]})
        for s, o in zip(stages, outs, strict=True):
            res[f"{key(f)}|{s}"] = o[0].astype(np.float16)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / f"maps_{args.cap}.npz", **res)  # type: ignore[arg-type]
    print(json.dumps({"maps": args.cap, "cpu_s": round(time.process_time() - t, 1)}))


def aggregate(m: np.ndarray, k: int) -> np.ndarray:
    """Exclusive k x k average of a C x h x w map (PatchCore's local neighbourhood)."""
    x = m.astype(np.float32)
    if k <= 1:
        return x
    r = k // 2
    c, h, w = x.shape
    pad = np.zeros((c, h + 2 * r, w + 2 * r), np.float32)
    pad[:, r : r + h, r : r + w] = x
    ones = np.zeros((1, h + 2 * r, w + 2 * r), np.float32)
    ones[:, r : r + h, r : r + w] = 1
    total = sum(pad[:, i : i + h, j : j + w] for i in range(k) for j in range(k))
    count = sum(ones[:, i : i + h, j : j + w] for i in range(k) for j in range(k))
    return np.asarray(total / count)


def patch_features(z: dict[str, np.ndarray], name: str, stages: list[int], k: int) -> np.ndarray:
    """Stages on the last stage's grid (bilinear, 64 channels at a time: OpenCV's limit), then k x k."""
    ref = z[f"{name}|{stages[-1]}"]
    h, w = ref.shape[1:]
    parts = []
    for s in stages:
        m = aggregate(z[f"{name}|{s}"], k)
        if m.shape[1:] != (h, w):
            x = m.transpose(1, 2, 0)
            chunks = [cv2.resize(np.ascontiguousarray(x[..., i : i + 64]), (w, h)) for i in range(0, x.shape[2], 64)]
            m = np.concatenate([c.reshape(h, w, -1) for c in chunks], 2).transpose(2, 0, 1)
        parts.append(m)
    return np.concatenate(parts, 0)


def anomaly(args: argparse.Namespace) -> None:
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from luodi.vision.data import read_mask
    from luodi.vision.patchcore import greedy_coreset, heat_map, nearest_distances

    with np.load(OUT / f"maps_{args.cap}.npz") as data:
        z = {k: data[k] for k in data.files}
    fs = files(args.data)
    sp = vb.split(fs, by=args.by)
    bank_files = [f for f in fs if f.parent.parent.name == GOOD and sp[f] == "train"]
    dev = [f for f in fs if sp[f] != "test" and (f.parent.parent.name != GOOD or sp[f] == "val")]
    t = time.process_time()
    with threadpool_limits(1):
        feats = [patch_features(z, key(f), args.stages, args.k) for f in bank_files]
        patches = np.concatenate([m.reshape(m.shape[0], -1).T for m in feats]).astype(np.float32)
        n = min(args.max_bank, max(1, round(args.coreset * len(patches))))
        bank = patches[greedy_coreset(patches, n)]
        norms = np.einsum("ij,ij->i", bank, bank)
        y, scores, pix_y, pix_s = [], {s: [] for s in args.sigmas}, [], {s: [] for s in args.sigmas}
        for f in dev:
            fm = patch_features(z, key(f), args.stages, args.k)
            d, h, w = fm.shape
            amap = nearest_distances(np.ascontiguousarray(fm.reshape(d, -1).T), bank, norms).reshape(h, w)
            img_h, img_w = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE).shape
            mask_path = f.with_suffix(".png")
            mask = read_mask(mask_path, (img_h, img_w)) if mask_path.is_file() else np.zeros((img_h, img_w), bool)
            y.append(f.parent.parent.name != GOOD)
            pix_y.append(mask[::2, ::2].ravel())
            for s in args.sigmas:
                heat = heat_map(amap, img_h, img_w, size=args.cap, resize="native", border=1, sigma=s)
                scores[s].append(float(heat.max()))
                pix_s[s].append(heat[::2, ::2].ravel())
    py = np.concatenate(pix_y)
    for s in args.sigmas:
        print(
            json.dumps(
                {
                    "cap": args.cap,
                    "stages": args.stages,
                    "k": args.k,
                    "sigma": s,
                    "coreset": args.coreset,
                    "bank": len(bank),
                    "of": len(patches),
                    "dev_images": len(dev),
                    "image_auroc": round(float(roc_auc_score(y, scores[s])), 4),
                    "pixel_auroc": round(float(roc_auc_score(py, np.concatenate(pix_s[s]))), 4),
                    "cpu_s": round(time.process_time() - t, 1),
                }
            )
        )


def cache_pooled(args: argparse.Namespace) -> None:
    from luodi.vision.data import read_image, to_input

    stages = (2, 3, 4, 5, 6)
    sess = session_for(stages, pooled=True)
    res: dict[int, list[np.ndarray]] = {s: [] for s in stages}
    for f in files(args.data):
        rgb = read_image(f)
        views = (rgb, np.ascontiguousarray(rgb[:, ::-1]), np.ascontiguousarray(rgb[::-1]))
        outs = sess.run(None, {"x": np.stack([to_input(v, args.size, args.resize) for v in views])})
        for s, o in zip(stages, outs, strict=True):
            res[s].append(o)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / f"pooled_{args.resize}{args.size}.npz", **{f"s{s}": np.stack(v) for s, v in res.items()})


def classify(args: argparse.Namespace) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    fs = files(args.data)
    sp = vb.split(fs, by="file")
    labels = np.array([f.parent.parent.name for f in fs])
    idx = np.flatnonzero([sp[f] != "test" for f in fs])
    with np.load(OUT / f"pooled_{args.views}.npz") as data:
        x = np.concatenate([data[f"s{s}"] for s in args.stages], axis=2)  # images x 3 views x features
    acc, f1 = [], []
    for seed in (0, 1):
        pred = np.empty(len(idx), dtype=object)
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(idx, labels[idx]):
            xtr = x[idx[tr]].reshape(-1, x.shape[2])
            scaler = StandardScaler().fit(xtr)
            clf = LogisticRegression(C=0.05, max_iter=3000, class_weight="balanced")
            clf.fit(scaler.transform(xtr), np.repeat(labels[idx[tr]], x.shape[1]))
            pred[te] = clf.predict(scaler.transform(x[idx[te], 0]))
        acc.append(round(float(accuracy_score(labels[idx], list(pred))), 4))
        f1.append(round(float(f1_score(labels[idx], list(pred), average="macro")), 4))
    print(json.dumps({"views": args.views, "stages": args.stages, "accuracy": acc, "macro_f1": f1}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["maps", "anomaly", "pooled", "classify"])
    ap.add_argument("--data", type=Path, default=vb.DEFAULT_DATA)
    ap.add_argument("--by", choices=["tile", "file"], default="file")
    ap.add_argument("--cap", type=int, default=320)
    ap.add_argument("--stages", type=int, nargs="+", default=[3, 4])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[16.0])
    ap.add_argument("--coreset", type=float, default=0.1)
    ap.add_argument("--max-bank", type=int, default=16384)
    ap.add_argument("--resize", default="square")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--views", default="square224")
    args = ap.parse_args()
    if not files(args.data):
        raise SystemExit(f"no images under {args.data}/*/Imgs")
    sys.path.insert(0, str(ROOT / "src"))
    {"maps": cache_maps, "anomaly": anomaly, "pooled": cache_pooled, "classify": classify}[args.what](args)


if __name__ == "__main__":
    main()
