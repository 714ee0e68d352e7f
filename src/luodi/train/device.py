"""Where training runs: the one seam between CPU ranks (gloo) and GPU ranks (NCCL).

``luodi train rec|text|vision --device cpu|gpu|auto`` ends up here, once per process, before the
trainer builds a model: :func:`use` sets Paddle's device for the whole process. Under
``paddle.distributed.launch`` ``gpu`` means this rank's own GPU (Paddle takes its id from the
launcher), and the launcher then joins the ranks with NCCL instead of gloo; nothing in the trainers
names a device or a backend. A CPU-only Paddle (the one ``make setup`` installs) refuses ``gpu``
with a readable error rather than falling back silently.
"""

from __future__ import annotations

from typing import Any, Literal

from luodi.errors import ConfigError

Device = Literal["cpu", "gpu", "auto"]
DEVICES: tuple[Device, ...] = ("cpu", "gpu", "auto")


def gpus(paddle: Any) -> int:
    """CUDA devices this Paddle build can use (0 on a CPU-only build)."""
    if not paddle.device.is_compiled_with_cuda():
        return 0
    return int(paddle.device.cuda.device_count())


def resolve(paddle: Any, requested: str) -> Literal["cpu", "gpu"]:
    """``cpu`` or ``gpu`` for ``requested``; ``auto`` picks the GPU when one is usable."""
    if requested not in DEVICES:
        raise ConfigError(f"unknown training device {requested!r}: use one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return "cpu"
    available = gpus(paddle)
    if requested == "auto":
        return "gpu" if available else "cpu"
    if not paddle.device.is_compiled_with_cuda():
        raise ConfigError("--device gpu needs a CUDA build of Paddle (paddlepaddle-gpu); the installed one is CPU-only")
    if not available:
        raise ConfigError("--device gpu: this Paddle is built with CUDA but sees no GPU (check CUDA_VISIBLE_DEVICES)")
    return "gpu"


def use(paddle: Any, requested: str) -> Literal["cpu", "gpu"]:
    """Set the process's Paddle device for ``requested`` and return what it resolved to."""
    chosen = resolve(paddle, requested)
    paddle.device.set_device(chosen)
    return chosen


def launch_devices(paddle: Any, requested: str, nproc: int) -> str | None:
    """The ``--devices`` list for ``paddle.distributed.launch`` (one GPU per rank), or ``None`` on CPU."""
    if resolve(paddle, requested) == "cpu":
        return None
    available = gpus(paddle)
    if nproc > available:
        raise ConfigError(f"--nproc {nproc} with --device gpu needs {nproc} GPUs on this node; it has {available}")
    return ",".join(str(i) for i in range(nproc))
