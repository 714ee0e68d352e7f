"""Text training with a moving average of the weights (optim.ema) and a capped teacher (model.teacher_texts)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KINDS = {
    "DIAL": (["给{}打电话", "打电话给{}", "呼叫{}"], ["张三", "李四", "王小明", "赵敏", "周杰"]),
    "WEATHER": (["{}今天天气怎么样", "明天{}下雨吗", "查一下{}的天气"], ["北京", "上海", "广州", "深圳"]),
    "PLAY": (["播放{}", "我想听{}", "来一首{}"], ["青花瓷", "稻香", "晴天", "夜曲"]),
}


def _rows(n: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    kinds = sorted(KINDS)
    out = []
    for i in range(n):
        label = kinds[i % 3]
        forms, fills = KINDS[label]
        out.append({"text": rng.choice(forms).format(rng.choice(fills)), "label": label})
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("emadata")
    for name, rows in (("train", _rows(48, 0)), ("dev", _rows(18, 1))):
        (tmp / f"{name}.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return tmp


def _cfg(tmp: Path, **optim: Any) -> Any:
    from luodi.text.config import parse_text_config

    return parse_text_config(
        {
            "task": "classify",
            "train": str(tmp / "train.jsonl"),
            "eval": str(tmp / "dev.jsonl"),
            "output_dir": str(tmp / "runs"),
            "min_count": 1,
            "model": {
                "lexicon": "none",
                "context": "none",
                "teacher": "none",
                "channels": 16,
                "char_dim": 16,
                "bag_dim": 16,
                "bigram_dim": 0,
            },
            "optim": {"epochs": 4, "batch_size": 8, "warmup_steps": 2, "patience": 10, **optim},
        }
    )


def test_the_moving_average_is_what_is_evaluated_saved_and_resumed(data: Path) -> None:
    from luodi.text.data import read_examples
    from luodi.text.export import load_run_net
    from luodi.text.train import evaluate_net, train_text
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    full = train_text(_cfg(data, ema=0.9), name="ema-full")
    run = full.run_dir
    assert (run / "latest.ema").is_file()
    best = paddle.load(str(run / "best.pdparams"))
    latest = paddle.load(str(run / "latest.pdparams"))
    assert not np.allclose(best["cls.weight"].numpy(), latest["cls.weight"].numpy())  # the average lags the weights
    # the saved best weights score exactly what the trainer recorded for them
    net, feats, labels = load_run_net(run)
    m = evaluate_net(
        net, paddle, feats, read_examples(data / "dev.jsonl"), classes=labels["classes"], tags=labels["tags"]
    )
    assert m.accuracy == pytest.approx(full.best["accuracy"])

    def stop_at_2(line: str) -> None:
        if line.startswith("epoch 2:"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_text(_cfg(data, ema=0.9), name="ema-half", on_log=stop_at_2)
    resumed = train_text(_cfg(data, ema=0.9), resume=data / "runs" / "ema-half")
    a, b = paddle.load(str(resumed.run_dir / "latest.ema")), paddle.load(str(run / "latest.ema"))
    assert int(a["updates"]) == int(b["updates"]) > 0
    for key in b:
        if key.startswith("w:"):
            assert np.allclose(np.asarray(a[key]), np.asarray(b[key]), atol=1e-5), key


def test_teacher_texts_caps_what_the_teacher_encodes(data: Path) -> None:
    from luodi.text.train import train_text

    calls: list[int] = []

    def teacher(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        rng = np.random.default_rng(len(texts))
        return rng.normal(size=(len(texts), 8)).astype(np.float32)

    cfg = _cfg(data, epochs=1)
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"teacher_texts": 5})})
    result = train_text(cfg, name="capped", teacher=teacher)
    assert calls == [5]
    kept = np.load(result.run_dir / "teacher.npy")
    assert kept.shape == (48, 8)
    rows = np.linalg.norm(kept, axis=1)
    assert int((rows > 0).sum()) == 5 and np.allclose(rows[rows > 0], 1.0, atol=1e-5)
