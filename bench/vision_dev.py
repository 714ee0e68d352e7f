"""Dev-split measurements behind the vision defaults (bench/results/vision.md, "Choices").

Never reads the test split of ``vision_bench.split``: the anomaly variants build their bank from
the train split's good tiles and are scored on the val good tiles plus every train/val defect;
the classifier variants are 5-fold cross-validated over train+val.

    python bench/vision_dev.py maps --cap 320              # cache raw stage maps (stages 1-5)
    python bench/vision_dev.py anomaly --cap 320 --stages 3 4 --sigmas 8 16 [--k 3] [--coreset 0.1]
    python bench/vision_dev.py pooled --resize square --size 224   # cache pooled stage features
    python bench/vision_dev.py classify --views square224 --stages 4 5 6
    python bench/vision_dev.py maps --backbone efficientnet-lite2     # another zoo backbone's maps
    python bench/vision_dev.py scoring --backbone efficientnet-lite2 --by tile --dump l2.npz
    python bench/vision_dev.py scoring --backbone efficientnet-lite2 --pca 96 --coreset 0.2 --max-bank 32768 \
        --b 0 --dump pca96_c20.npz        # the bank on principal axes (--b 0: no reweighting variants)
    python bench/vision_dev.py scoring --backbone efficientnet-lite2 --posnorm   # per-position normalised maps
    python bench/vision_dev.py compare l0.npz l2.npz   # paired bootstrap of the image-AUROC difference
    python bench/vision_dev.py cost --backbone efficientnet-lite2 --costs 320:11269 384:13956  # CPU-ms ratio
    python bench/vision_dev.py cost --backbone efficientnet-lite2 --costs 320:11269 320:22538:96  # projected

Caches go to bench/out/vision-dev. Scores are printed as JSON lines.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
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


def session_for(stages: tuple[int, ...], pooled: bool, backbone: str = "efficientnet-lite0") -> Any:
    """ONNX Runtime session of the backbone giving each stage's map (or its avg+max pooling)."""
    import onnxruntime as ort
    import paddle

    from luodi.train.export import to_onnx
    from luodi.vision.bundle import backbone_state
    from luodi.vision.nets import pretrained_backbone

    variant, state = backbone_state(backbone, None)

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


def tag(args: argparse.Namespace) -> str:
    """Cache-name suffix of a backbone other than the default (lite0's caches keep their names)."""
    return "" if args.backbone == "efficientnet-lite0" else "_" + args.backbone.removeprefix("efficientnet-")


def cache_maps(args: argparse.Namespace) -> None:
    from luodi.vision.data import read_image, to_input

    stages = (1, 2, 3, 4, 5)
    sess = session_for(stages, pooled=False, backbone=args.backbone)
    res: dict[str, np.ndarray] = {}
    t = time.process_time()
    fs = files(args.data)
    if args.flip:  # mirror images of the train split's good tiles only (the bank's)
        sp = vb.split(fs, by=args.by)
        fs = [f for f in fs if f.parent.parent.name == GOOD and sp[f] == "train"]
    flips = {"h": lambda a: a[:, ::-1], "v": lambda a: a[::-1], "hv": lambda a: a[::-1, ::-1]}
    for f in fs:
        rgb = read_image(f)
        for fl in args.flip or [""]:
            img = np.ascontiguousarray(flips[fl](rgb)) if fl else rgb
            outs = sess.run(None, {"x": to_input(img, args.cap, "native")[None]})
            for s, o in zip(stages, outs, strict=True):
                res[f"{key(f)}|{fl + '|' if fl else ''}{s}"] = o[0].astype(np.float16)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / f"maps_{args.cap}{tag(args)}{'_flip' if args.flip else ''}.npz", **res)  # type: ignore[arg-type]
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

    with np.load(OUT / f"maps_{args.cap}{tag(args)}.npz") as data:
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


def upsampled_features(z: dict[str, np.ndarray], name: str, stages: list[int], k: int, grid: int) -> np.ndarray:
    """Like :func:`patch_features` but on stage ``grid``'s map: coarser stages are resized up onto it
    (bilinear), finer ones down."""
    ref = z[f"{name}|{grid}"]
    h, w = ref.shape[1:]
    parts = []
    for s in stages:
        m = z[f"{name}|{s}"].astype(np.float32)
        if m.shape[1:] != (h, w):
            x = m.transpose(1, 2, 0)
            inter = cv2.INTER_AREA if m.shape[1] > h else cv2.INTER_LINEAR
            chunks = [
                cv2.resize(np.ascontiguousarray(x[..., i : i + 64]), (w, h), interpolation=inter)
                for i in range(0, x.shape[2], 64)
            ]
            m = np.concatenate([c.reshape(h, w, -1) for c in chunks], 2).transpose(2, 0, 1)
        parts.append(m)
    return aggregate(np.concatenate(parts, 0), k)


