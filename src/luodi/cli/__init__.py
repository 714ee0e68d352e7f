"""The ``luodi`` command: a thin layer over the Python API.

Subcommands live in their own modules and are imported only when invoked, so ``luodi --help``
stays fast and one area's heavy imports never slow another's. Every ``LuodiError`` becomes one
readable line on stderr and exit status 1; usage errors exit 2 (click's convention).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from luodi.errors import LuodiError

# name -> "module:attribute"; a module that is not there yet simply does not show up.
_COMMANDS: dict[str, str] = {
    "ocr": "luodi.cli.ocr:ocr",
    "models": "luodi.cli.models:models",
    "eval": "luodi.cli.eval:eval_",
    "synth": "luodi.cli.synth:synth",
    "extract": "luodi.cli.extract:extract",
    "serve": "luodi.cli.serve:serve",
    "worker": "luodi.cli.serve:worker",
    "quantize": "luodi.cli.quantize:quantize",
    "train": "luodi.cli.train:train",
    "export": "luodi.cli.train:export",
    "bench": "luodi.cli.bench:bench",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="luodi")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """luodi (落地): offline Chinese OCR, key-information extraction and serving."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="luodi", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LuodiError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
