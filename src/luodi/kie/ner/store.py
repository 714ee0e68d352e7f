"""Where the trained express-NER model lives and how its files are verified.

The model is trained at setup time (weights are never committed): ``$LUODI_HOME/models/express-ner/``
holds ``weights.npz``, ``vocab.txt``, ``config.json``, ``metrics.json`` and ``manifest.json`` (sha256 of
every other file plus the data, config and code fingerprints that make re-training skippable).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from luodi.errors import ModelIntegrityError, ModelNotPulledError

__all__ = [
    "CODE_VERSION",
    "MODEL_FILES",
    "MODEL_NAME",
    "default_model_dir",
    "file_sha256",
    "read_manifest",
    "train_command",
    "verify_model_dir",
    "write_manifest",
]

MODEL_NAME = "express-ner"
# Bump when the architecture, the features or the export format change: old stores then re-train.
CODE_VERSION = "express-ner/1"
MODEL_FILES = ("weights.npz", "vocab.txt", "config.json", "metrics.json")
MANIFEST = "manifest.json"


def default_model_dir(home: Path | None = None) -> Path:
    if home is None:
        from luodi.config import get_settings

        home = get_settings().home
    return Path(home) / "models" / MODEL_NAME


def train_command(out: Path) -> str:
    return f".venv/bin/python -m luodi.kie.ner.train --out {out}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    files = [
        {"path": name, "bytes": (folder / name).stat().st_size, "sha256": file_sha256(folder / name)}
        for name in MODEL_FILES
    ]
    manifest = {"name": MODEL_NAME, "task": "ner", "code_version": CODE_VERSION, **meta, "files": files}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    # The manifest is written last and atomically: its presence means a complete model.
    tmp.replace(folder / MANIFEST)
    return manifest


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def verify_model_dir(folder: Path) -> dict[str, Any]:
    """The manifest of a complete, intact model folder; raises ModelNotPulledError / ModelIntegrityError."""
    manifest = read_manifest(folder)
    if manifest is None:
        raise ModelNotPulledError(
            f"NER model {MODEL_NAME!r} is not installed in {folder}: train it with `{train_command(folder)}` "
            "(`make setup` runs this)"
        )
    for entry in manifest.get("files", []):
        path = folder / str(entry["path"])
        if not path.is_file():
            raise ModelNotPulledError(f"NER model file missing: {path}; re-run `{train_command(folder)}`")
        if file_sha256(path) != entry["sha256"]:
            raise ModelIntegrityError(
                f"NER model file {path} does not match its sha256 in {folder / MANIFEST}; "
                f"re-run `{train_command(folder)} --force`"
            )
    return manifest
