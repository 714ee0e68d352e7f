"""``luodi train vision``: a defect classifier on the frozen backbone, trained with Paddle's
high-level API (``paddle.Model`` + ``fit``), exported to one ONNX graph and registered in the zoo.

A run lives in ``output_dir/NAME``: ``config.json``, ``features.npz`` (the cached backbone
features of every training view and eval image), ``latest.pdparams``/``.pdopt`` + ``state.json``
(written after every epoch: ``--resume`` continues from there), ``best.pdparams`` (best eval
macro-F1), ``metrics.csv`` and ``curves.png``, ``data.json`` (what was read and skipped).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, InputNotFoundError, ModelExistsError
from luodi.train import dist
from luodi.vision.bundle import TASK_CLASSIFY, VisionMeta, backbone_state
from luodi.vision.config import VisionTrainConfig
from luodi.vision.data import NATIVE, DataReport, Sample, load_dataset, split_holdout
from luodi.vision.metrics import classification_metrics

log = logging.getLogger(__name__)

STATE = "state.json"


@dataclass(frozen=True, slots=True)
class ClassifyTrainResult:
    run_dir: Path
    labels: tuple[str, ...]
    epochs: int
    best_epoch: int
    best: dict[str, Any]
    train_report: DataReport
    eval_report: DataReport
    seconds: float


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _split(cfg: VisionTrainConfig) -> tuple[list[Sample], list[Sample], DataReport, DataReport]:
    samples, report = load_dataset(cfg.Train.data)
    labels = sorted({s.label for s in samples if s.label is not None})
    if len(labels) < 2:
        raise ConfigError(
            f"{cfg.Train.data} has one class only ({labels[0] if labels else 'none'}): a classifier needs at least "
            "two. To learn what good parts look like and flag anything else, train an anomaly model: "
            f"luodi train anomaly --good {cfg.Train.data}/{labels[0] if labels else 'GOOD'} --name NAME"
        )
    eval_report = DataReport()
    if cfg.Eval.data is not None:
        eval_samples, eval_report = load_dataset(cfg.Eval.data)
        train = [s for s in samples if s.split != "test"]
    elif any(s.split == "val" for s in samples):
        train = [s for s in samples if s.split in (None, "train")]
        eval_samples = [s for s in samples if s.split == "val"]
    else:
        train, eval_samples = split_holdout([s for s in samples if s.split != "test"], cfg.Eval.holdout, "luodi-val:")
    missing = sorted(set(labels) - {s.label for s in train})
    if missing:
        raise ConfigError(f"no training images left for class(es) {', '.join(missing)} after holding out eval images")
    return train, eval_samples, report, eval_report


def class_weights(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Inverse-frequency weights, mean 1 over the classes present."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / num_classes, 0.0)
    out: np.ndarray = (w / w[counts > 0].mean()).astype(np.float32)
    return out


class _Features:
    """Backbone features of the training views and eval images, computed once and cached in the run."""

    def __init__(self, run_dir: Path, cfg: VisionTrainConfig, home: Path | None, say: Callable[[str], None]) -> None:
        self.path = run_dir / "features.npz"
        self.cfg = cfg
        self.home = home
        self.say = say

    def load_or_compute(
        self, train: Sequence[Sample], eval_samples: Sequence[Sample], labels: Sequence[str], progress: bool
    ) -> dict[str, np.ndarray]:
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        from tqdm import tqdm

        from luodi.vision.extract import extract, onnx_session, views
        from luodi.vision.nets import PooledFeatures, export_onnx, pretrained_backbone

        cfg = self.cfg
        variant, state = backbone_state(cfg.backbone, self.home)
        onnx_path = self.path.with_name("features.onnx")
        export_onnx(
            PooledFeatures(pretrained_backbone(variant, state), cfg.stages),
            cfg.image_size,
            onnx_path,
            dynamic=cfg.resize == NATIVE,
        )
        session = onnx_session(onnx_path)
        rng = np.random.default_rng([cfg.seed, 7])
        aug = cfg.Augment

        def make_views(rgb: np.ndarray) -> list[np.ndarray]:
            return views(rgb, hflip=aug.hflip, vflip=aug.vflip, photometric_views=aug.photometric, rng=rng)

        index = {name: i for i, name in enumerate(labels)}
        out: dict[str, np.ndarray] = {}
        self.train_report, self.eval_report = DataReport(), DataReport()
        for part, samples, maker, rep in (
            ("train", train, make_views, self.train_report),
            ("eval", eval_samples, None, self.eval_report),
        ):
            bar = tqdm(total=len(samples), disable=not progress, unit="img", desc=f"features ({part})")
            x, kept, owner = extract(
                session, samples, rep, cfg.image_size, resize=cfg.resize, make_views=maker, progress=bar.update
            )
            bar.close()
            known = [i for i, s in enumerate(kept) if s.label in index]
            if part == "eval" and len(known) < len(kept):
                self.say(f"eval: {len(kept) - len(known)} images of classes not in training left out")
            rows = [r for r, o in enumerate(owner) if kept[o].label in index]
            out[f"{part}_x"] = x[rows].astype(np.float32) if rows else np.zeros((0, 1), np.float32)
            out[f"{part}_y"] = np.array([index[str(kept[owner[r]].label)] for r in rows], dtype=np.int64)
            out[f"{part}_paths"] = np.array([str(kept[owner[r]].path) for r in rows])
            out[f"{part}_skipped"] = np.array(rep.skipped, dtype=str)
        onnx_path.unlink(missing_ok=True)
        tmp = self.path.with_name("features.tmp.npz")
        np.savez(tmp, **out)  # type: ignore[arg-type]
        os.replace(tmp, self.path)
        return out


def train_classifier(  # one recipe in order: run folder, features, head, resume, fit (its parts are helpers)
    config: VisionTrainConfig,
    *,
    name: str | None = None,
    resume: str | Path | None = None,
    home: Path | None = None,
    progress: bool = True,
    on_log: Callable[[str], None] | None = None,
) -> ClassifyTrainResult:
    """Train per ``config`` into ``output_dir/name`` (or continue the run in ``resume``)."""
    say = on_log or (lambda msg: log.info("%s", msg))
    cfg = config
    cfg_json = cfg.model_dump(mode="json")
    run_dir = _run_dir(cfg, cfg_json, name, resume)
    started = time.perf_counter()
    train, eval_samples, train_scan, eval_scan = _split(cfg)
    labels = tuple(sorted({str(s.label) for s in train}))
    if cfg.good_class is not None and cfg.good_class not in labels:
        raise ConfigError(f"good_class {cfg.good_class!r} is not one of the classes: {', '.join(labels)}")
    world = dist.current()  # rank 0 of 1 unless started by `--nproc` (luodi.train.dist)
    _write_run_file(world, run_dir / "config.json", cfg_json)
    say(f"train: {len(train)} images ({train_scan.summary()}); eval: {len(eval_samples)} images")

    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    paddle.seed(cfg.seed)
    # rank 0 computes and caches the features; the other ranks read them
    feats = dist.main_first(
        paddle, world, lambda: _Features(run_dir, cfg, home, say).load_or_compute(train, eval_samples, labels, progress)
    )
    x, y = feats["train_x"], feats["train_y"]
    ex, ey = feats["eval_x"], feats["eval_y"]
    _write_run_file(
        world,
        run_dir / "data.json",
        {
            "labels": list(labels),
            "train_views": len(y),
            "eval_images": len(ey),
            "skipped": [*feats["train_skipped"].tolist(), *feats["eval_skipped"].tolist()],
            "train_scan": train_scan.to_dict(),
            "eval_scan": eval_scan.to_dict(),
        },
    )
    weights = class_weights(y, len(labels)) if cfg.Train.class_weights == "balanced" else None
    model = _head_model(paddle, cfg, x, len(y), len(labels), weights)
    state: dict[str, Any] = {"epoch": 0, "best": None, "seconds": 0.0}
    if resume is not None:
        state = json.loads((run_dir / STATE).read_text(encoding="utf-8"))
        model.load(str(run_dir / "latest"))
        say(f"resumed after epoch {state['epoch']} of {cfg.Train.epochs}")

    callback = _RunCallback(run_dir, state, ex, ey, labels, cfg.Train.epochs, progress, say, time.perf_counter())
    remaining = cfg.Train.epochs - int(state["epoch"])
    if remaining > 0:
        loader = _loader(paddle, world, cfg, x, y, weights, epoch=int(state["epoch"]))
        model.fit(loader, epochs=remaining, verbose=0, callbacks=[callback])
    callback.close()
    best = state["best"] or {}
    return ClassifyTrainResult(
        run_dir=run_dir,
        labels=labels,
        epochs=int(state["epoch"]),
        best_epoch=int(best.get("epoch", 0)),
        best=best,
        train_report=train_scan,
        eval_report=eval_scan,
        seconds=time.perf_counter() - started,
    )


def _run_dir(cfg: VisionTrainConfig, cfg_json: dict[str, Any], name: str | None, resume: str | Path | None) -> Path:
    """The run's folder: ``resume`` (which must hold a checkpoint of the same config, but for
    Train.epochs), or a new one under output_dir."""
    if resume is None:
        run_dir = cfg.output_dir / (name or time.strftime("vision-%Y%m%d-%H%M%S"))
        if (run_dir / STATE).is_file():
            raise ConfigError(f"{run_dir} already holds a run; resume it with --resume or choose another --name")
        return run_dir
    run_dir = Path(resume)
    if not (run_dir / STATE).is_file():
        raise InputNotFoundError(f"{run_dir}: no checkpoint to resume from ({STATE} missing)")
    saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    if {**saved, "Train": {**saved["Train"], "epochs": 0}} != {**cfg_json, "Train": {**cfg_json["Train"], "epochs": 0}}:
        raise ConfigError(
            f"{run_dir}: the config differs from the one this run started with (only Train.epochs may change)"
        )
    return run_dir


def _head_model(paddle: Any, cfg: VisionTrainConfig, x: np.ndarray, n: int, classes: int, weights: Any) -> Any:
    """The classifier head over the features ``x`` (``n`` training views), ready for ``fit``."""
    from luodi.vision.nets import Head, SmoothedCrossEntropy

    head = Head(x.shape[1], classes, cfg.Train.dropout)
    head.set_statistics(x.mean(axis=0), x.std(axis=0))
    steps_per_epoch = int(np.ceil(n / cfg.Train.batch_size))
    sched = paddle.optimizer.lr.CosineAnnealingDecay(cfg.Train.lr, T_max=cfg.Train.epochs * steps_per_epoch)
    optimizer = paddle.optimizer.AdamW(
        learning_rate=sched, parameters=head.parameters(), weight_decay=cfg.Train.weight_decay
    )
    loss = SmoothedCrossEntropy(classes, weights, cfg.Train.label_smoothing)
    model = paddle.Model(head)  # with several ranks it joins them and trains through DataParallel
    model.prepare(optimizer, _scaled(paddle, loss), paddle.metric.Accuracy())
    return model


def _write_run_file(world: dist.World, path: Path, data: Any) -> None:
    """Rank 0 writes the run's files (the run folder is made by every rank: they all write logs there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if world.main:
        _write_json(path, data)


