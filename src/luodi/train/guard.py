"""The forgetting guard: fine-tuning learns the user's data without unlearning everything else.

A recogniser fine-tuned only on waybill text in one print style drifts: characters that never occur
in its training lines slide toward look-alikes (垄 -> 奎, 己 -> 已) and punctuation gets confused.
Four parts keep the stock model's knowledge; each is a config key (``Guard``) and the bench's
ablation (bench/results/finetune_ablation.md) says what each buys:

* **general lines** mixed into every batch: text sampled from jieba's word frequencies (the real
  character frequencies of modern Chinese), a share of lines drawn uniformly from the model's
  dictionary so rare classes appear too, rendered with the train-family renderer;
* **distillation**: on those lines the stock model's per-timestep distribution is the target of a
  KL term. It is computed once, with ONNX Runtime on the shipped file, and kept sparse: the top-k
  classes per timestep plus one bin for the rest of the probability mass;
* a **lower learning rate on the backbone** (0 freezes it), so low-level features move less than
  the neck and head, and **frozen lower stages** (the stem and the first block groups get no
  gradient at all, which also makes a step cheaper);
* an **exponential moving average** of the weights, evaluated and exported instead of the raw ones;
* **weight interpolation** toward the stock model (WiSE-FT): what is evaluated, chosen and exported
  is ``(1 - a) * stock + a * fine-tuned`` (``Guard.interpolate``; 1 exports the fine-tuned weights).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError
from luodi.ocr.line_prep import LinePrep
from luodi.train.charset import Charset, old_class_positions
from luodi.train.config import GuardSpec
from luodi.train.data import WIDTH_ALIGN, LineImage, load_lines

GUARD_FAMILY = "train"  # the guard's lines never use the fonts, heads or text of the blind eval


def coverage_characters(charset: Charset, fonts: Any) -> list[str]:
    """Single-character CJK dictionary entries that some train-family font can draw."""
    chars = [e for e in charset.entries if len(e) == 1 and ord(e) >= 0x2E80]
    return [c for c in chars if any(f.covers(c) for f in fonts)]


def render_guard_lines(spec: GuardSpec, base: Charset, root: Path) -> list[Path]:
    """Render (or reuse) the guard's general lines; returns one label file per style and severity.

    A ``spec.hard`` share of each style's lines is rendered at hard severity (small, blurred,
    low-contrast print): a guard of clean lines alone leaves the stock model's reading of degraded
    print unprotected, and that is where a dot-matrix fine-tune's look-alike confusions land.
    """
    from luodi.synth import generate_lines
    from luodi.synth.fonts import family_fonts
    from luodi.synth.text import general_lines

    key = json.dumps(
        {"v": 2, "n": spec.lines, "styles": spec.styles, "coverage": spec.coverage, "seed": spec.seed}
        | {"spaces": spec.spaces, "hard": spec.hard},
        sort_keys=True,
    )
    key += hashlib.sha256("\n".join(base.entries).encode()).hexdigest()
    out = root / f"guard-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    fonts = family_fonts(GUARD_FAMILY)
    per_style = math.ceil(spec.lines / len(spec.styles))
    n_hard = round(per_style * spec.hard)
    files: list[Path] = []
    chars: list[str] | None = None
    for k, style in enumerate(spec.styles):
        for severity, n in (("mild", per_style - n_hard), ("hard", n_hard)):
            folder = out / (style if severity == "mild" else f"{style}-hard")
            if n <= 0:
                continue
            if not (folder / "DONE").is_file():
                if chars is None:
                    chars = coverage_characters(base, fonts) if spec.coverage > 0 else []
                seed = spec.seed * 100 + k + (50 if severity == "hard" else 0)
                texts = general_lines(n, seed=seed, coverage_chars=chars, coverage=spec.coverage, spaces=spec.spaces)
                generate_lines(texts, folder, style=style, n=n, seed=seed, severity=severity, family=GUARD_FAMILY)
                (folder / "DONE").write_text("ok\n", encoding="utf-8")
            files.append(folder / "labels.txt")
    return files


@dataclass(frozen=True, slots=True)
class SoftTargets:
    """The stock model's outputs on one line, sparse: top-k classes (student class space) per timestep."""

    idx: np.ndarray  # T x k int64
    prob: np.ndarray  # T x k float32
    rest: np.ndarray  # T float32: probability mass outside the top k


