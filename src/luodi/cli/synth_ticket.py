"""``luodi synth ticket``: railway tickets (no labels printed) with KIE labels, to try learned layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from luodi.cli.synth_docs import _options, _run


@click.command("ticket")
@_options(
    "Style or group: blue_magnetic, red_soft, blue_2013 (dev), e_voucher (holdout: measurement only); "
    "groups dev, holdout, all."
)
def ticket(*, count: int, out: Path, **kw: Any) -> None:
    """Render railway tickets into OUT/images/*.jpg and OUT/labels.jsonl (the fields of
    examples/kie/ticket.yaml): the labels `luodi train kie` learns from."""
    from luodi.synth.ticket import render_ticket, resolve_ticket_styles

    resolve_ticket_styles(kw["layouts"])
    _run("railway tickets", render_ticket, count, out, **kw)
