"""Text training end to end on a small generated corpus: train, resume, export, zoo, TextModel, CLI, eval."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from luodi.errors import EmptyInputError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NAMES = ["张三", "李四", "王小明", "赵敏", "周杰", "陈晨", "刘洋", "孙丽"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安"]
SONGS = ["青花瓷", "稻香", "晴天", "夜曲", "七里香", "告白气球"]


def _corpus(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            name = rng.choice(NAMES)
            text = rng.choice(["给{}打电话", "打电话给{}", "呼叫{}"]).format(name)
            out.append({"text": text, "intent": "DIAL", "slots": {"name": name}})
        elif kind == 1:
            city = rng.choice(CITIES)
            text = rng.choice(["{}今天天气怎么样", "明天{}下雨吗", "查一下{}的天气"]).format(city)
            out.append({"text": text, "intent": "WEATHER", "slots": {"city": city}})
        else:
            song = rng.choice(SONGS)
            text = rng.choice(["播放{}", "我想听{}", "来一首{}"]).format(song)
            out.append({"text": text, "intent": "PLAY", "slots": {"song": song}})
    return out


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def _config(tmp: Path, epochs: int, **extra: Any) -> Any:
    from luodi.text.config import parse_text_config

    data = {
        "task": "nlu",
        "train": str(tmp / "train.jsonl"),
        "eval": str(tmp / "dev.jsonl"),
        "output_dir": str(tmp / "runs"),
        "max_len": 12,
        "min_count": 1,
        "model": {
            "lexicon": "none",
            "context": "none",
            "teacher": "none",
            "channels": 32,
            "char_dim": 32,
            "bag_dim": 32,
            "bigram_dim": 16,
            "gazetteer": True,
            "word_chars": True,
        },
        "optim": {"epochs": epochs, "batch_size": 16, "warmup_steps": 5, "patience": 10},
        **extra,
    }
    return parse_text_config(data)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("textdata")
    train = _corpus(90, 0)
    train.append({"text": "打开客厅的灯", "intent": "LIGHT", "slots": {}})  # a class with one example
    _write_jsonl(tmp / "train.jsonl", train)
    _write_jsonl(tmp / "dev.jsonl", _corpus(30, 1))
    return tmp


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def trained(corpus: Path, home: Path) -> Any:
    from luodi.text.train import train_text

    logs: list[str] = []
    result = train_text(_config(corpus, 12), name="full", home=home, on_log=logs.append)
    return result, logs


def test_run_writes_checkpoints_curves_and_learns(trained: Any) -> None:
    result, logs = trained
    run = result.run_dir
    for name in ("best.pdparams", "latest.pdparams", "latest.pdopt", "metrics.csv", "curves.png", "features.json"):
        assert (run / name).is_file(), name
    assert result.best["accuracy"] >= 0.9 and result.best["slot_f1"] >= 0.8
    assert any("one training example" in w for w in result.warnings)
    assert any(line.startswith("epoch 12:") for line in logs)


def test_resume_continues_to_the_same_weights(corpus: Path, home: Path, trained: Any) -> None:
    from luodi.text.train import train_text
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()

    def stop_at_6(line: str) -> None:
        if line.startswith("epoch 6:"):
            raise KeyboardInterrupt  # as Ctrl-C would: the trainer saves a checkpoint first

    with pytest.raises(KeyboardInterrupt):
        train_text(_config(corpus, 12), name="half", home=home, on_log=stop_at_6)
    first = corpus / "runs" / "half"
    assert json.loads((first / "latest.json").read_text())["epoch"] == 6
    resumed = train_text(_config(corpus, 12), resume=first, home=home)
    assert resumed.epochs == 12
    a = paddle.load(str(resumed.run_dir / "latest.pdparams"))
    b = paddle.load(str(trained[0].run_dir / "latest.pdparams"))
    for key in b:
        assert np.allclose(a[key].numpy(), b[key].numpy(), atol=1e-5), key


def test_export_registers_and_serves_the_same_answers(trained: Any, corpus: Path, home: Path) -> None:
    from luodi.text.export import export_text_run, load_run_net
    from luodi.text.model import TextModel
    from luodi.text.train import predict_arrays
    from luodi.train.trainer import import_paddle
    from luodi.zoo import describe_bundle, list_bundles

    result = trained[0]
    exported = export_text_run(result.run_dir, "tiny-nlu", home=home, int8=True)
    assert exported.max_abs_diff < 1e-3 and exported.int8 is not None
    bundle = describe_bundle("tiny-nlu", home)
    assert bundle.task == "text" and {f.role for f in bundle.files} == {"model", "features", "meta"}
    assert any(r.name == "tiny-nlu" and r.task == "text" for r in list_bundles(home))

    export_text_run(result.run_dir, "tiny-fp32", home=home)
    model = TextModel("tiny-fp32", home=home)
    # the slot values of training as a gazetteer input, then the words (place and id) per character;
    # slot types decoded only with their intents
    assert model.meta["inputs"][-2:] == ["gaz", "seg_ids"] and model.session.input_names[-2:] == ("gaz", "seg_ids")
    assert model.meta["class_slots"]["DIAL"] == ["name"] and model.meta["class_slots"]["LIGHT"] == []
    texts = ["给王小明打电话", "上海今天天气怎么样", "我想听稻香"]
    got = model(texts)
    assert [r.label for r in got] == ["DIAL", "WEATHER", "PLAY"]
    assert [s.value for s in got[0].slots] == ["王小明"] and got[0].slots[0].start == 1
    net, feats, _ = load_run_net(result.run_dir)
    probs, _ = predict_arrays(net, import_paddle(), feats, texts)
    assert np.allclose(probs.max(axis=1), [r.score for r in got], atol=1e-4)

    long = model(["给张三打电话" * 5])[0]
    assert long.truncated and long.label == "DIAL"
    with pytest.raises(EmptyInputError, match="text 1 is empty"):
        model(["打电话给李四", "  "])


def test_cli_nlu_eval_and_models_info(
    trained: Any, corpus: Path, home: Path, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    from luodi.cli import main
    from luodi.text.export import export_text_run

    monkeypatch.setenv("LUODI_HOME", str(home))
    export_text_run(trained[0].run_dir, "tiny-cli", home=home, force=True)
    capsys.readouterr()  # the exporter's own chatter
    main(["text", "nlu", "-m", "tiny-cli", "--text", "呼叫赵敏", "--format", "jsonl"])
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["intent"] == "DIAL" and row["slots"][0]["value"] == "赵敏"

    dev = _corpus(12, 5)
    dev.append({"text": "关掉空调", "intent": "AC_OFF", "slots": {}})  # a label the model never saw
    data = _write_jsonl(tmp_path / "eval.jsonl", dev)
    main(["eval", "text", "--data", str(data), "-m", "tiny-cli", "--confusion", str(tmp_path / "cm.png")])
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["unknown_gold_labels"] == ["AC_OFF"] and "count as errors" in out.err
    assert report["accuracy"] <= 12 / 13 and report["slot_f1"] is not None
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"

    main(["models", "info", "tiny-cli", "--format", "json"])
    info = json.loads(capsys.readouterr().out)
    assert info["task"] == "text" and len(info["files"]) == 3


def test_cli_errors_are_one_line(corpus: Path, home: Path, tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    from luodi.cli import main

    monkeypatch.setenv("LUODI_HOME", str(home))
    cfg = tmp_path / "bad.yml"
    cfg.write_text(f"task: nlu\ntrain: {corpus / 'train.jsonl'}\nepochs: 3\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["train", "text", "--config", str(cfg), "--name", "x"])
    assert info.value.code == 1 and "unknown key 'epochs'" in capsys.readouterr().err


def test_slot_rnn_trains_exports_and_ignores_padding(corpus: Path, home: Path) -> None:
    """``model.slot_rnn``: the slot head's BiGRU learns, exports (the exporter checks the ONNX slot scores
    against the trained net), and a text's slots do not depend on the other texts in its batch."""
    from luodi.text.export import export_text_run
    from luodi.text.model import TextModel
    from luodi.text.train import train_text

    cfg = _config(corpus, 12)
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"slot_rnn": 16})})
    result = train_text(cfg, name="rnn", home=home)
    assert result.best["accuracy"] >= 0.9 and result.best["slot_f1"] >= 0.8
    export_text_run(result.run_dir, "tiny-rnn", home=home)
    model = TextModel("tiny-rnn", home=home)
    alone = model(["给王小明打电话"])[0]
    batched = model(["给王小明打电话", "我想听告白气球，快点放一下吧，谢谢你了"])[0]
    assert [s.value for s in alone.slots] == ["王小明"]
    assert alone.slots == batched.slots and abs(alone.score - batched.score) < 1e-5


