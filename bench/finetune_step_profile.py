"""Where a fine-tuning step's CPU time goes: one recipe's first batches, timed part by part.

    python bench/finetune_step_profile.py --config out/dotmatrix.yml --steps 4 --log-softmax written paddle

Builds the run as ``luodi train rec`` does (lines from the recipe's synth specs, rendered or reused
under its output_dir/_synth; the base model; the guard with its soft targets; the optimizer) and
times, in process CPU seconds, each part of a step: the batch (augment, normalise, pad), the
backbone's forward, neck and head, the CTC loss, the guard's distillation term, backward and the
optimizer. ``--log-softmax`` names the distillation's log-softmax variants to compare; each step
runs every variant on the same batch in the same process, so their CPU seconds compare under the
same load. The model is updated after every variant's step (both take optimizer steps), so the
loss values differ a little between variants; only the times are the result.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

PARTS = ("batch", "backbone forward", "neck + head forward", "ctc loss", "distillation", "backward", "optimizer")


def variants(paddle: Any) -> dict[str, Callable[[Any, Any], Any]]:
    import paddle.nn.functional as F  # noqa: N812

    from luodi.train import guard

    return {"written": guard.log_softmax, "paddle": lambda _p, x: F.log_softmax(x, axis=-1)}


def build(config: Path, threads: int) -> dict[str, Any]:
    """Everything a step needs, set up as the trainer does (head-only/backbone settings from the recipe)."""
    from luodi.train import guard as g
    from luodi.train.charset import read_charset
    from luodi.train.config import load_config
    from luodi.train.data import bucketed_batches, gather_samples, load_lines
    from luodi.train.model import build_model
    from luodi.train.trainer import Trainer, base_files, import_paddle, set_bn_eval
    from luodi.train.weights import detect_architecture, load_pretrained

    cfg = load_config(config)
    paddle = import_paddle()
    paddle.seed(cfg.seed)
    paddle.base.core.set_num_threads(threads)
    root = cfg.output_dir / "_synth"
    onnx_path, dict_path = base_files(cfg.base)
    cs = read_charset(dict_path)
    width = cfg.Preprocess.max_width
    lines, _ = load_lines(gather_samples(cfg.Train, root), max_width=width, known=cs.known(), drop_unknown=True)
    model = build_model(cs.num_classes, detect_architecture(onnx_path, cs.num_classes))
    load_pretrained(model, onnx_path)
    if cfg.Guard.backbone_lr < 1.0:
        g.apply_backbone_lr(model, cfg.Guard.backbone_lr)
    guard = g.Guard.build(
        cfg.Guard, onnx_path=onnx_path, base=cs, student=cs, root=root, max_width=width, batch_size=cfg.Train.batch_size
    )
    sched, opt = Trainer(cfg, Path(cfg.output_dir) / "profile")._optimizer(paddle, model, cfg.Train.steps or 100)
    model.train()
    if cfg.Train.freeze_bn:
        set_bn_eval(model)
    batches = list(bucketed_batches(lines, cfg.Train.batch_size, np.random.default_rng([cfg.seed, 0])))
    return {
        "cfg": cfg, "paddle": paddle, "lines": lines, "model": model, "guard": guard, "sched": sched,
        "opt": opt, "index": cs.index(), "batches": batches, "ctc": paddle.nn.CTCLoss(blank=0, reduction="none"),
    }  # fmt: skip


def step(run: dict[str, Any], k: int, times: dict[str, float]) -> tuple[int, float]:
    """One training step as the trainer takes it (guard lines in the batch's last places); adds CPU-s per part."""
    from luodi.train.data import augment, make_batch

    cfg, paddle, lines, model, guard = run["cfg"], run["paddle"], run["lines"], run["model"], run["guard"]
    clock = [time.process_time()]

    def lap(part: str) -> None:
        now = time.process_time()
        times[part] = times.get(part, 0.0) + now - clock[0]
        clock[0] = now

    rng = np.random.default_rng([cfg.seed, 1, k])
    idx = run["batches"][k]
    imgs = [augment(lines[i].image, cfg.Augment, rng) for i in idx]
    texts = [lines[i].label for i in idx]
    picked = guard.pick(k, cfg.seed, max(im.shape[1] for im in imgs))
    keep = len(imgs) - len(picked)
    imgs = imgs[:keep] + [guard.lines[i].image for i in picked]
    texts = texts[:keep] + [guard.lines[i].label for i in picked]
    batch = make_batch(imgs, texts, run["index"])
    x = paddle.to_tensor(batch.images)
    lap("batch")
    feat = model.backbone(x)
    lap("backbone forward")
    logits = model.head(model.neck(feat))
    lap("neck + head forward")
    loss = run["ctc"](
        logits.transpose([1, 0, 2]),
        paddle.to_tensor(batch.labels),
        paddle.to_tensor(batch.input_lengths),
        paddle.to_tensor(batch.label_lengths),
    ).mean()
    lap("ctc loss")
    distill = guard.distill_loss(paddle, logits, list(range(keep, len(imgs))), picked)
    if distill is not None:
        loss = loss + cfg.Guard.distill * distill  # one process: the trainer's share factor is 1
    lap("distillation")
    loss.backward()
    lap("backward")
    run["opt"].step()
    run["opt"].clear_grad()
    run["sched"].step()
    lap("optimizer")
    return int(batch.images.shape[3]), float(loss.numpy())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1, help="Paddle's CPU math threads (1: CPU-s = one core's work)")
    ap.add_argument("--log-softmax", nargs="+", default=["written"], choices=["written", "paddle"])
    args = ap.parse_args(argv)
    from luodi.train import guard as g

    started = time.process_time()
    run = build(args.config, args.threads)
    print(f"set-up (lines loaded, model, guard and its soft targets): {time.process_time() - started:.1f} CPU-s")
    fns = variants(run["paddle"])
    times: dict[str, dict[str, float]] = {name: {} for name in args.log_softmax}
    for k in range(args.steps):
        for name in args.log_softmax:
            g.log_softmax = fns[name]  # the one module attribute distill_loss reads; this script only
            width, loss = step(run, k, times[name])
            print(f"step {k} ({name}): width {width}, loss {loss:.4f}", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f}; CPU-s per step (mean of {args.steps}), {args.threads} thread(s)")
    print("| part | " + " | ".join(args.log_softmax) + " |\n|---|" + "---|" * len(args.log_softmax))
    for part in PARTS:
        print(f"| {part} | " + " | ".join(f"{times[n].get(part, 0) / args.steps:.3f}" for n in args.log_softmax) + " |")
    print("| **step** | " + " | ".join(f"{sum(times[n].values()) / args.steps:.2f}" for n in args.log_softmax) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
