"""Data-parallel training over processes: ``luodi train rec … --nproc N [--nnodes M --master HOST:PORT]``.

The command re-runs itself under ``paddle.distributed.launch`` (:func:`launch`), one process per
rank; each rank builds the same model from the same seed, :func:`wrap` puts it in
``paddle.DataParallel`` (gradients are all-reduced after every backward: gloo between CPU
processes, NCCL between GPUs), and the trainer's hooks do the rest:

- ``Train.batch_size`` stays the **global** batch: every rank draws the same batch order and keeps
  the places ``rank, rank + N, …`` of each batch (:meth:`World.part`). Each rank pads its part
  to the whole batch's width (the recogniser's neck mixes the whole sequence, so padding is not free
  to differ) and :meth:`Part.mean` scales its summed loss so that the all-reduced gradient
  is the gradient of the global batch's mean. One process and N processes therefore take the same
  steps (up to float summation order: tests/integration/test_train_dist_gloo.py).
- Checkpoints, evaluation, metrics and export come from rank 0 only; every rank reads the same
  checkpoint on ``--resume``. On several nodes the run folder must be on shared storage.

Nothing here imports Paddle at module import; a single process (no launcher variables) is rank 0 of 1
and every hook is the identity.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from luodi.errors import ConfigError

#: set by ``paddle.distributed.launch`` in every process it starts
RANK_VAR, WORLD_VAR = "PADDLE_TRAINER_ID", "PADDLE_TRAINERS_NUM"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.size > 1

    def part(self, n: int) -> Part:
        """This rank's places in a global batch of ``n``: ``rank, rank + size, …``.

        A rank left without a place (``n`` < size, an epoch's last batch) runs place 0 at weight 0, so
        that every rank still takes part in the step's all-reduce.
        """
        places = list(range(self.rank, n, self.size))
        return Part(places, self.size, n, 1.0) if places else Part([0], self.size, n, 0.0)

    def mean(self, paddle: Any, value: float) -> float:
        """The mean of ``value`` over ranks (the logged loss of a step is the global batch's)."""
        if not self.parallel:
            return value
        tensor = paddle.to_tensor([value], dtype="float64")
        paddle.distributed.all_reduce(tensor)
        return float(tensor.numpy()[0]) / self.size

    def agree(self, paddle: Any, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (a decision only rank 0 can make, such as stopping early after
        its evaluation: the ranks must leave the loop together or the next all-reduce waits forever)."""
        if not self.parallel:
            return flag
        tensor = paddle.to_tensor([int(flag)], dtype="int64")
        paddle.distributed.broadcast(tensor, src=0)
        return bool(tensor.numpy()[0])


@dataclass(frozen=True, slots=True)
class Part:
    """One rank's share of a step's batch."""

    places: list[int]
    size: int  # ranks
    total: int  # the global batch
    weight: float  # 0 for a stand-in place

    def mean(self, per_sample: Any) -> Any:
        """The loss whose gradient, averaged over ranks by DataParallel, is that of the whole batch's mean."""
        if self.size == 1:
            return per_sample.mean()
        return per_sample.sum() * (self.weight * self.size / self.total)

    def scale(self, weights: Sequence[float] | None = None) -> float:
        """The factor for a loss that is a mean over this part's samples (weighted by ``weights``, the
        whole batch's sample weights in place order, if given): DataParallel's average of the ranks'
        gradients is then the gradient of the whole batch's (weighted) mean. 1 for a single process."""
        if self.size == 1:
            return 1.0
        if weights is None:
            return self.weight * self.size * len(self.places) / self.total
        mine = sum(float(weights[p]) for p in self.places)
        return self.weight * self.size * mine / max(float(sum(weights)), 1e-12)

    def guard_rows(self, first: int, picked: list[int]) -> tuple[list[int], list[int], float]:
        """Guard lines (global places ``first…``, ``picked`` among the guard set) in this part: their rows
        here, their guard indices, and the weight of this rank's distillation term. The term is a mean
        over guard lines, so a rank holding a share of them weighs it by that share (times the ranks,
        which DataParallel's average divides out)."""
        rows = [j for j, i in enumerate(self.places) if i >= first]
        mine = [picked[self.places[j] - first] for j in rows]
        if self.size == 1:
            return rows, mine, 1.0
        return rows, mine, self.weight * self.size * len(rows) / max(1, len(picked))


class RankSampler:
    """Batches for ``paddle.io.DataLoader(batch_sampler=…)``: every epoch one shuffled order, the same
    on every rank (seeded by ``seed`` and the epoch, so a resumed run draws what an unbroken one
    would), cut into global batches of ``size``; each batch yields this rank's share as
    ``(index, scale)`` pairs, ``scale`` being :meth:`Part.scale` for a loss that is a mean over the
    share weighted by ``weights`` (per sample; None: unweighted). One process gets whole batches at
    scale 1.
    """

    def __init__(self, n: int, size: int, *, seed: int, world: World, weights: Any = None, epoch: int = 0) -> None:
        self.n, self.size, self.seed, self.world, self.weights, self.epoch = n, size, seed, world, weights, epoch

    def __len__(self) -> int:
        return len(range(0, self.n, self.size))

    def __iter__(self) -> Iterator[list[tuple[int, float]]]:
        import numpy as np

        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        self.epoch += 1
        for s in range(0, self.n, self.size):
            batch = order[s : s + self.size]
            part = self.world.part(len(batch))
            scale = part.scale(None if self.weights is None else [self.weights[i] for i in batch])
            yield [(int(batch[p]), scale) for p in part.places]


class NullLog:
    """Stands in for the metrics log on ranks other than 0."""

    def write(self, step: int, **values: float) -> None:
        pass

    def close(self) -> None:
        pass


def current() -> World:
    """The world ``paddle.distributed.launch`` put this process in (rank 0 of 1 when not launched)."""
    try:
        return World(int(os.environ.get(RANK_VAR, "0")), int(os.environ.get(WORLD_VAR, "1")))
    except ValueError as exc:
        raise ConfigError(f"bad {RANK_VAR}/{WORLD_VAR} in the environment: {exc}") from exc


def launched() -> bool:
    return WORLD_VAR in os.environ


def init(paddle: Any, world: World) -> None:
    """Join the process group (before the first collective; after ``paddle.seed``)."""
    if world.parallel:
        paddle.distributed.init_parallel_env()


def main_first(paddle: Any, world: World, make: Callable[[], T]) -> T:
    """``make()`` joined to the process group, on rank 0 before the others (which then find what rank 0
    cached in the run folder, such as computed features, instead of computing it again)."""
    init(paddle, world)
    setup_turn(paddle, world, first=True)
    out = make()
    setup_turn(paddle, world, first=False)
    return out


def setup_turn(paddle: Any, world: World, *, first: bool) -> None:
    """Rank 0 sets up alone, then the others: call with ``first=True`` before the setup that writes shared
    files (rendered lines, caches) and ``first=False`` after it; each rank meets the barrier once."""
    if world.parallel and world.main != first:
        paddle.distributed.barrier()


def wrap(
    paddle: Any, model: Any, world: World, *, call: Callable[..., Any] | None = None, find_unused: bool = False
) -> Any:
    """The module to run forward/backward through: ``paddle.DataParallel`` when there are several ranks.

    Checkpoints keep using the bare ``model`` (its state dict has no wrapper prefix).

    ``call(model, *args)``: what the wrapper's forward computes instead of ``model(*args)``, such as a
    whole loss. DataParallel arms its gradient all-reduce in its own forward and, with
    ``find_unused``, looks for the parameters that get no gradient from what forward returned; a
    loss using parameters beside ``forward`` (a CRF's transitions) must therefore be computed in
    there. ``find_unused``: some parameters may get no gradient (options that leave a layer out).
    """
    if call is None:
        inner = model
    elif not world.parallel:
        return functools.partial(call, model)
    else:
        inner = _Calling(paddle, model, call)
    return paddle.DataParallel(inner, find_unused_parameters=find_unused) if world.parallel else inner


def _Calling(paddle: Any, model: Any, call: Callable[..., Any]) -> Any:  # noqa: N802 - builds a Layer
    class Calling(paddle.nn.Layer):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> Any:
            return call(self.model, *args)

    return Calling()


def pad_width(images: Any, width: int) -> Any:
    """Right-pad a ``(N, C, H, W)`` batch with zeros (``make_batch``'s fill) to the width ``make_batch``
    gives the widest line of the whole batch (``width`` rounded up to ``WIDTH_ALIGN``)."""
    import numpy as np

    from luodi.train.data import WIDTH_ALIGN

    width = -(-width // WIDTH_ALIGN) * WIDTH_ALIGN
    if images.shape[3] >= width:
        return images
    padded = np.zeros((*images.shape[:3], width), dtype=images.dtype)
    padded[..., : images.shape[3]] = images
    return padded


def launch_command(
    argv: Sequence[str],
    *,
    nproc: int,
    nnodes: int = 1,
    master: str | None = None,
    log_dir: Path,
    devices: str | None = None,
) -> list[str]:
    """``python -m paddle.distributed.launch … luodi/__main__.py ARGV`` for this command's ranks.

    ``devices``: the GPUs of this node, one per rank (``luodi.train.device.launch_devices``); ``None``
    runs the ranks on the CPU.
    """
    if nproc < 1 or nnodes < 1:
        raise ConfigError("--nproc and --nnodes must be at least 1")
    if nnodes > 1 and not master:
        raise ConfigError("--nnodes above 1 needs --master HOST:PORT (the same on every node)")
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(nproc)]
    if nnodes > 1:
        cmd += ["--nnodes", str(nnodes), "--master", str(master)]
    if devices is not None:
        cmd += ["--devices", devices]
    cmd += ["--log_dir", str(log_dir)]
    main = Path(__file__).resolve().parents[1] / "__main__.py"
    return [*cmd, str(main), *argv]


def launch(
    argv: Sequence[str], *, nproc: int, nnodes: int, master: str | None, log_dir: Path, devices: str | None = None
) -> int:
    """Run ``luodi ARGV`` as ``nproc`` ranks on this node; returns the launcher's exit status.

    Rank 0's output comes through (the launcher prints it); every rank's log is in ``log_dir``.
    """
    cmd = launch_command(argv, nproc=nproc, nnodes=nnodes, master=master, log_dir=log_dir, devices=devices)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_src(), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(cmd, env=env, check=False).returncode


def _src() -> str:
    """The folder luodi is imported from, so every rank imports this same code."""
    return str(Path(__file__).resolve().parents[2])
