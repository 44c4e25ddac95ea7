"""Constructors: ``array``, ``chunked_array`` and ``table`` from Python, NumPy, pandas or any
Arrow PyCapsule producer. The Python layer only dispatches; building happens in Rust."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from colbridge import _colbridge as _core
from colbridge import _pandas_compat
from colbridge._colbridge import Array, ChunkedArray, DataType, Table
from colbridge.errors import ColbridgeError, InvalidInputError, UnsupportedTypeError

_NUMPY_KINDS = {
    "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
    "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
    "f2": "float16", "f4": "float32", "f8": "float64", "b1": "bool",
}  # fmt: skip
_TEMPORAL_UNITS = ("s", "ms", "us", "ns")


def _numpy_arrow_type(dtype: np.dtype[Any]) -> str | None:
    key = f"{dtype.kind}{dtype.itemsize}"
    if dtype.kind in "iufb":
        return _NUMPY_KINDS.get(key)
    if dtype.kind in "mM":
        unit = np.datetime_data(dtype)[0]
        if unit == "D" and dtype.kind == "M":
            return None  # datetime64[D] has no 64-bit Arrow day type; converted below
        if unit not in _TEMPORAL_UNITS:
            return None
        return f"timestamp[{unit}]" if dtype.kind == "M" else f"duration[{unit}]"
    return None


def _from_numpy(obj: np.ndarray[Any, Any], type: Any) -> Array:
    if obj.ndim != 1:
        raise InvalidInputError(
            f"colbridge.array takes one-dimensional arrays, got shape {obj.shape}"
        )
    mask = None
    if isinstance(obj, np.ma.MaskedArray):
        mask = np.ascontiguousarray(np.ma.getmaskarray(obj), dtype=np.bool_)
        obj = np.ma.getdata(obj)
    if not obj.dtype.isnative:
        raise InvalidInputError(
            f"byte-swapped arrays ({obj.dtype.str}) are not imported silently; "
            "convert with arr.astype(arr.dtype.newbyteorder('='))"
        )
    if obj.dtype.kind == "M" and np.datetime_data(obj.dtype)[0] == "D":
        days = obj.astype("datetime64[D]").view(np.int64)
        if mask is None:
            mask = np.isnat(obj)
            mask = mask if mask.any() else None
        return _core.array_from_buffer(days.astype(np.int32), "date32", mask).cast(type or "date32")
    arrow_type = _numpy_arrow_type(obj.dtype)
    if arrow_type is None:
        # Strings, objects and other dtypes go through the Python-object path (a copy).
        return _core.array_from_sequence(
            obj.tolist() if mask is None else np.ma.masked_array(obj, mask).tolist(), type
        )
    if obj.dtype.kind in "mM":
        nat = np.isnat(obj)
        if nat.any():
            mask = nat if mask is None else (mask | nat)
        obj = obj.view(np.int64)
    if not obj.flags.c_contiguous:
        obj = np.ascontiguousarray(obj)  # strided input: one explicit copy
    out = _core.array_from_buffer(obj, arrow_type, mask)
    return out if type is None else out.cast(type)


def array(
    obj: Any, type: DataType | str | Any | None = None, *, validate: bool = True
) -> Array | ChunkedArray:
    """Build an Arrow array.

    ``obj`` may be a Python sequence (ints, floats, bools, str, bytes, None, datetime, date,
    time, timedelta, Decimal, nested lists and dicts), a NumPy array (contiguous primitive
    arrays are shared without a copy; masked arrays give nulls; datetime64/timedelta64 become
    timestamp/duration), or any object implementing ``__arrow_c_array__`` or
    ``__arrow_c_stream__`` (pyarrow, Polars, DuckDB, nanoarrow, arro3; shared without a copy).
    A stream of several chunks gives a :class:`ChunkedArray`.

    Arrays from producers are validated in full before anything can read them (offsets,
    string views, dictionary keys, UTF-8, child lengths, null counts): invalid data raises
    :class:`~colbridge.errors.InvalidInputError` naming the column and the problem, a
    malformed capsule :class:`~colbridge.errors.CapsuleError`. ``validate=False`` skips the
    checks that read the values (the structure is still checked) for producers you trust;
    it is **unsafe**: invalid data is then undefined behaviour (wrong values or a crash).

    Example:
        >>> colbridge.array([1, 2, None]).to_pylist()
        [1, 2, None]
        >>> colbridge.array(["a", "b"], type="large_string").type
        DataType(large_string)
    """
    if isinstance(obj, Array):
        return obj if type is None else obj.cast(type)
    if isinstance(obj, np.ndarray):
        return _from_numpy(obj, type)
    module = getattr(type_(obj), "__module__", "")
    is_pandas = module.startswith("pandas")
    # pandas objects export Arrow capsules only through pyarrow; without it, read them directly.
    if (hasattr(obj, "__arrow_c_array__") or hasattr(obj, "__arrow_c_stream__")) and (
        not is_pandas or _pyarrow_available()
    ):
        chunked = (
            _pandas_via_pyarrow(obj, validate)
            if is_pandas
            else _core.chunked_from_arrow(obj, validate=validate)
        )
        if chunked.num_chunks == 1:
            single = chunked.chunk(0)
            return single if type is None else single.cast(type)
        return chunked if type is None else chunked_array([c.cast(type) for c in chunked.chunks])
    if is_pandas:
        values = obj.to_numpy() if not hasattr(obj, "array") else _pandas_values(obj)
        return array(values, type, validate=validate)
    return _core.array_from_sequence(obj, type)


def _pandas_via_pyarrow(obj: Any, validate: bool) -> ChunkedArray:
    """pandas exports Arrow through pyarrow, which converts object columns: its errors for
    values of mixed types (``ArrowInvalid``, ``ArrowTypeError``) are :class:`InvalidInputError`,
    as colbridge's own are."""
    try:
        return _core.chunked_from_arrow(obj, validate=validate)
    except ColbridgeError:
        raise
    except (ValueError, TypeError) as e:
        raise InvalidInputError(str(e)) from e


