"""Distillation from multilingual-e5-small (luodi.text.teacher): the numpy encoder and a training run with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def encoder() -> Any:
    from luodi.errors import LuodiError
    from luodi.text.teacher import E5Encoder
    from luodi.zoo import bundle_file, get_bundle

    try:
        path = bundle_file(get_bundle("multilingual-e5-small"), "encoder")
    except LuodiError as exc:
        pytest.skip(f"the multilingual-e5-small bundle is not pulled ({exc}): luodi models pull multilingual-e5-small")
    return E5Encoder.load(path)


def test_sentence_vectors_are_unit_length_and_mean_something(encoder: Any) -> None:
    texts = ["给张三打电话", "打电话给张三", "明天北京下雨吗", "北京明天会下雨吗"]
    v = encoder(texts)
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    cos = v @ v.T
    assert cos[0, 1] > cos[0, 2] + 0.05 and cos[2, 3] > cos[1, 3] + 0.05  # paraphrases nearer than other intents
    assert np.allclose(encoder(texts[::-1])[::-1], v, atol=1e-5)  # a text's vector does not depend on its batch
    ids = encoder.tokenize("给张三打电话")
    assert ids and all(isinstance(i, int) and i > 3 for i in ids)  # no <unk> for common Chinese


def test_layer_means_end_at_the_sentence_vector_and_the_first_layer_differs(encoder: Any) -> None:
    texts = ["给张三打电话", "明天北京下雨吗", "国足客场战平叙利亚"]
    means = encoder.layer_means(texts, 12)
    assert means.shape == (3, 12, 384)
    assert np.allclose(means[:, -1], encoder(texts), atol=1e-5)  # the last layer's mean is the sentence vector
    assert np.allclose(np.linalg.norm(means, axis=2), 1.0, atol=1e-4)
    first = encoder.layer_means(texts, 1)
    assert first.shape == (3, 1, 384) and np.allclose(first[:, 0], means[:, 0], atol=1e-5)
    assert np.min(np.sum(means[:, 0] * means[:, -1], axis=1)) < 0.99  # layer 1 is not already the final vector


def test_training_with_the_teacher_keeps_its_vectors_and_exports_without_its_head(encoder: Any, tmp_path: Path) -> None:
    from luodi.text.config import parse_text_config
    from luodi.text.export import load_run_net
    from luodi.text.train import train_text

    names, songs = ["张三", "李四", "王五", "赵六"], ["稻香", "晴天", "夜曲", "七里香"]
    rows = [{"text": f"给{n}打电话", "label": "DIAL"} for n in names] + [
        {"text": f"播放{s}", "label": "PLAY"} for s in songs
    ]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    cfg = parse_text_config(
        {
            "task": "classify",
            "train": str(tmp_path / "train.jsonl"),
            "eval_fraction": 0.25,
            "output_dir": str(tmp_path / "runs"),
            "min_count": 1,
            "model": {
                "lexicon": "none",
                "context": "none",
                "channels": 16,
                "char_dim": 16,
                "bag_dim": 16,
                "bigram_dim": 0,
            },
            "optim": {"epochs": 1, "batch_size": 4, "warmup_steps": 1},
        }
    )
    logs: list[str] = []
    result = train_text(cfg, name="t", teacher=encoder, on_log=logs.append)
    kept = np.load(result.run_dir / "teacher.npy")
    assert kept.shape[1] == 384 and np.allclose(np.linalg.norm(kept, axis=1), 1.0, atol=1e-4)
    assert any(line.startswith("teacher:") for line in logs)
    from luodi.train.trainer import import_paddle

    saved = import_paddle().load(str(result.run_dir / "best.pdparams"))
    assert any(k.startswith("distill.") for k in saved)  # the head was trained...
    net, _feats, _labels = load_run_net(result.run_dir)  # ...and is left out of the served network
    assert not any(k.startswith("distill.") for k in net.state_dict())
