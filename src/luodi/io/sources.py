"""Expanding the paths a user names (files and folders) into the list of input files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

from luodi.errors import InputNotFoundError
from luodi.io.sniff import SNIFF_BYTES, is_supported

#: File name endings kept when a folder is expanded (content decides for everything else).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".gif", ".pdf"}
)

_DIGITS = re.compile(r"(\d+)")


def iter_sources(paths: Sequence[str | os.PathLike[str]], recursive: bool = True) -> Iterator[str]:
    """The input files named by ``paths``, each as the user would name it.

    A file is yielded exactly as given (whatever its name: its content is judged when it is
    loaded, so a bad file is reported rather than silently dropped). A folder is expanded
    (recursively unless ``recursive=False``) into the files under it whose name ends in a known
    image/PDF extension or whose content sniffs as a supported format; hidden files and folders
    (a name starting with ".") are skipped, symlinked folders are not followed (no loops), and the
    order is natural-sorted per folder (``p2.jpg`` before ``p10.jpg``), files and sub-folders
    together by name. Each yielded path is the folder as given joined with the path under it.

    Every named path is checked before anything is yielded: a missing or unreadable one raises
    :class:`InputNotFoundError` at call time, not halfway through a batch.
    """
    names = [os.fspath(p) for p in paths]
    for name in names:
        if not os.path.exists(name):
            raise InputNotFoundError(f"{name}: no such file or folder")
        if os.path.isdir(name) and not os.access(name, os.R_OK | os.X_OK):
            raise InputNotFoundError(f"{name}: folder cannot be read (permission denied)")
    return _expand(names, recursive)


def _expand(names: list[str], recursive: bool) -> Iterator[str]:
    for name in names:
        if os.path.isdir(name):
            yield from _walk(name, recursive)
        else:
            yield name


def _walk(folder: str, recursive: bool) -> Iterator[str]:
    try:
        with os.scandir(folder) as it:
            entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: natural_key(e.name))
    except OSError:
        # A sub-folder we may not read is skipped like any other non-input; the top-level folder
        # was checked by iter_sources.
        return
    for entry in entries:
        path = os.path.join(folder, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file(follow_symlinks=True)
        except OSError:
            continue
        if is_dir:
            if recursive:
                yield from _walk(path, recursive)
        elif is_file and _looks_like_input(path):
            yield path


def _looks_like_input(path: str) -> bool:
    if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return is_supported(head)


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders embedded numbers by value: ``p2`` < ``p10``; ties broken by the raw name."""
    parts: list[tuple[int, int | str]] = []
    # re.split with a capturing group alternates text, number, text, ...
    for i, chunk in enumerate(_DIGITS.split(name)):
        if chunk:
            parts.append((0, int(chunk)) if i % 2 else (1, chunk.casefold()))
    parts.append((2, name))
    return tuple(parts)
