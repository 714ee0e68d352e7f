"""Fine-tune a PP-OCR recogniser in dynamic graph: CTC loss, AdamW with warmup + cosine, periodic
evaluation, best checkpoint kept, resumable.

A run lives in one folder::

    RUN/config.json      the validated config            RUN/dict.txt       the (possibly extended) dictionary
    RUN/model.json       the architecture and base model
    RUN/latest.*         last checkpoint (weights, optimizer, state json)
    RUN/best.pdparams    weights with the best eval line accuracy, RUN/best.json its numbers
    RUN/metrics.csv      step, loss, lr, eval numbers    RUN/curves.png     the same as a plot
    RUN/vdl/             VisualDL scalar logs (when visualdl is installed)

Interrupting (Ctrl-C) writes a checkpoint first; ``--resume RUN`` continues from the last one with
the same batch order, augmentation and learning-rate schedule as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, InputNotFoundError, ModelError
from luodi.eval.metrics import rec_metrics
from luodi.train import dist
from luodi.train.charset import Charset, extend_head, read_charset
from luodi.train.config import TrainConfig
from luodi.train.data import (
    DataReport,
    LineImage,
    augment,
    bucketed_batches,
    check_nonempty,
    gather_groups,
    gather_samples,
    load_lines,
    make_batch,
)

log = logging.getLogger(__name__)

STATE = "latest.json"
MODEL_INFO = "model.json"  # the rebuilt layout a run trains (runs without it predate v6: PP-OCRv4's)


def import_paddle() -> Any:
    """Import paddle quietly (it warns at import about build tooling we never use).

    The device is left alone: the training commands choose it once per process
    (:func:`luodi.train.device.use`), and helpers such as :func:`evaluate` import paddle again mid-run.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import paddle
    return paddle


@dataclass(frozen=True, slots=True)
class EvalResult:
    step: int
    n: int
    line_accuracy: float
    line_accuracy_norm: float
    one_minus_cer: float


@dataclass(frozen=True, slots=True)
class TrainResult:
    run_dir: Path
    steps: int
    seconds: float
    final_loss: float
    baseline: EvalResult | None
    best: EvalResult | None
    last: EvalResult | None
    train_report: str
    eval_report: str
    added_characters: tuple[str, ...] = ()
    report: Any = None  # luodi.train.regression.Report: before/after on eval, general set, other styles


