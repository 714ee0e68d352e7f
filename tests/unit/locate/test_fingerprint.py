"""The locator's training fingerprint: what re-trains it in ``make setup`` and what does not."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import luodi
from luodi.locate.fingerprint import NOT_TRAINING, code_digest, training_modules

SRC = Path(next(iter(luodi.__path__))).parent


def test_training_modules_are_what_the_scenes_and_the_network_import() -> None:
    modules = set(training_modules())
    for needed in (
        "luodi.locate.train",
        "luodi.locate.model",
        "luodi.locate.inputs",  # the input normalisation the weights expect
        "luodi.synth.parcel",
        "luodi.synth.parcel_textures",
        "luodi.synth.waybill",
        "luodi.synth.waybill_layouts",
        "luodi.synth.fonts",
        "luodi.synth.parties",  # reached through waybill only: the old filename glob missed these
        "luodi.synth.photo",
        "luodi.synth.degrade",
    ):
        assert needed in modules, needed
    for unrelated in (
        "luodi.synth",  # the package's __init__ only re-exports
        "luodi.synth.ticket",
        "luodi.synth.bank_receipt",
        "luodi.synth.id_card",
        "luodi.synth.lines",
        "luodi.synth.styles",
        "luodi.locate.locator",
        "luodi.locate.extract",
        "luodi.locate.evaluate",  # scores a stored model with today's inference code
        "luodi.locate.fingerprint",
    ):
        assert unrelated not in modules, unrelated
    assert not modules & set(NOT_TRAINING)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the sources the fingerprint reads (luodi's synth and locate packages)."""
    (tmp_path / "luodi").mkdir()
    shutil.copy(SRC / "luodi" / "__init__.py", tmp_path / "luodi" / "__init__.py")
    for pkg in ("synth", "locate"):
        shutil.copytree(SRC / "luodi" / pkg, tmp_path / "luodi" / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _edit(path: Path, text: str = "\n# an edit\n") -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_edits_outside_the_training_path_keep_the_fingerprint(tree: Path) -> None:
    before = code_digest(b"parties", tree)
    assert code_digest(b"parties", tree) == before  # stable
    for name in ("ticket.py", "lines.py", "styles.py", "__init__.py", "bank_receipt.py"):
        _edit(tree / "luodi" / "synth" / name)
    for name in ("locator.py", "extract.py", "store.py", "fingerprint.py"):
        _edit(tree / "luodi" / "locate" / name)
    (tree / "luodi" / "synth" / "waybill_heldout_extra.py").write_text("X = 1\n", encoding="utf-8")
    assert code_digest(b"parties", tree) == before


@pytest.mark.parametrize(
    "changed",
    ["synth/parcel_textures.py", "synth/waybill_layouts.py", "synth/parties.py", "locate/model.py", "locate/inputs.py"],
)
def test_edits_on_the_training_path_change_it(tree: Path, changed: str) -> None:
    before = code_digest(b"parties", tree)
    _edit(tree / "luodi" / changed)
    assert code_digest(b"parties", tree) != before


def test_new_imports_and_other_parties_change_it(tree: Path) -> None:
    before = code_digest(b"parties", tree)
    assert code_digest(b"other parties", tree) != before
    # a lazy import inside a function counts: ticket.py joins the training path, and its edits with it
    lazy = "\n\ndef _uses_tickets() -> None:\n    from luodi.synth import ticket\n"
    _edit(tree / "luodi" / "synth" / "parcel.py", lazy)
    assert "luodi.synth.ticket" in training_modules(tree)
    joined = code_digest(b"parties", tree)
    _edit(tree / "luodi" / "synth" / "ticket.py")
    assert code_digest(b"parties", tree) != joined


def test_every_synth_function_training_runs_is_in_the_fingerprint(tmp_path: Path) -> None:
    """What rendering training scenes actually executes (not just imports) is covered."""
    from luodi.locate.train import LocatorConfig, render_set
    from luodi.synth.fonts import available_fonts
    from luodi.synth.parcel import write_fake_ner

    if not available_fonts():
        pytest.skip("no CJK fonts installed (make setup installs them): waybill art cannot be drawn")
    files = {str(SRC.joinpath(*m.split(".")).with_suffix(".py")) for m in training_modules()}
    ran: set[str] = set()

    def profile(frame: FrameType, event: str, _: Any) -> None:
        code = frame.f_code
        if event == "call" and code.co_name != "<module>" and code.co_filename.startswith(str(SRC / "luodi")):
            ran.add(code.co_filename)

    cfg = LocatorConfig(label_pool=3, size=192, flat_rate=0.5)
    ner = str(write_fake_ner(tmp_path / "parties.txt", 30, 0))
    sys.setprofile(profile)
    try:
        data = render_set(cfg, 4, seed=5, ner_file=ner)
    finally:
        sys.setprofile(None)
    assert len(data) == 4
    watched = [f for f in ran if "/luodi/synth/" in f or "/luodi/locate/" in f]
    assert any(f.endswith("parcel_textures.py") for f in watched)
    missing = sorted(set(watched) - files)
    assert missing == []
