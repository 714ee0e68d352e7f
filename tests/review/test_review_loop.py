"""``luodi train rec --from-review``: the reviewed lines join Train.labels (training itself is the bench's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_support import png

from luodi.errors import InputError, InputNotFoundError
from luodi.review import NewItem, ReviewStore, export
from luodi.review.loop import config_with_review

CONFIG = "base: pp-ocrv4\noutput_dir: runs\nTrain: {batch_size: 4, steps: 1}\n"


def test_the_store_export_becomes_the_training_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, images = f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "img"
    monkeypatch.setenv("LUODI_SERVE_REVIEW__DB_URL", db)
    monkeypatch.setenv("LUODI_SERVE_REVIEW__IMAGES", str(images))
    cfg = tmp_path / "c.yml"
    cfg.write_text(CONFIG, encoding="utf-8")
    with pytest.raises(InputError, match="no accepted text lines"):
        config_with_review(cfg, "-")
    store = ReviewStore.open(db, images)
    item = store.add(NewItem(kind="line", suggestion={"text": "甲"}, images=(png(),)))
    store.decide(item, version=1, who="t", action="accept", labels={"text": "乙"})
    config = config_with_review(cfg, "-")
    (labels,) = config.Train.labels
    assert labels.is_relative_to(tmp_path / "runs") and labels.read_text(encoding="utf-8").endswith("\t乙\n")

    export(store, "rec", tmp_path / "exported")
    store.close()
    cfg.write_text(CONFIG.replace("steps: 1", "steps: 1, labels: [other.txt]"), encoding="utf-8")
    config = config_with_review(cfg, str(tmp_path / "exported"))
    assert [p.name for p in config.Train.labels] == ["other.txt", "rec_gt.txt"]
    with pytest.raises(InputNotFoundError):
        config_with_review(cfg, str(tmp_path / "nowhere"))
