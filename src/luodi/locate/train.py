"""Train the document locator on rendered parcel scenes (Paddle), export it to ONNX, store it.

    python -m luodi.locate.train [--out DIR] [--force] [--threads N]

``make setup`` runs this (weights are never committed, and no pinned artefact of them can be
published): scenes come from :mod:`luodi.synth.parcel` with the ``dev`` texture families and
waybill layouts only, parties invented from the gazetteer (:func:`luodi.synth.parcel.write_fake_ner`),
so it needs nothing beside the repository. Idempotent: when the store already holds a model whose
manifest records the same config hash, code hash (:mod:`luodi.locate.fingerprint`: the sources
training imports, the invented parties, the installed fonts) and code version, nothing is done
(``--force`` re-trains).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from luodi.locate.fingerprint import code_digest
from luodi.locate.inputs import normalise
from luodi.locate.store import CODE_VERSION, default_model_dir, read_manifest, write_manifest

SIZE_MULTIPLE = 32
PARTIES = 400  # invented parties the training labels carry


@dataclass(frozen=True, slots=True)
class LocatorConfig:
    scenes: int = 1200
    val_scenes: int = 100
    size: int = 448  # long side of the training thumbnails (and of the locator's input)
    crop: int = 224
    steps: int = 1200
    batch: int = 8
    lr: float = 3e-3
    seed: int = 0
    label_pool: int = 120
    flat_rate: float = 0.08
    crowd_rate: float = 0.1  # sorting-line frames with 5-16 labels: small labels, many to tell apart
    kernel_shrink: float = 0.4  # DB's r: kernel = outline shrunk by area * (1 - r^2) / perimeter

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


# --- data ---------------------------------------------------------------------------------------------
def _kernel_polygon(polygon: np.ndarray, shrink: float) -> np.ndarray | None:
    from shapely.geometry import Polygon

    poly = Polygon(polygon)
    if not poly.is_valid:
        poly = poly.buffer(0)
    if poly.area <= 0:
        return None
    distance = poly.area * (1 - shrink**2) / max(poly.length, 1e-6)
    inner = poly.buffer(-distance)
    if inner.is_empty:
        return None
    if inner.geom_type != "Polygon":
        inner = max(inner.geoms, key=lambda g: g.area)
    return np.asarray(inner.exterior.coords, dtype=np.float32)


def _targets(h: int, w: int, polygons: list[np.ndarray], shrink: float) -> np.ndarray:
    """(2, h, w) uint8: the document mask and the kernels."""
    out = np.zeros((2, h, w), np.uint8)
    for poly in polygons:
        cv2.fillPoly(out[0], [np.round(poly).astype(np.int32)], 1)
        kernel = _kernel_polygon(poly, shrink)
        if kernel is not None:
            cv2.fillPoly(out[1], [np.round(kernel).astype(np.int32)], 1)
    return out


def _fit(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    k = size / max(h, w)
    resized = cv2.resize(image, (max(8, round(w * k)), max(8, round(h * k))), interpolation=cv2.INTER_AREA)
    return resized, k


def _flat_sample(art: np.ndarray, rng: np.random.Generator, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A scan: the page fills the frame, nearly straight, maybe a thin margin of scanner bed."""
    h, w = art.shape[:2]
    margin = rng.uniform(0, 0.04)
    bed = float(rng.choice([255.0, 235.0, 20.0]))
    canvas_h, canvas_w = round(h * (1 + 2 * margin)), round(w * (1 + 2 * margin))
    angle = rng.uniform(-2, 2)
    centre = (canvas_w / 2, canvas_h / 2)
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rot[:, 2] += [centre[0] - w / 2, centre[1] - h / 2]
    page = cv2.warpAffine(art, rot, (canvas_w, canvas_h), borderValue=(bed, bed, bed))
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    quad = cv2.transform(corners[None], rot)[0]
    image, k = _fit(page, size)
    return image, [quad * k]


