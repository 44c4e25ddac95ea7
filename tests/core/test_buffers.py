"""colbridge.Buffer: typed, read-only PEP 3118 views of Arrow buffers."""

from __future__ import annotations

import ctypes
import datetime as dt
import struct
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import colbridge

from ..conftest import address


class Py_buffer(ctypes.Structure):  # noqa: N801 - the CPython struct's name
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
        ("strides", ctypes.POINTER(ctypes.c_ssize_t)),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


PyBUF_WRITABLE = 0x0001
PyBUF_FORMAT = 0x0004
PyBUF_ND = 0x0008
PyBUF_STRIDES = 0x0010 | PyBUF_ND
PyBUF_RECORDS_RO = PyBUF_STRIDES | PyBUF_FORMAT

_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(Py_buffer)]
_release_buffer.restype = None


# 8-byte integers in the format NumPy gives int64/uint64 (C long where it is 8 bytes).
I8 = "l" if struct.calcsize("l") == 8 else "q"
U8 = I8.upper()

# (values, type) -> expected memoryview format / itemsize of the values buffer
VALUE_FORMATS = [
    ([1, -2, 3], "int8", "b", 1),
    ([1, 2, 3], "uint8", "B", 1),
    ([1, -2, 3], "int16", "h", 2),
    ([1, 2, 3], "uint16", "H", 2),
    ([1, -2, 3], "int32", "i", 4),
    ([1, 2, 3], "uint32", "I", 4),
    ([1, -2, 3], "int64", I8, 8),
    ([1, 2, 2**64 - 1], "uint64", U8, 8),
    ([1.5, -2.0, 3.25], "float16", "e", 2),
    ([1.5, -2.0, 3.25], "float32", "f", 4),
    ([1.5, -2.0, 3.25], "float64", "d", 8),
    ([dt.datetime(2020, 1, 1), dt.datetime(1960, 5, 6, 7, 8, 9)], "timestamp[ms]", I8, 8),
    ([dt.datetime(2020, 1, 1, tzinfo=dt.UTC)], "timestamp[us, tz=UTC]", I8, 8),
    ([dt.date(2020, 1, 1), dt.date(1900, 2, 3)], "date32", "i", 4),
    ([dt.date(2020, 1, 1)], "date64", I8, 8),
    ([dt.time(1, 2, 3), dt.time(23, 59)], "time32[s]", "i", 4),
    ([dt.time(1, 2, 3)], "time32[ms]", "i", 4),
    ([dt.time(1, 2, 3, 4)], "time64[us]", I8, 8),
    ([dt.time(1, 2, 3, 4)], "time64[ns]", I8, 8),
    ([dt.timedelta(days=1), dt.timedelta(seconds=-5)], "duration[s]", I8, 8),
    ([dt.timedelta(microseconds=7)], "duration[ns]", I8, 8),
]


@pytest.mark.parametrize(("values", "type_name", "fmt", "itemsize"), VALUE_FORMATS)
def test_values_memoryview_is_typed_and_readonly(
    values: list[Any], type_name: str, fmt: str, itemsize: int
) -> None:
    arr = colbridge.array(values, type=type_name)
    buf = arr.values
    assert buf.kind == "values"
    assert buf.format == fmt
    assert buf.itemsize == itemsize
    assert len(buf) == len(values)
    assert buf.size == len(values) * itemsize
    view = memoryview(buf)
    assert view.format == fmt
    assert view.itemsize == itemsize
    assert view.ndim == 1
    assert view.shape == (len(values),)
    assert view.strides == (itemsize,)
    assert view.readonly
    assert view.nbytes == len(values) * itemsize
    assert view.c_contiguous
    # The bytes are the Arrow storage, as pyarrow sees it.
    pa_arr = pa.array(arr)
    storage = pa_arr.buffers()[1]
    assert bytes(view) == storage.to_pybytes()[: len(values) * itemsize]
    assert buf.to_bytes() == bytes(view)
    assert address(view) == buf.address == storage.address


