"""Train the express-NER BiGRU-CRF with PaddlePaddle (dynamic graph, CPU) and export it for numpy.

    .venv/bin/python -m luodi.kie.ner.train   # luodi/data/express_ner -> $LUODI_HOME/models/express-ner

Idempotent: when ``--out`` already holds a model whose manifest records the same data hash, config
hash, code version and gazetteer table, training is skipped (``--force`` re-trains). Model selection
uses dev-set entity F1 with early stopping; the seed is fixed. Paddle has no CRF loss in 3.3.1
(``paddle.text`` has only Viterbi decoding), so the linear-chain CRF log-likelihood is written here
in Paddle ops; decoding uses the numpy CRF the runtime uses.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.data import EXPRESS_NER
from luodi.errors import ConfigError, InputNotFoundError, LuodiError, RuntimeBackendError
from luodi.kie.gazetteer import Gazetteer, get_gazetteer
from luodi.kie.ner import crf
from luodi.kie.ner.data import TAGS, Record, read_bio, read_tag_dic
from luodi.kie.ner.features import GAZ_DIM, PAD, UNK, CharVocab, gazetteer_features
from luodi.kie.ner.model import NerModel
from luodi.kie.ner.store import CODE_VERSION, default_model_dir, read_manifest, verify_model_dir, write_manifest

__all__ = ["TrainConfig", "import_paddle", "train"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    emb_dim: int = 128
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.3
    word_dropout: float = 0.05  # characters replaced by UNK while training, so unseen ones are handled
    # Each epoch, each record's name and phone are left out with this probability (independently), so
    # the model also sees address-only and name-less texts, which waybills hand to the parser.
    drop_party: float = 0.2
    # Each epoch, each record's phone is rewritten with this probability as a landline or a mobile in
    # another written form (the data has only bare 11-digit mobiles; real texts do not).
    phone_forms: float = 0.0
    # Exponential moving average of the weights (per step); the averaged weights are evaluated and
    # exported. Dev F1 swings by a few entities between epochs at full rate; the average is steadier.
    ema_decay: float = 0.99
    lr: float = 2e-3
    batch_size: int = 32
    max_epochs: int = 14
    patience: int = 6  # epochs without a dev gain before stopping
    lr_patience: int = 3  # epochs without a dev gain before halving the learning rate
    seed: int = 20240601
    gazetteer_features: bool = True

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def import_paddle() -> Any:
    """Paddle, imported on demand; its import-time UserWarning about ccache is noise for us."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import paddle
    except ImportError as exc:
        raise RuntimeBackendError(
            "training the NER model needs PaddlePaddle: `pip install 'luodi[paddle]'` (paddlepaddle==3.3.1)"
        ) from exc
    return paddle


def _data_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("train.txt", "dev.txt", "tag.dic"):
        path = folder / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# -- the network --------------------------------------------------------------------------------
def _build_net(paddle: Any, vocab_size: int, cfg: TrainConfig) -> Any:
    nn = paddle.nn
    k = len(TAGS)
    mask_trans, mask_start = crf.bio_constraints(TAGS)

    class BiGruCrf(paddle.nn.Layer):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(vocab_size, cfg.emb_dim, padding_idx=PAD)
            in_dim = cfg.emb_dim + (GAZ_DIM if cfg.gazetteer_features else 0)
            self.gru = nn.GRU(
                in_dim,
                cfg.hidden,
                num_layers=cfg.layers,
                direction="bidirect",
                dropout=cfg.dropout if cfg.layers > 1 else 0.0,
            )
            self.drop = nn.Dropout(cfg.dropout)
            self.fc = nn.Linear(2 * cfg.hidden, k)
            init = nn.initializer.Uniform(-0.1, 0.1)
            self.trans = self.create_parameter([k, k], default_initializer=init)
            self.start = self.create_parameter([k], default_initializer=init)
            self.end = self.create_parameter([k], default_initializer=init)
            self.register_buffer("mask_trans", paddle.to_tensor(mask_trans), persistable=False)
            self.register_buffer("mask_start", paddle.to_tensor(mask_start), persistable=False)

        def emissions(self, ids: Any, gaz: Any, lengths: Any) -> Any:
            x = self.emb(ids)
            if cfg.gazetteer_features:
                x = paddle.concat([x, gaz], axis=-1)
            out, _ = self.gru(x, sequence_length=lengths)
            return self.fc(self.drop(out))

        def nll(self, emit: Any, tags: Any, lengths: Any) -> Any:
            """Mean negative CRF log-likelihood over the batch."""
            batch, steps = tags.shape
            trans = self.trans + self.mask_trans
            start = self.start + self.mask_start
            mask = (paddle.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)).astype("float32")
            gold_emit = paddle.take_along_axis(emit, tags.unsqueeze(-1), axis=2).squeeze(-1)
            score = (gold_emit * mask).sum(axis=1) + paddle.gather(start, tags[:, 0])
            if steps > 1:
                pair = tags[:, :-1] * k + tags[:, 1:]
                gold_trans = paddle.gather(trans.reshape([-1]), pair.reshape([-1])).reshape([batch, steps - 1])
                score = score + (gold_trans * mask[:, 1:]).sum(axis=1)
            last = paddle.take_along_axis(tags, (lengths - 1).unsqueeze(1), axis=1).squeeze(1)
            score = score + paddle.gather(self.end, last)
            alpha = start.unsqueeze(0) + emit[:, 0]
            for t in range(1, steps):
                nxt = paddle.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), axis=1) + emit[:, t]
                m = mask[:, t : t + 1]
                alpha = m * nxt + (1.0 - m) * alpha
            log_z = paddle.logsumexp(alpha + self.end.unsqueeze(0), axis=1)
            return (log_z - score).mean()

    return BiGruCrf()


