"""DLPack: ``np.from_dlpack`` (and torch, where installed) shares an array's values, read-only.

Addresses prove the sharing; the versioned capsule's read-only flag makes NumPy's view
read-only; the legacy protocol, which cannot say read-only, is refused unless a copy is asked
for; arrays DLPack cannot carry raise ``DLPackError`` (a ``BufferError``). The exported memory
lives as long as the consumer's view, and an unconsumed capsule frees it.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import colbridge

from ..conftest import address
from ..ipc.test_read import inside, linux_only, mappings

TYPES: dict[str, tuple[pa.DataType, str]] = {
    "int8": (pa.int8(), "int8"),
    "int16": (pa.int16(), "int16"),
    "int32": (pa.int32(), "int32"),
    "int64": (pa.int64(), "int64"),
    "uint8": (pa.uint8(), "uint8"),
    "uint16": (pa.uint16(), "uint16"),
    "uint32": (pa.uint32(), "uint32"),
    "uint64": (pa.uint64(), "uint64"),
    "float16": (pa.float16(), "float16"),
    "float32": (pa.float32(), "float32"),
    "float64": (pa.float64(), "float64"),
    "timestamp[us, tz]": (pa.timestamp("us", tz="UTC"), "int64"),
    "duration[ns]": (pa.duration("ns"), "int64"),
    "date32": (pa.date32(), "int32"),
    "date64": (pa.date64(), "int64"),
    "time32[ms]": (pa.time32("ms"), "int32"),
    "time64[us]": (pa.time64("us"), "int64"),
}


def make(type_name: str, n: int = 50) -> colbridge.Array:
    arrow_type, storage = TYPES[type_name]
    values = np.arange(n).astype(storage)
    if arrow_type == pa.float16():
        return colbridge.array(pa.array(values, pa.float16()))
    return colbridge.array(pa.array(values.astype(storage)).view(arrow_type))


@pytest.mark.parametrize("type_name", list(TYPES))
def test_numpy_shares_the_values_read_only(type_name: str) -> None:
    arr = make(type_name)
    view = np.from_dlpack(arr)
    assert arr.values is not None
    assert address(view) == arr.values.address
    assert view.dtype == np.dtype(TYPES[type_name][1])
    np.testing.assert_array_equal(view, np.arange(50).astype(TYPES[type_name][1]))
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 1


def test_a_slice_is_shared_at_the_slice() -> None:
    arr = colbridge.array(np.arange(100, dtype=np.int32)).slice(10, 20)
    view = np.from_dlpack(arr)
    assert arr.values is not None
    assert address(view) == arr.values.address
    np.testing.assert_array_equal(view, np.arange(10, 30, dtype=np.int32))


def test_a_one_chunk_column_is_shared() -> None:
    table = colbridge.table({"x": np.arange(10.0)})
    column = table.column("x")
    view = np.from_dlpack(column)
    values = column.chunk(0).values
    assert values is not None
    assert address(view) == values.address
    assert column.__dlpack_device__() == (1, 0)


def test_several_chunks_are_refused_or_combined_into_a_copy() -> None:
    column = colbridge.chunked_array([[1, 2], [3]])
    with pytest.raises(colbridge.DLPackError, match="2 chunks.*combine_chunks"):
        np.from_dlpack(column)
    copied = np.from_dlpack(column, copy=True)
    np.testing.assert_array_equal(copied, [1, 2, 3])
    assert copied.flags.writeable


def test_copy_true_gives_a_private_writable_copy() -> None:
    arr = colbridge.array(np.arange(5, dtype=np.int64))
    copied = np.from_dlpack(arr, copy=True)
    assert arr.values is not None
    assert address(copied) != arr.values.address
    copied[0] = 99
    assert arr.to_pylist()[0] == 0


def test_the_legacy_protocol_is_refused_without_a_copy() -> None:
    arr = colbridge.array([1.0, 2.0])
    with pytest.raises(colbridge.ReadOnlyBufferError, match="max_version"):
        arr.__dlpack__()
    assert "dltensor_versioned" in repr(arr.__dlpack__(max_version=(1, 0)))
    legacy = arr.__dlpack__(copy=True)
    assert '"dltensor"' in repr(legacy)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (pa.array([1, None, 3]), "1 nulls"),
        (pa.array(["a", "b"]), "string"),
        (pa.array([True, False]), "bool"),
        (pa.array([1, 2]).dictionary_encode(), "dictionary"),
        (pa.array([[1], [2]]), "list"),
    ],
)
def test_arrays_dlpack_cannot_carry_are_a_buffer_error(values: Any, match: str) -> None:
    arr = colbridge.array(values)
    with pytest.raises(colbridge.DLPackError, match=match) as info:
        np.from_dlpack(arr)
    assert isinstance(info.value, BufferError)
    with pytest.raises(colbridge.DLPackError):
        np.from_dlpack(arr, copy=True)


def test_other_devices_and_streams_are_refused() -> None:
    arr = colbridge.array([1, 2])
    assert arr.__dlpack_device__() == (1, 0)
    with pytest.raises(colbridge.DLPackError, match="device"):
        arr.__dlpack__(max_version=(1, 0), dl_device=(2, 0))
    arr.__dlpack__(max_version=(1, 0), dl_device=(1, 0))
    with pytest.raises(colbridge.DLPackError, match="stream"):
        arr.__dlpack__(max_version=(1, 0), stream=1)


def test_the_view_outlives_the_array() -> None:
    arr = colbridge.array(np.arange(1000, dtype=np.float64))
    view = np.from_dlpack(arr)
    del arr
    gc.collect()
    np.testing.assert_array_equal(view, np.arange(1000, dtype=np.float64))


@linux_only
def test_a_mapped_ipc_column_goes_to_numpy_through_dlpack_and_keeps_the_mapping(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data.arrow"
    colbridge.write_ipc(colbridge.table({"x": np.arange(10_000.0)}), path)
    table = colbridge.read_ipc(path)
    view = np.from_dlpack(table.column("x"))
    assert inside(address(view), view.nbytes, mappings(path))
    del table
    gc.collect()
    assert mappings(path)
    assert view.sum() == np.arange(10_000.0).sum()
    del view
    gc.collect()
    assert mappings(path) == []


@linux_only
def test_an_unconsumed_capsule_releases_the_memory(tmp_path: Path) -> None:
    path = tmp_path / "data.arrow"
    colbridge.write_ipc(colbridge.table({"x": np.arange(100, dtype=np.int64)}), path)
    capsule = colbridge.read_ipc(path).column("x").__dlpack__(max_version=(1, 0))
    gc.collect()
    assert mappings(path)
    del capsule
    gc.collect()
    assert mappings(path) == []


def test_torch_shares_the_values() -> None:
    torch = pytest.importorskip("torch")
    arr = colbridge.array(np.arange(8, dtype=np.float32))
    tensor = torch.from_dlpack(arr)
    assert arr.values is not None
    assert tensor.data_ptr() == arr.values.address


def test_an_empty_column_exports_an_empty_tensor() -> None:
    column = colbridge.chunked_array([], type="float64")
    view = np.from_dlpack(column)
    assert view.shape == (0,)
    assert view.dtype == np.float64
