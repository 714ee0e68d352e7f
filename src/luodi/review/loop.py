"""The loop back into training: the review store's corrected lines as a recognition label file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from luodi.errors import ConfigError, InputError, InputNotFoundError

STORE = "-"  # ``--from-review`` without a folder: export from the review store


def review_rec_labels(source: str, out_dir: Path) -> Path:
    """A PaddleOCR rec label file of reviewed lines.

    ``source`` is :data:`STORE` (export the accepted lines of the review store, the one ``luodi serve``
    uses, into a new folder under ``out_dir``), an export folder (its ``rec_gt.txt``) or a label file.
    """
    if source == STORE:
        from luodi.review.exports import export
        from luodi.review.store import ReviewStore
        from luodi.serve.settings import load_serve_settings

        settings = load_serve_settings()  # the store `luodi serve` keeps its review queue in
        review = settings.review
        store = ReviewStore.open(review.db_url, review.images, home=settings.core.home)
        try:
            target = out_dir / time.strftime("review-rec-%Y%m%d-%H%M%S")
            report = export(store, "rec", target)
        finally:
            store.close()
        if report.written == 0:
            raise InputError("the review store has no accepted text lines to train on")
        return target / "rec_gt.txt"
    path = Path(source)
    label_file = path / "rec_gt.txt" if path.is_dir() else path
    if not label_file.is_file():
        raise InputNotFoundError(f"{label_file} does not exist: give `luodi review export --format rec`'s folder")
    return label_file


def config_with_review(config_file: Path, source: str) -> Any:
    """``luodi train rec``'s config with the reviewed lines added to ``Train.labels`` (before it is
    checked, so a config that names no other data is valid with them)."""
    import yaml

    from luodi.train.config import parse_config

    try:
        data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"config file {config_file} does not exist") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{config_file}: a training config is a mapping")
    root = config_file.resolve().parent
    labels = review_rec_labels(source, (root / str(data.get("output_dir", "runs"))).resolve())
    train = data.setdefault("Train", {})
    if not isinstance(train, dict):
        raise ConfigError(f"{config_file}: Train must be a mapping")
    given = train.get("labels") or []
    train["labels"] = [*([given] if isinstance(given, str) else given), str(labels)]
    return parse_config(data, root=root, source=str(config_file))
