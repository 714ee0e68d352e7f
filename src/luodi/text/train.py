"""``luodi train text``: train a classifier or an intent + slot model on the user's texts (Paddle dygraph).

A run lives in one folder, like ``luodi train rec``'s::

    RUN/config.json    the validated config        RUN/features.json  vocabularies and idf
    RUN/labels.json    classes, slot tags, slot types per class    RUN/lexicon.npy  the lexicon table (PCA of e5's)
    RUN/context.npz, RUN/context.onnx   e5 cut to its first layer(s) (model.context: luodi.text.context)
    RUN/bag_oof.npy    the bag SVM's out-of-fold scores per training text (model.bag_svm: stacked)
    RUN/latest.*       last checkpoint (weights, optimizer, state)
    RUN/best.pdparams  weights of the best evaluation, RUN/best.json its numbers
    RUN/metrics.csv    per epoch: loss, lr, eval accuracy, macro-F1, slot F1; RUN/curves.png the plot

The best checkpoint is chosen on the evaluation set (intent accuracy, plus slot F1 for nlu); training
stops early after ``optim.patience`` evaluations without a gain. ``--resume RUN`` continues from
the last finished epoch with the same shuffling and schedule.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, InputError, InputNotFoundError, ModelError
from luodi.text.config import TextTrainConfig
from luodi.text.data import Span, TextExample, dropped_slots, read_examples, spans_to_tags, tag_scheme
from luodi.text.features import Featurizer
from luodi.text.metrics import TextMetrics, text_metrics
from luodi.text.net import build_net, pca
from luodi.train import dist
from luodi.train.trainer import _atomic_save, _rename_opt_state, _write_json, import_paddle, lr_factor

log = logging.getLogger(__name__)

STATE = "latest.json"


@dataclass(frozen=True, slots=True)
class TextTrainResult:
    run_dir: Path
    epochs: int
    seconds: float
    best: dict[str, Any] | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Run:
    """The pieces of one run, built once in ``run`` and handed to the loop."""

    paddle: Any
    net: Any
    fwd: Any  # what forward/backward run through: ``net``, or its DataParallel wrapper (luodi.train.dist)
    opt: Any
    sched: Any
    batches: _Batches
    evals: list[TextExample]
    feats: Featurizer
    classes: list[str]
    tags: list[str]
    slot_mask: np.ndarray | None  # nlu: slot types allowed per intent, as the served model decodes
    ema: Any = None  # luodi.train.guard.EMA of the weights (optim.ema > 0): evaluated and saved instead


@dataclass
class _State:
    epoch: int = 0
    step: int = 0
    best: dict[str, Any] | None = None
    since_best: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    linear: dict[str, Any] | None = None  # the stacked bag SVM alone on the evaluation texts (classify)


def load_split(cfg: TextTrainConfig) -> tuple[list[TextExample], list[TextExample]]:
    """Training and evaluation examples; without eval files a stratified, seeded share of train."""
    train = [ex for f in cfg.train for ex in read_examples(f.path, f.format, intent_file=f.intent_file)]
    evals = [ex for f in cfg.eval for ex in read_examples(f.path, f.format, intent_file=f.intent_file)]
    unlabelled = next((ex for ex in train if ex.label is None), None)
    if unlabelled is not None:
        raise InputError(f"{unlabelled.where}: a training text without a label")
    if cfg.task == "nlu":
        bare = next((ex for ex in train if ex.spans is None), None)
        if bare is not None:
            raise InputError(
                f"{bare.where}: task nlu needs slots (entities, slots or CoNLL tags); this format has none"
            )
    if not evals:
        rng = np.random.default_rng(cfg.seed)
        by_label: dict[str, list[int]] = {}
        for i, ex in enumerate(train):
            by_label.setdefault(str(ex.label), []).append(i)
        held: set[int] = set()
        for idx in by_label.values():
            if len(idx) < 3:
                continue  # too rare to spare one
            k = max(1, round(len(idx) * cfg.eval_fraction))
            held.update(int(i) for i in rng.choice(idx, size=k, replace=False))
        evals = [ex for i, ex in enumerate(train) if i in held]
        train = [ex for i, ex in enumerate(train) if i not in held]
    return train, evals


def check_labels(train: Sequence[TextExample], evals: Sequence[TextExample]) -> list[str]:
    """Warnings about the label distribution; raises when training cannot work."""
    counts = Counter(str(ex.label) for ex in train)
    if len(counts) < 2:
        raise InputError(f"training needs at least two classes; the data has {len(counts)}: {sorted(counts)}")
    notes = []
    nested = dropped_slots(train)
    if nested:
        notes.append(
            f"{nested} nested or overlapping slot(s) dropped (each character carries one slot; the longest is kept)"
        )
    single = sorted(label for label, n in counts.items() if n == 1)
    if single:
        notes.append(
            f"{len(single)} class(es) with one training example ({', '.join(single[:10])}): trained, "
            "but expect them to be recognised poorly"
        )
    unseen = sorted({str(ex.label) for ex in evals} - set(counts))
    if unseen:
        notes.append(
            f"the evaluation data has {len(unseen)} label(s) absent from training ({', '.join(unseen[:10])}): "
            "those texts count as errors"
        )
    return notes


def slot_tags(train: Sequence[TextExample], scheme: str = "bio") -> list[str]:
    types = sorted({s.type for ex in train for s in ex.spans or ()})
    heads = ("B", "I", "E", "S") if scheme == "bioes" else ("B", "I")
    return ["O", *(f"{p}-{t}" for t in types for p in heads)]


def class_slots(train: Sequence[TextExample]) -> dict[str, list[str]]:
    """Per class (intent), the slot types its training texts carry."""
    out: dict[str, set[str]] = {}
    for ex in train:
        out.setdefault(str(ex.label), set()).update(s.type for s in ex.spans or ())
    return {label: sorted(types) for label, types in sorted(out.items())}


def own_slots(ex: TextExample) -> list[tuple[str, str]]:
    """A training text's ``(value, type)`` slot pairs (what its gazetteer entries come from)."""
    return [(s.value(ex.text), s.type) for s in ex.spans or ()]


