"""``--nproc N [--nnodes M --master HOST:PORT]`` for training commands: the command re-runs itself as ranks.

The first process (no launcher variables in its environment) starts ``paddle.distributed.launch``
with the same command line (:func:`rerun_args`), waits for it and exits with its status; the ranks
then train (:mod:`luodi.train.dist`). Rank 0's output comes through; every rank's log lies in
``RUN/launch/``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from luodi.cli import common

#: options this module adds; they are not passed on to the ranks (they would start launchers of their own)
LAUNCH_OPTIONS = ("nproc", "nnodes", "master")


dist_options = common.options(
    click.option(
        "--nproc",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Training processes on this node (data parallel: gloo between CPU processes, NCCL between GPUs).",
    ),
    click.option("--nnodes", type=click.IntRange(min=1), default=1, show_default=True, help="Nodes taking part."),
    click.option("--master", default=None, help="HOST:PORT of the first node, the same on every node."),
    click.option(
        "--device",
        type=click.Choice(["cpu", "gpu", "auto"]),
        default="cpu",
        show_default=True,
        help="Where to train: gpu needs a CUDA build of Paddle (one GPU per rank, NCCL between them); "
        "auto takes a GPU when there is one.",
    ),
    click.option("--run-folder", default=None, hidden=True, help="The run folder's name, set by the launcher."),
)


def run_options(*, example: str, resumes_from: str, no_export: str) -> common.Decorator:
    """``--config``, ``--name``, ``--resume``, ``--no-export``, ``--no-progress`` and ``--force``, as every
    ``luodi train`` command that trains from a config declares them (see :func:`train_run`)."""
    return common.options(
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            required=True,
            help=f"Training config YAML (see {example}).",
        ),
        click.option(
            "--name", default=None, help="Run name: the run folder under output_dir and the zoo name to register."
        ),
        click.option(
            "--resume",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Continue the run in this folder from its last {resumes_from}.",
        ),
        click.option("--no-export", is_flag=True, help=no_export),
        click.option("--no-progress", is_flag=True, help="No progress bar (also off when stderr is not a terminal)."),
        click.option("--force", is_flag=True, help="Replace an existing zoo model of the same name."),
    )


def train_run(
    ctx: click.Context, train: Callable[..., Any], config: Any, *, saves_on_interrupt: bool = True, **run: Any
) -> Any | None:
    """Run ``train(config, name=, resume=, progress=, on_log=)`` for the training command of ``ctx``, with
    that command's ``--config``, ``--name``, ``--resume`` and ``--no-progress`` (its ranks first, when
    asked; ``run``: more for :func:`run_name`). Ctrl-C says how to resume and exits 130. Returns the
    result on rank 0, ``None`` on the other ranks (rank 0 reports and exports)."""
    from luodi.train.dist import current as current_world

    command, name, resume = str(ctx.command.name), ctx.params["name"], ctx.params["resume"]
    say = common.say
    folder = run_name(ctx, output_dir=config.output_dir, name=name, resume=resume, prefix=command, **run)
    try:
        progress = not ctx.params["no_progress"] and sys.stderr.isatty()
        result = train(config, name=folder, resume=resume, progress=progress, on_log=say)
    except KeyboardInterrupt:
        target = resume or config.output_dir / str(folder)
        what = "interrupted; checkpoint saved" if saves_on_interrupt else "interrupted"
        say(f"{what}. Continue with: luodi train {command} --config {ctx.params['config_file']} --resume {target}")
        sys.exit(130)
    return result if current_world().main else None


def zoo_name(name: str | None, resume: Path | None) -> str | None:
    """The zoo name a training run registers under: ``--name``, or a resumed run's folder name."""
    return name if name is not None else (resume.name if resume else None)


def rerun_args(ctx: click.Context, **extra: str) -> list[str]:
    """This command's line rebuilt from its parsed parameters (without the launch options); ``extra``
    options are added or replace the given ones."""
    words: list[str] = []
    node: click.Context | None = ctx
    while node is not None and node.parent is not None:
        words.insert(0, str(node.info_name))
        node = node.parent
    for param in ctx.command.params:
        value = ctx.params.get(str(param.name))
        if (
            param.name in LAUNCH_OPTIONS
            or param.name in extra
            or value is None
            or value is False
            or value == param.default
        ):
            continue
        if isinstance(param, click.Argument):
            words += [str(v) for v in value] if param.multiple else [str(value)]
            continue
        flag = max(param.opts, key=len)
        if isinstance(param, click.Option) and param.is_flag:
            words.append(flag)
        elif param.multiple:
            for v in value:
                words += [flag, str(v)]
        else:
            words += [flag, str(value)]
    for key, value in extra.items():
        words += [f"--{key.replace('_', '-')}", value]
    return words


def launch_if_asked(
    ctx: click.Context, *, run_dir: Path, run_folder: str | None, overrides: dict[str, str] | None = None
) -> None:
    """Start the ranks and exit with their status when ``--nproc``/``--nnodes`` ask for more than this process.

    ``overrides``: options the ranks get instead of the given ones (what this process already resolved,
    such as the reviewed lines it exported, so that the ranks do not export them again).
    """
    from luodi.train import dist

    nproc, nnodes, master = ctx.params["nproc"], ctx.params["nnodes"], ctx.params["master"]
    if (nproc == 1 and nnodes == 1) or dist.launched():
        return
    from luodi.train.device import launch_devices
    from luodi.train.trainer import import_paddle

    devices = launch_devices(import_paddle(), ctx.params["device"], nproc)
    extra = {**({"run_folder": run_folder} if run_folder else {}), **(overrides or {})}
    argv = rerun_args(ctx, **extra)
    say = common.say
    say(f"starting {nproc} x {nnodes} training processes; their logs: {run_dir / 'launch'}")
    code = dist.launch(argv, nproc=nproc, nnodes=nnodes, master=master, log_dir=run_dir / "launch", devices=devices)
    sys.exit(code)


def run_name(
    ctx: click.Context,
    *,
    output_dir: Path,
    name: str | None,
    resume: Path | None,
    prefix: str,
    overrides: dict[str, str] | None = None,
) -> str | None:
    """The run folder's name for a training command with :func:`dist_options`, after starting its
    ranks (and exiting with their status) when ``--nproc``/``--nnodes`` ask for them, and setting
    this process's Paddle device (``--device``).

    Without ``--name`` or ``--resume`` the run is ``PREFIX-<time>``, chosen once here and handed to
    the ranks, so that they all train into one folder. ``None`` with ``--resume``.
    """
    run = name
    if resume is None and name is None:
        run = ctx.params["run_folder"] or time.strftime(f"{prefix}-%Y%m%d-%H%M%S")
        if ctx.params["nnodes"] > 1 and ctx.params["run_folder"] is None:
            raise click.UsageError("--nnodes needs --name or --resume: every node must train into the same run folder")
    launch_if_asked(ctx, run_dir=resume or output_dir / str(run), run_folder=None if name else run, overrides=overrides)
    from luodi.train.device import use
    from luodi.train.trainer import import_paddle

    use(import_paddle(), ctx.params["device"])  # this process (or rank) trains there from now on
    return run
