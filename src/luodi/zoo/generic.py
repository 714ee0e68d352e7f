"""User bundles of any task: a named set of files the task's own code knows how to read.

OCR bundles have stages (det/cls/rec) the zoo understands; other tasks (``text`` classifiers and
taggers, vision models) only need their files stored, hashed, listed, pushed and pulled like any
bundle. Such a bundle has no stages: its files carry roles (``model``, ``config``, ...) and its task
says which code reads them. Registration is staged and swapped into place as in :mod:`luodi.zoo.user`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from luodi.errors import ConfigError, InputNotFoundError, ModelExistsError
from luodi.zoo.files import DIR_MODE, atomic_copy, file_lock, sha256_file, store_errors, swap_dir
from luodi.zoo.registry import BUILTINS
from luodi.zoo.spec import Bundle, ModelFile
from luodi.zoo.store import (
    MANIFEST,
    bundle_dir,
    bundle_to_manifest,
    check_name,
    get_bundle,
    lock_path,
    models_dir,
    resolve_home,
    write_manifest,
)

log = logging.getLogger(__name__)

_OCR_TASKS = ("ocr", "rec", "det", "cls")


def register_files(
    name: str,
    *,
    task: str,
    files: Mapping[str, str | Path],
    version: str = "user",
    description: str = "",
    source: str = "",
    force: bool = False,
    home: str | Path | None = None,
) -> Bundle:
    """Store ``files`` (role -> path) as the bundle ``name`` of ``task``; returns it as :func:`get_bundle` would.

    Each file keeps its base name inside the bundle folder, so names must differ.
    """
    sources = _checked(name, task, files)
    home_path = resolve_home(home)
    root = bundle_dir(home_path, name)
    with store_errors(f"cannot register {name} in {models_dir(home_path)}"):
        models_dir(home_path).mkdir(parents=True, exist_ok=True)
        with file_lock(lock_path(home_path, name)):
            if (root / MANIFEST).is_file() and not force:
                raise ModelExistsError(f"model {name!r} already exists; pass force=True (--force) to replace it")
            staging = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=models_dir(home_path)))
            staging.chmod(DIR_MODE)
            try:
                entries = []
                for role, src in sources.items():
                    atomic_copy(src, staging / src.name)
                    entries.append(
                        ModelFile(
                            role=role,
                            path=root / src.name,
                            sha256=sha256_file(staging / src.name),
                            bytes=(staging / src.name).stat().st_size,
                            source=f"user file {src.resolve()}",
                        )
                    )
                bundle = Bundle(
                    name=name,
                    task=task,
                    version=version,
                    det=None,
                    cls=None,
                    rec=None,
                    dictionary=None,
                    files=tuple(entries),
                    source=source or "registered from local files",
                    description=description,
                )
                write_manifest(staging, bundle_to_manifest(bundle, root, kind="user"))
                swap_dir(staging, root)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    log.info("registered %s model %s at %s", task, name, root)
    return get_bundle(name, home_path)


def _checked(name: str, task: str, files: Mapping[str, str | Path]) -> dict[str, Path]:
    """``files`` as paths, once the name, the task and every file are fit to register."""
    check_name(name, ConfigError)
    if name in BUILTINS:
        raise ModelExistsError(f"{name!r} is a built-in model name; choose another name")
    if not task or task in _OCR_TASKS:
        raise ConfigError(f"task {task!r}: OCR bundles are registered with register_bundle (det/cls/rec stages)")
    if not files:
        raise ConfigError(f"bundle {name!r} would have no files")
    sources = {role: Path(p) for role, p in files.items()}
    for role, src in sources.items():
        if not src.is_file():
            raise InputNotFoundError(f"{role}: {src} does not exist or is not a file")
    names = [src.name for src in sources.values()]
    if len(set(names)) != len(names) or MANIFEST in names:
        raise ConfigError(f"the files of a bundle need distinct base names other than {MANIFEST}: {names}")
    return sources


def bundle_file(bundle: Bundle, role: str) -> Path:
    """The path of the file with ``role`` in a stage-less bundle."""
    for f in bundle.files:
        if f.role == role:
            return f.path
    from luodi.errors import ModelError

    raise ModelError(f"model {bundle.name!r} ({bundle.task}) has no {role!r} file")