def swap_slot_values(train: Sequence[TextExample], copies: int, seed: int) -> tuple[list[TextExample], list[int]]:
    """``copies`` new texts per training text with slots: each slot value replaced by another value of the
    same type seen in training with the same intent (a ``name`` to call is a person, one to open an app;
    seeded), offsets moved to match; and the index of each copy's source.

    Slot filling learns from a few thousand texts where most values occur once: the same carrier
    phrase with other values teaches that the phrase, not the value, marks the slot. Intent and domain
    are kept (a value of the same type does not change what is asked)."""
    pool: dict[tuple[str, str], set[str]] = {}
    for ex in train:
        for sp in ex.spans or ():
            pool.setdefault((str(ex.label), sp.type), set()).add(sp.value(ex.text))
    values = {key: sorted(v) for key, v in pool.items()}
    rng = np.random.default_rng([seed, 7])
    out: list[TextExample] = []
    source: list[int] = []
    for i, ex in enumerate(train):
        spans = sorted(ex.spans or ())
        if not spans:
            continue
        for _ in range(copies):
            text, moved, shift, at = "", [], 0, 0
            for sp in spans:
                choices = values[(str(ex.label), sp.type)]
                new = str(choices[int(rng.integers(len(choices)))])
                text += ex.text[at : sp.start]
                moved.append(Span(sp.start + shift, sp.start + shift + len(new), sp.type))
                text += new
                shift += len(new) - (sp.end - sp.start)
                at = sp.end
            text += ex.text[at:]
            out.append(TextExample(text, ex.label, tuple(moved), ex.domain, f"{ex.where} (slot values swapped)"))
            source.append(i)
    return out, source


def scale_crf_lr(net: Any, factor: float) -> None:
    """The CRF's transition, start and end scores step ``factor`` times the learning rate (``optim.crf_lr``;
    Paddle's optimizers read a parameter's ``optimize_attr``)."""
    if not net.has_slots or factor == 1.0:
        return
    for p in (net.trans, net.start, net.end):
        p.optimize_attr["learning_rate"] = factor


def load_run_features(run_dir: Path, threads: int | None = 1) -> Featurizer:
    """A run's (or an exported model folder's) features, with their context encoder when they have one."""
    feats = Featurizer.load(run_dir / "features.json")
    if not feats.context_dim:
        return feats
    from luodi.text.context import E5Context

    return feats.with_context(E5Context.load(run_dir / "context.npz", run_dir / "context.onnx", threads=threads))


def lexicon_table(cfg: TextTrainConfig, home: Path | None) -> tuple[list[str], np.ndarray | None]:
    if cfg.model.lexicon == "none":
        return [], None
    from luodi.text.lexicon import read_lexicon
    from luodi.zoo import bundle_file, get_bundle

    lex = read_lexicon(bundle_file(get_bundle(cfg.model.lexicon, home), "encoder"))
    table = np.concatenate([np.zeros((1, cfg.model.lexicon_dim), np.float32), pca(lex.vectors, cfg.model.lexicon_dim)])
    return list(lex.words), table