def _loader(
    paddle: Any,
    world: dist.World,
    cfg: VisionTrainConfig,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    *,
    epoch: int,
) -> Any:
    """Train.batch_size is the global batch: each rank takes its share of the same shuffled batches,
    with the scale that makes its share's (class-weighted) mean count as the batch's does."""
    sampler = dist.RankSampler(
        len(y),
        cfg.Train.batch_size,
        seed=cfg.seed,
        world=world,
        weights=None if weights is None else weights[y],
        epoch=epoch,
    )
    return paddle.io.DataLoader(_ScaledRows(x, y), batch_sampler=sampler)


class _ScaledRows:
    """Training rows for :class:`luodi.train.dist.RankSampler`'s ``(index, scale)`` items: the feature
    vector, the label and the scale (one per row; every row of a batch has the same)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y.astype(np.int64)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, item: tuple[int, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        i, scale = item
        return self.x[i], self.y[i : i + 1], np.array([scale], np.float32)


def _scaled(paddle: Any, loss: Any) -> Any:
    """``loss`` times the batch's scale (the loader's third column): a rank's share of the batch's mean."""

    class Scaled(paddle.nn.Layer):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.loss = loss

        def forward(self, logits: Any, label: Any, scale: Any) -> Any:
            return self.loss(logits, label) * scale[0, 0]

    return Scaled()


def _make_callback_base() -> type:
    from luodi.train.trainer import import_paddle

    return import_paddle().callbacks.Callback  # type: ignore[no-any-return]


class _RunCallback(_make_callback_base()):  # type: ignore[misc]
    """Per epoch: eval macro-F1, best checkpoint, latest checkpoint + state, metrics.csv, progress."""

    def __init__(  # noqa: PLR0913, PLR0917 - private, one call site: the run pieces the callback reports on
        self,
        run_dir: Path,
        state: dict[str, Any],
        ex: np.ndarray,
        ey: np.ndarray,
        labels: Sequence[str],
        epochs: int,
        progress: bool,
        say: Callable[[str], None],
        t0: float,
    ) -> None:
        super().__init__()
        from tqdm import tqdm

        self.run_dir, self.state, self.ex, self.ey, self.labels = run_dir, state, ex, ey, labels
        self.say, self.t0, self.seconds0 = say, t0, float(state.get("seconds", 0.0))
        self.bar = tqdm(total=epochs, initial=int(state["epoch"]), disable=not progress, unit="epoch")
        self.csv = run_dir / "metrics.csv"
        if not self.csv.is_file():
            with self.csv.open("w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(["epoch", "loss", "lr", "eval_accuracy", "eval_macro_f1"])

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        from luodi.train.trainer import import_paddle

        paddle = import_paddle()
        net = self.model.network
        self.state["epoch"] = int(self.state["epoch"]) + 1
        ep = self.state["epoch"]
        loss_v = (logs or {}).get("loss")
        world = dist.current()
        # each rank's loss is its scaled share: their mean is the whole batch's
        loss_f = world.mean(paddle, float(np.mean(loss_v))) if loss_v is not None else float("nan")
        if not world.main:
            return  # rank 0 evaluates and writes the run
        lr = float(self.model._optimizer.get_lr())
        row: dict[str, Any] = {"epoch": ep, "loss": loss_f}
        if len(self.ey):
            net.eval()
            with paddle.no_grad():
                pred = net(paddle.to_tensor(self.ex)).numpy().argmax(axis=1)
            net.train()
            m = classification_metrics(self.ey, pred, self.labels)
            row.update(accuracy=m.accuracy, macro_f1=m.macro_f1)
            best = self.state["best"]
            if best is None or (m.macro_f1, m.accuracy) > (best["macro_f1"], best["accuracy"]):
                self.state["best"] = row
                paddle.save(net.state_dict(), str(self.run_dir / "best.pdparams"))
        else:  # no eval images: the last epoch is the one exported
            self.state["best"] = row
            paddle.save(net.state_dict(), str(self.run_dir / "best.pdparams"))
        with self.csv.open("a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow([ep, loss_f, lr, row.get("accuracy", ""), row.get("macro_f1", "")])
        self.state["seconds"] = self.seconds0 + time.perf_counter() - self.t0
        self.model.save(str(self.run_dir / "latest"))
        _write_json(self.run_dir / STATE, self.state)
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss_f:.3f}", f1=f"{row.get('macro_f1', float('nan')):.3f}")

    def close(self) -> None:
        self.bar.close()
        plot_curves(self.csv, self.run_dir / "curves.png")


def plot_curves(csv_path: Path, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot([int(r["epoch"]) for r in rows], [float(r["loss"]) for r in rows], lw=1)
    ax1.set(title="train loss", xlabel="epoch")
    ev = [r for r in rows if r["eval_macro_f1"]]
    if ev:
        ax2.plot([int(r["epoch"]) for r in ev], [float(r["eval_macro_f1"]) for r in ev], label="macro-F1")
        ax2.plot([int(r["epoch"]) for r in ev], [float(r["eval_accuracy"]) for r in ev], label="accuracy")
        ax2.legend()
    ax2.set(title="eval", xlabel="epoch", ylim=(0, 1.02))
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)


def export_classifier(
    run_dir: str | Path, name: str, *, force: bool = False, home: Path | None = None
) -> tuple[Any, float]:
    """Backbone + the run's best head as one ONNX graph, registered as ``name`` (task vision-classify)."""
    import tempfile

    from luodi.zoo import register_files, resolve_home
    from luodi.zoo.store import MANIFEST, bundle_dir, check_name

    run = Path(run_dir)
    check_name(name, ConfigError)
    home_path = resolve_home(home)
    if (bundle_dir(home_path, name) / MANIFEST).is_file() and not force:
        raise ModelExistsError(f"model {name!r} already exists; pass --force to replace it")
    if not (run / "best.pdparams").is_file():
        raise InputNotFoundError(f"{run}: not a finished training run (best.pdparams missing)")
    cfg = VisionTrainConfig.model_validate(json.loads((run / "config.json").read_text(encoding="utf-8")))
    data = json.loads((run / "data.json").read_text(encoding="utf-8"))
    labels = tuple(data["labels"])
    from luodi.train.trainer import import_paddle
    from luodi.vision.nets import Classifier, Head, PooledFeatures, export_onnx, feature_dim, pretrained_backbone

    paddle = import_paddle()
    variant, state = backbone_state(cfg.backbone, home_path)
    head = Head(feature_dim(variant, cfg.stages), len(labels), cfg.Train.dropout)
    head.set_state_dict(paddle.load(str(run / "best.pdparams")))
    net = Classifier(PooledFeatures(pretrained_backbone(variant, state), cfg.stages), head)
    best = json.loads((run / STATE).read_text(encoding="utf-8")).get("best") or {}
    with tempfile.TemporaryDirectory(prefix="luodi-vision-") as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        diff = export_onnx(net, cfg.image_size, onnx_path, dynamic=cfg.resize == NATIVE)
        meta = VisionMeta(
            kind="classify",
            image_size=cfg.image_size,
            resize=cfg.resize,
            backbone=cfg.backbone,
            labels=labels,
            good_label=cfg.good_class,
            extra=(("eval", best), ("run", str(run.resolve()))),
        )
        bundle = register_files(
            name,
            task=TASK_CLASSIFY,
            files={"model": onnx_path, "meta": meta.write(Path(tmp) / "vision.json")},
            description=f"{len(labels)}-class defect classifier ({cfg.backbone} frozen, weights under its licence) "
            f"from {cfg.Train.data}",
            source=f"luodi train vision ({run.name})",
            force=force,
            home=home_path,
        )
    return bundle, diff
