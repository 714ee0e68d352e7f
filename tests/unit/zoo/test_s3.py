"""push / pull --from against a real S3-compatible server on loopback (moto's server stands in for MinIO)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from luodi.errors import ConfigError, ModelIntegrityError, ModelSourceError
from luodi.zoo import get_bundle, pull, register_bundle, verify
from luodi.zoo.registry import BundleRecipe

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

from luodi.zoo.s3 import parse_s3_url, pull_from, push  # noqa: E402  (after the optional-dependency skip)

BUCKET = "models"


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LUODI_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def pulled(home: Path, fake_builtin: BundleRecipe, fake_wheel) -> Path:
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    return home


def test_parse_url() -> None:
    assert parse_s3_url("s3://b/some/prefix/").key("x", "y.onnx") == "some/prefix/x/y.onnx"
    assert parse_s3_url("s3://b").key("x") == "x"
    with pytest.raises(ConfigError):
        parse_s3_url("https://b/x")


def test_push_then_pull_into_another_store(s3: Any, pulled: Path, tmp_path: Path) -> None:
    url = f"s3://{BUCKET}/luodi"
    report = push("fake-ocr", url, pulled)
    assert len(report.uploaded) == len(get_bundle("fake-ocr", pulled).files) and report.kept == ()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "luodi/fake-ocr/bundle.json" in keys and "luodi/fake-ocr/rec.onnx" in keys
    # pushing again sends nothing: the remote sha256 metadata matches
    assert push("fake-ocr", url, pulled).uploaded == ()

    other = tmp_path / "replica"
    got = pull_from("fake-ocr", url, other)
    assert len(got.fetched) == len(report.uploaded)
    assert verify("fake-ocr", other).ok
    again = pull_from("fake-ocr", url, other)
    assert again.fetched == () and len(again.kept) == len(got.fetched)


def test_user_bundle_round_trip(s3: Any, pulled: Path, tmp_path: Path, onnx_file: Callable[..., Path]) -> None:
    register_bundle("mine", det=onnx_file("d.onnx"), base="fake-ocr", home=pulled)
    push("mine", f"s3://{BUCKET}", pulled)
    other = tmp_path / "replica"
    pull_from("mine", f"s3://{BUCKET}", other)
    bundle = get_bundle("mine", other, verify=True)
    assert bundle.base == "fake-ocr" and bundle.det is not None
    assert bundle.det.model == other / "models" / "mine" / "det.onnx"


def test_tampered_object_is_refused(s3: Any, pulled: Path, tmp_path: Path) -> None:
    push("fake-ocr", f"s3://{BUCKET}/p", pulled)
    s3.put_object(Bucket=BUCKET, Key="p/fake-ocr/rec.onnx", Body=b"evil weights")
    other = tmp_path / "replica"
    with pytest.raises(ModelIntegrityError, match=r"rec\.onnx"):
        pull_from("fake-ocr", f"s3://{BUCKET}/p", other)
    assert not (other / "models" / "fake-ocr").exists(), "nothing half-pulled"
    assert not [p for p in (other / "models").iterdir() if p.name.startswith(".staging-")]


def test_builtin_name_must_match_its_pins(s3: Any, pulled: Path, tmp_path: Path) -> None:
    # a bucket cannot serve other weights under a built-in name, even with a self-consistent manifest
    push("fake-ocr", f"s3://{BUCKET}/p", pulled)
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key="p/fake-ocr/bundle.json")["Body"].read())
    manifest["files"][0]["sha256"] = "0" * 64
    s3.put_object(Bucket=BUCKET, Key="p/fake-ocr/bundle.json", Body=json.dumps(manifest).encode())
    with pytest.raises(ModelIntegrityError, match="pinned"):
        pull_from("fake-ocr", f"s3://{BUCKET}/p", tmp_path / "replica")


def test_missing_bundle(s3: Any, home: Path) -> None:
    with pytest.raises(ModelSourceError, match="no bundle 'nothing'"):
        pull_from("nothing", f"s3://{BUCKET}/p", home)


def test_cli_push_and_pull_from(s3: Any, pulled: Path, tmp_path: Path, capsys) -> None:
    from luodi.cli import main

    main(["models", "push", "fake-ocr", f"s3://{BUCKET}/cli", "--home", str(pulled)])
    assert "uploaded" in capsys.readouterr().out
    other = tmp_path / "replica"
    main(["models", "pull", "fake-ocr", "--from", f"s3://{BUCKET}/cli", "--home", str(other)])
    assert "fetched" in capsys.readouterr().out
    assert verify("fake-ocr", other).ok


def test_ir_bundle_round_trip(s3: Any, pulled: Path, tmp_path: Path, ir_file: Callable[..., Path]) -> None:
    xml = ir_file("rec")
    register_bundle("int8", rec_openvino=xml, base="fake-ocr", home=pulled)
    report = push("int8", f"s3://{BUCKET}/q", pulled)
    assert {"rec.xml", "rec.bin"} <= set(report.uploaded)
    remote_bin = s3.get_object(Bucket=BUCKET, Key="q/int8/rec.bin")["Body"].read()
    assert remote_bin == xml.with_suffix(".bin").read_bytes()
    other = tmp_path / "replica"
    pull_from("int8", f"s3://{BUCKET}/q", other)
    bundle = get_bundle("int8", other, verify=True)
    root = other / "models" / "int8"
    assert bundle.runtime == "openvino" and bundle.rec is not None and bundle.rec.openvino_model == root / "rec.xml"
    assert (root / "rec.bin").read_bytes() == remote_bin
    # a tampered weights file in the bucket is caught like any other file
    s3.put_object(Bucket=BUCKET, Key="q/int8/rec.bin", Body=b"\0" * len(remote_bin))
    with pytest.raises(ModelIntegrityError, match=r"rec\.bin"):
        pull_from("int8", f"s3://{BUCKET}/q", tmp_path / "replica2")
