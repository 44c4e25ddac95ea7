"""pandas hand-off.

Columns are NumPy views of the Arrow buffers, put into the DataFrame with ``copy=False`` so
pandas keeps one block per column and shares the memory. Those views are read-only (the Arrow
memory may be shared with other consumers), and pandas 3 cannot write into read-only blocks
(pandas issue #62144). colbridge's policy: the returned frame is a shallow copy of an internal
"owner" frame that stays alive as long as the shared blocks do, so pandas' Copy-on-Write sees a
second reference and copies a column the first time it is written. Writes therefore always land
in pandas-owned memory and never in memory another consumer sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from colbridge._numpy import bitmap_to_mask, temporal_dtype, values_view

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray, Table

_INTEGER = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_FLOAT = {"halffloat", "float", "double"}


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - exercised only without pandas
        raise ImportError("to_pandas() needs pandas: pip install 'colbridge[pandas]'") from e
    return pandas


class _Lease:
    """The NumPy ``base`` of every column handed to pandas: it keeps the Arrow buffer alive and,
    once set, the owner frame whose reference makes pandas copy before writing. A lease is
    writable only when colbridge owns the memory exclusively and gives it up (``read_pandas``)."""

    __slots__ = ("__array_interface__", "buffer", "owner")

    def __init__(self, view: np.ndarray[Any, Any], writable: bool = False) -> None:
        self.buffer = view
        self.owner: Any = None
        self.__array_interface__ = {
            "data": (view.__array_interface__["data"][0], not writable),
            "shape": view.shape,
            "typestr": view.dtype.str,
            "version": 3,
        }


class _Leases(list[_Lease]):
    """The leases of one conversion, and whether the memory is handed over writable."""

    def __init__(self, writable: bool = False) -> None:
        super().__init__()
        self.writable = writable


def _leased(view: np.ndarray[Any, Any], leases: list[_Lease]) -> np.ndarray[Any, Any]:
    lease = _Lease(view, getattr(leases, "writable", False))
    leases.append(lease)
    out = np.asarray(lease)
    return out.view(view.dtype) if out.dtype != view.dtype else out


def _mask(arr: Array) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
    if arr.null_count == 0 or arr.validity is None:
        return None
    return ~bitmap_to_mask(arr.validity)


def _tz(type_name: str) -> str | None:
    if ", tz=" in type_name:
        return type_name.split(", tz=", 1)[1].rstrip("]")
    return None


def _string_column(arr: Array, pd: Any, dtype_backend: str | None) -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        pa = None
    if pa is not None and dtype_backend == "pyarrow":
        return pd.array(pa.array(arr), dtype=pd.ArrowDtype(pa.array(arr).type))
    values = np.empty(len(arr), dtype=object)
    values[:] = arr.to_pylist()
    if dtype_backend == "numpy_nullable":
        return pd.array(values, dtype=pd.StringDtype())
    if pa is not None:
        return pd.array(pa.array(arr), dtype=pd.StringDtype(storage="pyarrow", na_value=np.nan))
    return pd.array(values, dtype="str")


def column_to_pandas(
    arr: Array,
    leases: list[_Lease],
    types_mapper: Callable[[Any], Any] | None = None,
    dtype_backend: str | None = None,
) -> Any:
    """One Arrow array as the values of a pandas column (ndarray or ExtensionArray)."""
    pd = _pandas()
    name = str(arr.type)
    if types_mapper is not None:
        ext = types_mapper(arr.type)
        if ext is not None:
            return ext.__from_arrow__(_to_pyarrow(arr))
    if dtype_backend == "pyarrow":
        pa_arr = _to_pyarrow(arr)
        return pd.arrays.ArrowExtensionArray(pa_arr)
    mask = _mask(arr)
    view = values_view(arr)
    if view is not None:
        shared = _leased(view, leases)
        if name in _INTEGER and (mask is not None or dtype_backend == "numpy_nullable"):
            m = mask if mask is not None else np.zeros(len(arr), dtype=np.bool_)
            return pd.arrays.IntegerArray(shared, m, copy=False)
        if name in _FLOAT and dtype_backend == "numpy_nullable":
            m = mask if mask is not None else np.zeros(len(arr), dtype=np.bool_)
            return pd.arrays.FloatingArray(shared.astype(np.float64, copy=False), m, copy=False)
        if mask is not None:
            if view.dtype.kind in "mM":
                out = view.copy()
                out[mask] = np.datetime64("NaT") if view.dtype.kind == "M" else np.timedelta64("NaT")
            else:
                out = view.astype(np.float64 if view.dtype.itemsize > 4 else view.dtype, copy=True)
                if out.dtype.kind != "f":
                    out = out.astype(np.float64)
                out[mask] = np.nan
            shared = out
        tz = _tz(name)
        if tz is not None:
            dtype = pd.DatetimeTZDtype(unit=np.datetime_data(shared.dtype)[0], tz=tz)
            utc = shared if shared.dtype.kind == "M" else shared.view(temporal_dtype(name))
            return pd.arrays.DatetimeArray._simple_new(utc, dtype=dtype)
        return shared
    if name.startswith("dictionary<"):
        indices, dictionary = arr.indices, arr.dictionary
        assert indices is not None and dictionary is not None
        codes_view = values_view(indices)
        assert codes_view is not None
        categories = pd.Index(column_to_pandas(dictionary, [], None, None))
        dtype = pd.CategoricalDtype(categories, ordered=False)
        if mask is None or getattr(leases, "writable", False):
            # In writable mode the decoder has already written -1 into the null codes.
            codes = _leased(codes_view, leases)
        else:
            codes = codes_view.copy()
            codes[mask] = -1
        return pd.Categorical._simple_new(codes, dtype=dtype)
    if name == "bool":
        if mask is None and arr.values is not None:
            return bitmap_to_mask(arr.values).copy()
        if dtype_backend == "numpy_nullable" and arr.values is not None:
            return pd.arrays.BooleanArray(bitmap_to_mask(arr.values).copy(), mask, copy=False)
    if name in ("string", "large_string", "string_view"):
        return _string_column(arr, pd, dtype_backend)
    out = np.empty(len(arr), dtype=object)
    out[:] = arr.to_pylist()
    return out


def _to_pyarrow(arr: Array) -> Any:
    import pyarrow as pa

    return pa.array(arr)


def _single(col: Array | ChunkedArray) -> Array:
    from colbridge._colbridge import Array

    if isinstance(col, Array):
        return col
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def to_dataframe(
    table: Table,
    types_mapper: Callable[[Any], Any] | None = None,
    dtype_backend: str | None = None,
    *,
    hand_over: bool = False,
) -> Any:
    """``Table.to_pandas``: see the module docstring for the sharing and writing policy.

    ``hand_over=True`` is for tables nobody else can see (``read_pandas``): the memory is given
    to pandas writable, with no owner frame, as if pandas had allocated it."""
    if dtype_backend not in (None, "numpy_nullable", "pyarrow"):
        from colbridge.errors import InvalidInputError

        raise InvalidInputError(
            f"dtype_backend must be None, 'numpy_nullable' or 'pyarrow', not {dtype_backend!r}"
        )
    pd = _pandas()
    leases = _Leases(writable=hand_over)
    data = {
        name: column_to_pandas(_single(col), leases, types_mapper, dtype_backend)
        for name, col in zip(table.column_names, table.columns, strict=True)
    }
    owner = pd.DataFrame(data, copy=False)
    if hand_over:
        return owner
    frame = owner.copy(deep=False)
    for lease in leases:
        lease.owner = owner
    return frame


def to_series(arr: Array | ChunkedArray, **kwargs: Any) -> Any:
    """``Array.to_pandas``: a Series over the array's memory (same policy as ``to_dataframe``)."""
    pd = _pandas()
    leases: list[_Lease] = []
    values = column_to_pandas(_single(arr), leases, kwargs.get("types_mapper"), kwargs.get("dtype_backend"))
    owner = pd.Series(values, copy=False)
    series = owner.copy(deep=False)
    for lease in leases:
        lease.owner = owner
    return series
