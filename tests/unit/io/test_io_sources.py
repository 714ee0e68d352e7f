"""Expanding files and folders into input paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_samples import encode
from PIL import Image

from luodi.errors import InputNotFoundError
from luodi.io import iter_sources

_PNG = encode(Image.new("RGB", (4, 4), "white"), "PNG")


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    (root / "b_sub" / "deeper").mkdir(parents=True)
    (root / ".cache").mkdir()
    files = {
        "p10.jpg": b"jpg-by-name",
        "p2.png": _PNG,
        "P1.PDF": b"%PDF-1.4",
        "notes.txt": b"not an image",
        "scan_without_extension": _PNG,  # kept: content sniffs as PNG
        ".hidden.png": _PNG,
        "b_sub/a.tif": b"tif-by-name",
        "b_sub/deeper/z.webp": b"webp-by-name",
        ".cache/c.png": _PNG,
        "c.bmp": b"bmp-by-name",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def test_folder_is_expanded_recursively_sorted_and_filtered(inbox: Path) -> None:
    found = list(iter_sources([str(inbox)]))
    relative = [Path(p).relative_to(inbox).as_posix() for p in found]
    assert relative == [
        "b_sub/a.tif",
        "b_sub/deeper/z.webp",
        "c.bmp",
        "P1.PDF",
        "p2.png",
        "p10.jpg",
        "scan_without_extension",
    ]


def test_paths_keep_the_folder_as_the_user_named_it(inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(inbox.parent)
    found = list(iter_sources(["inbox/"]))
    assert found[0] == "inbox/b_sub/a.tif"
    found = list(iter_sources(["./inbox"]))
    assert found[-1] == "./inbox/scan_without_extension"


def test_not_recursive(inbox: Path) -> None:
    names = [Path(p).name for p in iter_sources([inbox], recursive=False)]
    assert names == ["c.bmp", "P1.PDF", "p2.png", "p10.jpg", "scan_without_extension"]


def test_files_are_yielded_as_given_even_if_not_images(inbox: Path) -> None:
    given = [str(inbox / "notes.txt"), str(inbox / ".hidden.png"), str(inbox / "p2.png")]
    assert list(iter_sources(given)) == given


def test_mixed_files_and_folders_keep_argument_order(inbox: Path) -> None:
    found = list(iter_sources([inbox / "p2.png", inbox / "b_sub"]))
    assert [Path(p).name for p in found] == ["p2.png", "a.tif", "z.webp"]


def test_missing_path_raises_before_anything_is_yielded(inbox: Path) -> None:
    with pytest.raises(InputNotFoundError, match=r"missing\.jpg"):
        iter_sources([inbox, inbox / "missing.jpg"])  # raises at the call, not mid-iteration


def test_symlinked_folder_loop_is_not_followed(inbox: Path) -> None:
    (inbox / "b_sub" / "loop").symlink_to(inbox, target_is_directory=True)
    found = list(iter_sources([inbox]))
    assert len(found) == 7


def test_empty_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(iter_sources([tmp_path])) == []