def test_temporal_values_are_storage_integers() -> None:
    arr = colbridge.array([dt.date(1970, 1, 2), dt.date(1969, 12, 31)])
    assert memoryview(arr.values).tolist() == [1, -1]
    ts = colbridge.array([dt.datetime(1970, 1, 1, 0, 0, 1)], type="timestamp[ms]")
    assert memoryview(ts.values).tolist() == [1000]


@pytest.mark.parametrize(
    ("type_name", "fmt", "itemsize"),
    [("string", "i", 4), ("binary", "i", 4), ("large_string", I8, 8), ("large_binary", I8, 8)],
)
def test_offsets_and_data_buffers(type_name: str, fmt: str, itemsize: int) -> None:
    raw = ["ab", None, "", "cde"]
    values = raw if "string" in type_name else [None if v is None else v.encode() for v in raw]
    arr = colbridge.array(values, type=type_name)
    offsets = memoryview(arr.offsets)
    assert arr.offsets.kind == "offsets"
    assert (offsets.format, offsets.itemsize, offsets.shape) == (fmt, itemsize, (5,))
    assert offsets.strides == (itemsize,)
    assert offsets.readonly
    assert offsets.tolist() == [0, 2, 2, 2, 5]
    data = memoryview(arr.data)
    assert arr.data.kind == "data"
    assert (data.format, data.itemsize, data.readonly) == ("B", 1, True)
    assert bytes(data) == b"abcde"
    kinds = [b.kind if b is not None else None for b in arr.buffers()]
    assert kinds == ["validity", "offsets", "data"]


def test_list_offsets() -> None:
    arr = colbridge.array([[1, 2], [], None, [3]])
    view = memoryview(arr.offsets)
    assert (view.format, view.shape) == ("i", (5,))
    assert view.tolist() == [0, 2, 2, 2, 3]
    assert arr.flatten()[0].to_pylist() == [1, 2, 3]


def test_bitmaps_are_bytes() -> None:
    arr = colbridge.array([True, None, False, True, True, False, None, True, False])
    for buf in (arr.values, arr.validity):
        view = memoryview(buf)
        assert (view.format, view.itemsize, view.shape, view.strides) == ("B", 1, (2,), (1,))
        assert view.readonly
        assert buf.bit_offset == 0
        assert buf.bit_length == 9
    assert colbridge.bitmap_to_mask(arr.validity).tolist() == [
        True, False, True, True, True, True, False, True, True,
    ]  # fmt: skip
    values = colbridge.bitmap_to_mask(arr.values)
    assert values[[0, 2, 3, 4, 5, 7, 8]].tolist() == [True, False, True, True, False, True, False]


def test_non_bitmap_buffers_have_no_bit_offset() -> None:
    buf = colbridge.array([1, 2]).values
    assert buf.bit_offset is None
    assert buf.bit_length is None


def test_numpy_views_of_buffers() -> None:
    arr = colbridge.array(np.arange(10, dtype=np.uint16))
    out = np.asarray(arr.values)
    assert out.dtype == np.uint16
    assert not out.flags.writeable
    assert out.tolist() == list(range(10))
    assert np.frombuffer(arr.values, dtype=np.uint16).tolist() == list(range(10))


# --- writability ------------------------------------------------------------------------------


def test_writable_request_raises_read_only_buffer_error() -> None:
    buf = colbridge.array(np.arange(4)).values
    view = Py_buffer()
    with pytest.raises(colbridge.ReadOnlyBufferError, match="read-only") as info:
        _get_buffer(buf, ctypes.byref(view), PyBUF_WRITABLE)
    assert isinstance(info.value, BufferError)
    assert isinstance(info.value, colbridge.ColbridgeError)
    assert issubclass(colbridge.ReadOnlyBufferError, BufferError)