def test_crf_lr_scales_only_the_crf_steps() -> None:
    from luodi.text.config import ModelSpec
    from luodi.text.net import build_net
    from luodi.text.train import scale_crf_lr
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    spec = ModelSpec(lexicon="none", context="none", words="none", channels=32, char_dim=16, bigram_dim=8, bag_dim=16)
    moved = {}
    for factor in (1.0, 10.0):
        paddle.seed(0)
        sizes = {"bag": 50, "chars": 30, "bigrams": 40}
        net = build_net(paddle, sizes=sizes, lexicon=None, spec=spec, n_classes=3, tags=["O", "B-a", "I-a"])
        scale_crf_lr(net, factor)
        opt = paddle.optimizer.Adam(learning_rate=1e-2, parameters=net.parameters())
        before = (net.trans.numpy().copy(), net.slot.weight.numpy().copy())
        ids = paddle.to_tensor(np.array([[3, 4, 5, 0]], np.int64))
        lex = paddle.to_tensor(np.zeros((1, 4, 8), np.int64))
        bag = paddle.to_tensor(np.ones((1, 3), np.int64))
        _, emit, _ = net.encode(ids, ids, lex, bag, paddle.to_tensor(np.ones((1, 3), np.float32)))
        tags = paddle.to_tensor(np.array([[1, 2, 0, 0]], np.int64))
        net.crf_nll(emit, tags, paddle.to_tensor(np.array([3], np.int64))).backward()
        opt.step()
        moved[factor] = (
            float(np.abs(net.trans.numpy() - before[0]).max()),
            float(np.abs(net.slot.weight.numpy() - before[1]).max()),
        )
    assert moved[10.0][0] == pytest.approx(10 * moved[1.0][0], rel=1e-3)  # Adam's first step: lr per weight
    assert moved[10.0][1] == pytest.approx(moved[1.0][1], rel=1e-3)  # the rest as before
