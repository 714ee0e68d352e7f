"""Small file helpers for the model store: hashing, atomic writes, locks, dictionaries, ONNX facts.

Everything that lands in the store is written to a temporary name in the same folder and renamed
into place, so a crash or a full disk never leaves a half-written file under a real name.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from luodi.errors import InputNotFoundError, ModelError

_CHUNK = 1 << 20
# mkstemp/mkdtemp create owner-only entries; model files are meant to be readable by every user of
# a shared store (a service account, a container user), like any installed data
FILE_MODE = 0o644
DIR_MODE = 0o755


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_writer(target: Path) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``target``; rename it over ``target`` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_writer(target) as fh:
        fh.write(data)


def atomic_copy(src: Path, target: Path) -> None:
    with src.open("rb") as fin, atomic_writer(target) as fout:
        shutil.copyfileobj(fin, fout, _CHUNK)


def link_or_copy(src: Path, target: Path) -> None:
    """Hard-link ``src`` to ``target`` (no extra space; survives a later re-pull of ``src``, which
    replaces the name, not the inode), or copy it where links are not possible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, target)
    except OSError:
        atomic_copy(src, target)


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Turn an operating-system failure (read-only or full disk, a file where a folder should be)
    into one clear ``ModelError`` instead of a traceback."""
    try:
        yield
    except OSError as exc:
        detail = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        raise ModelError(f"{what}: {detail}{where}") from exc


def swap_dir(staging: Path, root: Path) -> None:
    """Put a fully built folder in place of ``root`` (two renames: readers see the old or the new)."""
    if not root.exists():
        staging.rename(root)
        return
    old = root.with_name(f".old-{root.name}-{uuid.uuid4().hex[:8]}")
    root.rename(old)
    try:
        staging.rename(root)
    except BaseException:
        old.rename(root)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so two ``luodi models pull`` processes do not race on one bundle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_dictionary(path: Path) -> tuple[str, ...]:
    """A CTC character dictionary: one entry per line, UTF-8, LF or CRLF endings.

    Entries are not stripped of spaces: a space (or U+3000) can be a character of its own.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read dictionary {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ModelError(f"dictionary {path} is not UTF-8 text") from exc
    return split_dictionary(text)


def split_dictionary(text: str) -> tuple[str, ...]:
    # split on "\n" only: str.splitlines would also break on U+2028, U+0085, ... which are
    # legitimate (if odd) dictionary entries
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(line.removesuffix("\r") for line in lines)


def dictionary_bytes(entries: tuple[str, ...] | list[str]) -> bytes:
    """The canonical on-disk form: UTF-8, LF, trailing newline."""
    return ("\n".join(entries) + "\n").encode("utf-8")


def _onnx_session(path: Path) -> Any:
    import onnxruntime as ort  # heavy import, only when a model is inspected

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped exceptions
        raise ModelError(f"{path} is not a loadable ONNX model: {exc}") from exc


class OnnxFacts:
    """What the store needs to know about an ONNX file: metadata and input/output shapes."""

    def __init__(self, path: Path) -> None:
        session = _onnx_session(path)
        self.metadata: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)
        self.input_shape: list[Any] = list(session.get_inputs()[0].shape)
        self.output_shape: list[Any] = list(session.get_outputs()[0].shape)

    @property
    def num_classes(self) -> int | None:
        """The recogniser's class count (last output dim) when the model fixes it."""
        last = self.output_shape[-1] if self.output_shape else None
        return last if isinstance(last, int) else None

    @property
    def character(self) -> tuple[str, ...] | None:
        text = self.metadata.get("character")
        return None if text is None else split_dictionary(text)


def openvino_weights(xml: Path) -> Path:
    """The ``.bin`` an OpenVINO IR ``.xml`` reads its weights from: same folder, same stem."""
    return xml.with_suffix(".bin")


class OpenVinoFacts:
    """What the store needs to know about an OpenVINO IR (``.xml`` + ``.bin``).

    Refuses a missing ``.xml`` or ``.bin`` (``InputNotFoundError``) and a file that is not an IR
    (``ModelError``). With openvino installed (an optional dependency) the model is also read, so a
    damaged or too-new IR is refused at registration rather than when a page is first processed.
    """

    def __init__(self, xml: Path, label: str = "model") -> None:
        if not xml.is_file():
            raise InputNotFoundError(f"{label}: {xml} does not exist or is not a file")
        if xml.suffix.lower() != ".xml":
            raise ModelError(f"{label}: {xml} is not an OpenVINO IR (expected the .xml of an .xml + .bin pair)")
        weights = openvino_weights(xml)
        if not weights.is_file():
            raise InputNotFoundError(
                f"{label}: {weights} is missing; an OpenVINO IR needs its weights file next to {xml.name}"
            )
        self.xml, self.weights = xml, weights
        _check_ir_root(xml, label)
        # None when openvino is not installed; [] for a dynamic rank
        self.output_shape: list[int | None] | None = _openvino_output_shape(xml, label)

    @property
    def num_classes(self) -> int | None:
        """The recogniser's class count (last output dim) when the model fixes it (needs openvino)."""
        shape = self.output_shape
        last = shape[-1] if shape else None
        return last if isinstance(last, int) else None


def _check_ir_root(xml: Path, label: str) -> None:
    # only the first element is parsed: an IR is an XML document whose root element is <net>.
    # Checked before openvino sees the file, which otherwise tries every frontend (TensorFlow's
    # prints parse errors to stderr) before saying it cannot read it
    try:
        for _event, elem in ET.iterparse(xml, events=("start",)):
            if elem.tag != "net":
                raise ModelError(f"{label}: {xml} is not an OpenVINO IR (root element <{elem.tag}>, expected <net>)")
            return
    except ET.ParseError as exc:
        raise ModelError(f"{label}: {xml} is not an OpenVINO IR (not XML: {exc})") from exc
    except OSError as exc:
        raise ModelError(f"{label}: cannot read {xml}: {exc.strerror}") from exc


def _openvino_output_shape(xml: Path, label: str) -> list[int | None] | None:
    """The first output's shape (None for a dynamic dim); None when openvino is not installed."""
    try:
        import openvino as ov  # optional and heavy: only when an IR is registered
    except ImportError:
        return None
    try:
        model = ov.Core().read_model(str(xml))
    except Exception as exc:  # openvino raises plain RuntimeError with its own message
        raise ModelError(f"{label}: OpenVINO cannot read {xml}: {exc}") from exc
    if not model.outputs:
        raise ModelError(f"{label}: {xml} has no outputs")
    shape = model.outputs[0].get_partial_shape()
    if shape.rank.is_dynamic:
        return []
    return [dim.get_length() if dim.is_static else None for dim in shape]


def check_dictionary_fits(dictionary: tuple[str, ...], num_classes: int | None, where: str) -> None:
    """PaddleOCR CTC heads have ``len(dict) + 2`` classes (blank first, space last) or ``+ 1``
    when trained without the space character. Anything else decodes to garbage, so refuse it."""
    if num_classes is None:
        return
    if num_classes not in (len(dictionary) + 2, len(dictionary) + 1):
        raise ModelError(
            f"{where}: the recogniser has {num_classes} output classes but the dictionary has "
            f"{len(dictionary)} entries (expected {num_classes - 2} with the space character, "
            f"or {num_classes - 1} without)"
        )
