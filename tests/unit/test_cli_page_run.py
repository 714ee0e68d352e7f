"""`luodi ocr` and `luodi extract` run their inputs through one `cli.common.PageRun`: what it does with
a bad input among several (an error record, a line on stderr, exit 1 at the end) and with a single
one (its error is raised), over a stand-in pipeline that fails the inputs it is told to."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from luodi.cli.common import PageRun
from luodi.errors import InputNotFoundError, UnsupportedFormatError
from luodi.pipeline import Item, ItemResult


class FailingPipeline:
    """Runs every item to a marker outcome, but fails the files named bad.*."""

    def run_many(self, task: Any, items: Iterable[Item], *, pdf_dpi: int | None = None) -> Iterator[ItemResult]:
        for index, item in enumerate(items):
            name = str(item.source)
            if Path(name).stem == "bad":
                yield ItemResult(index, name, error=UnsupportedFormatError("not an image"))
            else:
                yield ItemResult(index, name, outcome=f"read {Path(name).name}")  # type: ignore[arg-type]


def _folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "in"
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"\xff\xd8\xff")
    return folder


def test_a_bad_input_among_several_is_a_record_and_the_run_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, "a.jpg", "bad.jpg", "sub/c.jpg")
    run = PageRun([str(folder)])
    assert run.several
    got = list(run.results(FailingPipeline(), "ocr", None))
    assert [source for _, source, _ in got] == [str(folder / n) for n in ("a.jpg", "bad.jpg", "sub/c.jpg")]
    assert {root for root, _, _ in got} == {str(folder)}
    assert got[0][2] == "read a.jpg" and got[2][2] == "read c.jpg"
    assert got[1][2] == {
        "source": str(folder / "bad.jpg"),
        "error": {"type": "unsupported_format", "message": "not an image"},
    }
    assert f"error: {folder / 'bad.jpg'}: not an image" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        run.finish()
    assert exited.value.code == 1
    assert "1 of 3 inputs failed" in capsys.readouterr().err


def test_a_single_bad_input_raises_its_error(tmp_path: Path) -> None:
    bad = _folder(tmp_path, "bad.jpg") / "bad.jpg"
    run = PageRun([str(bad)])
    assert not run.several
    with pytest.raises(UnsupportedFormatError):
        list(run.results(FailingPipeline(), "ocr", None))
    run.finish()  # nothing failed as a record: no exit


def test_a_folder_of_one_is_several_and_all_good_runs_do_not_exit(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "a.jpg")
    run = PageRun([str(folder)])
    assert run.several  # a folder always gets the array / error-record shape
    seen: list[Any] = []
    got = list(run.results(FailingPipeline(), "ocr", None, progress=lambda s: seen.extend(s) or s))
    assert [done for _, _, done in got] == ["read a.jpg"] and seen == run.sources
    run.finish()


def test_every_path_is_checked_before_any_work(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "a.jpg")
    with pytest.raises(InputNotFoundError, match=r"missing\.jpg: no such file"):
        PageRun([str(folder), str(tmp_path / "missing.jpg")])
