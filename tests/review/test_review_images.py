"""Image stores: content-addressed keys, atomic disk writes, and S3 through the zoo's client (moto's server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from review_support import png

from luodi.errors import ImagePathError, ReviewError, UnsupportedFormatError
from luodi.review import NewItem, ReviewStore, export
from luodi.review.images import DiskImageStore, S3ImageStore, check_key, key_for

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")


def test_disk_store_keys_and_refusals(tmp_path: Path) -> None:
    disk = DiskImageStore(tmp_path / "img")
    key = disk.put(png())
    assert key == key_for(png()) and disk.get(key) == png()
    assert disk.put(png()) == key  # kept once
    assert not list((tmp_path / "img").rglob(".tmp-*"))
    for bad in ("../x.png", "/etc/passwd", key.replace(".png", ".exe"), key[:-4] + "/../../x.png", ""):
        with pytest.raises(ImagePathError):
            check_key(bad)
    with pytest.raises(UnsupportedFormatError, match="only PNG"):  # the caller's input: 415, not 500
        disk.put(b"not an image")
    with pytest.raises(ReviewError, match="missing"):
        disk.get("0" * 64 + ".png")


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LUODI_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="review")
    yield client
    for obj in client.list_objects_v2(Bucket="review").get("Contents", []):
        client.delete_object(Bucket="review", Key=obj["Key"])
    client.delete_bucket(Bucket="review")


def test_review_images_in_s3(s3: Any, tmp_path: Path) -> None:
    store = ReviewStore.open(f"sqlite:///{tmp_path / 'r.db'}", "s3://review/team-a")
    assert isinstance(store.images, S3ImageStore)
    item = store.add(NewItem(kind="line", suggestion={"text": "s3"}, images=(png(text="s3"),)))
    key = store.get(item).images[0]
    assert s3.head_object(Bucket="review", Key=f"team-a/{key}")["ContentType"] == "image/png"
    assert store.image(item)[0] == png(text="s3")
    store.decide(item, version=1, who="t", action="accept")
    s3.put_object(Bucket="review", Key=f"team-a/{key}", Body=b"\x89PNG\r\n\x1a\n broken")
    report = export(store, "rec", tmp_path / "out")
    assert report.written == 0 and report.skipped[0]["id"] == item
    s3.delete_object(Bucket="review", Key=f"team-a/{key}")
    with pytest.raises(ReviewError, match="cannot read"):
        store.image(item)
    store.close()
