"""Arrow → NumPy, the zero-copy way where it exists.

Fixed-width values without nulls become NumPy views of the Arrow values buffer (read-only:
the memory may be shared with other consumers). Where a copy is needed (nulls, booleans,
strings, nested types) the result follows pyarrow's ``to_numpy`` and ``zero_copy_only=True``
raises :class:`~colbridge.ZeroCopyError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from colbridge.errors import ZeroCopyError

if TYPE_CHECKING:
    from colbridge._colbridge import Array, Buffer, ChunkedArray, DataType


def bitmap_to_mask(buf: Buffer) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Unpack a bit-packed buffer (validity or boolean values) into a NumPy bool array.

    Example:
        >>> arr = colbridge.array([1, None, 3])
        >>> colbridge.bitmap_to_mask(arr.validity)
        array([ True, False,  True])
    """
    offset = buf.bit_offset or 0
    length = buf.bit_length if buf.bit_length is not None else len(buf) * 8
    raw = np.frombuffer(memoryview(buf), dtype=np.uint8)
    bits = np.unpackbits(raw, count=offset + length, bitorder="little")
    return bits[offset:].view(np.bool_)


def temporal_dtype(t: DataType) -> np.dtype[Any] | None:
    """The NumPy dtype that shares the storage of an Arrow temporal type, if there is one."""
    if t.is_timestamp:
        return np.dtype(f"datetime64[{t.time_unit}]")
    if t.is_duration:
        return np.dtype(f"timedelta64[{t.time_unit}]")
    if t.is_date and t.bit_width == 64:
        return np.dtype("datetime64[ms]")
    return None


def values_view(arr: Array) -> np.ndarray[Any, Any] | None:
    """A zero-copy NumPy view of the values of a fixed-width array (nulls ignored), or None."""
    t = arr.type
    buf = arr.values
    if buf is None:
        return None
    if t.is_integer or t.is_floating:
        return np.asarray(buf)
    dtype = temporal_dtype(t)
    if dtype is not None:
        return np.asarray(buf).view(dtype)
    return None


def _null_mask(arr: Array) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
    validity = arr.validity
    if validity is None or arr.null_count == 0:
        return None
    return ~bitmap_to_mask(validity)


def array_to_numpy(arr: Array, zero_copy_only: bool = False) -> np.ndarray[Any, Any]:
    """See :meth:`colbridge.Array.to_numpy`."""
    t = arr.type
    view = values_view(arr)
    nulls = _null_mask(arr)
    if view is not None and nulls is None:
        return view
    if zero_copy_only:
        reason = "it has nulls" if nulls is not None else f"{t} has no zero-copy NumPy form"
        raise ZeroCopyError(f"cannot convert to NumPy without a copy: {reason}")
    if view is not None:
        if view.dtype.kind in "mM":
            out = view.copy()
            out[nulls] = np.datetime64("NaT") if view.dtype.kind == "M" else np.timedelta64("NaT")
            return out
        target = view.dtype if view.dtype.kind == "f" else np.float64
        out = view.astype(target, copy=True)
        out[nulls] = np.nan
        return out
    if t.is_boolean and nulls is None and arr.values is not None:
        return bitmap_to_mask(arr.values).copy()
    if t.is_date and t.bit_width == 32 and nulls is None and arr.values is not None:
        return np.asarray(arr.values).astype("datetime64[D]")
    if t.is_dictionary:
        indices = arr.indices
        dictionary = arr.dictionary
        if indices is not None and dictionary is not None and nulls is None:
            decoded: np.ndarray[Any, Any] = array_to_numpy(dictionary)[array_to_numpy(indices)]
            return decoded
    if t.is_null:
        return np.full(len(arr), None, dtype=object)
    out = np.empty(len(arr), dtype=object)
    out[:] = arr.to_pylist()
    return out


def chunked_to_numpy(col: ChunkedArray, zero_copy_only: bool = False) -> np.ndarray[Any, Any]:
    """See :meth:`colbridge.ChunkedArray.to_numpy`: zero-copy only with a single chunk."""
    if col.num_chunks == 1:
        return array_to_numpy(col.chunk(0), zero_copy_only)
    if zero_copy_only:
        raise ZeroCopyError(
            f"cannot convert a column of {col.num_chunks} chunks to NumPy without a copy"
        )
    return array_to_numpy(col.combine_chunks())


def dunder_array(
    obj: Array | ChunkedArray, dtype: Any = None, copy: bool | None = None
) -> np.ndarray[Any, Any]:
    """``__array__`` with NumPy 2 semantics: ``copy=False`` raises when a copy is needed."""
    from colbridge._colbridge import Array

    convert = array_to_numpy if isinstance(obj, Array) else chunked_to_numpy
    out = convert(obj, zero_copy_only=copy is False)  # type: ignore[arg-type]
    if dtype is not None and np.dtype(dtype) != out.dtype:
        if copy is False:
            raise ZeroCopyError(f"cannot convert {obj.type} to {np.dtype(dtype)} without a copy")
        return out.astype(dtype)
    return np.array(out, copy=True) if copy else out