def render_set(
    cfg: LocatorConfig, count: int, seed: int, ner_file: str, progress: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` (thumbnail, targets) pairs from dev families and layouts."""
    from luodi.synth.parcel import LabelArt, ParcelOptions, render_scene
    from luodi.synth.waybill import WaybillOptions, render_waybill

    wopts = WaybillOptions(layouts=("dev",), seed=seed, source="train", ner_file=ner_file)
    pool: list[LabelArt] = []
    for k in range(cfg.label_pool):
        s = render_waybill(k, wopts)
        pool.append(LabelArt(s.image, s.fields, s.layout, s.holdout, k))
    rng = np.random.default_rng([seed, 0x10C])
    # thumbnails of 4-12 MP frames: about cfg.size on the long side, jittered by the scale below
    opts = ParcelOptions(
        families=("dev",), layouts=("dev",), labels=(1, 4), seed=seed, empty_rate=0.08, cut_off_rate=0.15,
        scale=min(1.0, cfg.size * 1.3 / 4000), ner_file=ner_file,
    )  # fmt: skip
    crowd = replace(opts, labels=(5, 16), empty_rate=0.0)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    t0 = time.perf_counter()
    for i in range(count):
        if rng.random() < cfg.flat_rate:
            image, polys = _flat_sample(pool[int(rng.integers(0, len(pool)))].image, rng, cfg.size)
        else:
            scene_opts = crowd if rng.random() < cfg.crowd_rate else opts
            scene = render_scene(i, scene_opts, labels=lambda k: pool[k % len(pool)])
            image, factor = _fit(scene.image, cfg.size)
            polys = [p.polygon * factor for p in scene.labels]
        out.append((image, _targets(image.shape[0], image.shape[1], polys, cfg.kernel_shrink)))
        if progress and (i + 1) % 100 == 0:
            print(f"  rendered {i + 1}/{count} scenes ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return out


def _augment(
    image: np.ndarray, target: np.ndarray, crop: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    k = rng.uniform(0.7, 1.25)
    h, w = image.shape[:2]
    nh, nw = max(16, round(h * k)), max(16, round(w * k))
    img = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    tgt = np.stack([cv2.resize(t, (nw, nh), interpolation=cv2.INTER_NEAREST) for t in target])
    ph, pw = max(0, crop - nh), max(0, crop - nw)
    if ph or pw:
        fill = rng.uniform(0, 255, 3).tolist()
        img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=fill)
        tgt = np.pad(tgt, ((0, 0), (0, ph), (0, pw)))
    y = int(rng.integers(0, img.shape[0] - crop + 1))
    x = int(rng.integers(0, img.shape[1] - crop + 1))
    img, tgt = img[y : y + crop, x : x + crop], tgt[:, y : y + crop, x : x + crop]
    turns = int(rng.integers(0, 4))
    img, tgt = np.rot90(img, turns), np.rot90(tgt, turns, axes=(1, 2))
    if rng.random() < 0.5:
        img, tgt = img[:, ::-1], tgt[:, :, ::-1]
    x_f = img.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
    x_f += rng.uniform(-12, 12, 3).astype(np.float32)
    return np.clip(x_f, 0, 255), np.ascontiguousarray(tgt)


def _batch(
    data: list[tuple[np.ndarray, np.ndarray]], cfg: LocatorConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i in rng.integers(0, len(data), cfg.batch):
        img, tgt = _augment(*data[int(i)], cfg.crop, rng)
        xs.append(img)
        q = cfg.crop // 4
        ys.append(np.stack([cv2.resize(t.astype(np.float32), (q, q), interpolation=cv2.INTER_AREA) for t in tgt]))
    return normalise(np.stack(xs)), np.stack(ys).astype(np.float32)


def _loss(paddle: Any, pred: Any, target: Any) -> Any:
    F = paddle.nn.functional
    bce = F.binary_cross_entropy(paddle.clip(pred, 1e-6, 1 - 1e-6), target)
    inter = (pred * target).sum(axis=[2, 3])
    dice = 1 - (2 * inter + 1) / (pred.sum(axis=[2, 3]) + target.sum(axis=[2, 3]) + 1)
    return bce + dice.mean()


# --- training ---------------------------------------------------------------------------------------------
def fit(cfg: LocatorConfig, data: list[tuple[np.ndarray, np.ndarray]], *, log: bool = True) -> Any:
    from luodi.locate.model import build_model, paddle

    paddle.seed(cfg.seed)
    model = build_model()
    sched = paddle.optimizer.lr.CosineAnnealingDecay(cfg.lr, T_max=cfg.steps, eta_min=cfg.lr / 30)
    opt = paddle.optimizer.AdamW(learning_rate=sched, parameters=model.parameters(), weight_decay=1e-4)
    rng = np.random.default_rng([cfg.seed, 0xBA7C])
    model.train()
    t0, running = time.perf_counter(), 0.0
    for step in range(1, cfg.steps + 1):
        x, y = _batch(data, cfg, rng)
        loss = _loss(paddle, model(paddle.to_tensor(x)), paddle.to_tensor(y))
        loss.backward()
        opt.step()
        opt.clear_grad()
        sched.step()
        running = 0.95 * running + 0.05 * float(loss) if step > 1 else float(loss)
        if log and step % 100 == 0:
            print(f"  step {step}/{cfg.steps} loss {running:.4f} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    model.eval()
    return model


def export_onnx(model: Any, out: Path) -> float:
    """jit.save + paddle2onnx to ``out``; returns the largest difference from the Paddle model."""
    import onnxruntime as ort

    from luodi.locate.model import paddle
    from luodi.train.export import to_onnx

    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "inference"
        spec = paddle.static.InputSpec([None, 3, None, None], "float32", "x")
        paddle.jit.save(model, str(prefix), input_spec=[spec])
        program = next(p for p in (prefix.with_suffix(".json"), prefix.with_suffix(".pdmodel")) if p.is_file())
        to_onnx(program, prefix.with_suffix(".pdiparams"), out)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 224, 320)).astype(np.float32)
    with paddle.no_grad():
        expected = model(paddle.to_tensor(x)).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    return float(np.abs(expected - got).max()) if expected.shape == got.shape else math.inf


def evaluate(onnx_path: Path, data: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Mask IoU and document recall / false documents (IoU ≥ 0.5) on held-back dev scenes."""
    from luodi.locate.locator import DocumentLocator

    locator = DocumentLocator.from_onnx(onnx_path, threads=None)
    inter = union = 0.0
    found = total = false = 0
    for image, target in data:
        maps = locator.maps(image)[0]
        pred = cv2.resize(maps[0], (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR) > 0.5
        truth = target[0] > 0
        inter += float((pred & truth).sum())
        union += float((pred | truth).sum())
        instances = _instances(target)
        located = locator.locate(image).documents
        matched = set()
        for doc in located:
            best = max(
                ((j, _iou_mask(doc.polygon, inst, image.shape[:2])) for j, inst in enumerate(instances)),
                key=lambda t: t[1],
                default=(None, 0.0),
            )
            if best[0] is not None and best[1] >= 0.5 and best[0] not in matched:
                matched.add(best[0])
            else:
                false += 1
        found += len(matched)
        total += len(instances)
    return {
        "mask_iou": round(inter / max(union, 1.0), 4),
        "recall": round(found / max(total, 1), 4),
        "false_per_frame": round(false / max(len(data), 1), 4),
        "documents": total,
        "frames": len(data),
    }


def _instances(target: np.ndarray) -> list[np.ndarray]:
    count, labels = cv2.connectedComponents(target[0])
    return [(labels == k) for k in range(1, count) if (labels == k).sum() > 30]


def _iou_mask(polygon: np.ndarray, truth: np.ndarray, hw: tuple[int, int]) -> float:
    mask = np.zeros(hw, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    m = mask > 0
    return float((m & truth).sum() / max((m | truth).sum(), 1))


def training_fingerprint(cfg: LocatorConfig) -> dict[str, str]:
    """What a stored model must have been trained with to be up to date (see :mod:`luodi.locate.fingerprint`)."""
    from luodi.synth.parcel import write_fake_ner

    with tempfile.TemporaryDirectory() as tmp:
        parties = write_fake_ner(Path(tmp) / "parties.txt", PARTIES, cfg.seed).read_bytes()
    return {"config_sha256": cfg.digest(), "code_sha256": code_digest(parties), "code_version": CODE_VERSION}


def train(
    out: Path | None = None, cfg: LocatorConfig | None = None, *, force: bool = False, threads: int | None = None
) -> dict[str, Any]:
    cfg = cfg or LocatorConfig()
    out = out or default_model_dir()
    if threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    fingerprint = training_fingerprint(cfg)
    existing = read_manifest(out)
    if not force and existing is not None and all(existing.get(k) == v for k, v in fingerprint.items()):
        print(f"document locator in {out} is up to date (same config, code, parties, fonts): skipped", file=sys.stderr)
        return existing
    from luodi.synth.parcel import write_fake_ner

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ner = str(write_fake_ner(Path(tmp) / "parties.txt", PARTIES, cfg.seed))
        print(f"rendering {cfg.scenes} training scenes ...", file=sys.stderr)
        data = render_set(cfg, cfg.scenes, cfg.seed, ner, progress=True)
        val = render_set(cfg, cfg.val_scenes, cfg.seed + 1000, ner)
    render_s = time.perf_counter() - t0
    print(f"training {cfg.steps} steps ...", file=sys.stderr)
    model = fit(cfg, data)
    train_s = time.perf_counter() - t0 - render_s
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    diff = export_onnx(model, staging / "locator.onnx")
    if not diff <= 1e-3:
        raise RuntimeError(f"exported ONNX disagrees with the trained locator (max abs diff {diff:.2e})")
    metrics = evaluate(staging / "locator.onnx", val)
    (staging / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n", encoding="utf-8")
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    manifest = write_manifest(
        staging,
        {
            **fingerprint,
            "render_seconds": round(render_s, 1),
            "train_seconds": round(train_s, 1),
            "onnx_max_diff": diff,
            "dev": metrics,
        },
    )
    shutil.rmtree(out, ignore_errors=True)
    staging.replace(out)
    print(f"document locator trained in {time.perf_counter() - t0:.0f} s -> {out} (dev {metrics})", file=sys.stderr)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m luodi.locate.train", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="model folder (default: the store's doc-locator)")
    parser.add_argument("--force", action="store_true", help="train even when an up-to-date model is there")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for Paddle")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the config's)")
    parser.add_argument("--scenes", type=int, default=None, help="training scenes (default: the config's)")
    args = parser.parse_args(argv)
    cfg = LocatorConfig()
    changes = {k: v for k, v in (("steps", args.steps), ("scenes", args.scenes)) if v is not None}
    if changes:
        cfg = replace(cfg, **changes)
    train(args.out, cfg, force=args.force, threads=args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