def type_(obj: Any) -> type:
    cls: type = obj.__class__
    return cls


def _pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _pandas_values(obj: Any) -> Any:
    values = obj.array
    masked = _pandas_compat.masked_parts(values)
    if masked is not None:
        return np.ma.masked_array(*masked)
    inner = _pandas_compat.arrow_data(values)
    if inner is not None:
        return inner
    tz = getattr(values.dtype, "tz", None)
    storage = _pandas_compat.datetime_storage(values)
    if tz is not None and storage is not None and storage.dtype.kind == "M":
        # tz-aware datetimes: the UTC datetime64 storage, shared, with the zone as metadata.
        unit = np.datetime_data(storage.dtype)[0]
        nat = np.isnat(storage)
        return _core.array_from_buffer(
            np.ascontiguousarray(storage).view(np.int64),
            f"timestamp[{unit}, tz={_tz_name(tz)}]",
            nat if nat.any() else None,
        )
    if getattr(values.dtype, "kind", "") in ("O", "U", "S", "T"):
        # Strings (pandas' python-storage "str" dtype): missing values (NaN/NA) become nulls.
        out = obj.to_numpy(dtype=object, na_value=None)
        return out.tolist()
    return obj.to_numpy()


def _tz_name(tz: Any) -> str:
    """The Arrow name of a Python time zone: an IANA key, "UTC", or a "+HH:MM" offset."""
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if isinstance(key, str):
        return key
    offset = tz.utcoffset(None)
    if offset is None:
        return str(tz)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def chunked_array(
    chunks: list[Any], type: DataType | str | Any | None = None, *, validate: bool = True
) -> ChunkedArray:
    """A :class:`ChunkedArray` from a list of arrays (or anything :func:`array` accepts).

    ``validate`` is as in :func:`array`.

    Example:
        >>> colbridge.chunked_array([[1, 2], [3]]).num_chunks
        2
    """
    arrays: list[Array] = []
    for c in chunks:
        a = array(c, type, validate=validate)
        if isinstance(a, ChunkedArray):
            arrays.extend(a.chunks)
        else:
            arrays.append(a)
    if not arrays:
        if type is None:
            raise InvalidInputError("chunked_array([]) needs a type")
        arrays = [_core.array_from_sequence([], type)]
    return _core.chunked_from_arrays(arrays)


def _column(name: str, values: Any, validate: bool) -> Array | ChunkedArray:
    """``array(values)`` as the table column ``name``: an error says which column."""
    try:
        return array(values, validate=validate)
    except ColbridgeError as e:
        raise type(e)(f"column {name!r}: {e}") from e


def pandas_table(df: Any, preserve_index: bool | None, validate: bool = True) -> Table:
    """A DataFrame as ``pyarrow.Table.from_pandas`` makes it: the index as columns (a
    RangeIndex as metadata only, with ``preserve_index=None``) and the ``pandas`` metadata."""
    from colbridge._pandas_write import frame_to_table

    def column(name: str, values: Any) -> Array | ChunkedArray:
        if hasattr(values, "__arrow_c_stream__") and _pyarrow_available():
            # Kept chunked: the column's field keeps what the array alone cannot hold (a
            # categorical's order).
            try:
                return _pandas_via_pyarrow(values, validate)
            except ColbridgeError as e:
                raise type(e)(f"column {name!r}: {e}") from e
        return _column(name, values, validate)

    return frame_to_table(df, preserve_index, column)


def table(obj: Any, columns: list[str] | None = None, *, validate: bool = True) -> Table:
    """Build a :class:`Table`.

    ``obj`` may be a dict of columns (anything :func:`array` accepts), a pandas DataFrame (its
    index and the ``pandas`` metadata stored as ``pyarrow.Table.from_pandas`` stores them), or
    any ``__arrow_c_stream__`` / ``__arrow_c_array__`` producer of record batches (pyarrow
    tables, Polars DataFrames, DuckDB relations); producers are imported without a copy and
    validated as :func:`array` describes (``validate=False`` is the same unsafe escape hatch).

    Example:
        >>> t = colbridge.table({"a": [1, 2], "b": ["x", None]})
        >>> t.to_pydict()
        {'a': [1, 2], 'b': ['x', None]}
    """
    if isinstance(obj, Table):
        return obj if columns is None else obj.select(columns)
    if isinstance(obj, Mapping):
        names = [str(k) for k in obj]
        cols = [_column(n, v, validate) for n, v in zip(names, obj.values(), strict=True)]
        out = _core.table_from_columns(names, cols)
    elif type_(obj).__module__.startswith("pandas") and hasattr(obj, "columns"):
        out = pandas_table(obj, None, validate)
    elif hasattr(obj, "__arrow_c_stream__") or hasattr(obj, "__arrow_c_array__"):
        out = _core.table_from_arrow(obj, validate=validate)
    else:
        raise UnsupportedTypeError(
            f"colbridge.table takes a dict of columns, a pandas DataFrame or an Arrow "
            f"PyCapsule producer, not {type_(obj).__name__}"
        )
    return out if columns is None else out.select(columns)
