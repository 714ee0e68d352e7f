"""The ``luodi`` command: a thin layer over the Python API.

Subcommands live in their own modules and are imported only when invoked, so ``luodi --help``
stays fast and one area's heavy imports never slow another's. Every ``LuodiError`` becomes one
readable line on stderr and exit status 1; usage errors exit 2 (click's convention).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from luodi.cli.lazy import LazyGroup
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
    "text": "luodi.cli.text:text",
    "review": "luodi.cli.review:review",
    "inspect": "luodi.cli.inspect:inspect",
    "batch": "luodi.cli.batch:batch",
}


@click.group(cls=LazyGroup, lazy_commands=_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
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