def test_read_only_request_fills_the_view() -> None:
    arr = colbridge.array(np.arange(4, dtype=np.int32))
    view = Py_buffer()
    assert _get_buffer(arr.values, ctypes.byref(view), PyBUF_RECORDS_RO) == 0
    try:
        assert view.buf == arr.values.address
        assert view.readonly == 1
        assert view.len == 16
        assert view.itemsize == 4
        assert view.format == b"i"
        assert view.ndim == 1
        assert view.shape[0] == 4
        assert view.strides[0] == 4
    finally:
        _release_buffer(ctypes.byref(view))
    # PyBUF_SIMPLE: no format/shape/strides requested, none given.
    simple = Py_buffer()
    assert _get_buffer(arr.values, ctypes.byref(simple), 0) == 0
    try:
        assert simple.format is None
        assert not simple.shape
        assert simple.len == 16
    finally:
        _release_buffer(ctypes.byref(simple))


def test_numpy_cannot_make_a_buffer_view_writable() -> None:
    arr = colbridge.array(np.arange(4))
    out = np.asarray(arr.values)
    with pytest.raises(ValueError):
        out.flags.writeable = True
    with pytest.raises(ValueError, match="read-only"):
        out[0] = 100
    via_to_numpy = arr.to_numpy()
    with pytest.raises(ValueError):
        via_to_numpy[0] = 100
    view = memoryview(arr.values)
    with pytest.raises(TypeError):
        view[0] = 100
    with pytest.raises(TypeError):
        (ctypes.c_char * 32).from_buffer(arr.values)
    assert arr.to_pylist() == [0, 1, 2, 3]


def test_copies_are_writable() -> None:
    arr = colbridge.array(np.arange(4))
    copy = np.array(arr.values)
    copy[0] = 9
    assert arr.to_pylist() == [0, 1, 2, 3]
    assert np.array(arr, copy=True).flags.writeable


# --- slices ----------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 1, 3, 7, 8, 9, 13, 16, 17])
@pytest.mark.parametrize("length", [0, 1, 5, 8, 11])
def test_sliced_buffers(offset: int, length: int) -> None:
    data = [None if i % 3 == 1 else i for i in range(40)]
    base = colbridge.array(data, type="int32")
    arr = base.slice(offset, length)
    expected = data[offset : offset + length]
    assert arr.to_pylist() == expected
    # Values start at the slice.
    assert arr.values.address == base.values.address + 4 * offset
    assert memoryview(arr.values).shape == (length,)
    assert [
        v for v, e in zip(np.asarray(arr.values).tolist(), expected, strict=True) if e is not None
    ] == [e for e in expected if e is not None]
    # Validity: the bytes that hold the slice's bits, with the offset of the first bit.
    validity = arr.validity
    assert validity is not None
    assert validity.bit_offset == offset % 8
    assert validity.bit_length == length
    assert validity.address == base.validity.address + offset // 8
    assert len(validity) * 8 >= validity.bit_offset + length
    assert colbridge.bitmap_to_mask(validity).tolist() == [e is not None for e in expected]


@pytest.mark.parametrize("offset", [0, 2, 5, 8, 11])
def test_sliced_boolean_values(offset: int) -> None:
    data = [True, False, None, True, True, False, False, True, None, True, False, True, True]
    arr = colbridge.array(data).slice(offset, 6)
    expected = data[offset : offset + 6]
    values = arr.values
    assert values.bit_offset == offset % 8
    assert values.bit_length == len(expected)
    bits = colbridge.bitmap_to_mask(values).tolist()
    assert [b for b, e in zip(bits, expected, strict=True) if e is not None] == [
        e for e in expected if e is not None
    ]
    assert arr.to_pylist() == expected


def test_sliced_string_offsets_start_at_slice() -> None:
    arr = colbridge.array(["a", "bb", "ccc", "dddd"]).slice(1, 2)
    assert memoryview(arr.offsets).tolist() == [1, 3, 6]
    assert arr.to_pylist() == ["bb", "ccc"]


def test_sliced_dictionary_indices() -> None:
    base = colbridge.array(pa.array(["x", "y", "x", "z", "y"]).dictionary_encode())
    arr = base.slice(2, 3)
    assert arr.values.address == base.values.address + 2 * 4
    assert np.asarray(arr.values).tolist() == [0, 2, 1]
    assert arr.to_pylist() == ["x", "z", "y"]


