"""A classifier is never chosen below its own bag SVM on the evaluation texts (the SVM alone is epoch 0)."""

from __future__ import annotations

import json
import random
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
        forms, fills = KINDS[kinds[i % 3]]
        out.append({"text": rng.choice(forms).format(rng.choice(fills)), "label": kinds[i % 3]})
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("floordata")
    for name, rows in (("train", _rows(48, 0)), ("dev", _rows(24, 1))):
        (tmp / f"{name}.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return tmp


def _cfg(tmp: Path, *, gain: float, lr: float) -> Any:
    from luodi.text.config import parse_text_config

    model = {
        "lexicon": "none",
        "context": "none",
        "channels": 16,
        "char_dim": 16,
        "bag_dim": 16,
        "bigram_dim": 0,
        "bag_svm_gain": gain,
    }
    return parse_text_config(
        {
            "task": "classify",
            "train": str(tmp / "train.jsonl"),
            "eval": str(tmp / "dev.jsonl"),
            "output_dir": str(tmp / "runs"),
            "min_count": 1,
            "model": model,
            "optim": {"epochs": 2, "batch_size": 8, "warmup_steps": 2, "lr": lr},
        }
    )


def _scored(run: Path) -> tuple[float, Any]:
    """The saved best checkpoint's accuracy on dev, and its weights."""
    from luodi.text.data import read_examples
    from luodi.text.export import load_run_net
    from luodi.text.train import evaluate_net
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    net, feats, labels = load_run_net(run)
    dev = read_examples(run.parent.parent / "dev.jsonl")
    m = evaluate_net(net, paddle, feats, dev, classes=labels["classes"], tags=labels["tags"])
    return m.accuracy, paddle.load(str(run / "best.pdparams"))


def test_a_network_worse_than_its_svm_is_replaced_by_the_svm(data: Path) -> None:
    from luodi.text.train import train_text

    # a network that cannot learn (lr 1e-9) and whose SVM path is nearly silent (gain 0.01): its random
    # deep logits decide, so every epoch is near chance, while the SVM alone gets these easy texts right
    logs: list[str] = []
    result = train_text(_cfg(data, gain=0.01, lr=1e-9), name="crippled", on_log=logs.append)
    epoch0 = next(line for line in logs if line.startswith("epoch 0 (the bag's linear SVM alone)"))
    svm = float(epoch0.rsplit(" ", 1)[1])
    assert svm >= 0.9
    assert result.best["linear_only"] is True and result.best["accuracy"] == pytest.approx(svm)
    accuracy, weights = _scored(result.run_dir)
    assert accuracy == pytest.approx(svm)  # what is saved scores what the trainer recorded
    assert not np.any(weights["cls.weight"].numpy()) and not np.any(weights["cls.bias"].numpy())
    assert json.loads((result.run_dir / "latest.json").read_text())["best"]["linear_only"] is True
    # and it is what is served
    from luodi.text.export import export_text_run
    from luodi.text.model import TextModel

    home = data / "home"
    export_text_run(result.run_dir, "floor-svm", home=home)
    dev = [json.loads(line) for line in (data / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    got = TextModel("floor-svm", home=home)([r["text"] for r in dev])
    assert np.mean([g.label == r["label"] for g, r in zip(got, dev, strict=True)]) == pytest.approx(svm)


def test_a_network_as_good_as_its_svm_is_kept(data: Path) -> None:
    from luodi.text.train import train_text

    result = train_text(_cfg(data, gain=3.0, lr=3e-3), name="normal")
    assert result.best["accuracy"] == 1.0 and "linear_only" not in result.best
    accuracy, weights = _scored(result.run_dir)
    assert accuracy == 1.0 and np.any(weights["cls.weight"].numpy())
