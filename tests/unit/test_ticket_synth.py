"""Synthetic railway tickets (luodi.synth.ticket): deterministic, labelled, styles split dev/holdout."""

from __future__ import annotations

import numpy as np
import pytest

from luodi.errors import ConfigError
from luodi.synth.documents import DocOptions
from luodi.synth.ticket import TICKET_STYLES, render_ticket, resolve_ticket_styles


def test_styles_split_into_dev_and_holdout() -> None:
    assert resolve_ticket_styles(("dev",)) == ("blue_magnetic", "red_soft", "blue_2013")
    assert resolve_ticket_styles(("holdout",)) == ("e_voucher",)
    with pytest.raises(ConfigError):
        resolve_ticket_styles(("nope",))


@pytest.mark.parametrize("style", sorted(TICKET_STYLES))
def test_a_ticket_prints_its_labels(style: str) -> None:
    sample = render_ticket(3, DocOptions(layouts=(style,)))
    again = render_ticket(3, DocOptions(layouts=(style,)))
    assert np.array_equal(sample.image, again.image)
    assert sample.layout == style and sample.holdout == TICKET_STYLES[style].holdout
    f = sample.fields
    printed = "".join(text for text, _ in sample.text_layer)
    for name in ("serial", "departure_station", "arrival_station", "train_number", "carriage_seat", "id_number"):
        assert str(f[name]) in printed, name
    assert f["departure_station"] != f["arrival_station"]
    year, month, day = f["date"].split("-")
    assert f"{year}年{month}月{day}日" in printed
    assert f"¥{f['price']:.1f}元" in printed or f"¥{f['price']:.2f}元" in printed


def test_photos_are_degraded() -> None:
    clean = render_ticket(0, DocOptions(degrade="clean"))
    photo = render_ticket(0, DocOptions(degrade="photo"))
    assert clean.fields == photo.fields
    assert photo.image.shape != clean.image.shape and photo.meta["degradations"]