def knn_table(bank: np.ndarray, b: int) -> np.ndarray:
    """Each bank row's ``b`` nearest bank rows (itself first)."""
    norms = np.einsum("ij,ij->i", bank, bank)
    out = np.empty((len(bank), b), np.int64)
    for s in range(0, len(bank), 1024):
        d2 = norms[s : s + 1024, None] + norms[None] - 2.0 * (bank[s : s + 1024] @ bank.T)
        part = np.argpartition(d2, b, axis=1)[:, :b]
        order = np.take_along_axis(d2, part, 1).argsort(1)
        out[s : s + 1024] = np.take_along_axis(part, order, 1)
    return out


def patch_maps(fm: np.ndarray, bank: np.ndarray, norms: np.ndarray, table: np.ndarray | None, kmax: int) -> dict:
    """Per patch: the ``kmax`` nearest distances, and the distances to the nearest bank row's own
    neighbours (PatchCore's reweighting support set)."""
    d, h, w = fm.shape
    p = np.ascontiguousarray(fm.reshape(d, -1).T)
    d2 = np.maximum(np.einsum("ij,ij->i", p, p)[:, None] + norms[None] - 2.0 * (p @ bank.T), 0.0)
    part = np.argpartition(d2, kmax, axis=1)[:, :kmax]
    dk = np.sqrt(np.sort(np.take_along_axis(d2, part, 1), 1))
    if table is None:
        return {"dk": dk.reshape(h, w, -1)}
    nn = d2.argmin(1)
    support = np.sqrt(np.take_along_axis(d2, table[nn], 1))  # test patch to N_b(m*), m* first
    bank_r = np.sqrt(
        np.maximum(
            norms[table[nn][:, 1:]]
            + norms[nn][:, None]
            - 2.0 * np.einsum("pd,pkd->pk", bank[nn], bank[table[nn][:, 1:]]),
            0.0,
        )
    ).mean(1)  # m*'s own neighbourhood radius
    return {"dk": dk.reshape(h, w, -1), "support": support.reshape(h, w, -1), "bank_r": bank_r.reshape(h, w)}


def variant_maps(pm: dict, temps: list[float]) -> dict[str, np.ndarray]:
    """The patch maps each scoring variant smooths."""
    dk = pm["dk"]
    out = {"nn1": dk[..., 0], "knn3": dk[..., :3].mean(-1), "knn5": dk[..., :5].mean(-1)}
    if "support" not in pm:
        return out
    sup = pm["support"]
    for t in temps:  # PatchCore: score * (1 - softmax(distances to N_b(m*)))[m*]; t scales the distances
        z = sup / t
        z = z - z.max(-1, keepdims=True)
        sm = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
        out[f"rw{t:g}"] = dk[..., 0] * (1.0 - sm[..., 0])
    out["ratio"] = dk[..., 0] / (pm["bank_r"] + 1e-6)  # distance in units of the bank's local spacing
    return out


def whitener(patches: np.ndarray, shrink: float) -> tuple[np.ndarray, np.ndarray]:
    """(mean, W): (x - mean) @ W whitens the patches, the covariance shrunk towards its mean
    variance by ``shrink`` (Mahalanobis distances with one global covariance)."""
    mean = patches.mean(0)
    cov = np.cov(patches - mean, rowvar=False)
    cov = (1 - shrink) * cov + shrink * np.trace(cov) / len(cov) * np.eye(len(cov))
    vals, vecs = np.linalg.eigh(cov)
    return mean.astype(np.float32), (vecs / np.sqrt(vals)).astype(np.float32)