@dataclass
class _State:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class ScalarLog:
    """metrics.csv always; VisualDL event files when visualdl is installed; curves.png on flush."""

    COLUMNS = ("step", "loss", "lr", "eval_line_accuracy", "eval_line_accuracy_norm", "eval_one_minus_cer")

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "metrics.csv"
        self.png = run_dir / "curves.png"
        if not self.path.is_file():
            with self.path.open("w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(self.COLUMNS)
        self._vdl: Any = None
        try:
            from visualdl import LogWriter

            self._vdl = LogWriter(logdir=str(run_dir / "vdl"))
        except ImportError:
            log.info("visualdl not installed: scalars go to metrics.csv and curves.png only")

    def write(self, step: int, **values: float) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow([step, *(values.get(c, "") for c in self.COLUMNS[1:])])
        if self._vdl is not None:
            for tag, value in values.items():
                self._vdl.add_scalar(
                    tag=tag.replace("eval_", "eval/").replace("loss", "train/loss"), value=value, step=step
                )

    def close(self) -> None:
        if self._vdl is not None:
            self._vdl.close()
        plot_curves(self.path, self.png)


def plot_curves(csv_path: Path, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    loss = [(int(r["step"]), float(r["loss"])) for r in rows if r["loss"]]
    acc = [(int(r["step"]), float(r["eval_line_accuracy"])) for r in rows if r["eval_line_accuracy"]]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    if loss:
        ax1.plot(*zip(*loss, strict=True), lw=1)
    ax1.set(title="train CTC loss", xlabel="step")
    if acc:
        ax2.plot(*zip(*acc, strict=True), marker="o")
    ax2.set(title="eval line accuracy", xlabel="step", ylim=(0, 1))
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)


def lr_factor(step: int, total: int, warmup: int, schedule: str, min_ratio: float) -> float:
    """Linear warmup, then cosine down to ``min_ratio`` (or constant)."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant" or total <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _atomic_save(paddle: Any, obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    paddle.save(obj, str(tmp))
    os.replace(tmp, path)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _rename_opt_state(state: dict[str, Any], model: Any, to_structured: bool) -> dict[str, Any]:
    """Optimizer state is keyed by paddle's global parameter names (``conv2d_228.w_0_moment1_0``),
    which differ between processes; checkpoints key it by the layer path (``head.weight``) instead."""
    pairs = [(p.name, f"@{n}") for n, p in model.named_parameters()]
    if not to_structured:
        pairs = [(b, a) for a, b in pairs]
    pairs.sort(key=lambda kv: len(kv[0]), reverse=True)  # longest first: no name shadows a longer one
    out: dict[str, Any] = {}
    for key, value in state.items():
        new_key = key
        for old, new in pairs:
            if key.startswith(old + "_") or key == old:
                new_key = new + key[len(old) :]
                break
        out[new_key] = value
    return out


def _without_length(cfg: dict[str, Any]) -> dict[str, Any]:
    """The config minus the run length, which a resumed run may extend."""
    train = {k: v for k, v in cfg.get("Train", {}).items() if k not in ("steps", "epochs")}
    return {**cfg, "Train": train}


def ctc_loss_on(model: Any, lines: list[LineImage], charset: Charset, *, batch_size: int = 8) -> float:
    """Mean CTC loss of ``model`` over ``lines`` (no augmentation, no gradient), e.g. to compare checkpoints."""
    paddle = import_paddle()
    ctc = paddle.nn.CTCLoss(blank=0, reduction="none")
    index = charset.index()
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with paddle.no_grad():
        for start in range(0, len(lines), batch_size):
            chunk = lines[start : start + batch_size]
            batch = make_batch([ln.image for ln in chunk], [ln.label for ln in chunk], index)
            logits = model.logits(paddle.to_tensor(batch.images))
            loss = ctc(
                logits.transpose([1, 0, 2]),
                paddle.to_tensor(batch.labels),
                paddle.to_tensor(batch.input_lengths),
                paddle.to_tensor(batch.label_lengths),
            )
            total += float(loss.sum().numpy())
            count += len(chunk)
    if was_training:
        model.train()
    return total / max(count, 1)


def cpu_threads(requested: int | None, ranks_here: int) -> int:
    """Threads for Paddle's CPU math: ``requested``, else the usable cores shared by the ranks on this node."""
    if requested is not None:
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, ranks_here))


def use_cpu_threads(paddle: Any, requested: int | None, world: dist.World) -> int:
    """Set Paddle's CPU math threads for this process (a GPU run leaves them alone); returns the number."""
    if paddle.device.get_device() != "cpu":
        return 0
    ranks_here = int(os.environ.get("PADDLE_LOCAL_SIZE", world.size))
    n = cpu_threads(requested, ranks_here)
    paddle.base.core.set_num_threads(n)
    return n


def base_files(base: str, home: Path | None = None) -> tuple[Path, Path]:
    """The base bundle's rec ONNX (the pretrained weights) and its dictionary."""
    from luodi.zoo import get_bundle

    bundle = get_bundle(base, home=home)
    if bundle.rec is None or bundle.rec.model is None:
        raise ModelError(f"bundle {base!r} has no ONNX recogniser to start from")
    if bundle.dictionary is None:
        raise ModelError(f"bundle {base!r} has no character dictionary")
    return bundle.rec.model, bundle.dictionary


def set_bn_eval(model: Any) -> None:
    from paddle import nn

    for layer in model.sublayers():
        if isinstance(layer, nn.BatchNorm2D):
            layer.eval()


def evaluate(model: Any, lines: list[LineImage], charset: Charset, *, batch_size: int = 16) -> tuple[list[str], Any]:
    """Greedy-decode every line; returns predictions and luodi's rec metrics."""
    paddle = import_paddle()
    was_training = model.training
    model.eval()
    order = sorted(range(len(lines)), key=lambda i: lines[i].image.shape[1])
    preds: list[str] = [""] * len(lines)
    with paddle.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = make_batch([lines[i].image for i in idx], [lines[i].label for i in idx], None)
            probs = model(paddle.to_tensor(batch.images)).numpy()
            for row, i in enumerate(idx):
                preds[i] = charset.decode(probs[row], int(batch.input_lengths[row]))
    if was_training:
        model.train()
    return preds, rec_metrics(preds, [ln.label for ln in lines])


