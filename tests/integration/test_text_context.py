"""e5 cut to its first layer (luodi.text.context): the cut agrees with the numpy encoder, and a model trained
with it carries it into its bundle and serves through it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TRAIN = ["给张三打电话", "打电话给李四", "播放周杰伦的稻香", "我想听晴天", "明天北京下雨吗", "上海今天天气怎么样"]


@pytest.fixture(scope="module")
def e5_path() -> Path:
    from luodi.errors import LuodiError
    from luodi.zoo import bundle_file, get_bundle

    try:
        return bundle_file(get_bundle("multilingual-e5-small"), "encoder")
    except LuodiError as exc:
        pytest.skip(f"the multilingual-e5-small bundle is not pulled ({exc}): luodi models pull multilingual-e5-small")


@pytest.fixture(scope="module")
def cut(e5_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from luodi.text.context import E5Context, build_context

    npz, graph = build_context(e5_path, TRAIN, tmp_path_factory.mktemp("ctx"))
    return E5Context.load(npz, graph), E5Context.load(npz, graph, threads=2)


def test_the_cut_keeps_the_training_texts_tokens_and_agrees_with_the_encoder(e5_path: Path, cut: Any) -> None:
    from luodi.text.teacher import E5Encoder

    cut, two_threads = cut
    enc = E5Encoder.load(e5_path)
    enc.prefix = "query: "
    full = [enc._file.pieces[i] for i in enc.tokenize(TRAIN[2])]
    kept = {i: p for p, i in cut.pieces.items()}
    assert [kept[i] for i in cut.tokens(TRAIN[2])[1:-1]] == full  # the same pieces as the whole vocabulary
    assert 20_000 < len(cut.pieces) < 60_000  # pruned from 250k, Chinese kept
    texts = [*TRAIN, "国足客场战平叙利亚", "打开wifi", "ok"]
    got = cut(texts)
    want = enc.layer_means(texts, 1)[:, 0]
    assert got.shape == (len(texts), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert np.min(np.sum(got * want, axis=1)) > 0.95  # INT8 weights: close to the float encoder
    rare = cut(["Zürich Kantonalbank"])  # pieces outside the cut: shorter pieces, still a unit vector
    assert np.isfinite(rare).all() and abs(float(np.linalg.norm(rare)) - 1.0) < 1e-4
    assert np.array_equal(cut(texts[::-1])[::-1], got)  # a text's vector does not depend on its batch
    assert np.array_equal(two_threads(texts), got)  # nor on the threads the texts are split between
    cos = got @ got.T
    assert cos[0, 1] > cos[0, 4]  # two calls nearer each other than a call and the weather


def test_a_model_trained_with_it_carries_and_serves_it(e5_path: Path, tmp_path: Path) -> None:
    from luodi.text.config import parse_text_config
    from luodi.text.export import export_text_run
    from luodi.text.model import TextModel
    from luodi.text.train import train_text
    from luodi.zoo import get_bundle

    rows = [{"text": t, "label": "DIAL" if i < 2 else ("PLAY" if i < 4 else "WEATHER")} for i, t in enumerate(TRAIN)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows * 3), "utf-8")
    cfg = parse_text_config(
        {
            "task": "classify",
            "train": str(tmp_path / "train.jsonl"),
            "eval_fraction": 0.2,
            "output_dir": str(tmp_path / "runs"),
            "min_count": 1,
            "model": {
                "lexicon": "none",
                "context": "multilingual-e5-small",
                "channels": 16,
                "char_dim": 16,
                "bag_dim": 16,
                "bigram_dim": 0,
            },
            "optim": {"epochs": 2, "batch_size": 4, "warmup_steps": 1},
        }
    )
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "multilingual-e5-small").symlink_to(e5_path.parent)  # the zoo's pulled e5, read only
    logs: list[str] = []
    result = train_text(cfg, name="ctx", home=home, on_log=logs.append)
    assert any(line.startswith("context:") for line in logs)
    feats = json.loads((result.run_dir / "features.json").read_text(encoding="utf-8"))
    assert feats["context_dim"] == 384
    exported = export_text_run(result.run_dir, "ctx", home=home)  # checks the ONNX against the trained net
    assert exported.max_abs_diff <= 1e-3
    bundle = get_bundle("ctx", home)
    assert {f.role for f in bundle.files} >= {"model", "features", "meta", "context", "context_graph"}
    model = TextModel("ctx", home=home)
    assert model.features.sizes["bag"] == len(model.features.bag) + 1 + 384
    enc = model.features.encode(["给王五打电话"])
    assert enc.bag_ids.max() == len(model.features.bag) + 384  # the dense entries are in the bag
    from luodi.text.train import load_run_features

    again = load_run_features(result.run_dir)  # what resume and export read: the run's own cut of e5
    assert again.context is not None
    assert np.array_equal(again.encode(["给王五打电话"]).bag_weights, enc.bag_weights)
    out = model(["给王五打电话", "播放七里香"])
    assert [r.label for r in out] == [r.label for r in model(["播放七里香", "给王五打电话"])[::-1]]
