"""User bundles: fine-tuned or quantized models registered under a name of their own.

A user bundle is a folder ``$LUODI_HOME/models/<name>/`` holding its files and a ``bundle.json``
manifest with their sha256s. Stages not given are borrowed from ``base``: their files are
hard-linked (copied where links fail), so a user bundle never depends on another bundle staying
put, and costs no extra disk for what it borrows. Registration is built in a staging folder and
renamed into place: a failure leaves nothing half-registered, and ``force`` swaps atomically.

A stage may also come as an OpenVINO IR (``<stage>.xml`` + ``<stage>.bin``, e.g. an INT8 model from
``luodi quantize``), alone or beside its ONNX; a bundle with an IR-only stage is meant for the
openvino runtime (``Bundle.runtime``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from luodi.errors import ConfigError, InputNotFoundError, ModelError, ModelExistsError, UnknownModelError
from luodi.zoo.files import (
    DIR_MODE,
    OnnxFacts,
    OpenVinoFacts,
    atomic_copy,
    atomic_write_bytes,
    check_dictionary_fits,
    dictionary_bytes,
    file_lock,
    link_or_copy,
    openvino_weights,
    read_dictionary,
    sha256_file,
    store_errors,
    swap_dir,
)
from luodi.zoo.registry import BUILTINS, DET_MEAN, DET_STD, HALF
from luodi.zoo.spec import Bundle, ModelFile, StageSpec
from luodi.zoo.store import (
    MANIFEST,
    bundle_dir,
    bundle_to_manifest,
    check_name,
    get_bundle,
    known_names,
    lock_path,
    models_dir,
    resolve_home,
    write_manifest,
)

log = logging.getLogger(__name__)

STAGES = ("det", "cls", "rec")
PathLike = str | Path

# Defaults for a stage given without a base that has it: PaddleOCR's conventions.
_DEFAULT_STAGES = {
    "det": StageSpec(model=None, mean=DET_MEAN, std=DET_STD),
    "cls": StageSpec(model=None, mean=HALF, std=HALF, image_shape=(3, 48, 192), extra={"labels": ["0", "180"]}),
    "rec": StageSpec(model=None, mean=HALF, std=HALF, image_shape=(3, 48, 320), extra={"ctc_blank": 0}),
}
_STAGE_OPTION_KEYS = {"mean", "std", "scale", "image_shape", "extra"}
RUNTIMES = ("onnxruntime", "paddle", "openvino")  # luodi.runtime.Backend's values


@dataclass
class _Staging:
    """Where a registration is being built and what went into it."""

    staging: Path  # the temporary folder files are written to
    root: Path  # the folder they will live in once registered (paths in the Bundle point here)
    base: Bundle | None
    base_root: Path
    # relative path -> (role, source, licence)
    entries: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def register_bundle(  # noqa: PLR0912, PLR0913 - one keyword per `luodi models register` option
    name: str,
    *,
    det: PathLike | None = None,
    cls: PathLike | None = None,
    rec: PathLike | None = None,
    dictionary: PathLike | None = None,
    base: str | None = None,
    force: bool = False,
    home: PathLike | None = None,
    description: str = "",
    det_paddle: PathLike | None = None,
    cls_paddle: PathLike | None = None,
    rec_paddle: PathLike | None = None,
    version: str | None = None,
    licence: str | None = None,
    source: str = "",
    stage_options: Mapping[str, Mapping[str, Any]] | None = None,
    det_openvino: PathLike | None = None,
    cls_openvino: PathLike | None = None,
    rec_openvino: PathLike | None = None,
    runtime: str | None = None,
) -> Bundle:
    """Register a bundle from local files; returns it as :func:`get_bundle` would.

    ``det``/``cls``/``rec`` are ONNX files; ``*_paddle`` are Paddle inference programs (the prefix
    ``dir/inference`` or the folder holding ``inference.pdmodel`` or ``inference.json`` and
    ``inference.pdiparams``); ``*_openvino`` are OpenVINO IR ``.xml`` files, each with its ``.bin``
    beside it (stored as ``<stage>.xml`` + ``<stage>.bin``). A stage may be given in any of these
    formats, or several. The dictionary is, in order: ``dictionary``, the ``character`` metadata of
    a given rec ONNX, the base's dictionary (an IR carries none); it must fit the rec's class count.
    ``stage_options`` overrides input specs, e.g. ``{"rec": {"image_shape": (3, 48, 480)}}``.
    ``runtime`` records the runtime the bundle is meant for (onnxruntime, paddle, openvino); every
    stage must have a file that runtime can load. Left out, it is "openvino" when some stage exists
    only as an OpenVINO IR (no other runtime can run that stage), else None (the caller's choice).
    """
    check_name(name, ConfigError)
    if name in BUILTINS:
        raise ModelExistsError(f"{name!r} is a built-in model name; choose another name")
    given_onnx = {"det": det, "cls": cls, "rec": rec}
    given_paddle = {"det": det_paddle, "cls": cls_paddle, "rec": rec_paddle}
    given_openvino = {"det": det_openvino, "cls": cls_openvino, "rec": rec_openvino}
    options = dict(stage_options or {})
    for stage, opts in options.items():
        if stage not in STAGES:
            raise ConfigError(f"stage_options: unknown stage {stage!r} (use det, cls, rec)")
        unknown = set(opts) - _STAGE_OPTION_KEYS
        if unknown:
            raise ConfigError(f"stage_options[{stage!r}]: unknown keys {sorted(unknown)}")
    if base is None and not any([*given_onnx.values(), *given_paddle.values(), *given_openvino.values()]):
        raise ConfigError(
            "give at least one of det, cls, rec (ONNX, Paddle or OpenVINO IR) or a base bundle to borrow from"
        )
    for label, value in [*given_onnx.items(), *((f"{k}_paddle", v) for k, v in given_paddle.items())]:
        if value is not None and not _paddle_exists(Path(value)) and not Path(value).is_file():
            raise InputNotFoundError(f"{label}: {value} does not exist or is not a file")
    for stage, value in given_openvino.items():
        # checked before the store is touched; whether OpenVINO can read the pair is checked later
        if value is not None:
            xml = Path(value)
            if not xml.is_file():
                raise InputNotFoundError(f"{stage}_openvino: {value} does not exist or is not a file")
            if not openvino_weights(xml).is_file():
                raise InputNotFoundError(
                    f"{stage}_openvino: {openvino_weights(xml)} is missing; an OpenVINO IR needs its weights "
                    f"(.bin) next to {xml.name}"
                )
    if runtime is not None:
        runtime = runtime.strip().lower()
        if runtime not in RUNTIMES:
            raise ConfigError(f"unknown runtime {runtime!r}; choose one of: {', '.join(RUNTIMES)}")
    if dictionary is not None and not Path(dictionary).is_file():
        raise InputNotFoundError(f"dictionary: {dictionary} does not exist or is not a file")

    home_path = resolve_home(home)
    root = bundle_dir(home_path, name)
    with store_errors(f"cannot register {name} in {models_dir(home_path)}"):
        request = _Request(
            given_onnx=given_onnx,
            given_paddle=given_paddle,
            given_openvino=given_openvino,
            dictionary=dictionary,
            options=options,
            description=description,
            version=version,
            licence=licence,
            source=source,
            runtime=runtime,
        )
        return _register(name, home_path, root, force=force, base=base, request=request)


@dataclass(frozen=True)
class _Request:
    """What register_bundle was asked to store, checked: handed from it to _register to _build."""

    given_onnx: dict[str, PathLike | None]
    given_paddle: dict[str, PathLike | None]
    given_openvino: dict[str, PathLike | None]
    dictionary: PathLike | None
    options: dict[str, Mapping[str, Any]]
    description: str
    version: str | None
    licence: str | None
    source: str
    runtime: str | None


def _register(name: str, home_path: Path, root: Path, *, force: bool, base: str | None, request: _Request) -> Bundle:
    models_dir(home_path).mkdir(parents=True, exist_ok=True)
    with file_lock(lock_path(home_path, name)):
        if (root / MANIFEST).is_file() and not force:
            raise ModelExistsError(f"model {name!r} already exists; pass force=True (--force) to replace it")
        base_bundle = get_bundle(base, home_path) if base is not None else None
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=models_dir(home_path)))
        staging.chmod(DIR_MODE)
        try:
            ctx = _Staging(staging, root, base_bundle, bundle_dir(home_path, base) if base is not None else root)
            bundle = _build(name, ctx, request)
            write_manifest(staging, bundle_to_manifest(bundle, root, kind="user"))
            swap_dir(staging, root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    log.info("registered model %s at %s", name, root)
    return get_bundle(name, home_path)


def _build(name: str, ctx: _Staging, request: _Request) -> Bundle:  # noqa: PLR0915 - assembles a bundle from each optional part in turn
    given_onnx, given_paddle, given_openvino = request.given_onnx, request.given_paddle, request.given_openvino
    dictionary, options, licence, runtime = request.dictionary, request.options, request.licence, request.runtime
    version, source, description = request.version, request.source, request.description
    staging, root, base = ctx.staging, ctx.root, ctx.base
    file_licence = licence if licence is not None else ""
    stages: dict[str, StageSpec | None] = {}
    rec_character: tuple[str, ...] | None = None
    rec_classes: int | None = None
    rec_given = False
    for stage in STAGES:
        onnx_src, paddle_src, ov_src = given_onnx[stage], given_paddle[stage], given_openvino[stage]
        base_stage: StageSpec | None = getattr(base, stage) if base is not None else None
        if onnx_src is None and paddle_src is None and ov_src is None:
            if base_stage is None or base is None:
                stages[stage] = None
                continue
            borrowed = _borrow_stage(ctx, stage, base_stage)
            stages[stage] = _apply_options(borrowed, options.get(stage))
            continue
        template = base_stage or _DEFAULT_STAGES[stage]
        model_path: Path | None = None
        paddle_prefix: Path | None = None
        openvino_xml: Path | None = None
        extra = dict(template.extra)
        onnx_classes: int | None = None
        ir_classes: int | None = None
        if onnx_src is not None:
            src = Path(onnx_src)
            facts = OnnxFacts(src)  # refuses a file that is not a loadable ONNX model
            rel = f"{stage}.onnx"
            atomic_copy(src, staging / rel)
            ctx.entries[rel] = (stage, f"user file {src.resolve()}", file_licence)
            model_path = root / rel
            onnx_classes = facts.num_classes
            if stage == "rec":
                rec_character = facts.character
        if paddle_src is not None:
            paddle_prefix = root / _copy_paddle(ctx, stage, Path(paddle_src), file_licence)
        if ov_src is not None:
            ov_facts = OpenVinoFacts(Path(ov_src), f"{stage}_openvino")  # refuses what OpenVINO cannot read
            openvino_xml = root / _copy_openvino(ctx, stage, ov_facts, file_licence)
            ir_classes = ov_facts.num_classes
        if stage == "rec":
            rec_given = True
            if onnx_classes is not None and ir_classes is not None and onnx_classes != ir_classes:
                raise ModelError(
                    f"rec: the ONNX model has {onnx_classes} output classes but the OpenVINO IR has {ir_classes}; "
                    "they must be the same recogniser"
                )
            rec_classes = onnx_classes if onnx_classes is not None else ir_classes
            # the base's class count describes the base's recogniser, not this one
            extra.pop("num_classes", None)
            if rec_classes is not None:
                extra["num_classes"] = rec_classes
        spec = StageSpec(
            model=model_path,
            paddle_model=paddle_prefix,
            openvino_model=openvino_xml,
            mean=template.mean,
            std=template.std,
            scale=template.scale,
            image_shape=template.image_shape,
            extra=extra,
        )
        stages[stage] = _apply_options(spec, options.get(stage))
    dict_path = _dictionary(
        ctx,
        stages["rec"],
        rec_given=rec_given,
        character=rec_character,
        num_classes=rec_classes,
        dictionary=dictionary,
        rec_is_ir=given_openvino["rec"] is not None and given_onnx["rec"] is None,
    )
    if stages["rec"] is None and stages["det"] is None and stages["cls"] is None:
        raise ConfigError(f"bundle {name!r} would have no stage at all")
    runtime = _check_runtime(stages, runtime)
    task = "ocr" if stages["det"] and stages["rec"] else "rec" if stages["rec"] else "det" if stages["det"] else "cls"
    files = tuple(
        ModelFile(
            role=role,
            path=root / rel,
            sha256=sha256_file(staging / rel),
            bytes=(staging / rel).stat().st_size,
            source=src,
            licence=lic,
        )
        for rel, (role, src, lic) in sorted(ctx.entries.items())
    )
    return Bundle(
        name=name,
        task=task,
        version=version if version is not None else (base.version if base is not None else "user"),
        det=stages["det"],
        cls=stages["cls"],
        rec=stages["rec"],
        dictionary=dict_path,
        files=files,
        licence=licence if licence is not None else (base.licence if base is not None else ""),
        source=source or (f"registered from local files, base {base.name}" if base else "registered from local files"),
        description=description,
        base=base.name if base is not None else None,
        runtime=runtime,
    )


def _stage_file(spec: StageSpec, runtime: str) -> Path | None:
    """The file ``runtime`` loads for a stage (see luodi.runtime.factory.create_session)."""
    if runtime == "paddle":
        return spec.paddle_model
    if runtime == "openvino":
        return spec.openvino_model or spec.model
    return spec.model


def _check_runtime(stages: Mapping[str, StageSpec | None], runtime: str | None) -> str | None:
    present = {name: spec for name, spec in stages.items() if spec is not None}
    if runtime is None:
        # a stage that is only an IR runs nowhere but on openvino, so the bundle is meant for it
        ir_only = [s for s, spec in present.items() if spec.openvino_model and not spec.model and not spec.paddle_model]
        return "openvino" if ir_only else None
    for stage, spec in present.items():
        if _stage_file(spec, runtime) is None:
            formats = (("ONNX", spec.model), ("Paddle", spec.paddle_model), ("OpenVINO IR", spec.openvino_model))
            have = [fmt for fmt, path in formats if path is not None]
            raise ConfigError(
                f"runtime {runtime!r}: stage {stage} has no file that runtime can load (it has: {', '.join(have)})"
            )
    return runtime


def _apply_options(spec: StageSpec | None, opts: Mapping[str, Any] | None) -> StageSpec | None:
    if spec is None or not opts:
        return spec
    changes: dict[str, Any] = {}
    for key in ("mean", "std"):
        if key in opts:
            values = tuple(float(v) for v in opts[key])
            if len(values) != 3:
                raise ConfigError(f"{key} needs 3 numbers, got {len(values)}")
            changes[key] = values
    if "scale" in opts:
        changes["scale"] = float(opts["scale"])
    if "image_shape" in opts:
        shape = tuple(int(v) for v in opts["image_shape"])
        if len(shape) != 3 or min(shape) <= 0:
            raise ConfigError(f"image_shape needs 3 positive integers (C, H, W), got {opts['image_shape']!r}")
        changes["image_shape"] = shape
    if "extra" in opts:
        changes["extra"] = {**spec.extra, **dict(opts["extra"])}
    return replace(spec, **changes)


def _borrow_stage(ctx: _Staging, stage: str, spec: StageSpec) -> StageSpec:
    assert ctx.base is not None
    for f in ctx.base.files:
        if f.role == stage or f.role.startswith(f"{stage}."):
            rel = f.path.relative_to(ctx.base_root).as_posix()
            link_or_copy(f.path, ctx.staging / rel)
            ctx.entries[rel] = (f.role, f.source or f"{ctx.base.name}:{rel}", f.licence)
    return StageSpec(
        model=ctx.root / spec.model.relative_to(ctx.base_root) if spec.model is not None else None,
        paddle_model=(
            ctx.root / spec.paddle_model.relative_to(ctx.base_root) if spec.paddle_model is not None else None
        ),
        openvino_model=(
            ctx.root / spec.openvino_model.relative_to(ctx.base_root) if spec.openvino_model is not None else None
        ),
        mean=spec.mean,
        std=spec.std,
        scale=spec.scale,
        image_shape=spec.image_shape,
        extra=dict(spec.extra),
    )


def _dictionary(
    ctx: _Staging,
    rec: StageSpec | None,
    *,
    rec_given: bool,
    character: tuple[str, ...] | None,
    num_classes: int | None,
    dictionary: PathLike | None,
    rec_is_ir: bool,
) -> Path | None:
    """Store the dictionary (see register_bundle for the order); ``character`` is a given rec
    ONNX's metadata, ``num_classes`` a given rec's class count (None: unknown or not given)."""
    staging, root, base = ctx.staging, ctx.root, ctx.base
    if rec is None:
        if dictionary is not None:
            raise ConfigError("a dictionary only makes sense with a rec stage")
        return None
    rel = "dict.txt"
    if dictionary is not None:
        src = Path(dictionary)
        entries = read_dictionary(src)
        atomic_write_bytes(staging / rel, dictionary_bytes(entries))
        ctx.entries[rel] = ("dict", f"user file {src.resolve()}", "")
    elif rec_given and character is not None:
        entries = character
        atomic_write_bytes(staging / rel, dictionary_bytes(entries))
        ctx.entries[rel] = ("dict", "rec ONNX metadata 'character'", "")
    elif base is not None and base.dictionary is not None:
        entries = read_dictionary(base.dictionary)
        link_or_copy(base.dictionary, staging / rel)
        source = next((f.source for f in base.files if f.path == base.dictionary), "")
        ctx.entries[rel] = ("dict", source or f"{base.name}:dict", "")
    elif rec_is_ir:
        raise ConfigError(
            "the rec stage needs a character dictionary, and an OpenVINO IR carries none: pass dictionary=... "
            "(--dict) or a base bundle that has one"
        )
    else:
        raise ConfigError("the rec stage needs a character dictionary: pass dictionary=... (--dict)")
    if not entries:
        raise ModelError("the character dictionary is empty")
    if not rec_given:  # borrowed rec: the class count recorded when the base was made
        known = rec.extra.get("num_classes")
        num_classes = known if isinstance(known, int) else None
    check_dictionary_fits(entries, num_classes, "rec")
    return root / rel


def _paddle_files(src: Path) -> tuple[Path, Path] | None:
    """(program, params) of a Paddle inference model given as a prefix or a folder."""
    prefix = src / "inference" if src.is_dir() else src
    params = prefix.with_name(prefix.name + ".pdiparams")
    for ext in (".pdmodel", ".json"):
        program = prefix.with_name(prefix.name + ext)
        if program.is_file() and params.is_file():
            return program, params
    return None


def _paddle_exists(src: Path) -> bool:
    return _paddle_files(src) is not None


def _copy_paddle(ctx: _Staging, stage: str, src: Path, licence: str) -> str:
    found = _paddle_files(src)
    if found is None:
        raise InputNotFoundError(
            f"{stage}_paddle: {src} is not a Paddle inference model (need inference.pdmodel or inference.json "
            "next to inference.pdiparams)"
        )
    prefix_rel = f"paddle/{stage}/inference"
    for path in found:
        ext = path.suffix  # ".pdmodel", ".json", ".pdiparams"
        rel = prefix_rel + ext
        atomic_copy(path, ctx.staging / rel)
        ctx.entries[rel] = (f"{stage}{ext}", f"user file {path.resolve()}", licence)
    return prefix_rel


def _copy_openvino(ctx: _Staging, stage: str, facts: OpenVinoFacts, licence: str) -> str:
    """Copy an IR pair in as ``<stage>.xml`` + ``<stage>.bin`` (same stem: OpenVINO finds the
    weights by replacing the .xml suffix); returns the .xml's relative path."""
    for path, ext in ((facts.xml, ".xml"), (facts.weights, ".bin")):
        rel = f"{stage}{ext}"
        atomic_copy(path, ctx.staging / rel)
        ctx.entries[rel] = (f"{stage}{ext}", f"user file {path.resolve()}", licence)
    return f"{stage}.xml"


def unregister_bundle(name: str, home: PathLike | None = None) -> Path:
    """Delete a user bundle and its files; returns the folder removed."""
    check_name(name)
    home_path = resolve_home(home)
    if name in BUILTINS:
        raise ModelError(
            f"{name!r} is a built-in model; it cannot be unregistered (`luodi models remove` deletes its files)"
        )
    root = bundle_dir(home_path, name)
    with store_errors(f"cannot remove {root}"), file_lock(lock_path(home_path, name)):
        if not (root / MANIFEST).is_file():
            raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(known_names(home_path))}")
        trash = root.with_name(f".trash-{name}-{uuid.uuid4().hex[:8]}")
        root.rename(trash)  # the name disappears at once, even if deleting the files takes a while
        shutil.rmtree(trash, ignore_errors=True)
    return root
