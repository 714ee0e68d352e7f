"""``luodi train rec --nproc 2``: two CPU processes (gloo on loopback) take the steps one process takes.

The same config (global batch 4, augmentation on) is trained by one process, and by two processes
that stop half-way and resume; the loss curves and the final weights must agree up to float
summation order. Only rank 0 writes the run (metrics, checkpoints); each rank leaves its log.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SRC = Path(__file__).parents[2] / "src"
TEXTS = ["张三13812345678", "北京市海淀区", "收件人：李四", "上海市浦东新区88号", "王五", "电话021-62538890"]
STEPS = 4


def write_config(tmp: Path, train_labels: str, steps: int) -> Path:
    config = {
        "base": "pp-ocrv4",
        "output_dir": str(tmp / "runs"),
        "seed": 3,
        "Optimizer": {"lr": 3e-4, "warmup_steps": 0, "schedule": "constant"},
        "Guard": {"enabled": False},
        "Report": {"regression": False},
        "Train": {"batch_size": 4, "steps": steps, "log_every": 1, "labels": [train_labels]},
    }
    path = tmp / f"steps{steps}.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def luodi(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-m", "luodi", "train", "rec", *args, "--no-export", "--no-progress"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def losses(run: Path) -> list[float]:
    with (run / "metrics.csv").open(encoding="utf-8") as f:
        return [float(row["loss"]) for row in csv.DictReader(f) if row["loss"]]


def test_two_processes_match_one_and_resume(
    require_bundle: Callable[[str], Any], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require_bundle("pp-ocrv4")
    from luodi.synth import generate_lines

    lines = generate_lines(TEXTS, tmp_path_factory.mktemp("lines"), style="dotmatrix", n=8, seed=11)
    full, half = write_config(tmp_path, str(lines.label_file), STEPS), write_config(tmp_path, str(lines.label_file), 2)

    luodi("--config", str(full), "--name", "one")
    luodi("--config", str(half), "--name", "two", "--nproc", "2")
    resumed = luodi("--config", str(full), "--resume", str(tmp_path / "runs" / "two"), "--nproc", "2")

    one, two = tmp_path / "runs" / "one", tmp_path / "runs" / "two"
    assert '"steps": 4' in resumed.stdout.splitlines()[-1]  # rank 0's summary is the launcher's last line
    assert len(losses(one)) == len(losses(two)) == STEPS  # rank 1 wrote no rows of its own
    np.testing.assert_allclose(losses(two), losses(one), rtol=2e-3, atol=1e-5)
    assert {p.name for p in (two / "launch").glob("workerlog.*")} == {"workerlog.0", "workerlog.1"}

    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    a, b = paddle.load(str(one / "latest.pdparams")), paddle.load(str(two / "latest.pdparams"))
    assert a.keys() == b.keys()
    worst = max(float(np.abs(a[k].numpy() - b[k].numpy()).max()) for k in a)
    assert worst < 1e-3, worst