# --- zero-length and all-null ----------------------------------------------------------------


@pytest.mark.parametrize("type_name", ["int8", "float64", "timestamp[ns]", "bool", "string"])
def test_zero_length_arrays(type_name: str) -> None:
    arr = colbridge.array([], type=type_name)
    assert len(arr) == 0
    assert arr.null_count == 0
    assert arr.validity is None
    if type_name == "string":
        assert memoryview(arr.offsets).tolist() == [0]
        assert len(arr.to_numpy()) == 0
        return
    view = memoryview(arr.values)
    assert view.nbytes == 0
    assert view.readonly
    assert len(np.asarray(arr.values)) == 0
    assert len(arr.to_numpy()) == 0
    if type_name == "bool":
        assert colbridge.bitmap_to_mask(arr.values).tolist() == []
    assert len(arr.slice(0, 0)) == 0


def test_zero_length_slice_at_the_end_of_a_bitmap() -> None:
    arr = colbridge.array([1, None, 3, 4, 5, 6, 7, 8, 9, None, 11]).slice(11, 0)
    assert len(arr) == 0
    if arr.validity is not None:
        assert colbridge.bitmap_to_mask(arr.validity).tolist() == []
    assert memoryview(arr.values).shape == (0,)


@pytest.mark.parametrize("type_name", ["int64", "float32", "bool", "string", "timestamp[us]"])
def test_all_null_arrays(type_name: str) -> None:
    arr = colbridge.array([None] * 11, type=type_name)
    assert arr.null_count == 11
    validity = arr.validity
    assert validity is not None
    assert colbridge.bitmap_to_mask(validity).tolist() == [False] * 11
    assert arr.to_pylist() == [None] * 11
    with pytest.raises(colbridge.ZeroCopyError):
        arr.to_numpy(zero_copy_only=True)
    out = arr.to_numpy()
    assert len(out) == 11


def test_null_type_has_no_buffers() -> None:
    arr = colbridge.array([None, None])
    assert str(arr.type) == "null"
    assert arr.values is None
    assert arr.validity is None
    assert arr.buffers() == [None]
    assert arr.to_numpy().tolist() == [None, None]


# --- bitmap_to_mask --------------------------------------------------------------------------


def test_bitmap_to_mask_matches_pyarrow() -> None:
    rng = np.random.default_rng(0)
    valid = rng.random(1000) > 0.3
    data = [int(i) if v else None for i, v in enumerate(valid)]
    arr = colbridge.array(data)
    assert colbridge.bitmap_to_mask(arr.validity).tolist() == valid.tolist()
    for offset in (1, 7, 64, 333):
        s = arr.slice(offset, 100)
        assert (
            colbridge.bitmap_to_mask(s.validity).tolist() == valid[offset : offset + 100].tolist()
        )


def test_bitmap_to_mask_returns_a_bool_array_of_the_bit_length() -> None:
    arr = colbridge.array([True] * 3 + [None]).slice(1, 3)
    mask = colbridge.bitmap_to_mask(arr.validity)
    assert mask.dtype == np.bool_
    assert mask.tolist() == [True, True, False]


def test_bitmap_to_mask_of_a_plain_byte_buffer_unpacks_every_bit() -> None:
    buf = colbridge.array(np.array([0b10100101, 1], dtype=np.uint8)).values
    assert colbridge.bitmap_to_mask(buf).tolist() == [
        True, False, True, False, False, True, False, True,
        True, False, False, False, False, False, False, False,
    ]  # fmt: skip


def test_int64_views_are_numpys_own_int64():
    values = np.asarray(colbridge.array([1, 2, 3]).values)
    assert values.dtype == np.int64 and np.issubdtype(values.dtype, np.int64)
    assert type(colbridge.array([1, 2, 3]).to_numpy()[0]) is np.int64
    assert np.asarray(colbridge.array([1], type="uint64").values).dtype == np.uint64