def export_weights(net: Any, cfg: TrainConfig, state: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Paddle parameters (or ``state``, same names) → the numpy layout :class:`NerModel` reads."""
    if state is None:
        state = {k: v.numpy() for k, v in net.state_dict().items()}
    out: dict[str, np.ndarray] = {"emb": state["emb.weight"], "fc.w": state["fc.weight"], "fc.b": state["fc.bias"]}
    for layer in range(cfg.layers):
        for d, cell in (("fw", "cell_fw"), ("bw", "cell_bw")):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                short = name.replace("weight_", "w_").replace("bias_", "b_")
                out[f"gru.{layer}.{d}.{short}"] = state[f"gru.{layer}.{cell}.{name}"]
    mask_trans, mask_start = crf.bio_constraints(TAGS)
    out["crf.trans"] = state["trans"] + mask_trans
    out["crf.start"] = state["start"] + mask_start
    out["crf.end"] = state["end"]
    return out


def _model_config(cfg: TrainConfig, gazetteer: Gazetteer) -> dict[str, Any]:
    return {
        "arch": "bigru-crf",
        **asdict(cfg),
        "tags": list(TAGS),
        "gazetteer_digest": gazetteer.digest if cfg.gazetteer_features else None,
        "gazetteer_source": gazetteer.source,
    }


def evaluate(model: NerModel, records: list[Record]) -> dict[str, Any]:
    """Entity P/R/F1 of the bare model (no phone rules) on ``records``."""
    from luodi.eval.metrics import EntitySpan, span_metrics

    preds = model.predict([r.text for r in records])
    metrics = span_metrics(
        [[EntitySpan(s.start, s.end, s.type) for s in r.spans] for r in records],
        [[EntitySpan(s.start, s.end, s.type) for s in p.spans] for p in preds],
    )
    return {
        "micro": metrics.overall.to_dict(),
        "per_type": {k: v.to_dict() for k, v in sorted(metrics.per_type.items())},
    }


def _drop_party(rec: Record, rng: random.Random, p: float) -> Record | None:
    """``rec`` without its name and/or phone (each with probability ``p``); None if unchanged."""
    gone = [s for s in rec.spans if s.type in ("P", "T") and rng.random() < p]
    if not gone or len(gone) == len(rec.spans):
        return None
    keep = [i for i in range(len(rec.text)) if not any(s.start <= i < s.end for s in gone)]
    return Record("".join(rec.text[i] for i in keep), tuple(rec.tags[i] for i in keep), rec.source)


_AREA_CODES = ("010", "021", "022", "023", "020", "025", "027", "028", "029", "0451", "0571", "0755", "0871", "0931")


def _random_phone(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # landline with dash
        return f"{rng.choice(_AREA_CODES)}-{rng.randint(2, 9)}{rng.randrange(10**7):07d}"
    if kind == 1:  # landline without dash, 7-digit local number
        return f"{rng.choice(_AREA_CODES)}{rng.randint(2, 9)}{rng.randrange(10**6):06d}"
    mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    if kind == 2:
        return "+86" + mobile
    return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"


def _rewrite_phone(rec: Record, rng: random.Random) -> Record | None:
    phones = [s for s in rec.spans if s.type == "T"]
    if not phones:
        return None
    span = phones[0]
    new = _random_phone(rng)
    text = rec.text[: span.start] + new + rec.text[span.end :]
    tags = (*rec.tags[: span.start], "T-B", *(["T-I"] * (len(new) - 1)), *rec.tags[span.end :])
    return Record(text, tags, rec.source)


def _batches(
    records: list[Record],
    feats: list[np.ndarray],
    vocab: CharVocab,
    cfg: TrainConfig,
    *,
    rng: random.Random,
    gazetteer: Gazetteer,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    tag_id = {t: i for i, t in enumerate(TAGS)}
    if cfg.drop_party > 0 or cfg.phone_forms > 0:
        records, feats = list(records), list(feats)
        for i, rec in enumerate(records):
            variant = _drop_party(rec, rng, cfg.drop_party) if cfg.drop_party > 0 else None
            if cfg.phone_forms > 0 and rng.random() < cfg.phone_forms:
                variant = _rewrite_phone(variant or rec, rng) or variant
            if variant is not None:
                records[i] = variant
                if cfg.gazetteer_features:
                    feats[i] = gazetteer_features(variant.text, gazetteer)
    order = list(range(len(records)))
    rng.shuffle(order)
    out = []
    for b in range(0, len(order), cfg.batch_size):
        idx = order[b : b + cfg.batch_size]
        steps = max(len(records[i].text) for i in idx)
        ids = np.zeros((len(idx), steps), dtype=np.int64)
        tags = np.full((len(idx), steps), tag_id["O"], dtype=np.int64)
        gaz = np.zeros((len(idx), steps, GAZ_DIM), dtype=np.float32)
        lengths = np.zeros(len(idx), dtype=np.int64)
        for row, i in enumerate(idx):
            rec = records[i]
            n = len(rec.text)
            enc = vocab.encode(rec.text)
            drop = np.array([rng.random() < cfg.word_dropout for _ in range(n)], dtype=bool)
            enc[drop] = UNK
            ids[row, :n] = enc
            tags[row, :n] = [tag_id[t] for t in rec.tags]
            if cfg.gazetteer_features:
                gaz[row, :n] = feats[i]
            lengths[row] = n
        out.append((ids, gaz, tags, lengths))
    return out


def train(  # noqa: PLR0912, PLR0915 - the training run in one readable sequence
    data: Path, out: Path, cfg: TrainConfig | None = None, *, force: bool = False, threads: int | None = None
) -> dict[str, Any]:
    """Train (or skip when up to date) and install the model in ``out``; returns its manifest."""
    cfg = cfg or TrainConfig()
    train_path, dev_path = data / "train.txt", data / "dev.txt"
    for p in (train_path, dev_path):
        if not p.is_file():
            raise InputNotFoundError(f"NER training data not found: {p}")
    if (data / "tag.dic").is_file() and set(read_tag_dic(data / "tag.dic")) != set(TAGS):
        raise ConfigError(f"{data / 'tag.dic'} does not list the tags this model predicts: {', '.join(TAGS)}")
    gazetteer = get_gazetteer()
    fingerprint = {
        "data_sha256": _data_digest(data),
        "config_sha256": cfg.digest(),
        "gazetteer_sha256": gazetteer.digest,
    }
    existing = read_manifest(out)
    up_to_date = (
        existing is not None
        and existing.get("code_version") == CODE_VERSION
        and all(existing.get(k) == v for k, v in fingerprint.items())
    )
    if up_to_date and not force:
        assert existing is not None
        try:
            verify_model_dir(out)
        except LuodiError as exc:
            log.warning("existing model in %s is damaged (%s); re-training", out, exc)
        else:
            log.info("model in %s is up to date; skipping training", out)
            return existing

    if threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    paddle = import_paddle()
    paddle.set_device("cpu")
    paddle.seed(cfg.seed)
    np.random.seed(cfg.seed)
    rng = random.Random(cfg.seed)

    train_recs, dev_recs = read_bio(train_path), read_bio(dev_path)
    vocab = CharVocab.build(r.text for r in train_recs)
    empty = np.zeros((0, GAZ_DIM), dtype=np.float32)
    feats = [gazetteer_features(r.text, gazetteer) if cfg.gazetteer_features else empty for r in train_recs]
    config = _model_config(cfg, gazetteer)

    net = _build_net(paddle, len(vocab), cfg)
    clip = paddle.nn.ClipGradByGlobalNorm(5.0)
    opt = paddle.optimizer.Adam(learning_rate=cfg.lr, parameters=net.parameters(), grad_clip=clip)

    t0 = time.perf_counter()
    best_f1, best_epoch, best_weights, best_metrics = -1.0, -1, None, None
    last_gain = 0
    ema = {k: v.numpy().copy() for k, v in net.state_dict().items()} if cfg.ema_decay > 0 else None
    history = []
    for epoch in range(1, cfg.max_epochs + 1):
        net.train()
        total = 0.0
        batches = _batches(train_recs, feats, vocab, cfg, rng=rng, gazetteer=gazetteer)
        for ids, gaz, tags, lengths in batches:
            t_lengths = paddle.to_tensor(lengths)
            emit = net.emissions(paddle.to_tensor(ids), paddle.to_tensor(gaz), t_lengths)
            loss = net.nll(emit, paddle.to_tensor(tags), t_lengths)
            loss.backward()
            opt.step()
            if ema is not None:
                for k, v in net.state_dict().items():
                    ema[k] = cfg.ema_decay * ema[k] + (1.0 - cfg.ema_decay) * v.numpy()
            opt.clear_grad()
            total += float(loss)
        net.eval()
        weights = export_weights(net, cfg, ema)
        metrics = evaluate(NerModel(weights, vocab, config, gazetteer), dev_recs)
        f1 = metrics["micro"]["f1"]
        history.append({"epoch": epoch, "loss": round(total / len(batches), 4), "dev_f1": f1})
        log.info("epoch %d loss %.4f dev F1 %.4f (%.0f s)", epoch, total / len(batches), f1, time.perf_counter() - t0)
        if f1 > best_f1:
            best_f1, best_epoch, best_weights, best_metrics = f1, epoch, weights, metrics
            last_gain = epoch
        elif epoch - best_epoch >= cfg.patience:
            break
        elif epoch - last_gain >= cfg.lr_patience:
            # Dev F1 swings between epochs at the full rate; smaller steps settle it.
            opt.set_lr(opt.get_lr() * 0.5)
            last_gain = epoch
            log.info("learning rate -> %.2g", opt.get_lr())
    train_seconds = time.perf_counter() - t0
    assert best_weights is not None and best_metrics is not None

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".express-ner-", dir=out.parent))
    try:
        np.savez(tmp / "weights.npz", **best_weights)  # type: ignore[arg-type]
        vocab.save(tmp / "vocab.txt")
        (tmp / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        summary = {
            "dev": best_metrics,
            "best_epoch": best_epoch,
            "epochs_run": len(history),
            "train_seconds": round(train_seconds, 1),
            "history": history,
            "paddle": paddle.__version__,
        }
        (tmp / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        manifest = write_manifest(tmp, {**fingerprint, "dev_f1": best_f1, "train_seconds": round(train_seconds, 1)})
        tmp.chmod(0o755)  # mkdtemp makes it private; the store is meant to be readable by services
        if out.exists():
            shutil.rmtree(out)
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m luodi.kie.ner.train", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=EXPRESS_NER,
        help="folder with train.txt, dev.txt, tag.dic (default: the express NER sets shipped in luodi/data)",
    )
    parser.add_argument("--out", type=Path, default=None, help="model folder (default $LUODI_HOME/models/express-ner)")
    parser.add_argument("--force", action="store_true", help="re-train even when the model is up to date")
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-gazetteer", action="store_true", help="train without gazetteer input features")
    parser.add_argument("--drop-party", type=float, default=None, help="probability of leaving out name/phone")
    parser.add_argument("--phone-forms", type=float, default=None, help="probability of rewriting the phone")
    parser.add_argument("--ema", type=float, default=None, help="weight moving-average decay per step (0: off)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for Paddle")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    cfg = TrainConfig()
    overrides: dict[str, Any] = {}
    if args.max_epochs is not None:
        overrides["max_epochs"] = args.max_epochs
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.no_gazetteer:
        overrides["gazetteer_features"] = False
    if args.drop_party is not None:
        overrides["drop_party"] = args.drop_party
    if args.ema is not None:
        overrides["ema_decay"] = args.ema
    if args.phone_forms is not None:
        overrides["phone_forms"] = args.phone_forms
    if overrides:
        cfg = TrainConfig(**{**asdict(cfg), **overrides})
    out = args.out if args.out is not None else default_model_dir()
    try:
        manifest = train(args.data, out, cfg, force=args.force, threads=args.threads)
    except LuodiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(
        json.dumps({"out": str(out), "dev_f1": manifest.get("dev_f1"), "train_seconds": manifest.get("train_seconds")})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
