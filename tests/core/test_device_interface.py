"""The Arrow C device data interface on the CPU: ``__arrow_c_device_array__`` imported by
pyarrow at colbridge's address, and ``__arrow_c_device_stream__`` read by a small ctypes
consumer (pyarrow has no Python import for device streams), each array marked CPU."""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import colbridge

ARROW_DEVICE_CPU = 1
ARROW_ARRAY_SIZE = 80  # struct ArrowArray: 5 int64 and 5 pointers

_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class DeviceArray(ctypes.Structure):
    _fields_ = [
        ("array", ctypes.c_byte * ARROW_ARRAY_SIZE),
        ("device_id", ctypes.c_int64),
        ("device_type", ctypes.c_int32),
        ("sync_event", ctypes.c_void_p),
        ("reserved", ctypes.c_int64 * 3),
    ]


class DeviceStream(ctypes.Structure):
    pass


DeviceStream._fields_ = [
    ("device_type", ctypes.c_int32),
    ("get_schema", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)),
    ("get_next", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)),
    ("get_last_error", ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.c_void_p)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
    ("private_data", ctypes.c_void_p),
]


def read_device_stream(capsule: Any) -> tuple[list[pa.Array], list[tuple[int, int]]]:
    """Every array of a device stream capsule, and each one's (device_type, device_id)."""
    address = _get_pointer(capsule, b"arrow_device_array_stream")
    stream = DeviceStream.from_address(address)
    assert stream.device_type == ARROW_DEVICE_CPU
    arrays, devices = [], []
    try:
        c_schema = ctypes.create_string_buffer(72)  # struct ArrowSchema
        assert stream.get_schema(address, ctypes.addressof(c_schema)) == 0
        field = pa.Field._import_from_c(ctypes.addressof(c_schema))
        while True:
            out = DeviceArray()
            assert stream.get_next(address, ctypes.addressof(out)) == 0
            release = ctypes.c_void_p.from_address(ctypes.addressof(out) + 64).value
            if not release:
                break
            devices.append((out.device_type, out.device_id))
            # Export the field again for each array: importing consumes the schema.
            schema_copy = ctypes.create_string_buffer(72)
            field._export_to_c(ctypes.addressof(schema_copy))
            arrays.append(
                pa.Array._import_from_c(ctypes.addressof(out), ctypes.addressof(schema_copy))
            )
    finally:
        stream.release(address)
    return arrays, devices


def test_a_device_array_is_the_cpu_array_at_its_address() -> None:
    arr = colbridge.array(np.arange(10, dtype=np.int64))
    schema, device = arr.__arrow_c_device_array__()
    assert "arrow_device_array" in repr(device)
    imported = pa.Array._import_from_c_device_capsule(schema, device)
    assert imported.to_pylist() == list(range(10))
    assert imported.device_type == pa.DeviceAllocationType.CPU
    assert arr.values is not None
    assert imported.buffers()[1].address == arr.values.address


def test_a_device_array_honours_requested_schema() -> None:
    arr = colbridge.array(["a", "b"])
    schema, device = arr.__arrow_c_device_array__(pa.string_view().__arrow_c_schema__())
    imported = pa.Array._import_from_c_device_capsule(schema, device)
    assert imported.type == pa.string_view()


def test_unknown_device_keywords_are_refused_unless_none() -> None:
    arr = colbridge.array([1])
    arr.__arrow_c_device_array__(future_option=None)
    with pytest.raises(NotImplementedError):
        arr.__arrow_c_device_array__(future_option=1)


def test_an_unconsumed_device_capsule_is_freed() -> None:
    # The capsules own their structs; dropping them unconsumed must release, not leak or crash.
    for _ in range(100):
        colbridge.array(np.arange(1000)).__arrow_c_device_array__()
        colbridge.table({"x": [1, 2]}).__arrow_c_device_stream__()


@pytest.mark.parametrize("kind", ["array", "chunked", "table"])
def test_a_device_stream_yields_cpu_arrays_at_colbridge_addresses(kind: str) -> None:
    values = np.arange(6, dtype=np.float64)
    if kind == "array":
        obj: Any = colbridge.array(values)
        chunks = [obj]
    elif kind == "chunked":
        obj = colbridge.chunked_array([values[:3], values[3:]])
        chunks = obj.chunks
    else:
        obj = colbridge.table({"x": colbridge.chunked_array([values[:3], values[3:]])})
        chunks = obj.column("x").chunks
    arrays, devices = read_device_stream(obj.__arrow_c_device_stream__())
    assert devices == [(ARROW_DEVICE_CPU, -1)] * len(chunks)
    for got, chunk in zip(arrays, chunks, strict=True):
        if kind == "table":
            got = got.field(0)
        assert got.buffers()[1].address == chunk.values.address
    flat = [v for a in arrays for v in (a.field(0) if kind == "table" else a).to_pylist()]
    assert flat == values.tolist()
