"""User bundles: register, borrow from a base, refuse, replace, remove — and never half-register."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from luodi.errors import (
    ConfigError,
    InputNotFoundError,
    ModelError,
    ModelExistsError,
    ModelNotPulledError,
    UnknownModelError,
)
from luodi.zoo import get_bundle, list_bundles, read_dictionary, register_bundle, unregister_bundle, verify
from luodi.zoo.store import bundle_from_manifest, bundle_to_manifest, read_manifest

Leftovers = Callable[[Path], list[str]]  # the conftest fixture: what a failed registration left

OnnxFile = Callable[..., Path]


@pytest.fixture
def rec_onnx(onnx_file: OnnxFile, chars: tuple[str, ...]) -> Path:
    n = len(chars) + 2
    return onnx_file("my_rec.onnx", ("n", "t", n), ("n", "t", n), {"character": "\n".join(chars)})


def test_register_standalone_rec(home: Path, rec_onnx: Path, chars) -> None:
    bundle = register_bundle("my-rec", rec=rec_onnx, home=home, description="fine-tuned rec")
    root = home / "models" / "my-rec"
    assert bundle.task == "rec" and bundle.det is None and bundle.cls is None
    assert bundle.rec is not None and bundle.rec.model == root / "rec.onnx"
    assert bundle.rec.image_shape == (3, 48, 320) and bundle.rec.extra["num_classes"] == len(chars) + 2
    # no dictionary given: taken from the rec's ONNX metadata
    assert bundle.dictionary is not None and read_dictionary(bundle.dictionary) == chars
    assert (root / "rec.onnx").read_bytes() == rec_onnx.read_bytes()
    assert verify("my-rec", home).ok
    assert get_bundle("my-rec", home) == bundle
    row = {r.name: r for r in list_bundles(home)}["my-rec"]
    assert row.kind == "user" and row.pulled and row.description == "fine-tuned rec"


def test_register_borrows_missing_stages_from_base(home: Path, pulled_base: str, onnx_file: OnnxFile) -> None:
    det = onnx_file("my_det.onnx")
    bundle = register_bundle("my-ocr", det=det, base=pulled_base, home=home)
    base = get_bundle(pulled_base, home)
    root = home / "models" / "my-ocr"
    assert bundle.task == "ocr" and bundle.base == pulled_base
    assert bundle.det is not None and bundle.det.model == root / "det.onnx"
    assert (root / "det.onnx").read_bytes() == det.read_bytes()
    assert bundle.det.mean == base.det.mean  # the input spec follows the base's stage  # type: ignore[union-attr]
    # borrowed stages: same bytes, own paths, hard-linked (no extra disk)
    assert bundle.rec is not None and base.rec is not None and base.rec.model is not None
    assert bundle.rec.model == root / "rec.onnx"
    assert (root / "rec.onnx").stat().st_ino == base.rec.model.stat().st_ino
    assert bundle.dictionary is not None and bundle.dictionary.read_bytes() == base.dictionary.read_bytes()  # type: ignore[union-attr]
    assert {f.role for f in bundle.files} == {"det", "cls", "rec", "dict"}
    # a borrowed file keeps its upstream source and licence
    rec_file = next(f for f in bundle.files if f.role == "rec")
    assert rec_file.source.startswith("fakeocr==1.0:") and rec_file.licence.startswith("Apache-2.0")
    # the user bundle survives its base being removed
    from luodi.zoo import remove_pulled

    remove_pulled(pulled_base, home)
    assert verify("my-ocr", home).ok


def test_existing_name_needs_force(
    home: Path, rec_onnx: Path, onnx_file: OnnxFile, chars, leftovers: Leftovers
) -> None:
    register_bundle("mine", rec=rec_onnx, home=home)
    with pytest.raises(ModelExistsError, match="--force"):
        register_bundle("mine", rec=rec_onnx, home=home)
    det = onnx_file("d.onnx")
    replaced = register_bundle("mine", det=det, home=home, force=True)
    assert replaced.task == "det" and replaced.rec is None
    root = home / "models" / "mine"
    assert not (root / "rec.onnx").exists(), "force replaces the whole bundle"
    assert leftovers(home) == []


def test_force_can_use_itself_as_base(home: Path, rec_onnx: Path, onnx_file: OnnxFile) -> None:
    register_bundle("mine", rec=rec_onnx, home=home)
    det = onnx_file("d.onnx")
    bundle = register_bundle("mine", det=det, base="mine", home=home, force=True)
    assert bundle.task == "ocr"
    assert (home / "models" / "mine" / "rec.onnx").read_bytes() == rec_onnx.read_bytes()
    assert verify("mine", home).ok


@pytest.mark.parametrize("name", ["pp-ocrv4", "pp-ocrv6-small"])
def test_builtin_names_are_refused(home: Path, rec_onnx: Path, name: str) -> None:
    with pytest.raises(ModelExistsError, match="built-in"):
        register_bundle(name, rec=rec_onnx, home=home, force=True)


def test_dictionary_must_fit_the_rec(home: Path, rec_onnx: Path, tmp_path: Path, leftovers: Leftovers) -> None:
    wrong = tmp_path / "wrong_dict.txt"
    wrong.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(ModelError, match="7 output classes but the dictionary has 2 entries"):
        register_bundle("mine", rec=rec_onnx, dictionary=wrong, home=home)
    assert not (home / "models" / "mine").exists()
    assert leftovers(home) == []


def test_rec_without_any_dictionary_is_refused(home: Path, onnx_file: OnnxFile, leftovers: Leftovers) -> None:
    rec = onnx_file("bare_rec.onnx", ("n", "t", 9), ("n", "t", 9))
    with pytest.raises(ConfigError, match="dictionary"):
        register_bundle("mine", rec=rec, home=home)
    assert leftovers(home) == []


def test_explicit_dictionary_without_space_class(home: Path, onnx_file: OnnxFile, tmp_path: Path) -> None:
    # PaddleOCR recognisers trained without the space character have len(dict) + 1 classes
    rec = onnx_file("nospace.onnx", ("n", "t", 4), ("n", "t", 4))
    d = tmp_path / "d.txt"
    d.write_text("a\r\nb\r\nc\r\n", encoding="utf-8")
    bundle = register_bundle("nospace", rec=rec, dictionary=d, home=home)
    assert bundle.dictionary is not None and read_dictionary(bundle.dictionary) == ("a", "b", "c")
    assert bundle.dictionary.read_bytes() == b"a\nb\nc\n"  # stored canonical: LF


def test_not_an_onnx_file_leaves_nothing(home: Path, tmp_path: Path, rec_onnx: Path, leftovers: Leftovers) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a model")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        register_bundle("mine", det=junk, rec=rec_onnx, home=home)
    assert not (home / "models" / "mine").exists()
    assert leftovers(home) == []


def test_failed_force_keeps_the_old_bundle(home: Path, rec_onnx: Path, tmp_path: Path, leftovers: Leftovers) -> None:
    register_bundle("mine", rec=rec_onnx, home=home)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    with pytest.raises(ModelError):
        register_bundle("mine", rec=junk, home=home, force=True)
    assert verify("mine", home).ok
    assert leftovers(home) == []


@pytest.mark.parametrize("bad", ["../up", "a/b", ".hidden"])
def test_invalid_name_is_a_config_error(home: Path, rec_onnx: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="invalid bundle name"):
        register_bundle(bad, rec=rec_onnx, home=home)
    assert (
        not any(p.name not in (".locks",) for p in (home / "models").iterdir()) if (home / "models").exists() else True
    )


def test_missing_input_file(home: Path, tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="det"):
        register_bundle("mine", det=tmp_path / "nope.onnx", home=home)


def test_nothing_given(home: Path) -> None:
    with pytest.raises(ConfigError, match="at least one"):
        register_bundle("mine", home=home)


def test_base_must_be_pulled(home: Path, rec_onnx: Path) -> None:
    with pytest.raises(ModelNotPulledError, match="luodi models pull pp-ocrv5"):
        register_bundle("mine", rec=rec_onnx, base="pp-ocrv5", home=home)
    assert not (home / "models" / "mine").exists()


def test_stage_options_override_the_spec(home: Path, rec_onnx: Path) -> None:
    bundle = register_bundle(
        "wide", rec=rec_onnx, home=home, stage_options={"rec": {"image_shape": (3, 48, 480), "extra": {"k": 1}}}
    )
    assert bundle.rec is not None and bundle.rec.image_shape == (3, 48, 480) and bundle.rec.extra["k"] == 1
    with pytest.raises(ConfigError, match="unknown keys"):
        register_bundle("bad", rec=rec_onnx, home=home, stage_options={"rec": {"height": 32}})


def test_paddle_variant(home: Path, tmp_path: Path, rec_onnx: Path) -> None:
    prog = tmp_path / "export"
    prog.mkdir()
    (prog / "inference.pdmodel").write_bytes(b"program")
    (prog / "inference.pdiparams").write_bytes(b"params")
    bundle = register_bundle("pd", rec=rec_onnx, rec_paddle=prog, home=home)
    root = home / "models" / "pd"
    assert bundle.rec is not None and bundle.rec.paddle_model == root / "paddle" / "rec" / "inference"
    assert (root / "paddle" / "rec" / "inference.pdiparams").read_bytes() == b"params"
    assert {"rec.pdmodel", "rec.pdiparams"} <= {f.role for f in bundle.files}


def test_tampered_user_bundle_fails_verify(home: Path, rec_onnx: Path) -> None:
    register_bundle("mine", rec=rec_onnx, home=home)
    dict_path = home / "models" / "mine" / "dict.txt"
    dict_path.write_bytes(dict_path.read_bytes().replace("一".encode(), "乙".encode()))
    report = verify("mine", home)
    assert not report.ok and "dict" in report.problems[0]


def test_unregister(home: Path, rec_onnx: Path) -> None:
    register_bundle("mine", rec=rec_onnx, home=home)
    unregister_bundle("mine", home)
    assert not (home / "models" / "mine").exists()
    with pytest.raises(UnknownModelError):
        get_bundle("mine", home)
    with pytest.raises(UnknownModelError):
        unregister_bundle("mine", home)
    with pytest.raises(ModelError, match="built-in"):
        unregister_bundle("pp-ocrv4", home)


def test_manifest_round_trip(home: Path, rec_onnx: Path, onnx_file: OnnxFile) -> None:
    register_bundle("mine", rec=rec_onnx, det=onnx_file("d.onnx"), home=home, description="round trip")
    root = home / "models" / "mine"
    data = read_manifest(root)
    assert all(not Path(f["path"]).is_absolute() for f in data["files"]), "manifest paths are relative"
    bundle = bundle_from_manifest(data, root)
    again = bundle_from_manifest(json.loads(json.dumps(bundle_to_manifest(bundle, root, kind="user"))), root)
    assert again == bundle
    # the store can move: paths resolve against the folder the manifest is in
    moved = home / "elsewhere"
    root.rename(moved)
    relocated = bundle_from_manifest(read_manifest(moved), moved)
    assert relocated.rec is not None and relocated.rec.model == moved / "rec.onnx"


def test_manifest_cannot_escape_its_folder(home: Path, rec_onnx: Path) -> None:
    register_bundle("mine", rec=rec_onnx, home=home)
    root = home / "models" / "mine"
    data = read_manifest(root)
    data["files"][0]["path"] = "../../outside.onnx"
    (root / "bundle.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="outside the bundle folder"):
        get_bundle("mine", home)


def test_broken_manifest_is_reported_not_fatal(home: Path, rec_onnx: Path) -> None:
    register_bundle("good", rec=rec_onnx, home=home)
    bad = home / "models" / "bad"
    bad.mkdir()
    (bad / "bundle.json").write_text("{not json", encoding="utf-8")
    rows = {r.name: r for r in list_bundles(home)}
    assert rows["good"].pulled and not rows["bad"].pulled and "broken" in rows["bad"].description
    with pytest.raises(ModelError, match="not valid JSON"):
        get_bundle("bad", home)


def test_unwritable_store_on_register(tmp_path: Path, rec_onnx: Path) -> None:
    blocked = tmp_path / "home"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot register mine"):
        register_bundle("mine", rec=rec_onnx, home=blocked)
