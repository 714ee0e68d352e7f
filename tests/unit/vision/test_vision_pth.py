"""The torch-free .pth reader: both layouts torch writes, built here with stand-in torch globals."""

from __future__ import annotations

import collections
import io
import pickle
import struct
import sys
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from luodi.errors import ModelError
from luodi.vision.pth import load_pth


class _Storage:
    def __init__(self, kind: str, key: str, data: np.ndarray) -> None:
        self.kind, self.key, self.data = kind, key, data


@pytest.fixture
def fake_torch(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.SimpleNamespace]:
    """Modules named like torch's, so pickle writes the same globals a real checkpoint holds."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args: Any) -> None:  # never called: only its name is pickled
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    float_storage = type("FloatStorage", (), {"__module__": "torch", "__qualname__": "FloatStorage"})
    long_storage = type("LongStorage", (), {"__module__": "torch", "__qualname__": "LongStorage"})
    torch.FloatStorage = float_storage  # type: ignore[attr-defined]
    torch.LongStorage = long_storage  # type: ignore[attr-defined]
    torch._utils = utils  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    yield types.SimpleNamespace(
        rebuild=_rebuild_tensor_v2, types={"FloatStorage": float_storage, "LongStorage": long_storage}
    )


class _Tensor:
    def __init__(self, ns: types.SimpleNamespace, storage: _Storage, offset: int, shape: tuple[int, ...]) -> None:
        self.ns, self.storage, self.offset, self.shape = ns, storage, offset, shape

    def __reduce__(self) -> Any:
        stride = tuple(int(np.prod(self.shape[i + 1 :])) for i in range(len(self.shape)))
        return (self.ns.rebuild, (self.storage, self.offset, self.shape, stride, False, collections.OrderedDict()))


def _pickler(buf: io.BytesIO, ns: types.SimpleNamespace, zip_layout: bool) -> pickle.Pickler:
    p = pickle.Pickler(buf, protocol=2)

    def persistent_id(obj: Any) -> Any:
        if isinstance(obj, _Storage):
            if zip_layout:
                return ("storage", ns.types[obj.kind], obj.key, "cpu", obj.data.size)
            return ("storage", ns.types[obj.kind], obj.key, "cpu", obj.data.size, None)
        return None

    p.persistent_id = persistent_id  # type: ignore[method-assign]
    return p


def _state(
    ns: types.SimpleNamespace,
) -> tuple[collections.OrderedDict[str, Any], list[_Storage], dict[str, np.ndarray]]:
    w = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    shared = np.arange(10, dtype=np.float32)
    steps = np.array([7], dtype=np.int64)
    s_w = _Storage("FloatStorage", "0", w.ravel())
    s_shared = _Storage("FloatStorage", "1", shared)
    s_steps = _Storage("LongStorage", "2", steps)
    state = collections.OrderedDict(
        [
            ("conv.weight", _Tensor(ns, s_w, 0, (2, 3, 4))),
            ("a.bias", _Tensor(ns, s_shared, 2, (3,))),  # a view into a shared storage, with an offset
            ("bn.num_batches_tracked", _Tensor(ns, s_steps, 0, ())),
        ]
    )
    want = {"conv.weight": w, "a.bias": shared[2:5], "bn.num_batches_tracked": np.array(7)}
    return state, [s_w, s_shared, s_steps], want


def _legacy_bytes(ns: types.SimpleNamespace) -> tuple[bytes, dict[str, np.ndarray]]:
    state, storages, want = _state(ns)
    buf = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, buf, protocol=2)
    _pickler(buf, ns, zip_layout=False).dump(state)
    pickle.dump([s.key for s in storages], buf, protocol=2)
    for s in storages:
        buf.write(struct.pack("<q", s.data.size))
        buf.write(s.data.tobytes())
    return buf.getvalue(), want


def test_reads_the_legacy_layout(tmp_path: Path, fake_torch: types.SimpleNamespace) -> None:
    raw, want = _legacy_bytes(fake_torch)
    path = tmp_path / "w.pth"
    path.write_bytes(raw)
    got = load_pth(path)
    assert set(got) == set(want)
    for name, value in want.items():
        np.testing.assert_array_equal(got[name], value)
    assert got["conv.weight"].dtype == np.float32 and got["bn.num_batches_tracked"].dtype == np.int64


def test_reads_the_zip_layout(tmp_path: Path, fake_torch: types.SimpleNamespace) -> None:
    state, storages, want = _state(fake_torch)
    pkl = io.BytesIO()
    _pickler(pkl, fake_torch, zip_layout=True).dump(state)
    path = tmp_path / "w.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pkl.getvalue())
        for s in storages:
            archive.writestr(f"archive/data/{s.key}", s.data.tobytes())
    got = load_pth(path)
    for name, value in want.items():
        np.testing.assert_array_equal(got[name], value)


def test_refuses_code_in_the_pickle(tmp_path: Path) -> None:
    # a pickle that would call os.system: the reader resolves no such global
    evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    path = tmp_path / "evil.pth"
    path.write_bytes(evil)
    with pytest.raises(ModelError, match=r"refused|not a readable|bad magic"):
        load_pth(path)


@pytest.mark.parametrize("data", [b"", b"not a checkpoint", b"PK\x03\x04broken"])
def test_garbage_is_a_model_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.pth"
    path.write_bytes(data)
    with pytest.raises(ModelError):
        load_pth(path)


def test_truncated_storage_is_a_model_error(tmp_path: Path, fake_torch: types.SimpleNamespace) -> None:
    raw, _ = _legacy_bytes(fake_torch)
    path = tmp_path / "cut.pth"
    path.write_bytes(raw[:-8])
    with pytest.raises(ModelError, match=r"truncated|not a readable"):
        load_pth(path)
