"""Read PyTorch ``.pth`` checkpoints into numpy arrays without importing torch.

A ``.pth`` is a pickle whose tensors point at raw storages by "persistent id". Two layouts exist:

- legacy (torch < 1.6): five pickles in a row — a magic number, the protocol version, system info,
  the object, the list of storage keys — followed by each storage as an int64 element count and
  its little-endian bytes;
- zip (torch >= 1.6): ``<root>/data.pkl`` holds the object, ``<root>/data/<key>`` each storage.

The unpickler resolves only the handful of globals a state dict needs (tensor rebuild functions,
storage types, ``OrderedDict``); anything else in the pickle is refused, so reading a checkpoint
never runs code from it.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from luodi.errors import ModelError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _StorageRef:
    """A storage named by the pickle, filled in once its bytes are read."""

    def __init__(self, dtype: np.dtype[Any], key: str, numel: int | None) -> None:
        self.dtype = dtype
        self.key = key
        self.numel = numel
        self.data: np.ndarray | None = None


class _LazyTensor:
    """A tensor whose storage may not have been read yet (legacy files store the bytes after the object)."""

    def __init__(self, storage: _StorageRef, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage = storage
        self.offset = offset
        self.size = size
        self.stride = stride

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise ModelError(f"tensor storage {self.storage.key!r} was never read")
        if not self.size:
            return np.array(data[self.offset])
        itemsize = data.dtype.itemsize
        needed = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride, strict=True)) + 1
        if any(n == 0 for n in self.size):
            return np.zeros(self.size, dtype=data.dtype)
        if needed > data.size:
            raise ModelError(f"tensor of shape {self.size} reaches past its storage {self.storage.key!r}")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=tuple(s * itemsize for s in self.stride)
        )
        return np.array(view)  # a contiguous copy: the checkpoint's buffer can be freed


def _rebuild_tensor(storage: _StorageRef, offset: int, size: Any, stride: Any, *_rest: Any) -> _LazyTensor:
    return _LazyTensor(storage, int(offset), tuple(int(n) for n in size), tuple(int(s) for s in stride))


def _rebuild_parameter(data: Any, *_rest: Any) -> Any:
    return data


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch.nn.parameter", "Parameter"): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, refs: dict[str, _StorageRef], zip_layout: bool) -> None:
        super().__init__(file)
        self.refs = refs
        self.zip_layout = zip_layout

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        found = _ALLOWED.get((module, name))
        if found is None:
            raise ModelError(f"the checkpoint needs {module}.{name}, which a plain tensor file never does; refused")
        return found

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise ModelError(f"unsupported persistent id in checkpoint: {pid!r}")
        storage_type, key = pid[1], str(pid[2])
        if not isinstance(storage_type, _StorageType):
            raise ModelError(f"unsupported storage type in checkpoint: {storage_type!r}")
        # zip: (tag, type, key, location, numel); legacy: (tag, type, key, location, numel, view_metadata)
        numel = int(pid[4]) if len(pid) > 4 else None
        if self.zip_layout and len(pid) > 5 and pid[5] is not None:
            raise ModelError("storage views in zip checkpoints are not supported")
        ref = self.refs.get(key)
        if ref is None:
            ref = _StorageRef(storage_type.dtype, key, numel)
            self.refs[key] = ref
        return ref


def load_pth(path: str | Path) -> dict[str, np.ndarray]:
    """The state dict of a ``.pth`` file as ``{name: float array}``, torch not needed.

    Raises ``ModelError`` when the file is not a readable tensor checkpoint.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read {p}: {exc.strerror}") from exc
    try:
        obj = _load_zip(raw) if zipfile.is_zipfile(io.BytesIO(raw)) else _load_legacy(raw)
    except ModelError as exc:
        raise ModelError(f"{p}: {exc.message}") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, struct.error, KeyError, IndexError, TypeError) as exc:
        raise ModelError(f"{p} is not a readable PyTorch checkpoint: {exc}") from exc
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ModelError(f"{p} holds a {type(obj).__name__}, not a state dict")
    out: dict[str, np.ndarray] = {}
    for name, value in obj.items():
        if isinstance(value, _LazyTensor):
            out[str(name)] = value.materialise()
    if not out:
        raise ModelError(f"{p} holds no tensors")
    return out


def _load_zip(raw: bytes) -> Any:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = archive.namelist()
        pkl = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pkl is None:
            raise ModelError("zip checkpoint without data.pkl")
        root = pkl[: -len("data.pkl")]
        refs: dict[str, _StorageRef] = {}
        obj = _Unpickler(io.BytesIO(archive.read(pkl)), refs, zip_layout=True).load()
        for key, ref in refs.items():
            buf = archive.read(f"{root}data/{key}")
            ref.data = np.frombuffer(buf, dtype=ref.dtype)
    return obj


def _load_legacy(raw: bytes) -> Any:
    f = io.BytesIO(raw)
    plain: Callable[[], Any] = lambda: _Unpickler(f, {}, zip_layout=False).load()  # noqa: E731
    if plain() != _LEGACY_MAGIC:
        raise ModelError("not a PyTorch checkpoint (bad magic number)")
    version = plain()
    if version != 1001:
        raise ModelError(f"unsupported legacy checkpoint protocol {version!r}")
    plain()  # system info: endianness and type sizes; every file we read is little-endian
    refs: dict[str, _StorageRef] = {}
    obj = _Unpickler(f, refs, zip_layout=False).load()
    keys = plain()
    for key in keys:
        ref = refs.get(str(key))
        (count,) = struct.unpack("<q", f.read(8))
        if ref is None:
            raise ModelError(f"storage {key!r} is listed but no tensor uses it")
        nbytes = count * ref.dtype.itemsize
        buf = f.read(nbytes)
        if len(buf) != nbytes:
            raise ModelError(f"storage {key!r} is truncated")
        ref.data = np.frombuffer(buf, dtype=ref.dtype)
    return obj
