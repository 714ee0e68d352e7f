"""Bundles with OpenVINO IR stages (``<stage>.xml`` + ``<stage>.bin``), as `luodi quantize` makes them.

The IRs are real ones, converted by openvino from a tiny ONNX MatMul, so registration exercises
openvino's own reader; each test takes a fraction of a second.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from luodi.errors import ConfigError, InputNotFoundError, ModelError, ModelIntegrityError
from luodi.zoo import describe_bundle, get_bundle, read_dictionary, register_bundle, verify
from luodi.zoo.store import MANIFEST, bundle_from_manifest, read_manifest

Leftovers = Callable[[Path], list[str]]  # the conftest fixture: what a failed registration left

IrFile = Callable[..., Path]
OnnxFile = Callable[..., Path]


def test_ir_only_rec_borrows_the_rest(home: Path, pulled_base: str, ir_file: IrFile, chars) -> None:
    xml = ir_file("int8_rec", classes=len(chars) + 2)
    bundle = register_bundle("int8", rec_openvino=xml, base=pulled_base, home=home, runtime="openvino")
    base = get_bundle(pulled_base, home)
    root = home / "models" / "int8"
    assert bundle.rec is not None and bundle.rec.model is None and bundle.rec.paddle_model is None
    assert bundle.rec.openvino_model == root / "rec.xml"
    assert (root / "rec.xml").read_bytes() == xml.read_bytes()
    assert (root / "rec.bin").read_bytes() == xml.with_suffix(".bin").read_bytes()
    assert not (root / "rec.onnx").exists(), "the base's FP32 rec is replaced, not kept beside the IR"
    # the input spec follows the base's rec; the class count is read from the IR's output shape
    assert base.rec is not None and bundle.rec.image_shape == base.rec.image_shape
    assert bundle.rec.extra["num_classes"] == len(chars) + 2
    # an IR has no dictionary metadata: the base's dictionary is taken
    assert bundle.dictionary is not None and read_dictionary(bundle.dictionary) == chars
    # det and cls are borrowed as they are
    assert bundle.det is not None and bundle.det.model == root / "det.onnx" and bundle.det.openvino_model is None
    assert {f.role for f in bundle.files} == {"det", "cls", "rec.xml", "rec.bin", "dict"}
    assert bundle.runtime == "openvino" and bundle.task == "ocr"
    assert get_bundle("int8", home, verify=True) == bundle
    assert verify("int8", home).ok


def test_info_lists_the_ir_files(home: Path, pulled_base: str, ir_file: IrFile, capsys) -> None:
    from luodi.cli import main

    xml = ir_file("rec", classes=7)
    register_bundle("int8", rec_openvino=xml, base=pulled_base, home=home)
    main(["models", "info", "int8", "--format", "json", "--home", str(home)])
    info = json.loads(capsys.readouterr().out)
    root = home / "models" / "int8"
    files = {f["role"]: f for f in info["files"]}
    assert files["rec.xml"]["path"] == str(root / "rec.xml")
    assert files["rec.xml"]["bytes"] == xml.stat().st_size
    assert files["rec.bin"]["bytes"] == xml.with_suffix(".bin").stat().st_size == 4 * 7 * 4  # 4x7 float32
    assert len(files["rec.bin"]["sha256"]) == 64
    assert info["stages"]["rec"]["openvino_model"] == str(root / "rec.xml")
    assert info["stages"]["rec"]["model"] is None
    assert info["stages"]["det"]["openvino_model"] is None
    assert info["runtime"] == "openvino"  # inferred: the rec stage runs on nothing else
    main(["models", "info", "int8", "--home", str(home)])
    text = capsys.readouterr().out
    assert "runtime: openvino" in text and "rec.bin" in text


def test_verify_detects_a_corrupted_bin(home: Path, pulled_base: str, ir_file: IrFile) -> None:
    register_bundle("int8", rec_openvino=ir_file("rec"), base=pulled_base, home=home)
    weights = home / "models" / "int8" / "rec.bin"
    data = bytearray(weights.read_bytes())
    data[5] ^= 0xFF  # same size: only the re-hash can tell
    weights.write_bytes(bytes(data))
    report = verify("int8", home)
    assert not report.ok and len(report.problems) == 1 and "rec.bin" in report.problems[0]
    assert get_bundle("int8", home).rec is not None  # the quick check (sizes) passes ...
    with pytest.raises(ModelIntegrityError, match=r"rec\.bin"):
        get_bundle("int8", home, verify=True)  # ... the full one does not


def test_missing_bin_is_refused_and_nothing_is_stored(
    home: Path, pulled_base: str, ir_file: IrFile, leftovers: Leftovers
) -> None:
    xml = ir_file("rec")
    xml.with_suffix(".bin").unlink()
    with pytest.raises(InputNotFoundError, match=r"rec\.bin is missing"):
        register_bundle("int8", rec_openvino=xml, base=pulled_base, home=home)
    assert not (home / "models" / "int8").exists()
    assert leftovers(home) == []


def test_missing_xml_is_refused(home: Path, tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="det_openvino"):
        register_bundle("int8", det_openvino=tmp_path / "nope.xml", home=home)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("this is not xml <", "not XML"),
        ("<model><layer/></model>", "root element <model>"),
        # an IR root, but nothing openvino can build a model from
        ('<net name="x" version="11"><layers><layer id="0" type="Bogus"/></layers></net>', "OpenVINO cannot read"),
    ],
)
def test_unreadable_ir_is_a_model_error(
    home: Path,
    pulled_base: str,
    tmp_path: Path,
    text: str,
    match: str,
    ir_file: IrFile,
    leftovers: Leftovers,
) -> None:
    bad = tmp_path / "bad" / "rec.xml"
    bad.parent.mkdir()
    bad.write_text(text, encoding="utf-8")
    bad.with_suffix(".bin").write_bytes(b"")
    with pytest.raises(ModelError, match=match):
        register_bundle("int8", rec_openvino=bad, base=pulled_base, home=home)
    assert not (home / "models" / "int8").exists()
    assert leftovers(home) == []


def test_an_onnx_given_as_ir_is_refused(home: Path, onnx_file: OnnxFile, ir_file: IrFile) -> None:
    onnx = onnx_file("rec.onnx")
    onnx.with_suffix(".bin").write_bytes(b"")
    with pytest.raises(ModelError, match="not an OpenVINO IR"):
        register_bundle("int8", det_openvino=onnx, home=home)


def test_failed_force_keeps_the_old_bundle(
    home: Path, pulled_base: str, ir_file: IrFile, tmp_path: Path, leftovers: Leftovers
) -> None:
    register_bundle("int8", rec_openvino=ir_file("rec"), base=pulled_base, home=home)
    bad = tmp_path / "junk.xml"
    bad.write_text("<net/>", encoding="utf-8")
    bad.with_suffix(".bin").write_bytes(b"")
    with pytest.raises(ModelError):
        register_bundle("int8", rec_openvino=bad, base=pulled_base, home=home, force=True)
    assert verify("int8", home).ok
    assert leftovers(home) == []


def test_ir_rec_without_a_dictionary_is_a_config_error(home: Path, ir_file: IrFile, leftovers: Leftovers) -> None:
    with pytest.raises(ConfigError, match="OpenVINO IR carries none"):
        register_bundle("int8", rec_openvino=ir_file("rec"), home=home)
    assert leftovers(home) == []


def test_ir_rec_with_an_explicit_dictionary(home: Path, ir_file: IrFile, tmp_path: Path) -> None:
    d = tmp_path / "d.txt"
    d.write_text("a\nb\nc\nd\ne\n", encoding="utf-8")
    bundle = register_bundle("int8", rec_openvino=ir_file("rec", classes=7), dictionary=d, home=home)
    assert bundle.task == "rec" and bundle.dictionary is not None
    assert read_dictionary(bundle.dictionary) == ("a", "b", "c", "d", "e")
    # the IR's class count is checked against the dictionary like an ONNX rec's
    with pytest.raises(ModelError, match="9 output classes but the dictionary has 5 entries"):
        register_bundle("int8b", rec_openvino=ir_file("rec9", classes=9), dictionary=d, home=home)


def test_onnx_and_ir_of_different_recognisers_are_refused(
    home: Path, onnx_file: OnnxFile, ir_file: IrFile, chars
) -> None:
    n = len(chars) + 2
    rec = onnx_file("rec.onnx", ("n", "t", n), ("n", "t", n), {"character": "\n".join(chars)})
    both = register_bundle("both", rec=rec, rec_openvino=ir_file("rec", classes=n), home=home)
    assert both.rec is not None and both.rec.model is not None and both.rec.openvino_model is not None
    assert both.runtime is None, "every stage has an ONNX: any runtime but paddle can run it"
    with pytest.raises(ModelError, match="ONNX model has 7 output classes but the OpenVINO IR has 9"):
        register_bundle("mixed", rec=rec, rec_openvino=ir_file("rec9", classes=9), home=home)


def test_runtime_is_checked_against_the_stages(home: Path, pulled_base: str, ir_file: IrFile) -> None:
    xml = ir_file("rec")
    with pytest.raises(ConfigError, match="runtime 'onnxruntime': stage rec has no file"):
        register_bundle("int8", rec_openvino=xml, base=pulled_base, home=home, runtime="onnxruntime")
    with pytest.raises(ConfigError, match="unknown runtime 'tensorrt'"):
        register_bundle("int8", rec_openvino=xml, base=pulled_base, home=home, runtime="tensorrt")
    assert not (home / "models" / "int8").exists()
    # an ONNX-only bundle may still be meant for openvino (it reads ONNX too)
    plain = register_bundle("plain", base=pulled_base, home=home, runtime=" OpenVINO ")
    assert plain.runtime == "openvino" and get_bundle("plain", home).runtime == "openvino"
    assert register_bundle("plain2", base=pulled_base, home=home).runtime is None


def test_borrowing_an_ir_stage_carries_its_files(
    home: Path, pulled_base: str, ir_file: IrFile, onnx_file: OnnxFile
) -> None:
    register_bundle("int8", rec_openvino=ir_file("rec"), base=pulled_base, home=home)
    det = onnx_file("my_det.onnx")
    bundle = register_bundle("int8-det", det=det, base="int8", home=home)
    src, root = home / "models" / "int8", home / "models" / "int8-det"
    assert bundle.rec is not None and bundle.rec.model is None and bundle.rec.openvino_model == root / "rec.xml"
    for name in ("rec.xml", "rec.bin"):
        assert (root / name).stat().st_ino == (src / name).stat().st_ino  # hard-linked, like ONNX stages
    assert {"rec.xml", "rec.bin"} <= {f.role for f in bundle.files}
    assert bundle.runtime == "openvino"  # still IR-only for rec
    assert bundle.rec.extra["num_classes"] == 7
    assert verify("int8-det", home).ok


def test_manifest_round_trip_with_ir(home: Path, pulled_base: str, ir_file: IrFile) -> None:
    bundle = register_bundle("int8", rec_openvino=ir_file("rec"), base=pulled_base, home=home)
    root = home / "models" / "int8"
    data = read_manifest(root)
    assert data["runtime"] == "openvino" and data["stages"]["rec"]["openvino_model"] == "rec.xml"
    moved = home / "elsewhere"
    root.rename(moved)
    relocated = bundle_from_manifest(read_manifest(moved), moved)
    assert relocated.rec is not None and relocated.rec.openvino_model == moved / "rec.xml"
    assert relocated.runtime == bundle.runtime


@pytest.mark.parametrize("where", ["../../outside.xml", "/etc/passwd"])
def test_manifest_stage_paths_cannot_escape(home: Path, pulled_base: str, ir_file: IrFile, where: str) -> None:
    register_bundle("int8", rec_openvino=ir_file("rec"), base=pulled_base, home=home)
    root = home / "models" / "int8"
    data = read_manifest(root)
    data["stages"]["rec"]["openvino_model"] = where
    (root / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="outside the bundle folder"):
        get_bundle("int8", home)


def test_manifest_from_before_ir_bundles_loads(home: Path, pulled_base: str, onnx_file: OnnxFile) -> None:
    bundle = register_bundle("old", det=onnx_file("d.onnx"), base=pulled_base, home=home)
    root = home / "models" / "old"
    data = read_manifest(root)
    # what a manifest written before this change looked like: neither key anywhere
    del data["runtime"]
    for stage in data["stages"].values():
        if stage is not None:
            del stage["openvino_model"]
    text = json.dumps(data, ensure_ascii=False, indent=2)
    assert "openvino" not in text and '"runtime"' not in text
    (root / MANIFEST).write_text(text, encoding="utf-8")
    loaded = get_bundle("old", home, verify=True)
    assert loaded == bundle and loaded.runtime is None
    assert all(s is not None and s.openvino_model is None for s in (loaded.det, loaded.cls, loaded.rec))
    assert describe_bundle("old", home).info()["runtime"] is None


def test_registration_without_openvino_installed(
    home: Path, ir_file: IrFile, onnx_file: OnnxFile, chars, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openvino is optional: without it the pair is checked for shape (files, <net> root) only
    n = len(chars) + 2
    rec = onnx_file("rec.onnx", ("n", "t", n), ("n", "t", n), {"character": "\n".join(chars)})
    base = register_bundle("fp32", rec=rec, home=home)
    assert base.rec is not None and base.rec.extra["num_classes"] == n
    xml = ir_file("rec", classes=n)
    monkeypatch.setitem(sys.modules, "openvino", None)  # makes `import openvino` raise ImportError
    bundle = register_bundle("int8", rec_openvino=xml, base="fp32", home=home)
    assert bundle.rec is not None and bundle.rec.openvino_model is not None
    assert "num_classes" not in bundle.rec.extra, "unknown without openvino; the base's count is not this model's"
    assert bundle.dictionary is not None and read_dictionary(bundle.dictionary) == chars
    assert verify("int8", home).ok
    junk = xml.with_name("junk.xml")
    junk.write_text("<model/>", encoding="utf-8")
    junk.with_suffix(".bin").write_bytes(b"")
    with pytest.raises(ModelError, match="not an OpenVINO IR"):
        register_bundle("junk", rec_openvino=junk, base="fp32", home=home)


def test_cli_register_with_ir(home: Path, pulled_base: str, ir_file: IrFile, capsys) -> None:
    from luodi.cli import main

    xml = ir_file("det", classes=3)
    main(["models", "register", "int8", "--det-openvino", str(xml), "--base", pulled_base, "--home", str(home)])
    assert "registered int8" in capsys.readouterr().out
    bundle = get_bundle("int8", home)
    assert bundle.det is not None and bundle.det.openvino_model == home / "models" / "int8" / "det.xml"
    assert bundle.runtime == "openvino"
