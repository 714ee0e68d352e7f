"""The pure parts of data-parallel training (luodi.train.dist, luodi.cli.train_dist); the real 2-process run
is tests/integration/test_train_dist_gloo.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np
import pytest

from luodi.cli.train_dist import dist_options, rerun_args
from luodi.errors import ConfigError
from luodi.train import dist


def test_parts_cover_the_batch_once_and_their_losses_average_to_its_mean() -> None:
    per_sample = np.asarray([1.0, 2.0, 3.0, 4.0, 10.0])
    for size in (1, 2, 3):
        parts = [dist.World(rank, size).part(len(per_sample)) for rank in range(size)]
        assert sorted(i for p in parts for i in p.places) == list(range(len(per_sample)))
        # DataParallel averages the ranks' gradients: the average of their losses is the batch mean
        averaged = sum(p.mean(per_sample[p.places]) for p in parts) / size
        assert averaged == pytest.approx(per_sample.mean())


def test_a_rank_without_a_place_runs_a_stand_in_at_weight_zero() -> None:
    part = dist.World(2, 3).part(2)  # an epoch's last batch of 2 over 3 ranks
    assert part.places == [0] and part.weight == 0.0
    assert part.mean(np.asarray([5.0])) == 0.0


def test_guard_rows_and_their_share() -> None:
    # global batch of 6: places 4 and 5 are guard lines 7 and 9
    part = dist.World(1, 2).part(6)  # places 1, 3, 5
    rows, mine, share = part.guard_rows(4, [7, 9])
    assert (rows, mine, share) == ([2], [9], 1.0)  # one of two guard lines, times 2 ranks
    alone = dist.World().part(6)
    assert alone.guard_rows(4, [7, 9]) == ([4, 5], [7, 9], 1.0)


def test_one_process_is_rank_0_of_1_and_every_hook_is_the_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dist.RANK_VAR, raising=False)
    monkeypatch.delenv(dist.WORLD_VAR, raising=False)
    world = dist.current()
    assert (world.rank, world.size, world.main, world.parallel, dist.launched()) == (0, 1, True, False, False)
    assert world.mean(None, 2.5) == 2.5
    model = object()
    assert dist.wrap(None, model, world) is model
    monkeypatch.setenv(dist.RANK_VAR, "1")
    monkeypatch.setenv(dist.WORLD_VAR, "2")
    assert dist.current() == dist.World(1, 2) and not dist.current().main and dist.launched()
    monkeypatch.setenv(dist.WORLD_VAR, "two")
    with pytest.raises(ConfigError):
        dist.current()


def test_pad_width_pads_to_the_whole_batchs_aligned_width() -> None:
    images = np.ones((2, 3, 48, 80), np.float32)
    padded = dist.pad_width(images, 83)  # the widest line of the whole batch: 83 → 88 columns
    assert padded.shape == (2, 3, 48, 88)
    assert (padded[..., :80] == 1).all() and (padded[..., 80:] == 0).all()
    assert dist.pad_width(images, 70) is images


def test_launch_command(tmp_path: Path) -> None:
    cmd = dist.launch_command(["train", "rec", "--config", "c.yml"], nproc=2, log_dir=tmp_path)
    assert cmd[:5] == [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2"]
    assert cmd[-4:] == ["train", "rec", "--config", "c.yml"]
    assert cmd[-5].endswith("luodi/__main__.py") and "--nnodes" not in cmd
    multi = dist.launch_command(["x"], nproc=1, nnodes=2, master="10.0.0.1:8090", log_dir=tmp_path)
    assert multi[multi.index("--nnodes") + 1] == "2" and multi[multi.index("--master") + 1] == "10.0.0.1:8090"
    with pytest.raises(ConfigError, match="--master"):
        dist.launch_command(["x"], nproc=1, nnodes=2, log_dir=tmp_path)


def test_rerun_args_rebuild_the_command_without_the_launch_options() -> None:
    seen: list[list[str]] = []

    @click.group()
    def top() -> None:
        pass

    @top.command("rec")
    @click.option("--config", required=True)
    @click.option("--name", default=None)
    @click.option("--no-export", is_flag=True)
    @dist_options
    @click.pass_context
    def rec(ctx: click.Context, **kwargs: object) -> None:
        seen.append(rerun_args(ctx, run_folder="rec-1", name="resolved"))

    with pytest.raises(SystemExit) as done:
        top.main(["rec", "--config", "a b.yml", "--name", "given", "--no-export", "--nproc", "2"], prog_name="luodi")
    assert done.value.code == 0
    # the launch options are dropped (the ranks must not launch again); overrides replace what was given
    assert seen == [["rec", "--config", "a b.yml", "--no-export", "--run-folder", "rec-1", "--name", "resolved"]]


def test_scaled_share_means_average_to_the_whole_batchs_weighted_mean() -> None:
    per_sample = np.asarray([1.0, 2.0, 3.0, 4.0, 10.0, 0.5, 7.0])
    weights = np.asarray([1.0, 3.0, 1.0, 0.5, 2.0, 1.0, 1.0])
    for size in (1, 2, 3):
        parts = [dist.World(rank, size).part(len(per_sample)) for rank in range(size)]
        # each rank's loss is a mean over its share; DataParallel averages the ranks' gradients
        plain = sum(p.scale() * per_sample[p.places].mean() for p in parts) / size
        assert plain == pytest.approx(per_sample.mean())
        weighted = sum(p.scale(weights) * np.average(per_sample[p.places], weights=weights[p.places]) for p in parts)
        assert weighted / size == pytest.approx(np.average(per_sample, weights=weights))
    assert dist.World(2, 3).part(2).scale() == 0.0  # the stand-in place counts nothing


def test_rank_sampler_shares_one_shuffled_order_and_resumes_it() -> None:
    alone = dist.RankSampler(11, 4, seed=3, world=dist.World())
    epochs = [list(alone), list(alone)]
    assert len(alone) == 3 and [len(b) for b in epochs[0]] == [4, 4, 3]
    assert {s for e in epochs for b in e for _, s in b} == {1.0}
    assert [i for b in epochs[0] for i, _ in b] != [i for b in epochs[1] for i, _ in b]  # reshuffled per epoch
    ranks = [list(dist.RankSampler(11, 4, seed=3, world=dist.World(r, 2))) for r in range(2)]
    for step, whole in enumerate(epochs[0]):
        shares = [ranks[r][step] for r in range(2)]
        assert sorted(i for s in shares for i, _ in s) == sorted(i for i, _ in whole)  # each item once
        assert [i for i, _ in shares[0]] == [i for i, _ in whole][0::2]
    # a run resumed after epoch 1 draws epoch 2's order, as the unbroken run did
    later = dist.RankSampler(11, 4, seed=3, world=dist.World(), epoch=1)
    assert list(later) == epochs[1]


def test_wrap_calls_a_loss_function_in_one_process() -> None:
    model = object()
    fwd = dist.wrap(None, model, dist.World(), call=lambda m, x: (m, x * 2))
    assert fwd(3) == (model, 6)


def test_run_name_is_chosen_once_and_nnodes_needs_a_name(tmp_path: Path) -> None:
    from luodi.cli.train_dist import run_name

    seen: list[str | None] = []

    @click.command()
    @click.option("--name", default=None)
    @dist_options
    @click.pass_context
    def cmd(ctx: click.Context, name: str | None, **launch: object) -> None:
        seen.append(run_name(ctx, output_dir=tmp_path, name=name, resume=None, prefix="text"))

    cmd.main(["--name", "mine"], standalone_mode=False)
    cmd.main(["--run-folder", "text-1"], standalone_mode=False)  # what the launcher hands its ranks
    cmd.main([], standalone_mode=False)
    assert seen[:2] == ["mine", "text-1"] and str(seen[2]).startswith("text-")
    with pytest.raises(click.UsageError, match="--nnodes needs --name"):
        cmd.main(["--nnodes", "2", "--master", "h:1"], standalone_mode=False)


@pytest.mark.parametrize("task", ["rec", "text", "vision"])
def test_every_trainer_takes_the_launch_options(task: str) -> None:
    from click.testing import CliRunner

    from luodi.cli.train import train

    out = CliRunner().invoke(train, [task, "--help"])
    assert out.exit_code == 0, out.output
    assert "--nproc" in out.output and "--nnodes" in out.output and "--master" in out.output
