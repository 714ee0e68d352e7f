"""The training device seam (luodi.train.device): pure resolution on stand-in Paddle builds, and the
real refusal of ``--device gpu`` by the CPU-only Paddle that ``make setup`` installs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from luodi.errors import ConfigError
from luodi.train import device, dist


def build(*, cuda: bool, count: int) -> Any:
    """A stand-in for the few Paddle calls the seam makes, recording set_device."""
    chosen: list[str] = []
    dev = SimpleNamespace(
        is_compiled_with_cuda=lambda: cuda,
        cuda=SimpleNamespace(device_count=lambda: count),
        set_device=chosen.append,
    )
    return SimpleNamespace(device=dev, chosen=chosen)


def test_cpu_is_always_cpu() -> None:
    for paddle in (build(cuda=False, count=0), build(cuda=True, count=4)):
        assert device.use(paddle, "cpu") == "cpu"
        assert paddle.chosen == ["cpu"]


def test_auto_takes_a_gpu_only_when_one_is_usable() -> None:
    assert device.resolve(build(cuda=False, count=0), "auto") == "cpu"
    assert device.resolve(build(cuda=True, count=0), "auto") == "cpu"
    gpu = build(cuda=True, count=2)
    assert device.use(gpu, "auto") == "gpu" and gpu.chosen == ["gpu"]


def test_gpu_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match="CUDA build of Paddle"):
        device.use(build(cuda=False, count=0), "gpu")
    with pytest.raises(ConfigError, match="sees no GPU"):
        device.use(build(cuda=True, count=0), "gpu")
    with pytest.raises(ConfigError, match="unknown training device 'tpu'"):
        device.resolve(build(cuda=True, count=1), "tpu")


def test_each_rank_gets_a_gpu_of_its_own(tmp_path: Path) -> None:
    assert device.launch_devices(build(cuda=False, count=0), "auto", 2) is None
    assert device.launch_devices(build(cuda=True, count=4), "gpu", 2) == "0,1"
    with pytest.raises(ConfigError, match="needs 3 GPUs on this node; it has 2"):
        device.launch_devices(build(cuda=True, count=2), "gpu", 3)
    cmd = dist.launch_command(["train", "text"], nproc=2, log_dir=tmp_path, devices="0,1")
    assert cmd[cmd.index("--devices") + 1] == "0,1"
    assert "--devices" not in dist.launch_command(["train", "text"], nproc=2, log_dir=tmp_path)


def test_the_cli_refuses_gpu_on_a_cpu_only_paddle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from luodi.cli import main
    from luodi.train.trainer import import_paddle

    if import_paddle().device.is_compiled_with_cuda():
        pytest.skip("this Paddle is a CUDA build: --device gpu is not refused here")
    labels = tmp_path / "a.txt"
    labels.write_text("", encoding="utf-8")
    cfg = tmp_path / "c.yml"
    cfg.write_text(f"Train: {{steps: 1, labels: [{labels}]}}\noutput_dir: {tmp_path / 'runs'}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["train", "rec", "--config", str(cfg), "--name", "x", "--device", "gpu"])
    err = capsys.readouterr().err
    assert exc.value.code == 1
    assert "needs a CUDA build of Paddle" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs" / "x").exists()  # refused before a run folder was made


def test_cpu_training_uses_the_cores_shared_among_the_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from luodi.train.trainer import cpu_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    assert cpu_threads(None, 1) == 4  # Paddle alone would use one
    assert cpu_threads(None, 2) == 2
    assert cpu_threads(None, 8) == 1
    assert cpu_threads(3, 2) == 3  # Train.threads wins
