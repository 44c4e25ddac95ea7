"""pandas hand-off.

Columns are NumPy views of the Arrow buffers, put into the DataFrame with ``copy=False`` so
pandas keeps one block per column and shares the memory. Those views are read-only (the Arrow
memory may be shared with other consumers), and pandas 3 cannot write into read-only blocks
(pandas issue #62144). colbridge's policy: every block of the returned frame gets a second,
empty "sentinel" block registered in its Copy-on-Write references, kept alive by the memory
lease (the NumPy ``base`` of the shared arrays) for as long as any view of the memory lives.
pandas' Copy-on-Write therefore sees a second reference and copies a column the first time it
is written. Writes always land in pandas-owned memory and never in memory another consumer
sees. The sentinels hold no reference to the shared arrays, so there is no reference cycle
through NumPy arrays (which the garbage collector cannot traverse) and the memory is released
as soon as the last pandas object using it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from colbridge import _pandas_compat as compat
from colbridge._numpy import bitmap_to_mask, values_view
from colbridge._optional import require
from colbridge.errors import ColbridgeError, InvalidInputError

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray, Table


def _pandas() -> Any:
    return require("pandas", "to_pandas()")


class _Lease:
    """The NumPy ``base`` of every column handed to pandas: it keeps the Arrow buffer alive and,
    once set, the sentinel blocks whose references make pandas copy before writing. A lease is
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
    mask = bitmap_to_mask(arr.validity)
    np.logical_not(mask, out=mask)  # in place: one bool array, not two
    return mask


def _string_column(arr: Array, pd: Any, dtype_backend: str | None) -> Any:
    """Strings as pandas' default ``str`` dtype (or ``StringDtype`` / ``ArrowDtype``): backed by
    the Arrow buffers themselves when pyarrow is installed, Python objects otherwise."""
    try:
        import pyarrow as pa
    except ImportError:
        pa = None
    if pa is not None:
        pa_arr = pa.array(arr)  # zero-copy through the C data interface
        if dtype_backend == "pyarrow":
            return pd.arrays.ArrowExtensionArray(pa_arr)
        na_value = pd.NA if dtype_backend == "numpy_nullable" else np.nan
        return pd.array(pa_arr, dtype=pd.StringDtype(storage="pyarrow", na_value=na_value))
    values = np.empty(len(arr), dtype=object)
    values[:] = arr.to_pylist()
    if dtype_backend == "numpy_nullable":
        return pd.array(values, dtype=pd.StringDtype(storage="python"))
    return pd.array(values, dtype="str")


def column_to_pandas(
    arr: Array,
    leases: list[_Lease],
    types_mapper: Callable[[Any], Any] | None = None,
    dtype_backend: str | None = None,
) -> Any:
    """One Arrow array as the values of a pandas column (ndarray or ExtensionArray)."""
    pd = _pandas()
    t = arr.type
    if types_mapper is not None:
        ext = types_mapper(t)
        if ext is not None:
            return ext.__from_arrow__(_to_pyarrow(arr))
    if dtype_backend == "pyarrow":
        pa_arr = _to_pyarrow(arr)
        return pd.arrays.ArrowExtensionArray(pa_arr)
    if t.is_dictionary:
        indices, dictionary = arr.indices, arr.dictionary
        assert indices is not None and dictionary is not None
        codes_view = values_view(indices)
        assert codes_view is not None
        categories = pd.Index(column_to_pandas(dictionary, [], None, None))
        dtype = pd.CategoricalDtype(categories, ordered=False)
        signed = np.dtype(f"i{codes_view.dtype.itemsize}")
        decoded_here = getattr(leases, "writable", False)
        sentinels_written = codes_view.dtype.kind == "i" or arr.null_count == 0
        if decoded_here and sentinels_written and len(categories) <= np.iinfo(signed).max:
            # From colbridge's own decoder: codes are validated and (signed) null codes already
            # hold -1 (src/interop/pandas.rs).
            codes = _leased(codes_view, leases).view(signed)
            return compat.categorical_sharing_codes(codes, dtype)
        return _categorical(codes_view, _mask(arr), dtype, leases)
    mask = _mask(arr)
    view = values_view(arr)
    if view is not None:
        shared = _leased(view, leases)
        if t.is_integer and (mask is not None or dtype_backend == "numpy_nullable"):
            m = mask if mask is not None else np.zeros(len(arr), dtype=np.bool_)
            return pd.arrays.IntegerArray(shared, m, copy=False)
        if t.is_floating and dtype_backend == "numpy_nullable":
            m = mask if mask is not None else np.zeros(len(arr), dtype=np.bool_)
            # pandas has Float32 and Float64; float16 widens (a copy), as in pandas' reader.
            values = shared if shared.dtype.itemsize >= 4 else shared.astype(np.float32)
            return pd.arrays.FloatingArray(values, m, copy=False)
        if mask is not None:
            if view.dtype.kind in "mM":
                out = view.copy()
                out[mask] = (
                    np.datetime64("NaT") if view.dtype.kind == "M" else np.timedelta64("NaT")
                )
            else:
                out = view.astype(np.float64 if view.dtype.itemsize > 4 else view.dtype, copy=True)
                if out.dtype.kind != "f":
                    out = out.astype(np.float64)
                out[mask] = np.nan
            shared = out
        if t.tz is not None:
            dtype = pd.DatetimeTZDtype(unit=np.datetime_data(shared.dtype)[0], tz=t.tz)
            utc = shared if shared.dtype.kind == "M" else shared.view(view.dtype)
            return compat.datetime_tz_array(utc, dtype)
        return shared
    if t.is_boolean and arr.values is not None:
        values = bitmap_to_mask(arr.values).copy()  # Arrow bits → NumPy bytes: one unpack
        if dtype_backend == "numpy_nullable":
            m = mask if mask is not None else np.zeros(len(arr), dtype=np.bool_)
            return pd.arrays.BooleanArray(values, m, copy=False)
        if mask is None:
            return values
    if t.is_string:
        return _string_column(arr, pd, dtype_backend)
    out = np.empty(len(arr), dtype=object)
    out[:] = arr.to_pylist()
    return out