class Trainer:
    """One fine-tuning run. Construct, then :meth:`run`. Not thread-safe (it owns a model)."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        *,
        resume: bool = False,
        home: Path | None = None,
        progress: bool = True,
        on_log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.resume = resume
        self.home = home
        self.progress = progress
        self.say = on_log or (lambda msg: log.info("%s", msg))

    # --- setup -------------------------------------------------------------------------------
    def _prepare_dir(self) -> None:
        cfg_json = self.config.model_dump(mode="json")
        cfg_file = self.run_dir / "config.json"
        if self.resume:
            if not (self.run_dir / STATE).is_file():
                raise InputNotFoundError(f"{self.run_dir}: no checkpoint to resume from ({STATE} missing)")
            saved = json.loads(cfg_file.read_text(encoding="utf-8"))
            if _without_length(saved) != _without_length(cfg_json):
                raise ConfigError(
                    f"{self.run_dir}: the config differs from the one this run started with "
                    "(only Train.steps / Train.epochs may change on resume)"
                )
            _write_json(cfg_file, cfg_json)
            return
        if (self.run_dir / STATE).is_file():
            raise ConfigError(f"{self.run_dir} already holds a run; resume it with --resume or choose another --name")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        _write_json(cfg_file, cfg_json)

    def _charset(self, train_samples_text: list[str]) -> tuple[Charset, Charset, tuple[str, ...]]:
        _onnx_path, dict_path = base_files(self.config.base, self.home)
        base = read_charset(dict_path)
        wanted = list(self.config.Characters.extra)
        if self.config.Characters.add_unknown:
            known = base.known()
            wanted += sorted({c for t in train_samples_text for c in t if c not in known})
        new = base.extended(wanted)
        added = new.entries[len(base.entries) :]
        return base, new, added

    def _data(
        self, known: set[str], synth_root: Path
    ) -> tuple[list[LineImage], DataReport, list[LineImage], DataReport]:
        cfg = self.config
        train_samples = self._train_samples
        prep = cfg.Preprocess.line_prep()
        train_lines, train_rep = load_lines(
            train_samples, max_width=cfg.Preprocess.max_width, known=known, drop_unknown=True, prep=prep
        )
        check_nonempty(train_lines, "training", train_rep)
        self.say(f"train: {train_rep.summary()}")
        if cfg.Train.max_stock_cer is not None:
            train_lines = self._legible(train_lines, cfg.Train.max_stock_cer)
            check_nonempty(train_lines, "legible training", train_rep)
        eval_lines: list[LineImage] = []
        eval_rep = DataReport()
        if cfg.Eval is not None:
            for name, samples in gather_groups(cfg.Eval, synth_root):
                # unknown characters stay in eval: the model cannot read them, and the score should say so
                lines, rep = load_lines(
                    samples,
                    max_width=cfg.Preprocess.max_width,
                    known=known,
                    drop_unknown=False,
                    group=name,
                    prep=prep,
                )
                eval_lines += lines
                eval_rep.merge(rep)
            eval_lines = eval_lines[: cfg.Eval.max_samples]
            check_nonempty(eval_lines, "evaluation", eval_rep)
            self.say(f"eval: {eval_rep.summary()}")
        return train_lines, train_rep, eval_lines, eval_rep

    def _legible(self, lines: list[LineImage], max_cer: float) -> list[LineImage]:
        """The training lines the stock model can read (luodi.train.legibility)."""
        from luodi.train.legibility import drop_illegible, stock_reads

        onnx_path, dict_path = base_files(self.config.base, self.home)
        kept, rep = drop_illegible(lines, stock_reads(onnx_path, lines, read_charset(dict_path)), max_cer)
        self.say(f"train: {rep.summary(max_cer)}")
        return kept

    def _optimizer(self, paddle: Any, model: Any, total: int) -> tuple[Any, Any]:
        opt_cfg = self.config.Optimizer

        def factor(step: int) -> float:
            return lr_factor(step, total, opt_cfg.warmup_steps, opt_cfg.schedule, opt_cfg.min_lr_ratio)

        sched = paddle.optimizer.lr.LambdaDecay(learning_rate=opt_cfg.lr, lr_lambda=factor)
        trainable = [p for p in model.parameters() if not p.stop_gradient]
        decay_names = {p.name for p in trainable if len(p.shape) >= 2}
        clip = paddle.nn.ClipGradByGlobalNorm(opt_cfg.grad_clip) if opt_cfg.grad_clip else None
        optimizer = paddle.optimizer.AdamW(
            learning_rate=sched,
            parameters=trainable,
            weight_decay=opt_cfg.weight_decay,
            apply_decay_param_fun=lambda name: name in decay_names,  # no decay on norms, biases, scalars
            grad_clip=clip,
        )
        return sched, optimizer

    def _regression_sets(self, known: set[str]) -> dict[str, list[LineImage]]:
        """The shipped general regression set, rendered under output_dir/_synth (empty when off)."""
        if not self.config.Report.regression:
            return {}
        from luodi.eval.datasets import read_rec_labels
        from luodi.train import regression

        spec = regression.load_spec()
        files = regression.render(spec, self.config.output_dir / "_synth", self.config.Report.max_lines)
        out: dict[str, list[LineImage]] = {}
        for name, label_file in files.items():
            lines, _ = load_lines(
                read_rec_labels(label_file),
                max_width=self.config.Preprocess.max_width,
                known=known,
                drop_unknown=False,
                prep=self.config.Preprocess.line_prep(),
            )
            out[name] = lines
        return out

    def run(self) -> TrainResult:  # noqa: PLR0912, PLR0915 - the training loop; to be split into steps
        cfg = self.config
        world = dist.current()  # rank 0 of 1 unless started by `--nproc` (luodi.train.dist)
        if world.main:
            self._prepare_dir()  # cheap checks first: a bad --resume fails before paddle loads
        paddle = import_paddle()
        from luodi.train.guard import EMA, Guard, apply_backbone_lr, freeze_lower_stages, interpolated
        from luodi.train.model import build_model
        from luodi.train.weights import detect_architecture, load_pretrained

        paddle.seed(cfg.seed)
        threads = use_cpu_threads(paddle, cfg.Train.threads, world)
        dist.init(paddle, world)
        dist.setup_turn(paddle, world, first=True)  # rank 0 renders and caches shared data before the others
        synth_root = cfg.output_dir / "_synth"

        if threads:
            self.say(f"CPU: {threads} thread{'s' if threads > 1 else ''} for Paddle's math")
        self._train_samples = gather_samples(cfg.Train, synth_root)
        base_cs, charset, added = self._charset([s.label for s in self._train_samples])
        if self.resume:
            charset = read_charset(self.run_dir / "dict.txt")
        elif world.main:
            charset.write(self.run_dir / "dict.txt")
        if added:
            self.say(f"dictionary: {len(added)} characters added: {''.join(added)[:60]}")
        known = charset.known()
        train_lines, train_rep, eval_lines, eval_rep = self._data(known, synth_root)

        onnx_path, _ = base_files(cfg.base, self.home)
        arch = detect_architecture(onnx_path, base_cs.num_classes)
        model = build_model(base_cs.num_classes, arch)
        load_pretrained(model, onnx_path)
        extend_head(model, base_cs, charset, seed=cfg.seed)
        if world.main:
            _write_json(self.run_dir / MODEL_INFO, {"arch": arch, "base": cfg.base, "num_classes": charset.num_classes})

        guard_cfg = cfg.Guard
        guard: Guard | None = None
        if guard_cfg.enabled:
            if guard_cfg.backbone_lr < 1.0:
                apply_backbone_lr(model, guard_cfg.backbone_lr)
            if guard_cfg.frozen_stages:
                freeze_lower_stages(model, guard_cfg.frozen_stages)
            if guard_cfg.share > 0:
                guard = Guard.build(
                    guard_cfg,
                    onnx_path=onnx_path,
                    base=base_cs,
                    student=charset,
                    root=synth_root,
                    max_width=cfg.Preprocess.max_width,
                    batch_size=cfg.Train.batch_size,
                    prep=cfg.Preprocess.line_prep(),
                )
                self.say(
                    f"guard: {len(guard.lines)} general lines, {guard.per_batch} per batch, "
                    f"distillation weight {guard_cfg.distill}, backbone lr x{guard_cfg.backbone_lr}"
                )
        ema = EMA(model, guard_cfg.ema) if guard_cfg.enabled and guard_cfg.ema else None
        # the stock weights (head extended as trained) to interpolate toward: taken before any resume
        blend = guard_cfg.interpolate if guard_cfg.enabled else 1.0
        stock_state = {k: v.numpy().copy() for k, v in model.state_dict().items()} if blend < 1.0 else None
        if stock_state is not None:
            self.say(
                f"evaluated and exported: {blend:g} x the fine-tuned weights + {1 - blend:g} x stock"
                " (Guard.interpolate)"
            )
        regression_sets = self._regression_sets(known) if world.main else {}
        dist.setup_turn(paddle, world, first=False)
        net = dist.wrap(paddle, model, world)  # forward/backward through it; checkpoints from `model`

        steps_per_epoch = math.ceil(len(train_lines) / cfg.Train.batch_size)
        total = cfg.Train.steps if cfg.Train.steps is not None else steps_per_epoch * (cfg.Train.epochs or 1)
        sched, optimizer = self._optimizer(paddle, model, total)

        state = _State()
        if self.resume:
            state = _State(**json.loads((self.run_dir / STATE).read_text(encoding="utf-8")))
            model.set_state_dict(paddle.load(str(self.run_dir / "latest.pdparams")))
            optimizer.set_state_dict(_rename_opt_state(paddle.load(str(self.run_dir / "latest.pdopt")), model, False))
            if ema is not None and (self.run_dir / "latest.ema").is_file():
                ema.load(paddle.load(str(self.run_dir / "latest.ema")))
            sched.last_epoch = state.step - 1
            sched.step()
            self.say(f"resumed at step {state.step} of {total}")

        scalars: Any = ScalarLog(self.run_dir) if world.main else dist.NullLog()
        ctc = paddle.nn.CTCLoss(blank=0, reduction="none")
        char_index = charset.index()

        def eval_weights() -> Any:
            stack = contextlib.ExitStack()
            if ema is not None:
                stack.enter_context(ema.applied(model))
            if stock_state is not None:  # after the EMA: the averaged weights are what is blended
                stack.enter_context(interpolated(model, stock_state, blend))
            return stack

        def do_eval(step: int) -> EvalResult | None:
            if not eval_lines or not world.main:
                return None
            with eval_weights():
                preds, m = evaluate(model, eval_lines, charset)
            set_bn_eval(model) if cfg.Train.freeze_bn else None
            res = EvalResult(step, m.n, m.line_accuracy, m.line_accuracy_norm, m.one_minus_cer)
            groups = group_accuracy(eval_lines, preds)
            if step == 0:
                state.extra["eval_groups_before"] = groups
            best_so_far = (state.best or {}).get("line_accuracy", -1.0)
            if step == 0 or res.line_accuracy > best_so_far:
                state.extra["eval_groups_best"] = groups
            scalars.write(
                step,
                eval_line_accuracy=m.line_accuracy,
                eval_line_accuracy_norm=m.line_accuracy_norm,
                eval_one_minus_cer=m.one_minus_cer,
            )
            return res

        def save(tag: str = "latest") -> None:
            if not world.main:
                return
            if tag == "best":
                with eval_weights():
                    _atomic_save(paddle, model.state_dict(), self.run_dir / "best.pdparams")
                return
            _atomic_save(paddle, model.state_dict(), self.run_dir / f"{tag}.pdparams")
            _atomic_save(paddle, _rename_opt_state(optimizer.state_dict(), model, True), self.run_dir / "latest.pdopt")
            if ema is not None:
                _atomic_save(paddle, ema.state(), self.run_dir / "latest.ema")
            _write_json(self.run_dir / STATE, asdict(state))

        started = time.perf_counter()
        elapsed_before = state.seconds
        if state.step == 0 and state.baseline is None:
            if eval_lines:
                base_eval = do_eval(0)
                state.baseline = asdict(base_eval) if base_eval else None
                state.best = state.baseline
                save("best")
                self.say(f"before fine-tuning: eval line accuracy {base_eval.line_accuracy:.4f}" if base_eval else "")
            if regression_sets:
                state.extra["regression_before"], state.extra["regression_before_norm"] = score_sets(
                    model, regression_sets, charset
                )

        model.train()
        if cfg.Train.freeze_bn:
            set_bn_eval(model)
        from tqdm import tqdm

        bar = tqdm(
            total=total, initial=state.step, disable=not (self.progress and world.main), unit="step", dynamic_ncols=True
        )
        loss_value = float("nan")
        window: list[float] = []
        aug_cfg = cfg.Augment
        try:
            while state.step < total:
                epoch_batches = list(
                    bucketed_batches(train_lines, cfg.Train.batch_size, np.random.default_rng([cfg.seed, state.epoch]))
                )
                for k in range(state.batch_in_epoch, len(epoch_batches)):
                    if state.step >= total:
                        break
                    rng = np.random.default_rng([cfg.seed, 1, state.step])
                    idx = epoch_batches[k]
                    imgs = [augment(train_lines[i].image, aug_cfg, rng) for i in idx]
                    texts = [train_lines[i].label for i in idx]
                    picked: list[int] = []
                    if guard is not None:
                        # guard lines replace the batch's last places: the step costs what it did
                        picked = guard.pick(state.step, cfg.seed, max(im.shape[1] for im in imgs))
                        keep = max(1, len(imgs) - len(picked))
                        imgs = imgs[:keep] + [guard.lines[g].image for g in picked]
                        texts = texts[:keep] + [guard.lines[g].label for g in picked]
                    part = world.part(len(imgs))  # this rank's places in the (global) batch: all of them alone
                    batch = make_batch([imgs[i] for i in part.places], [texts[i] for i in part.places], char_index)
                    width = max(im.shape[1] for im in imgs)
                    logits = net(paddle.to_tensor(dist.pad_width(batch.images, width)))
                    loss = part.mean(
                        ctc(
                            logits.transpose([1, 0, 2]),
                            paddle.to_tensor(batch.labels),
                            paddle.to_tensor(batch.input_lengths),
                            paddle.to_tensor(batch.label_lengths),
                        )
                    )
                    if guard is not None and picked and guard_cfg.distill > 0:
                        rows, mine, share = part.guard_rows(len(imgs) - len(picked), picked)
                        distill = guard.distill_loss(paddle, logits, rows, mine) if rows else None
                        if distill is not None:
                            loss = loss + guard_cfg.distill * share * distill
                    loss.backward()
                    optimizer.step()
                    optimizer.clear_grad()
                    sched.step()
                    if ema is not None:
                        ema.update(model)
                    loss_value = world.mean(paddle, float(loss.numpy()))  # the global batch's loss
                    if not math.isfinite(loss_value):
                        raise ModelError(f"the loss became {loss_value} at step {state.step}; lower Optimizer.lr")
                    window.append(loss_value)
                    state.step += 1
                    state.batch_in_epoch = k + 1
                    bar.update(1)
                    if state.step % cfg.Train.log_every == 0 or state.step == total:
                        lr = float(optimizer.get_lr())
                        # the mean over the logging window: single batches of mixed widths are too noisy to plot
                        mean_loss = sum(window) / len(window)
                        window.clear()
                        scalars.write(state.step, loss=mean_loss, lr=lr)
                        bar.set_postfix(loss=f"{mean_loss:.3f}", lr=f"{lr:.2e}")
                    if cfg.Eval is not None and (state.step % cfg.Eval.every_steps == 0 or state.step == total):
                        res = do_eval(state.step)
                        if res is not None:
                            state.last = asdict(res)
                            best_acc = (state.best or {}).get("line_accuracy", -1.0)
                            if res.line_accuracy > best_acc:
                                state.best = asdict(res)
                                save("best")
                            best_now = max(best_acc, res.line_accuracy)
                            self.say(f"step {state.step}: eval accuracy {res.line_accuracy:.4f} (best {best_now:.4f})")
                        state.seconds = elapsed_before + time.perf_counter() - started
                        save()
                else:
                    state.epoch += 1
                    state.batch_in_epoch = 0
        except KeyboardInterrupt:
            state.seconds = elapsed_before + time.perf_counter() - started
            save()
            bar.close()
            scalars.close()
            raise
        bar.close()
        state.seconds = elapsed_before + time.perf_counter() - started
        if cfg.Eval is None:
            save("best")  # without an eval set the last weights are the ones to export
        save()
        scalars.close()
        if state.best is not None and world.main:
            _write_json(self.run_dir / "best.json", state.best)
        report = self._report(paddle, model, charset, state, regression_sets) if world.main else None
        return TrainResult(
            run_dir=self.run_dir,
            steps=state.step,
            seconds=state.seconds,
            final_loss=loss_value,
            baseline=EvalResult(**state.baseline) if state.baseline else None,
            best=EvalResult(**state.best) if state.best else None,
            last=EvalResult(**state.last) if state.last else None,
            train_report=train_rep.summary(),
            eval_report=eval_rep.summary(),
            added_characters=tuple(added),
            report=report,
        )

    def _report(
        self, paddle: Any, model: Any, charset: Charset, state: _State, regression_sets: dict[str, list[LineImage]]
    ) -> Any:
        """The before/after table of the exported (best) weights; written to RUN/report.md and .json."""
        from luodi.train import regression

        rows: list[regression.Row] = []
        if state.baseline and state.best:
            b, a = state.baseline, state.best
            acc_b, acc_a = float(b["line_accuracy"]), float(a["line_accuracy"])
            rows.append(regression.Row("your eval set", int(a["n"]), acc_b, acc_a))
            g_before, g_best = state.extra.get("eval_groups_before", {}), state.extra.get("eval_groups_best", {})
            if len(g_before) > 1:  # per source: your other styles
                for name, (n, before) in g_before.items():
                    after = g_best.get(name, (n, before))[1]
                    rows.append(regression.Row(f"your eval set: {name}", int(n), float(before), float(after)))
        before = state.extra.get("regression_before") or {}
        before_norm = state.extra.get("regression_before_norm") or {}  # absent in runs started before it
        if regression_sets and before:
            model.set_state_dict(paddle.load(str(self.run_dir / "best.pdparams")))
            after, after_norm = score_sets(model, regression_sets, charset)
            for name, lines in regression_sets.items():
                b_norm = before_norm.get(name)
                rows.append(
                    regression.Row(
                        f"regression: {name}",
                        len(lines),
                        float(before[name]),
                        float(after[name]),
                        None if b_norm is None else float(b_norm),
                        None if b_norm is None else float(after_norm[name]),
                    )
                )
        if not rows:
            return None
        spec = regression.load_spec() if regression_sets else None
        general = tuple(f"regression: {g}" for g in spec.general) if spec else ()
        unseen = tuple(f"regression: {g}" for g in spec.unseen if g in regression_sets) if spec else ()
        report = regression.Report(tuple(rows), general, self.config.Report.max_drop, unseen)
        regression.save_report(report, self.run_dir)
        self.say("before/after (line accuracy):\n" + report.table())
        if report.regressed():
            self.say("warning: " + report.refusal())
        return report


def group_accuracy(lines: list[LineImage], preds: list[str]) -> dict[str, tuple[int, float]]:
    """Exact line accuracy per data source: name -> (lines, accuracy)."""
    hits: dict[str, list[bool]] = {}
    for line, pred in zip(lines, preds, strict=True):
        hits.setdefault(line.group, []).append(pred == line.label)
    return {g: (len(h), sum(h) / len(h)) for g, h in hits.items()}


def score_sets(
    model: Any, sets: dict[str, list[LineImage]], charset: Charset
) -> tuple[dict[str, float], dict[str, float]]:
    """Line accuracy of ``model`` on each named set: exact, and ignoring spaces and width."""
    metrics = {name: evaluate(model, lines, charset)[1] for name, lines in sets.items()}
    return (
        {name: float(m.line_accuracy) for name, m in metrics.items()},
        {name: float(m.line_accuracy_norm) for name, m in metrics.items()},
    )


def train(
    config: TrainConfig,
    *,
    name: str | None = None,
    resume: str | Path | None = None,
    home: Path | None = None,
    progress: bool = True,
    on_log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fine-tune per ``config`` into ``output_dir/name`` (or continue the run in ``resume``)."""
    run_dir = Path(resume) if resume is not None else config.output_dir / (name or time.strftime("rec-%Y%m%d-%H%M%S"))
    trainer = Trainer(config, run_dir, resume=resume is not None, home=home, progress=progress, on_log=on_log)
    return trainer.run()