def principal(patches: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, P): (x - mean) @ P keeps the ``dim`` principal components of the bank patches."""
    mean = patches.mean(0)
    _, vecs = np.linalg.eigh(np.cov(patches - mean, rowvar=False))
    return mean.astype(np.float32), np.ascontiguousarray(vecs[:, ::-1][:, :dim]).astype(np.float32)


def position_stats(
    feats: list[np.ndarray], bank: np.ndarray, norms: np.ndarray, white: tuple | None, grid: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of the bank images' 1-NN maps per cell of a ``grid`` x ``grid`` normalised grid."""
    from luodi.vision.patchcore import nearest_distances

    cells = []
    for fm in feats:
        d, h, w = fm.shape
        p = np.ascontiguousarray(fm.reshape(d, -1).T)
        if white is not None:
            p = (p - white[0]) @ white[1]
        amap = nearest_distances(np.ascontiguousarray(p, dtype=np.float32), bank, norms).reshape(h, w)
        cells.append(cv2.resize(amap, (grid, grid), interpolation=cv2.INTER_AREA))
    c = np.stack(cells)
    return c.mean(0).astype(np.float32), (c.std(0) + 0.1 * c.std()).astype(np.float32)


def topk_mean(x: np.ndarray, k: int) -> float:
    flat = x.ravel()
    k = max(1, min(k, flat.size))
    return float(np.partition(flat, flat.size - k)[flat.size - k :].mean())


# long: one dev experiment top to bottom: every score variant over one bank, then its table
def scoring(args: argparse.Namespace) -> None:
    """Many image-score variants over one bank (dev split): the patch map (1-NN, k-NN mean, PatchCore
    reweighting, bank-density ratio) x the image score (heat max, mean of the top share of heat pixels)."""
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from luodi.vision.data import read_mask
    from luodi.vision.patchcore import greedy_coreset, heat_map

    with np.load(OUT / f"maps_{args.cap}{tag(args)}.npz") as data:
        z = {k: data[k] for k in data.files}
    fs = files(args.data)
    sp = vb.split(fs, by=args.by)
    bank_files = [f for f in fs if f.parent.parent.name == GOOD and sp[f] == "train"]
    dev = [f for f in fs if sp[f] != "test" and (f.parent.parent.name != GOOD or sp[f] == "val")]
    grid = args.grid or max(st for st in args.stages if st <= 4)
    t = time.process_time()
    with threadpool_limits(1):
        feats = [upsampled_features(z, key(f), args.stages, args.k, grid) for f in bank_files]
        if args.flip:  # the bank images' mirror images too (maps cached by `maps --flip`)
            with np.load(OUT / f"maps_{args.cap}{tag(args)}_flip.npz") as data:
                zf = {k: data[k] for k in data.files}
            feats += [upsampled_features(zf, f"{key(f)}|{fl}", args.stages, args.k, grid)
                      for f in bank_files for fl in args.flip]  # fmt: skip
        patches = np.concatenate([m.reshape(m.shape[0], -1).T for m in feats]).astype(np.float32)
        white = whitener(patches, args.whiten) if args.whiten else None
        if white is not None:
            patches = (patches - white[0]) @ white[1]
        elif args.pca:
            white = principal(patches, args.pca)
            patches = (patches - white[0]) @ white[1]
        n = min(args.max_bank, max(1, round(args.coreset * len(patches))))
        bank = np.ascontiguousarray(patches[greedy_coreset(patches, n, chunk=args.chunk)])
        norms = np.einsum("ij,ij->i", bank, bank)
        table = knn_table(bank, args.b) if args.b else None  # --b 0: no reweighting variants (faster)
        # per-position statistics of the bank images' own 1-NN maps on a normalised grid (each
        # unpicked bank patch's distance to the coreset: what good texture leaves at each place)
        pos = position_stats(feats, bank, norms, white) if args.posnorm else None
        y, cls = [], []
        scores: dict[str, list[float]] = collections.defaultdict(list)
        pix_y, pix_s = [], collections.defaultdict(list)
        for f in dev:
            fm = upsampled_features(z, key(f), args.stages, args.k, grid)
            if white is not None:
                fm = np.einsum("dhw,de->ehw", fm - white[0][:, None, None], white[1])
            maps = variant_maps(patch_maps(fm, bank, norms, table, 5), args.temps)
            if pos is not None:
                mu, sd = (cv2.resize(a, maps["nn1"].shape[::-1], interpolation=cv2.INTER_LINEAR) for a in pos)
                maps["pos_sub"] = maps["nn1"] - mu
                maps["pos_z"] = (maps["nn1"] - mu) / sd
            img_h, img_w = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE).shape
            mask_path = f.with_suffix(".png")
            mask = read_mask(mask_path, (img_h, img_w)) if mask_path.is_file() else np.zeros((img_h, img_w), bool)
            y.append(f.parent.parent.name != GOOD)
            cls.append(f.parent.parent.name)
            pix_y.append(mask[::4, ::4].ravel())
            for vname, amap in maps.items():
                for s in args.sigmas:
                    heat = heat_map(amap, img_h, img_w, size=args.cap, resize="native", border=args.border, sigma=s)
                    scores[f"{vname}|s{s:g}|max"].append(float(heat.max()))
                    if vname in ("nn1", "rw1"):  # per-image normalisation: the image's own level of texture
                        med = float(np.median(heat))
                        scores[f"{vname}|s{s:g}|max-med"].append(float(heat.max()) - med)
                        scores[f"{vname}|s{s:g}|max/med"].append(float(heat.max()) / max(med, 1e-6))
                        scores[f"{vname}|s{s:g}|z"].append(float((heat.max() - heat.mean()) / (heat.std() + 1e-6)))
                        inner = amap[1:-1, 1:-1] if min(amap.shape) > 4 else amap
                        scores[f"{vname}|s{s:g}|max-0.5med"].append(float(heat.max()) - 0.5 * float(np.median(inner)))
                    for q in args.tops:
                        scores[f"{vname}|s{s:g}|top{q:g}%"].append(topk_mean(heat, round(heat.size * q / 100)))
                    if vname in ("nn1", "rw1", "knn3"):
                        pix_s[f"{vname}|s{s:g}"].append(heat[::4, ::4].ravel())
    ya, ca = np.array(y), np.array(cls)
    py = np.concatenate(pix_y)
    pix = {k: round(float(roc_auc_score(py, np.concatenate(v))), 4) for k, v in pix_s.items()}
    rows = []
    for name, sc in scores.items():
        s = np.array(sc)
        per = {}
        for c in sorted(set(cls) - {GOOD}):
            keep = (ca == GOOD) | (ca == c)
            per[c.removeprefix("MT_")] = round(float(roc_auc_score(ya[keep], s[keep])), 3)
        rows.append({"variant": name, "image_auroc": round(float(roc_auc_score(ya, s)), 4), "per_class": per})
    rows.sort(key=lambda r: -r["image_auroc"])
    if args.dump:  # per-image scores, for paired comparisons of variants and backbones
        np.savez(args.dump, y=ya, cls=ca, **{k: np.array(v) for k, v in scores.items()})
    head = {"cap": args.cap, "stages": args.stages, "grid": grid, "k": args.k, "coreset": args.coreset,
            "bank": len(bank), "of": len(patches), "dim": int(bank.shape[1]), "b": args.b, "pca": args.pca,
            "dev_images": len(dev), "pixel_auroc": pix, "cpu_s": round(time.process_time() - t, 1)}  # fmt: skip
    print(json.dumps(head))
    for r in rows:
        print(json.dumps(r))


