"""The numpy inference path against Paddle, the CRF loss against numpy, and the model store.

Uses tiny randomly initialised networks and made-up data: no trained model is needed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from luodi.errors import ModelIntegrityError, ModelNotPulledError, RuntimeBackendError
from luodi.kie.gazetteer import get_gazetteer
from luodi.kie.ner import crf
from luodi.kie.ner import train as train_mod
from luodi.kie.ner.data import TAGS
from luodi.kie.ner.features import CharVocab, gazetteer_features
from luodi.kie.ner.model import NerModel, load_ner_model
from luodi.kie.ner.store import verify_model_dir

try:
    paddle = train_mod.import_paddle()
except RuntimeBackendError:  # paddle is an optional extra ('luodi[paddle]')
    pytest.skip("PaddlePaddle is not installed", allow_module_level=True)

TEXTS = ["黑龙江省双鸭山市尖山区八马路韦业涛18600009172", "张三13812345678", "广东省广州市天河区"]
SMALL = train_mod.TrainConfig(emb_dim=8, hidden=6, layers=2, dropout=0.0, word_dropout=0.0, max_epochs=1)


def _tiny_net(cfg=SMALL):
    paddle.seed(7)
    vocab = CharVocab.build(TEXTS[:2])  # 广东... characters stay unknown on purpose
    net = train_mod._build_net(paddle, len(vocab), cfg)
    net.eval()
    return net, vocab


def _paddle_inputs(vocab, cfg=SMALL):
    gaz = get_gazetteer()
    steps = max(len(t) for t in TEXTS)
    ids = np.zeros((len(TEXTS), steps), dtype=np.int64)
    feats = np.zeros((len(TEXTS), steps, 9), dtype=np.float32)
    for i, t in enumerate(TEXTS):
        ids[i, : len(t)] = vocab.encode(t)
        feats[i, : len(t)] = gazetteer_features(t, gaz)
    lengths = np.array([len(t) for t in TEXTS], dtype=np.int64)
    return ids, feats, lengths


def test_numpy_forward_equals_paddle() -> None:
    net, vocab = _tiny_net()
    ids, feats, lengths = _paddle_inputs(vocab)
    expected = net.emissions(paddle.to_tensor(ids), paddle.to_tensor(feats), paddle.to_tensor(lengths)).numpy()
    config = train_mod._model_config(SMALL, get_gazetteer())
    model = NerModel(train_mod.export_weights(net, SMALL), vocab, config)
    got = model.emissions(TEXTS)
    for i, t in enumerate(TEXTS):
        np.testing.assert_allclose(got[i], expected[i, : len(t)], rtol=1e-4, atol=1e-5)


def test_paddle_crf_loss_equals_numpy_log_likelihood() -> None:
    net, _ = _tiny_net()
    rng = np.random.default_rng(0)
    k = len(TAGS)
    net.trans.set_value(rng.normal(size=(k, k)).astype("float32"))
    net.start.set_value(rng.normal(size=k).astype("float32"))
    net.end.set_value(rng.normal(size=k).astype("float32"))
    lengths = np.array([5, 3, 1], dtype=np.int64)
    emit = rng.normal(size=(3, 5, k)).astype("float32")
    # Well-formed BIO paths (the constraint masks make ill-formed ones near-impossible).
    names = [["P-B", "P-I", "T-B", "T-I", "O"], ["A1-B", "A1-I", "O", "O", "O"], ["O", "O", "O", "O", "O"]]
    tags = np.array([[TAGS.index(t) for t in row] for row in names], dtype=np.int64)
    loss = float(net.nll(paddle.to_tensor(emit), paddle.to_tensor(tags), paddle.to_tensor(lengths)))
    weights = train_mod.export_weights(net, SMALL)
    trans, start, end = (weights[n].astype(np.float64) for n in ("crf.trans", "crf.start", "crf.end"))
    expected = -np.mean(
        [
            crf.log_likelihood(emit[i, :n].astype(np.float64), list(tags[i, :n]), trans, start, end)
            for i, n in enumerate(lengths)
        ]
    )
    assert loss == pytest.approx(expected, rel=1e-4)


def _write_data(folder: Path) -> None:
    sep = "\x02"
    rows = []
    for name, phone, addr in [
        ("张三", "13812345678", "广东省广州市天河区体育西路1号"),
        ("李四", "18600009172", "北京市海淀区中关村"),
    ]:
        text = name + phone + addr
        tags = ["P-B"] + ["P-I"] * (len(name) - 1) + ["T-B"] + ["T-I"] * 10 + ["A4-B"] + ["A4-I"] * (len(addr) - 1)
        rows.append(sep.join(text) + "\t" + sep.join(tags))
    body = "text_a\tlabel\n" + "\n".join(rows * 4) + "\n"
    folder.mkdir()
    (folder / "train.txt").write_text(body, encoding="utf-8")
    (folder / "dev.txt").write_text(body, encoding="utf-8")


def test_train_is_idempotent_and_store_is_verified(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "models" / "express-ner"
    _write_data(data)
    cfg = replace(SMALL, batch_size=4)
    first = train_mod.train(data, out, cfg)
    assert {f["path"] for f in first["files"]} == {"weights.npz", "vocab.txt", "config.json", "metrics.json"}
    stamp = (out / "weights.npz").stat().st_mtime_ns
    again = train_mod.train(data, out, cfg)  # same data, config, code: skipped
    assert again == first and (out / "weights.npz").stat().st_mtime_ns == stamp
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert "micro" in metrics["dev"]
    model = load_ner_model(out)
    assert [p.text for p in model.predict(["张三13812345678", ""])] == ["张三13812345678", ""]
    # A tampered file is caught.
    (out / "vocab.txt").write_text("x\n", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        verify_model_dir(out)


def test_missing_model_names_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotPulledError, match=r"python -m luodi\.kie\.ner\.train"):
        load_ner_model(tmp_path / "nothing-here")


def test_drop_party_augmentation_keeps_tags_aligned() -> None:
    import random

    from luodi.kie.ner.data import Record

    text = "张三13812345678北京市海淀区"
    tags = ("P-B", "P-I", "T-B", *(["T-I"] * 10), "A1-B", "A1-I", "A1-I", "A3-B", "A3-I", "A3-I")
    rec = Record(text, tags, "x:1")
    seen = set()
    rng = random.Random(0)
    for _ in range(50):
        variant = train_mod._drop_party(rec, rng, 0.5)
        if variant is None:
            continue
        assert len(variant.text) == len(variant.tags)
        assert [s.type for s in variant.spans] in (["T", "A1", "A3"], ["P", "A1", "A3"], ["A1", "A3"])
        seen.add(variant.text)
    assert seen == {"13812345678北京市海淀区", "张三北京市海淀区", "北京市海淀区"}


def test_phone_rewrite_augmentation_gives_valid_phones() -> None:
    import random

    from luodi.kie.contact.phones import normalize_phone
    from luodi.kie.ner.data import Record

    rec = Record("张三13812345678北京", ("P-B", "P-I", "T-B", *(["T-I"] * 10), "A1-B", "A1-I"), "x:1")
    rng = random.Random(3)
    for _ in range(30):
        variant = train_mod._rewrite_phone(rec, rng)
        assert variant is not None and len(variant.text) == len(variant.tags)
        (phone,) = [s for s in variant.spans if s.type == "T"]
        assert normalize_phone(variant.text[phone.start : phone.end]) is not None
        assert variant.text.startswith("张三") and variant.text.endswith("北京")


def test_train_without_gazetteer_features(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "nogaz"
    _write_data(data)
    train_mod.train(data, out, replace(SMALL, batch_size=4, gazetteer_features=False))
    model = load_ner_model(out)
    assert model.config["gazetteer_features"] is False
    assert len(model.predict(["张三13812345678"])[0].tags) == len("张三13812345678")