class _Batches:
    """Training arrays per batch: every text encoded once, then padded per batch (shuffled per epoch)."""

    def __init__(
        self,
        feats: Featurizer,
        examples: Sequence[TextExample],
        labels: dict[str, int],
        tags: list[str],
        teacher: np.ndarray | None = None,
        extra: Sequence[TextExample] = (),
        source: Sequence[int] = (),
    ):
        """``extra``: texts made from training texts (:func:`swap_slot_values`), trained on after them;
        ``source``: the training text each was made from, whose teacher vector and bag scores it takes."""
        self.feats, self.labels = feats, labels
        self.originals = len(examples)  # the texts the bag SVM is fitted on
        self.examples = [*examples, *extra]
        self.row = np.array([*range(len(examples)), *source], np.int64)  # per text, its teacher / bag-score row
        self.teacher = teacher
        self.bag_scores: np.ndarray | None = None  # a stacked bag path's out-of-fold scores per training text
        self.tag_index = {t: i for i, t in enumerate(tags)}
        self.scheme = tag_scheme(tags)
        # a training text's own slot values are left out of its gazetteer matches (leave-one-out)
        self.encoded = [feats.encode([ex.text], own_slots=[own_slots(ex)]) for ex in self.examples]
        self.lengths = np.array([int(e.lengths[0]) for e in self.encoded])

    def epoch(self, rng: np.random.Generator, size: int) -> list[list[int]]:
        """One epoch's batches: shuffled, then sorted by length within pools of 32 batches so a batch
        pads little (SMP2019: mean 8.5 characters, longest 27), and the batches' order shuffled again."""
        order = rng.permutation(len(self.examples))
        pool = size * 32
        batches: list[list[int]] = []
        for s in range(0, len(order), pool):
            chunk = order[s : s + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[b : b + size].tolist() for b in range(0, len(chunk), size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def arrays(self, idx: Sequence[int]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
        chosen = [self.encoded[i] for i in idx]
        lengths = np.array([int(e.lengths[0]) for e in chosen], np.int64)
        width = max(1, int(lengths.max()))
        bag = max(e.bag_ids.shape[1] for e in chosen)
        inputs: dict[str, np.ndarray] = {}
        for key, first in chosen[0].inputs().items():
            size = bag if key.startswith("bag") else width
            out = np.zeros((len(chosen), size, *first.shape[2:]), first.dtype)
            for row, e in enumerate(chosen):
                value = e.inputs()[key][0]
                out[row, : value.shape[0]] = value
            inputs[key] = out
        y = np.array([self.labels.get(str(self.examples[i].label), -1) for i in idx], np.int64)
        tag_ids = np.zeros((len(chosen), width), np.int64)
        if len(self.tag_index) > 1:
            for row, i in enumerate(idx):
                n = int(lengths[row])
                kept = [s for s in self.examples[i].spans or () if s.end <= n]  # a slot cut by truncation is dropped
                for j, tag in enumerate(spans_to_tags(n, kept, self.scheme)):
                    tag_ids[row, j] = self.tag_index.get(tag, 0)
        return inputs, y, tag_ids, np.maximum(lengths, 1)


def predict_arrays(net: Any, paddle: Any, feats: Featurizer, texts: Sequence[str], batch: int = 256) -> tuple[Any, Any]:
    """Class probabilities and slot emissions of ``net`` (eval mode) for ``texts``."""
    probs: list[np.ndarray] = []
    emissions: list[np.ndarray] = []
    with paddle.no_grad():
        for s in range(0, len(texts), batch):
            enc = feats.encode(texts[s : s + batch])
            logits, emit = net(*(paddle.to_tensor(v) for v in enc.inputs().values()))
            probs.append(paddle.nn.functional.softmax(logits, axis=-1).numpy())
            emissions.extend(emit.numpy()[r, : max(1, int(enc.lengths[r]))] for r in range(len(enc.lengths)))
    return np.concatenate(probs), emissions


def evaluate_net(
    net: Any,
    paddle: Any,
    feats: Featurizer,
    examples: Sequence[TextExample],
    *,
    classes: list[str],
    tags: list[str],
    slot_mask: np.ndarray | None = None,
) -> TextMetrics:
    """``slot_mask``: :func:`luodi.text.decode.class_slot_mask`, applied as the served model applies it."""
    from luodi.text.decode import decode_slots

    net.eval()
    probs, emissions = predict_arrays(net, paddle, feats, [ex.text for ex in examples])
    net.train()
    predicted = [classes[int(i)] for i in probs.argmax(axis=1)]
    pred_spans = None
    if len(tags) > 1:
        crf = net.crf_params()
        rows = probs.argmax(axis=1)
        pred_spans = [
            decode_slots(e, tags, crf, None if slot_mask is None else slot_mask[r])
            for e, r in zip(emissions, rows, strict=True)
        ]
    return text_metrics(examples, predicted, pred_spans, classes)


def planned_epochs(epochs: int, max_steps: int, per_epoch: int) -> int:
    """``epochs``, or fewer when they would take more than ``max_steps`` steps (at least one epoch);
    the learning-rate schedule spans what is planned."""
    if max_steps <= 0:
        return epochs
    return max(1, min(epochs, math.ceil(max_steps / max(1, per_epoch))))


def _score(m: TextMetrics) -> float:
    return m.accuracy if m.slot_f1 is None else 0.5 * (m.accuracy + m.slot_f1)


Teacher = Callable[[Sequence[str]], np.ndarray]  # texts -> sentence vectors [N, D], L2-normalised


class TextTrainer:
    """One training run. Construct, then :meth:`run`.

    ``teacher``: a sentence encoder whose vectors the network's utterance vector learns to predict
    beside its labels (knowledge distillation, weight ``optim.distill_weight``); computed once per
    training text and kept in ``RUN/teacher.npy``.
    """

    def __init__(
        self,
        config: TextTrainConfig,
        run_dir: Path,
        *,
        resume: bool = False,
        home: Path | None = None,
        progress: bool = False,
        on_log: Callable[[str], None] | None = None,
        teacher: Teacher | None = None,
    ) -> None:
        self.cfg, self.run_dir, self.resume, self.home, self.progress = config, run_dir, resume, home, progress
        self.say = on_log or (lambda msg: log.info("%s", msg))
        self.teacher = teacher if config.optim.distill_weight > 0 else None
        # rank 0 of 1 unless started by `--nproc`: the other ranks read what rank 0 set up (luodi.train.dist)
        self.world = dist.current()
        self.reuse = resume or not self.world.main

    def _teacher_vectors(self, texts: Sequence[str]) -> np.ndarray | None:
        path = self.run_dir / "teacher.npy"
        if self.reuse and path.is_file():
            kept: np.ndarray = np.load(path).astype(np.float32)  # the vectors this run started with
            return kept
        if self.teacher is None:
            return None
        started = time.perf_counter()
        cap = self.cfg.model.teacher_texts
        chosen = np.arange(len(texts))
        if 0 < cap < len(texts):  # a seeded draw; the other rows stay zero and are left out of the loss
            chosen = np.sort(np.random.default_rng(self.cfg.seed).choice(len(texts), size=cap, replace=False))
        got = np.asarray(self.teacher([texts[int(i)] for i in chosen]), np.float32)
        if got.ndim != 2 or got.shape[0] != len(chosen):
            raise ModelError(f"the teacher returned shape {got.shape} for {len(chosen)} texts")
        vectors = np.zeros((len(texts), got.shape[1]), np.float32)
        vectors[chosen] = got / np.maximum(np.linalg.norm(got, axis=1, keepdims=True), 1e-6)
        np.save(path, vectors)
        self.say(f"teacher: {len(chosen)} sentence vectors in {time.perf_counter() - started:.0f} s")
        return vectors

    def _prepare_dir(self) -> None:
        cfg_json = self.cfg.model_dump(mode="json")
        cfg_file = self.run_dir / "config.json"
        if self.resume:
            if not (self.run_dir / STATE).is_file():
                raise InputNotFoundError(f"{self.run_dir}: no checkpoint to resume from ({STATE} missing)")
            saved = json.loads(cfg_file.read_text(encoding="utf-8"))
            strip = lambda c: {**c, "optim": {k: v for k, v in c["optim"].items() if k != "epochs"}}  # noqa: E731
            if strip(saved) != strip(cfg_json):
                raise ConfigError(
                    f"{self.run_dir}: the config differs from the one this run started with "
                    "(only optim.epochs may change)"
                )
        elif (self.run_dir / STATE).is_file():
            raise ConfigError(f"{self.run_dir} already holds a run; resume it with --resume or choose another --name")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        _write_json(cfg_file, cfg_json)

    def _setup(
        self,
    ) -> tuple[list[TextExample], list[TextExample], Featurizer, list[str], list[str], np.ndarray | None]:
        cfg = self.cfg
        train, evals = load_split(cfg)
        self.notes = check_labels(train, evals)
        for note in self.notes:
            self.say(f"warning: {note}")
        long = sum(1 for ex in train if len(ex.text) > cfg.max_len)
        if long:
            self.say(
                f"note: {long} training text(s) longer than max_len={cfg.max_len} are cut to their first characters"
            )
        if self.reuse:
            feats = load_run_features(self.run_dir)
            meta = json.loads((self.run_dir / "labels.json").read_text(encoding="utf-8"))
            classes, tags = list(meta["classes"]), list(meta["tags"])
            lex_path = self.run_dir / "lexicon.npy"
            table = np.load(lex_path) if lex_path.is_file() else None
            return train, evals, feats, classes, tags, table
        words, table = lexicon_table(cfg, self.home)
        slots = [own_slots(ex) for ex in train] if cfg.task == "nlu" and cfg.model.gazetteer else None
        segmenter = None
        if cfg.model.words == "jieba":
            from luodi.text.features import normalize
            from luodi.text.segment import Segmenter

            segmenter = Segmenter.learn(normalize(ex.text)[: cfg.max_len] for ex in train)
        feats = Featurizer.fit(
            [ex.text for ex in train],
            words,
            max_len=cfg.max_len,
            min_count=cfg.min_count,
            slots=slots,
            segmenter=segmenter,
            word_chars=cfg.model.word_chars,
        ).with_context(self._context([ex.text[: cfg.max_len] for ex in train]))
        classes = sorted({str(ex.label) for ex in train})
        tags = slot_tags(train, cfg.model.slot_scheme) if cfg.task == "nlu" else ["O"]
        feats.save(self.run_dir / "features.json")
        labels: dict[str, Any] = {"task": cfg.task, "classes": classes, "tags": tags}
        if cfg.task == "nlu":
            labels["class_slots"] = class_slots(train)
        _write_json(self.run_dir / "labels.json", labels)
        if table is not None:
            np.save(self.run_dir / "lexicon.npy", table)
        return train, evals, feats, classes, tags, table

    def _context(self, texts: list[str]) -> Any:
        """``model.context``: e5's first layer(s), cut for these training texts, written into the run."""
        spec = self.cfg.model
        if spec.context == "none":
            return None
        from luodi.text.context import E5Context, build_context
        from luodi.zoo import bundle_file, get_bundle

        started = time.process_time()
        e5 = bundle_file(get_bundle(spec.context, self.home), "encoder")
        npz, graph = build_context(e5, texts, self.run_dir, layers=spec.context_layers)
        self.say(f"context: e5's first {spec.context_layers} layer(s) cut in {time.process_time() - started:.0f} CPU s")
        return E5Context.load(npz, graph)

    # long: the training run in order: set-up, net, optimizer, resume, then the epoch loop
    def run(self) -> TextTrainResult:
        cfg, world = self.cfg, self.world
        paddle = import_paddle()
        dist.init(paddle, world)
        dist.setup_turn(paddle, world, first=True)  # rank 0 writes the run's vocabularies before the others
        if world.main:
            self._prepare_dir()
        train, evals, feats, classes, tags, table = self._setup()
        teacher = self._teacher_vectors([ex.text for ex in train])
        dist.setup_turn(paddle, world, first=False)
        self.say(
            f"train: {len(train)} texts, {len(classes)} classes; eval: {len(evals)} texts"
            + (f"; {len(tags) // 2} slot types" if len(tags) > 1 else "")
        )
        paddle.seed(cfg.seed)
        net = build_net(
            paddle,
            sizes=feats.sizes,
            lexicon=table,
            spec=cfg.model,
            n_classes=len(classes),
            tags=tags if len(tags) > 1 else None,
            distill_dim=0 if teacher is None else teacher.shape[1],
        )
        extra, source = ([], []) if cfg.task != "nlu" else swap_slot_values(train, cfg.optim.slot_swaps, cfg.seed)
        if extra:
            self.say(f"slot swaps: {len(extra)} texts made from the training texts' slots")
        batches = _Batches(feats, train, {c: i for i, c in enumerate(classes)}, tags, teacher, extra, source)
        per_epoch = math.ceil(len(batches.examples) / cfg.optim.batch_size)
        self.epochs = planned_epochs(cfg.optim.epochs, cfg.optim.max_steps, per_epoch)
        total = per_epoch * self.epochs
        o = cfg.optim
        sched = paddle.optimizer.lr.LambdaDecay(
            learning_rate=o.lr, lr_lambda=lambda s: lr_factor(s, total, o.warmup_steps, "cosine", o.min_lr_ratio)
        )
        scale_crf_lr(net, o.crf_lr)
        # lazy Adam: the embedding tables get sparse gradients, only the rows a batch used move
        opt = paddle.optimizer.Adam(learning_rate=sched, parameters=net.parameters(), lazy_mode=True)
        state = _State()
        if cfg.model.bag_linear and cfg.model.bag_svm_gain > 0:
            # every rank: each needs the out-of-fold scores of its texts (the fits are deterministic);
            # DataParallel then hands rank 0's weights to the others when it wraps the net
            self._start_bag_path(paddle, net, batches, len(classes))
        if self.resume:
            state = _State(**json.loads((self.run_dir / STATE).read_text(encoding="utf-8")))
            net.set_state_dict(paddle.load(str(self.run_dir / "latest.pdparams")))
            opt.set_state_dict(_rename_opt_state(paddle.load(str(self.run_dir / "latest.pdopt")), net, False))
            sched.last_epoch = state.step - 1
            sched.step()
            self.say(f"resumed after epoch {state.epoch} of {self.epochs}")
        meta = json.loads((self.run_dir / "labels.json").read_text(encoding="utf-8"))
        slot_mask = None
        if len(tags) > 1 and "class_slots" in meta:
            from luodi.text.decode import class_slot_mask

            slot_mask = class_slot_mask(classes, tags, meta["class_slots"])
        self.paddle = paddle
        ema = self._ema(paddle, net)
        fwd = dist.wrap(paddle, net, world, call=self._net_loss, find_unused=True)
        run = _Run(paddle, net, fwd, opt, sched, batches, evals, feats, classes, tags, slot_mask, ema)
        return self._loop(run, state, total)

    def _ema(self, paddle: Any, net: Any) -> Any:
        """The moving average of the trainable weights (after the bag path is set up, so it starts from
        the SVM's gain), reloaded on resume."""
        if self.cfg.optim.ema <= 0:
            return None
        from luodi.train.guard import EMA

        ema = EMA(net, self.cfg.optim.ema)
        if self.resume and (self.run_dir / "latest.ema").is_file():
            ema.load(paddle.load(str(self.run_dir / "latest.ema")))
        return ema

    def _start_bag_path(self, paddle: Any, net: Any, batches: _Batches, n_classes: int) -> None:
        """The linear bag path as a linear SVM on the training texts (see luodi.text.linear).

        ``start``: the path starts as the SVM, its scores times ``model.bag_svm_gain`` (margins of about
        1 become confident logits), and trains with the rest. ``stacked``: the path is the SVM fitted on
        all training texts, frozen, scaled by a learned gain that starts at ``bag_svm_gain``; while
        training, each text's path scores are the SVM's out-of-fold scores (``RUN/bag_oof.npy``), so
        the network learns to correct the SVM where it errs on texts it has not seen.
        A resumed run keeps its weights (the checkpoint has them) and reloads its out-of-fold scores.
        """
        from luodi.text.linear import fit_bag_svm, out_of_fold_scores

        spec = self.cfg.model
        oof_path = self.run_dir / "bag_oof.npy"
        if self.resume:
            if spec.bag_svm == "stacked":
                batches.bag_scores = np.load(oof_path)
            return
        started = time.perf_counter()
        inputs, y, _tags, _lengths = batches.arrays(range(batches.originals))
        ids, weights = inputs["bag_ids"], inputs["bag_weights"]
        n_features = net.bag_cls.weight.shape[0]
        # the context vector's entries (after the n-grams) are fitted as one dense block
        dense = len(batches.feats.bag) + 1 if batches.feats.context_dim else 0
        w, b = fit_bag_svm(ids, weights, y, n_features=n_features, n_classes=n_classes, dense_from=dense)
        gain = np.float32(spec.bag_svm_gain)
        if spec.bag_svm == "stacked":
            net.bag_cls.weight.set_value(w)
            net.bag_bias.set_value(b)
            net.bag_gain.set_value(np.array([gain], np.float32))
            oof = out_of_fold_scores(
                ids, weights, y, n_features=n_features, n_classes=n_classes, seed=self.cfg.seed, dense_from=dense
            )
            if self.world.main:
                np.save(oof_path, oof)
            batches.bag_scores = oof
            right = float((oof.argmax(axis=1) == y).mean())
            self.say(
                f"bag path: a linear SVM on the n-gram bag and its out-of-fold scores in "
                f"{time.perf_counter() - started:.0f} s (out-of-fold accuracy {right:.4f})"
            )
            return
        net.bag_cls.weight.set_value(w * gain)
        net.cls.bias.set_value(b * gain)
        self.say(f"bag path: a linear SVM on the n-gram bag in {time.perf_counter() - started:.0f} s")

    def _loop(self, r: _Run, state: _State, total: int) -> TextTrainResult:
        cfg, o = self.cfg, self.cfg.optim
        paddle, net, opt = r.paddle, r.net, r.opt
        from tqdm import tqdm

        started, before = time.perf_counter(), state.seconds
        bar = tqdm(total=total, initial=state.step, disable=not self.progress, unit="step", dynamic_ncols=True)

        def save(tag: str = "latest") -> None:
            if not self.world.main:
                return  # rank 0 writes the run
            _atomic_save(paddle, net.state_dict(), self.run_dir / f"{tag}.pdparams")
            if tag == "latest":
                _atomic_save(paddle, _rename_opt_state(opt.state_dict(), net, True), self.run_dir / "latest.pdopt")
                if r.ema is not None:
                    _atomic_save(paddle, r.ema.state(), self.run_dir / "latest.ema")
                _write_json(self.run_dir / STATE, asdict(state))

        if state.epoch == 0 and state.linear is None:
            state.linear = self._linear_alone(r)
        net.train()
        try:
            while state.epoch < self.epochs and not state.stopped_early:
                rng = np.random.default_rng([cfg.seed, state.epoch])
                paddle.seed(cfg.seed * 100_003 + state.epoch)  # dropout masks: a resumed epoch draws the same
                losses = []
                for idx in r.batches.epoch(rng, o.batch_size):
                    losses.append(self._step(r, idx, state.step))
                    state.step += 1
                    bar.update(1)
                state.epoch += 1
                self._after_epoch(r, state, float(np.mean(losses)), float(opt.get_lr()), save)
                state.seconds = before + time.perf_counter() - started
                save()
        except KeyboardInterrupt:
            state.seconds = before + time.perf_counter() - started
            save()
            raise
        finally:
            bar.close()
        if not r.evals:
            with self._averaged(r):
                save("best")
        if not self.world.main:
            return TextTrainResult(self.run_dir, state.epoch, state.seconds, state.best, tuple(self.notes))
        self._keep_linear_if_better(r, state)
        plot_text_curves(self.run_dir / "metrics.csv", self.run_dir / "curves.png")
        if state.best is not None:
            _write_json(self.run_dir / "best.json", state.best)
        return TextTrainResult(self.run_dir, state.epoch, state.seconds, state.best, tuple(self.notes))

    def _linear_alone(self, r: _Run) -> dict[str, Any] | None:
        """A classifier's stacked bag SVM on its own (the deep path's output layer zeroed), evaluated before
        training: the candidate the trained network has to beat on the evaluation texts (rank 0; None when
        there is no stacked SVM, no evaluation set, or slots to fill, which the SVM cannot)."""
        if not (self.world.main and r.evals and r.batches.bag_scores is not None and not r.net.has_slots):
            return None
        weight, bias = r.net.cls.weight.numpy().copy(), r.net.cls.bias.numpy().copy()
        r.net.cls.weight.set_value(np.zeros_like(weight))
        r.net.cls.bias.set_value(np.zeros_like(bias))
        m = evaluate_net(r.net, r.paddle, r.feats, r.evals, classes=r.classes, tags=r.tags)
        r.net.cls.weight.set_value(weight)
        r.net.cls.bias.set_value(bias)
        self.say(f"epoch 0 (the bag's linear SVM alone): eval accuracy {m.accuracy:.4f}")
        return {"accuracy": m.accuracy, "macro_f1": m.macro_f1, "score": _score(m)}

    def _keep_linear_if_better(self, r: _Run, state: _State) -> None:
        """Never below the linear baseline on the evaluation texts: when the SVM alone scored higher than
        the best epoch, the best checkpoint becomes that epoch's weights with the deep path's output layer
        zeroed (the served logits are then the SVM's scores x the learned gain)."""
        if state.linear is None or state.best is None or state.linear["score"] <= state.best["score"]:
            return
        paddle, best = r.paddle, self.run_dir / "best.pdparams"
        weights = paddle.load(str(best))
        for key in ("cls.weight", "cls.bias"):
            weights[key] = paddle.zeros_like(weights[key])
        _atomic_save(paddle, weights, best)
        state.best = {**state.best, **state.linear, "linear_only": True}
        _write_json(self.run_dir / STATE, asdict(state))
        self.say(
            f"the bag's linear SVM alone ({state.linear['accuracy']:.4f}) beat every epoch on the evaluation "
            "texts: the best checkpoint keeps only it"
        )

    def _step(self, r: _Run, idx: list[int], step: int) -> float:
        """One optimiser step on the batch ``idx``; the global batch's loss."""
        part = self.world.part(len(idx))  # this rank's places in the global batch: all of them alone
        loss = self._loss(r, [idx[p] for p in part.places])
        if self.world.parallel:
            loss = loss * part.scale()
        loss.backward()
        r.opt.step()
        r.opt.clear_grad()
        r.sched.step()
        if r.ema is not None:
            r.ema.update(r.net)
        value = self.world.mean(r.paddle, float(loss.numpy()))
        if not math.isfinite(value):
            raise ModelError(f"the loss became {value} at step {step}; lower optim.lr")
        return value

    def _loss(self, r: _Run, idx: list[int]) -> Any:
        """One batch's loss, computed through ``r.fwd`` (:meth:`_net_loss`, or DataParallel around it)."""
        paddle = r.paddle
        inputs, y, tag_ids, lengths = r.batches.arrays(idx)
        rows = r.batches.row[idx]
        teacher = None if r.batches.teacher is None else paddle.to_tensor(r.batches.teacher[rows])
        given = None if r.batches.bag_scores is None else paddle.to_tensor(r.batches.bag_scores[rows])
        arrays = (*inputs.values(), y, tag_ids, lengths)
        return r.fwd(*(paddle.to_tensor(v) for v in arrays), teacher, given)

    def _net_loss(self, net: Any, *tensors: Any) -> Any:
        """Intent cross-entropy (+ the deep path's own, stacked on the SVM's out-of-fold scores ``given``),
        + the CRF's for slots, + matching the teacher's vectors (when given)."""
        paddle, o = self.paddle, self.cfg.optim
        *inputs, y, tag_ids, lengths, teacher, given = tensors
        logits, emit, h = net.encode(*inputs, bag_scores=given)
        smoothing = o.label_smoothing or None
        loss = paddle.nn.functional.cross_entropy(logits, y, label_smoothing=smoothing)
        if given is not None and o.deep_weight > 0:
            # stacked: the deep path is also a classifier on its own; else it only learns a residual of
            # the SVM's out-of-fold scores, and on THUCNews that residual added nothing
            deep = logits - net.bag_gain * given
            loss = loss + o.deep_weight * paddle.nn.functional.cross_entropy(deep, y, label_smoothing=smoothing)
        if net.has_slots and o.slot_weight > 0:
            loss = loss + o.slot_weight * net.crf_nll(emit, tag_ids, lengths)
        if teacher is not None:
            guess = paddle.nn.functional.normalize(net.distill(h), axis=-1)
            has = (teacher.abs().sum(axis=-1) > 0).astype("float32")  # texts left out of the draw: zero rows
            miss = ((1.0 - (guess * teacher).sum(axis=-1)) * has).sum() / paddle.clip(has.sum(), min=1.0)
            loss = loss + o.distill_weight * miss
        return loss

    @staticmethod
    def _averaged(r: _Run) -> Any:
        """The moving average swapped into the net while evaluating and saving the best (or nothing)."""
        import contextlib

        return r.ema.applied(r.net) if r.ema is not None else contextlib.nullcontext()

    def _after_epoch(self, r: _Run, state: _State, loss: float, lr: float, save: Callable[[str], None]) -> None:
        row: dict[str, Any] = {"epoch": state.epoch, "step": state.step, "loss": round(loss, 5), "lr": lr}
        if not self.world.main:  # rank 0 evaluates and writes; it tells the others whether to stop
            state.stopped_early = self.world.agree(r.paddle, False)
            return
        if r.evals:
            with self._averaged(r):
                m = evaluate_net(
                    r.net, r.paddle, r.feats, r.evals, classes=r.classes, tags=r.tags, slot_mask=r.slot_mask
                )
                better = state.best is None or _score(m) > state.best["score"]
                if better:
                    save("best")
            row.update(accuracy=m.accuracy, macro_f1=m.macro_f1, slot_f1=m.slot_f1)
            if better or state.best is None:
                state.best = {**row, "score": _score(m)}
                state.since_best = 0
            else:
                state.since_best += 1
                state.stopped_early = state.since_best >= self.cfg.optim.patience
            slot = f", slot F1 {m.slot_f1:.4f}" if m.slot_f1 is not None else ""
            self.say(
                f"epoch {state.epoch}: loss {loss:.4f}, eval accuracy {m.accuracy:.4f}{slot} "
                f"(best {state.best['accuracy']:.4f} at epoch {state.best['epoch']})"
            )
        state.history.append(row)
        _append_csv(self.run_dir / "metrics.csv", row)
        state.stopped_early = self.world.agree(r.paddle, state.stopped_early)


_COLUMNS = ("epoch", "step", "loss", "lr", "accuracy", "macro_f1", "slot_f1")


def _append_csv(path: Path, row: dict[str, Any]) -> None:
    new = not path.is_file()
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if new:
            w.writerow(_COLUMNS)
        w.writerow(["" if row.get(c) is None else row.get(c) for c in _COLUMNS])


def plot_text_curves(csv_path: Path, png_path: Path) -> None:
    if not csv_path.is_file():
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(epochs, [float(r["loss"]) for r in rows], marker="o")
    ax1.set(title="train loss", xlabel="epoch")
    for key in ("accuracy", "macro_f1", "slot_f1"):
        pts = [(e, float(r[key])) for e, r in zip(epochs, rows, strict=True) if r.get(key)]
        if pts:
            ax2.plot(*zip(*pts, strict=True), marker="o", label=key)
    ax2.set(title="evaluation", xlabel="epoch", ylim=(0, 1))
    ax2.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)


def train_text(
    config: TextTrainConfig,
    *,
    name: str | None = None,
    resume: str | Path | None = None,
    home: Path | None = None,
    progress: bool = False,
    on_log: Callable[[str], None] | None = None,
    teacher: Teacher | None = None,
) -> TextTrainResult:
    """Train per ``config`` into ``output_dir/name`` (or continue the run in ``resume``).

    ``teacher``: sentence vectors to distil; by default the encoder ``model.teacher`` names, if any."""
    run_dir = Path(resume) if resume is not None else config.output_dir / (name or time.strftime("text-%Y%m%d-%H%M%S"))
    if teacher is None and config.model.teacher != "none" and config.optim.distill_weight > 0:
        from luodi.text.teacher import E5Encoder
        from luodi.zoo import bundle_file, get_bundle

        teacher = E5Encoder.load(bundle_file(get_bundle(config.model.teacher, home), "encoder"))
    trainer = TextTrainer(
        config, run_dir, resume=resume is not None, home=home, progress=progress, on_log=on_log, teacher=teacher
    )
    return trainer.run()