def _categorical(
    indices: np.ndarray[Any, Any],
    mask: np.ndarray[Any, np.dtype[np.bool_]] | None,
    dtype: Any,
    leases: list[_Lease],
) -> Any:
    """A Categorical whose codes are the Arrow indices (shared when there are no nulls).

    pandas' own constructors narrow the codes to the smallest integer type for the number of
    categories (``coerce_indexer_dtype``), which copies int16/32/64 indices; the codes are put
    in place without that narrowing instead (pandas handles any signed integer codes).
    Unsigned indices are reinterpreted as the signed type of the same width, which is
    bit-identical because every valid index is smaller than the number of categories.
    """
    n_categories = len(dtype.categories)
    valid = indices if mask is None else indices[~mask]
    if len(valid) and (int(valid.min()) < 0 or int(valid.max()) >= n_categories):
        from colbridge.errors import InvalidInputError

        raise InvalidInputError(
            f"dictionary indices out of range for a dictionary of {n_categories} values"
        )
    signed = np.dtype(f"i{indices.dtype.itemsize}")
    if mask is None and n_categories <= np.iinfo(signed).max:
        codes = _leased(indices, leases).view(signed)
        return compat.categorical_sharing_codes(codes, dtype)
    codes = indices.astype(np.int64, copy=True)
    if mask is not None:
        codes[mask] = -1
    return compat.categorical_from_codes(codes, dtype)


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
    _pandas()
    leases = _Leases(writable=hand_over)
    columns = [
        _named(
            name, col, lambda c: column_to_pandas(_single(c), leases, types_mapper, dtype_backend)
        )
        for name, col in zip(table.column_names, table.columns, strict=True)
    ]
    frame = compat.frame_from_columns(table.column_names, columns)
    if hand_over:
        return frame
    _pin_copy_on_write(frame, leases)
    return frame


def _named(name: str, col: ChunkedArray, convert: Callable[[ChunkedArray], Any]) -> Any:
    """``convert(col)``, with a value pandas cannot hold (a date past year 9999, a timestamp
    outside Python's range) reported as a colbridge error naming the column (still a
    ``ValueError``, as pandas' own error is)."""
    try:
        return convert(col)
    except (ValueError, OverflowError) as e:
        if isinstance(e, ColbridgeError):
            raise
        raise InvalidInputError(f"column {name!r} ({col.type}): {e}") from e


def to_series(arr: Array | ChunkedArray, **kwargs: Any) -> Any:
    """``Array.to_pandas``: a Series over the array's memory (same policy as ``to_dataframe``)."""
    pd = _pandas()
    leases: list[_Lease] = []
    values = column_to_pandas(
        _single(arr), leases, kwargs.get("types_mapper"), kwargs.get("dtype_backend")
    )
    series = pd.Series(values, copy=False)
    _pin_copy_on_write(series, leases)
    return series


def _pin_copy_on_write(obj: Any, leases: list[_Lease]) -> None:
    """Register an empty sentinel block next to each block of ``obj`` and let the leases keep
    the sentinels alive, so pandas sees every shared block as referenced and copies it before
    any write (see the module docstring). The sentinels own empty copies of the values only:
    a lease must never reach the shared arrays, or the arrays (whose ``base`` is the lease)
    would form a cycle the garbage collector cannot see, and the memory would leak."""
    if not leases:
        return
    sentinels = compat.copy_on_write_sentinels(obj)
    for lease in leases:
        lease.owner = sentinels