def teacher_targets(
    onnx_path: Path, lines: list[LineImage], base: Charset, student: Charset, k: int
) -> list[SoftTargets]:
    """Run the stock ONNX recogniser on every line alone (no padding) and keep its top-k per timestep."""
    import onnxruntime as ort

    from luodi.train.data import make_batch

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    where = np.asarray(old_class_positions(base, student), dtype=np.int64)
    out: list[SoftTargets] = []
    for line in lines:
        x = make_batch([line.image], [line.label], None).images
        probs = session.run(None, {name: x})[0][0]  # T x C
        idx = np.argpartition(-probs, k - 1, axis=1)[:, :k]
        p = np.take_along_axis(probs, idx, axis=1).astype(np.float32)
        rest = np.clip(1.0 - p.sum(axis=1), 0.0, 1.0).astype(np.float32)
        out.append(SoftTargets(where[idx], p, rest))
    return out


class Guard:
    """The general lines, their soft targets, and how many of them go into each batch."""

    def __init__(self, spec: GuardSpec, lines: list[LineImage], targets: list[SoftTargets], batch_size: int) -> None:
        self.spec = spec
        self.lines = lines
        self.targets = targets
        self.per_batch = round(batch_size * spec.share) if spec.share > 0 else 0
        self._widths = np.asarray([ln.image.shape[1] for ln in lines])

    @classmethod
    def build(
        cls,
        spec: GuardSpec,
        *,
        onnx_path: Path,
        base: Charset,
        student: Charset,
        root: Path,
        max_width: int,
        batch_size: int,
        prep: LinePrep | None = None,
    ) -> Guard:
        from luodi.eval.datasets import read_rec_labels

        samples = [s for f in render_guard_lines(spec, base, root) for s in read_rec_labels(f)]
        # the teacher reads them preprocessed too: its targets are for the lines the student sees
        lines, _ = load_lines(samples, max_width=max_width, known=student.known(), drop_unknown=True, prep=prep)
        targets = teacher_targets(onnx_path, lines, base, student, spec.topk) if spec.distill > 0 else []
        return cls(spec, lines, targets, batch_size)

    def pick(self, step: int, seed: int, max_width: int) -> list[int]:
        """Guard lines for one step: no wider than the batch's widest line where possible (no extra padding)."""
        if not self.per_batch or not self.lines:
            return []
        rng = np.random.default_rng([seed, 2, step])
        fits = np.flatnonzero(self._widths <= max_width)
        pool = fits if fits.size >= self.per_batch else np.arange(len(self.lines))
        return [int(i) for i in rng.choice(pool, size=self.per_batch, replace=False)]

    def distill_loss(self, paddle: Any, logits: Any, rows: list[int], picked: list[int]) -> Any:
        """Mean over the guard lines' timesteps of KL(stock || student) on the sparse targets.

        ``rows``: the guard lines' rows in the batch; ``picked``: their indices among the guard lines.
        """
        if not self.targets or not rows:
            return None
        t_max = int(logits.shape[1])
        k = self.spec.topk
        idx = np.zeros((len(rows), t_max, k), np.int64)
        prob = np.zeros((len(rows), t_max, k), np.float32)
        rest = np.zeros((len(rows), t_max), np.float32)
        mask = np.zeros((len(rows), t_max), np.float32)
        for r, g in enumerate(picked):
            tg = self.targets[g]
            t = min(len(tg.idx), t_max)
            idx[r, :t], prob[r, :t], rest[r, :t], mask[r, :t] = tg.idx[:t], tg.prob[:t], tg.rest[:t], 1.0
        logp = log_softmax(paddle, logits[paddle.to_tensor(np.asarray(rows, np.int64))])
        lp_k = paddle.take_along_axis(logp, paddle.to_tensor(idx), axis=2)
        q_rest = paddle.clip(1.0 - lp_k.exp().sum(axis=2), min=1e-6)
        p, r = paddle.to_tensor(prob), paddle.to_tensor(rest)
        kl = (p * (paddle.log(paddle.clip(p, min=1e-8)) - lp_k)).sum(axis=2)
        kl = kl + r * (paddle.log(paddle.clip(r, min=1e-8)) - paddle.log(q_rest))
        m = paddle.to_tensor(mask)
        return (kl * m).sum() / paddle.clip(m.sum(), min=1.0)


def log_softmax(paddle: Any, x: Any) -> Any:
    """log-softmax over the last axis, written out: ``x - max - log(sum(exp(x - max)))``.

    Not ``paddle.nn.functional.log_softmax``: Paddle 3.3's CPU kernel for it is pathologically slow
    over a large class axis: 8.8 CPU-s forward and as much again backward for 4 lines x 60 timesteps
    x 18,710 classes (PP-OCRv6's dictionary), against 0.07 s for this form, and it made up about
    17 of the 18 CPU-s of a recipe step (bench/results/finetune_speed.md). The max is a constant
    shift (the gradient does not depend on it), so it is detached.
    """
    z = x - x.max(axis=-1, keepdim=True).detach()
    return z - paddle.log(paddle.exp(z).sum(axis=-1, keepdim=True))