def compare(args: argparse.Namespace) -> None:
    """Paired bootstrap of the image-AUROC difference between two ``scoring --dump`` files (the same
    dev images, e.g. two backbones): resampling the images, good and defect separately."""
    from sklearn.metrics import roc_auc_score

    with np.load(args.dumps[0]) as a, np.load(args.dumps[1]) as b:
        y, cls = a["y"], a["cls"]
        assert (b["cls"] == cls).all(), "the dumps score different images"
        sa, sb = a[args.variant], b[args.variant]
    rng = np.random.default_rng(0)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    diffs = []
    for _ in range(args.rounds):
        i = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        diffs.append(roc_auc_score(y[i], sb[i]) - roc_auc_score(y[i], sa[i]))
    d = np.array(diffs)
    base = {"a": str(args.dumps[0].name), "b": str(args.dumps[1].name), "variant": args.variant}
    base |= {"auroc_a": round(float(roc_auc_score(y, sa)), 4), "auroc_b": round(float(roc_auc_score(y, sb)), 4)}
    base |= {"diff_ci95": [round(float(np.quantile(d, q)), 4) for q in (0.025, 0.975)]}
    print(json.dumps(base | {"p_b_not_better": round(float((d <= 0).mean()), 3)}))


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


def cost(args: argparse.Namespace) -> None:
    """Per-image CPU-ms of the anomaly path at each ``--costs cap:bank`` (stages 3+4 on one ONNX
    thread, the nearest-patch search against a random bank of that size, the heat map) over 60 train
    tiles, the settings alternated over 4 rounds (the first dropped) so all meet the same load."""
    from luodi.vision.data import read_image, to_input
    from luodi.vision.patchcore import heat_map, score_map

    fs = files(args.data)
    sp = vb.split(fs, by=args.by)
    imgs = [read_image(f) for f in [f for f in fs if sp[f] == "train"][::8][:60]]
    sess = session_for((3, 4), pooled=False, backbone=args.backbone)
    rng = np.random.default_rng(0)
    # cap:bank[:dim]: a random bank of that size; with dim, the patches are projected to dim first
    dims = {c: int(c.split(":")[2]) if c.count(":") == 2 else 0 for c in args.costs}
    banks = {c: rng.standard_normal((int(c.split(":")[1]), dims[c] or 208)).astype(np.float32) for c in args.costs}
    projs = {c: rng.standard_normal((209, dims[c])).astype(np.float32) if dims[c] else None for c in args.costs}
    runs: dict[str, list[float]] = collections.defaultdict(list)
    for r, c in ((r, c) for r in range(4) for c in args.costs):
        cap, t = int(c.split(":")[0]), time.process_time()
        for im in imgs:
            m3, m4 = sess.run(None, {"x": to_input(im, cap, "native")[None]})
            amap = score_map(np.concatenate([m3[0], m4[0]]), banks[c], projection=projs[c])
            heat_map(amap, im.shape[0], im.shape[1], size=cap, resize="native", border=1, sigma=16)
        if r:
            runs[c].append(round((time.process_time() - t) * 1000 / len(imgs), 1))
    base = float(np.median(runs[args.costs[0]]))
    for c, v in runs.items():
        print(json.dumps({"cap:bank": c, "cpu_ms": v, "ratio": round(float(np.median(v)) / base, 3)}))
    print(json.dumps({"load_1min": round(os.getloadavg()[0], 2)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["maps", "anomaly", "scoring", "pooled", "classify", "compare", "cost"])
    ap.add_argument("dumps", type=Path, nargs="*", help="compare: two `scoring --dump` files")
    ap.add_argument("--variant", default="nn1|s16|max", help="compare: the scoring variant")
    ap.add_argument("--rounds", type=int, default=2000, help="compare: bootstrap rounds")
    ap.add_argument("--data", type=Path, default=vb.DEFAULT_DATA)
    ap.add_argument("--by", choices=["tile", "file"], default="file")
    ap.add_argument("--cap", type=int, default=320)
    ap.add_argument("--backbone", default="efficientnet-lite0", help="maps/anomaly/scoring: the zoo backbone")
    ap.add_argument("--stages", type=int, nargs="+", default=[3, 4])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[16.0])
    ap.add_argument("--coreset", type=float, default=0.1)
    ap.add_argument("--max-bank", type=int, default=16384)
    ap.add_argument("--grid", type=int, default=0, help="scoring: the stage whose grid the patches lie on")
    ap.add_argument("--b", type=int, default=9, help="scoring: PatchCore's reweighting support size")
    ap.add_argument("--temps", type=float, nargs="+", default=[1.0], help="scoring: reweighting distance scales")
    ap.add_argument("--tops", type=float, nargs="+", default=[0.5, 2.0], help="scoring: top share of heat pixels, %%")
    ap.add_argument("--whiten", type=float, default=0.0, help="scoring: whiten the patches, this shrinkage")
    ap.add_argument("--pca", type=int, default=0, help="scoring: keep this many principal components")
    ap.add_argument("--posnorm", action="store_true", help="scoring: per-position normalised maps too")
    ap.add_argument("--border", type=int, default=1, help="scoring: the ring of patches capped in the heat map")
    ap.add_argument("--flip", nargs="*", default=[], help="maps: cache mirror images (h, v, hv); scoring: add them")
    ap.add_argument("--dump", type=Path, default=None, help="scoring: save every image's scores (npz) here")
    ap.add_argument("--chunk", type=int, default=32768, help="scoring: greedy coreset part size")
    ap.add_argument("--resize", default="square")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--views", default="square224")
    ap.add_argument("--costs", nargs="+", default=["320:11269"], help="cost: cap:bank[:dim], baseline first")
    args = ap.parse_args()
    if not files(args.data):
        raise SystemExit(f"no images under {args.data}/*/Imgs")
    sys.path.insert(0, str(ROOT / "src"))
    steps = {"maps": cache_maps, "anomaly": anomaly, "scoring": scoring, "pooled": cache_pooled, "classify": classify}
    steps["compare"], steps["cost"] = compare, cost
    steps[args.what](args)


if __name__ == "__main__":
    main()
