"""``luodi train text|vision --nproc 2``: two CPU processes (gloo on loopback) take the steps one process takes.

Like tests/integration/test_train_dist_gloo.py for ``train rec``: the same config is trained by one
process and by two, each for half the epochs and then ``--resume``-d to all of them; the loss
curves and the final weights must agree up to float summation order. Dropout is off (its masks
depend on how a batch is split). Only rank 0 writes the run; each rank leaves its log.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vision_data import make_classes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SRC = Path(__file__).parents[2] / "src"
NAMES, CITIES, SONGS = ["张三", "李四", "王小明", "赵敏"], ["北京", "上海", "广州", "深圳"], ["青花瓷", "稻香", "晴天"]


def corpus(n: int, seed: int) -> list[dict[str, Any]]:
    """Three intents, one slot each."""
    rng = random.Random(seed)
    kinds = [
        ("DIAL", "name", NAMES, ["给{}打电话", "呼叫{}"]),
        ("WEATHER", "city", CITIES, ["{}今天天气怎么样", "明天{}下雨吗"]),
        ("PLAY", "song", SONGS, ["播放{}", "我想听{}"]),
    ]
    rows = []
    for i in range(n):
        intent, slot, values, patterns = kinds[i % 3]
        value = rng.choice(values)
        rows.append({"text": rng.choice(patterns).format(value), "intent": intent, "slots": {slot: value}})
    return rows


def luodi(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-m", "luodi", "train", *args, "--no-export", "--no-progress"]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def losses(run: Path) -> list[float]:
    with (run / "metrics.csv").open(encoding="utf-8") as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


def one_and_two(cwd: Path, task: str, epochs: int) -> tuple[Path, Path]:
    """Runs ``one`` (one process) and ``two`` (two ranks): ``half.yml``, then resumed with ``full.yml``."""
    for name, nproc in (("one", "1"), ("two", "2")):
        first = luodi(cwd, task, "--config", "half.yml", "--name", name, "--nproc", nproc)
        assert json.loads(first.stdout.splitlines()[-1])["epochs"] == epochs // 2
        resumed = luodi(cwd, task, "--config", "full.yml", "--resume", f"runs/{name}", "--nproc", nproc)
        # rank 0's summary is the launcher's last line on stdout; rank 1 prints none
        assert json.loads(resumed.stdout.splitlines()[-1])["epochs"] == epochs
        assert resumed.stdout.count('"run_dir"') == 1
    one, two = cwd / "runs" / "one", cwd / "runs" / "two"
    assert {p.name for p in (two / "launch").glob("workerlog.*")} == {"workerlog.0", "workerlog.1"}
    assert not (one / "launch").exists()
    return one, two


def assert_same_training(one: Path, two: Path, epochs: int) -> None:
    assert len(losses(one)) == len(losses(two)) == epochs  # rank 1 wrote no rows of its own
    np.testing.assert_allclose(losses(two), losses(one), rtol=2e-3, atol=1e-5)

    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    a, b = paddle.load(str(one / "latest.pdparams")), paddle.load(str(two / "latest.pdparams"))
    assert a.keys() == b.keys()
    worst = max(float(np.abs(np.asarray(a[k]) - np.asarray(b[k])).max()) for k in a)
    assert worst < 1e-3, worst
    # and training moved them: the comparison is not between two untouched initialisations
    assert losses(one)[-1] < losses(one)[0]


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_train_text_two_processes_match_one_and_resume(tmp_path: Path) -> None:
    for split, n, seed in (("train", 90, 0), ("dev", 30, 1)):
        rows = corpus(n, seed)
        (tmp_path / f"{split}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    for name, epochs in (("half", 2), ("full", 4)):
        write_yaml(
            tmp_path / f"{name}.yml",
            {
                "task": "nlu",  # the CRF's parameters sit beside forward: DataParallel must still reduce them
                "train": "train.jsonl",
                "eval": "dev.jsonl",
                "output_dir": "runs",
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
                    "dropout": 0.0,
                },
                # global batches of 15 split 8/7: each rank's mean needs its scale (16/15, 14/15)
                "optim": {"epochs": epochs, "batch_size": 15, "warmup_steps": 5, "patience": 10},
            },
        )
    one, two = one_and_two(tmp_path, "text", 4)
    assert_same_training(one, two, 4)
    for name in ("features.json", "labels.json", "best.pdparams", "latest.pdopt"):
        assert (two / name).is_file(), name


def test_train_vision_two_processes_match_one_and_resume(require_bundle: Callable[[str], Any], tmp_path: Path) -> None:
    require_bundle("efficientnet-lite0")
    make_classes(tmp_path / "train", {"good": 12, "spot": 6, "scratch": 5}, seed=1)
    for name, epochs in (("half", 2), ("full", 4)):
        write_yaml(
            tmp_path / f"{name}.yml",
            {
                "image_size": 64,
                "output_dir": "runs",
                "seed": 5,
                # a global batch of 5 splits 3/2, and balanced class weights make each share a
                # weighted mean: the ranks' scales must still give the whole batch's gradient
                "Train": {"data": "train", "epochs": epochs, "batch_size": 5, "dropout": 0.0},
                "Eval": {"holdout": 0.25},
                "Augment": {"photometric": 0},
            },
        )
    one, two = one_and_two(tmp_path, "vision", 4)
    assert_same_training(one, two, 4)
    for name in ("features.npz", "best.pdparams", "state.json", "data.json"):
        assert (two / name).is_file(), name