def input_length(width: int) -> int:
    return math.ceil(width / WIDTH_ALIGN)


def apply_backbone_lr(model: Any, factor: float) -> int:
    """Scale the backbone's learning rate by ``factor`` (0 freezes it); returns how many tensors changed."""
    params = list(model.backbone.parameters())
    for p in params:
        if factor == 0:
            p.stop_gradient = True
        else:
            p.optimize_attr["learning_rate"] = factor
    return len(params)


def freeze_lower_stages(model: Any, stages: int) -> int:
    """Freeze the backbone's lowest ``stages`` (1: the stem; 2: stem and first block group; ...).

    Their parameters get no gradient, and since nothing below them needs one either, backward stops
    above them: the step is cheaper as well as safer. Returns how many tensors were frozen.
    """
    groups = model.backbone.stages()
    if stages > len(groups):
        raise ConfigError(f"Guard.frozen_stages is {stages}; this backbone has {len(groups)} stages")
    frozen = 0
    for group in groups[:stages]:
        for layer in group:
            for p in layer.parameters():
                p.stop_gradient = True
                frozen += 1
    return frozen


class EMA:
    """Exponential moving average of the trainable weights, swapped in to evaluate and save."""

    def __init__(self, model: Any, decay: float) -> None:
        self.decay = decay
        self.shadow = {n: p.numpy().copy() for n, p in model.named_parameters() if not p.stop_gradient}
        self.updates = 0

    def update(self, model: Any) -> None:
        self.updates += 1
        # the usual warm-up: a short run is not dominated by the initial weights
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for n, p in model.named_parameters():
            if n in self.shadow:
                self.shadow[n] = d * self.shadow[n] + (1.0 - d) * p.numpy()

    @contextmanager
    def applied(self, model: Any) -> Iterator[None]:
        saved = {n: p.numpy().copy() for n, p in model.named_parameters() if n in self.shadow}
        params = dict(model.named_parameters())
        for n, v in self.shadow.items():
            params[n].set_value(v)
        try:
            yield
        finally:
            for n, v in saved.items():
                params[n].set_value(v)

    def state(self) -> dict[str, Any]:
        return {"updates": self.updates, **{f"w:{n}": v for n, v in self.shadow.items()}}

    def load(self, state: dict[str, Any]) -> None:
        self.updates = int(state.get("updates", 0))
        for key, value in state.items():
            if key.startswith("w:") and key[2:] in self.shadow:
                self.shadow[key[2:]] = np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def interpolate_weights(stock: dict[str, Any], tuned: dict[str, Any], alpha: float) -> dict[str, np.ndarray]:
    """Weight-space interpolation of a fine-tuned model toward its stock model (WiSE-FT).

    Returns ``(1 - alpha) * stock + alpha * tuned`` for every floating-point tensor (integer tensors,
    e.g. step counters, are taken from ``tuned``). ``alpha`` 1 is the fine-tuned model, 0 the stock
    one. Both must come from the same architecture and dictionary: a missing key or a shape mismatch
    is a :class:`ConfigError`, never a silent partial blend.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"interpolation weight must be within [0, 1], got {alpha}")
    if set(stock) != set(tuned):
        only = sorted(set(stock) ^ set(tuned))[:3]
        raise ConfigError(f"cannot interpolate models with different layers (e.g. {', '.join(only)})")
    out: dict[str, np.ndarray] = {}
    for name, t in tuned.items():
        a = np.asarray(stock[name].numpy() if hasattr(stock[name], "numpy") else stock[name])
        b = np.asarray(t.numpy() if hasattr(t, "numpy") else t)
        if a.shape != b.shape:
            raise ConfigError(f"cannot interpolate {name}: shapes {a.shape} and {b.shape} differ")
        if np.issubdtype(b.dtype, np.floating):
            out[name] = ((1.0 - alpha) * a.astype(np.float64) + alpha * b.astype(np.float64)).astype(b.dtype)
        else:
            out[name] = b.copy()
    return out


@contextmanager
def interpolated(model: Any, stock: dict[str, np.ndarray], alpha: float) -> Iterator[None]:
    """Within the block ``model`` holds ``(1 - alpha) * stock + alpha * its own weights``; restored after."""
    import paddle

    own = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    model.set_state_dict({k: paddle.to_tensor(v) for k, v in interpolate_weights(stock, own, alpha).items()})
    try:
        yield
    finally:
        model.set_state_dict({k: paddle.to_tensor(v) for k, v in own.items()})
