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

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from colbridge import _pandas_compat as compat
from colbridge._numpy import bitmap_to_mask, values_view
from colbridge._optional import require
from colbridge.errors import ColbridgeError, InvalidInputError

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray, DataType, Table


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
    """The leases of one conversion, whether the memory is handed over writable, and whether
    colbridge's decoder already wrote pandas' sentinels into it and checked its dictionary codes
    (``read_pandas``)."""

    def __init__(self, writable: bool = False) -> None:
        super().__init__()
        self.writable = writable
        self.sentinels = False  # set per column by ``to_dataframe``


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


#: Rows whose null mask is unpacked at a time where a column-sized mask is not needed (a
#: multiple of 8, so that each slice starts on a byte of the validity bitmap).
_MASK_ROWS = 1 << 20


def _null_slices(arr: Array) -> Iterator[tuple[slice, np.ndarray[Any, np.dtype[np.bool_]]]]:
    """Each slice of ``_MASK_ROWS`` rows of ``arr`` that holds nulls, with its mask (True at a
    null), unpacked from the validity bitmap a slice at a time."""
    validity = arr.validity
    if arr.null_count == 0 or validity is None:
        return
    offset = validity.bit_offset or 0
    raw = np.frombuffer(memoryview(validity), dtype=np.uint8)
    for start in range(0, len(arr), _MASK_ROWS):
        stop = min(start + _MASK_ROWS, len(arr))
        first = (offset + start) // 8
        bits = np.unpackbits(raw[first : (offset + stop + 7) // 8], bitorder="little")
        skip = offset + start - first * 8
        mask = ~bits[skip : skip + stop - start].view(np.bool_)
        if mask.any():
            yield slice(start, stop), mask


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


_MASKED_NAMES = frozenset(
    [f"Int{b}" for b in (8, 16, 32, 64)]
    + [f"UInt{b}" for b in (8, 16, 32, 64)]
    + ["Float32", "Float64", "boolean"]
)


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        return None
    return pa


def _masked_name(t: DataType) -> str | None:
    """pandas' ``numpy_nullable`` mapping (``pandas.io._util._arrow_dtype_mapping``): the masked
    dtype of an Arrow type, or None where pandas has none (float16, string_view, nested...)."""
    if t.is_integer:
        return f"{'U' if t.is_unsigned_integer else ''}Int{t.bit_width}"
    if t.is_boolean:
        return "boolean"
    if t.is_floating and t.bit_width in (32, 64):
        return f"Float{t.bit_width}"
    return None


def _tzinfo(tz: str) -> Any:
    """The tzinfo pyarrow gives for an Arrow time zone string (``pyarrow.lib.string_to_tzinfo``):
    a fixed offset ``+05:30`` is a ``datetime.timezone``, a name a ``zoneinfo.ZoneInfo``."""
    import datetime as dt
    import re
    import zoneinfo

    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", tz)
    if m:
        delta = dt.timedelta(hours=int(m[2]), minutes=int(m[3]))
        return dt.timezone(-delta if m[1] == "-" else delta)
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return tz


def _code_dtype(n_categories: int) -> np.dtype[Any]:
    """pandas' code width for ``n_categories`` (``pandas.core.dtypes.cast.coerce_indexer_dtype``,
    which compares with ``iinfo(int8).max`` = 127, so 127 categories take int16)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _masked_array(arr: Array, leases: list[_Lease], name: str, nan_is_null: bool = True) -> Any:
    """A pandas masked array (``Int64``, ``Float64``, ``boolean``...) over the Arrow values."""
    pd = _pandas()
    mask = _mask(arr)
    m = mask if mask is not None else np.zeros(len(arr), dtype=np.bool_)
    if name == "boolean":
        assert arr.values is not None
        values = bitmap_to_mask(arr.values).copy()
        return pd.arrays.BooleanArray(values, m, copy=False)
    view = values_view(arr)
    assert view is not None
    shared = _leased(view, leases)
    if name.startswith("Float"):
        if nan_is_null:
            # pandas' Float64/Float32 built from Arrow treat a stored NaN as missing too.
            nan = np.isnan(shared)
            if nan.any():
                m = m | nan
        return pd.arrays.FloatingArray(shared, m, copy=False)
    return pd.arrays.IntegerArray(shared, m, copy=False)


def _ints_as_float(
    shared: np.ndarray[Any, Any], arr: Array, writable: bool
) -> np.ndarray[Any, Any]:
    """An integer column with nulls as pandas' default gives it: float64 with NaN. 8-byte
    integers the frame owns alone are converted in place (the same memory, read as float64);
    narrower or shared ones need a new float64 buffer."""
    if writable and shared.dtype.itemsize == 8 and shared.flags.writeable:
        out = shared.view(np.float64)
        # Element i is read before it is written and both live at the same address: NumPy
        # treats exactly overlapping operands as safe and converts without a temporary.
        np.copyto(out, shared, casting="unsafe")
    else:
        out = shared.astype(np.float64)
    for rows, mask in _null_slices(arr):
        out[rows][mask] = np.nan
    return out


def _via_pyarrow(col: Any, pa: Any) -> np.ndarray[Any, Any]:
    """Object columns (lists, structs, maps, extension types, dates...) converted by pyarrow,
    exactly as ``pandas.read_parquet`` does: these columns hold Python objects, so no memory is
    shared either way."""
    # Through a one-column Table: ChunkedArray.to_pandas differs from Table.to_pandas (which
    # pandas uses) for some types (arrow.json gives ``str`` there, object here).
    out = pa.Table.from_arrays([col], names=["_"]).to_pandas()["_"]
    return np.asarray(out.array, dtype=object) if out.dtype == object else out.array


def column_to_pandas(
    arr: Array,
    leases: list[_Lease],
    types_mapper: Callable[[Any], Any] | None = None,
    dtype_backend: str | None = None,
    *,
    field_meta: dict[str, Any] | None = None,
    pa_column: Callable[[], Any] | None = None,
    extension: bool = False,
) -> Any:
    """One Arrow array as the values of a pandas column (ndarray or ExtensionArray), as
    ``pyarrow``'s ``to_pandas`` converts it (``field_meta``: the column's entry of the pandas
    metadata; ``pa_column``: the column as a pyarrow ChunkedArray, for the types pyarrow
    converts to Python objects; ``extension``: the field is an Arrow extension type)."""
    pd = _pandas()
    t = arr.type
    if types_mapper is not None:
        ext = types_mapper(t)
        if ext is not None:
            return ext.__from_arrow__(pa_column() if pa_column is not None else _to_pyarrow(arr))
    if dtype_backend == "pyarrow":
        pa_arr = pa_column() if pa_column is not None else _to_pyarrow(arr)
        return pd.arrays.ArrowExtensionArray(pa_arr)
    writable = getattr(leases, "writable", False)
    pa = _pyarrow()
    if extension and pa is not None and pa_column is not None:
        return _via_pyarrow(pa_column(), pa)
    if dtype_backend == "numpy_nullable":
        name = _masked_name(t)
        if name is not None and (name != "boolean" or arr.values is not None):
            return _masked_array(arr, leases, name)
        if t.is_string and t.format in ("u", "U"):
            return _string_column(arr, pd, "numpy_nullable")
    numpy_type = (field_meta or {}).get("numpy_type")
    if isinstance(numpy_type, str) and not t.is_dictionary:
        restored = _restore_extension(arr, leases, numpy_type, pa_column)
        if restored is not None:
            return restored
    if t.is_dictionary:
        ordered = bool(((field_meta or {}).get("metadata") or {}).get("ordered", False))
        if pa is not None and pa_column is not None:
            ordered = ordered or bool(pa_column().type.ordered)
        return _dictionary(arr, leases, writable, ordered)
    if pa is not None and pa_column is not None and _needs_pyarrow(t):
        return _via_pyarrow(pa_column(), pa)
    view = values_view(arr) if not (t.is_date and t.bit_width == 64) else None
    if view is not None:
        shared = _leased(view, leases)
        nulls = arr.null_count > 0 and arr.validity is not None
        if t.is_integer and nulls:
            return _ints_as_float(shared, arr, writable)
        # Where colbridge wrote the sentinels (read_pandas: src/interop/pandas.rs fills float32,
        # float64 and temporal columns), they need no check.
        known = getattr(leases, "sentinels", False) and (
            t.is_timestamp or t.is_duration or (t.is_floating and t.bit_width in (32, 64))
        )
        if nulls and not known and not _sentinels_in_place(view, arr):
            mask = _mask(arr)
            if view.dtype.kind in "mM":
                out = view.copy()
                out[mask] = (
                    np.datetime64("NaT") if view.dtype.kind == "M" else np.timedelta64("NaT")
                )
            else:
                out = view.astype(view.dtype, copy=True)
                out[mask] = np.nan
            shared = out
        if t.tz is not None:
            tz = _tzinfo(t.tz)
            dtype = pd.DatetimeTZDtype(unit=np.datetime_data(shared.dtype)[0], tz=tz)
            utc = shared if shared.dtype.kind == "M" else shared.view(view.dtype)
            return compat.datetime_tz_array(utc, dtype)
        return shared
    mask = _mask(arr)
    if t.is_boolean and arr.values is not None:
        values = bitmap_to_mask(arr.values).copy()  # Arrow bits → NumPy bytes: one unpack
        if mask is None:
            return values
        out = values.astype(object)
        out[mask] = None
        return out
    if t.is_string:
        # string_view has no place in pandas' numpy_nullable mapping: it stays ``str``.
        return _string_column(arr, pd, None)
    if pa is not None:
        return _via_pyarrow(pa_column() if pa_column is not None else _to_pyarrow(arr), pa)
    if t.is_list and t.list_size is None:  # list, large_list (fixed-size: Python lists)
        return _list_rows(arr, leases)
    out = np.empty(len(arr), dtype=object)
    out[:] = arr.to_pylist()
    return out


def _list_rows(arr: Array, leases: list[_Lease]) -> np.ndarray[Any, Any]:
    """A list column as pyarrow's ``to_pandas`` gives it, without pyarrow: one NumPy array per
    row (``None`` for a null row), each a view of the child column converted once by the same
    rules as a column (integers with nulls as float64 with NaN, strings and booleans with nulls
    as objects, nested lists as arrays of arrays)."""
    (child,) = arr.flatten()
    if child.type.is_string or child.type.is_binary:  # objects, None for a null, as pyarrow
        values = np.empty(len(child), dtype=object)
        values[:] = child.to_pylist()
    else:
        values = column_to_pandas(child, leases)
    bounds = np.asarray(arr.offsets).astype(np.int64)
    bounds -= bounds[0]
    mask = _mask(arr)
    out = np.empty(len(arr), dtype=object)
    for i in range(len(arr)):
        out[i] = None if mask is not None and mask[i] else values[bounds[i] : bounds[i + 1]]
    return out


def _sentinels_in_place(view: np.ndarray[Any, Any], arr: Array) -> bool:
    """Whether every null slot of a float or temporal column already holds pandas' sentinel
    (NaN, NaT), so that the Arrow buffer is the pandas column as it is, with no copy. Arrow
    leaves the values under nulls undefined; colbridge's Parquet decoder writes the sentinels
    there (``read_parquet(p).to_pandas()`` is then one copy), other producers usually zeros."""
    if view.dtype.kind not in "fmM":
        return False
    for rows, mask in _null_slices(arr):
        nulls = view[rows][mask]
        if not (np.isnat(nulls) if view.dtype.kind in "mM" else np.isnan(nulls)).all():
            return False
    return True


def _needs_pyarrow(t: DataType) -> bool:
    """Types whose pandas form is Python objects built by pyarrow's rules (ndarrays per list
    row, dicts per struct row, ``datetime.date`` for date64, ``uuid.UUID`` for arrow.uuid...)."""
    return bool(
        t.is_nested or (t.is_date and t.bit_width == 64) or t.is_decimal or t.is_time
    ) or not (
        t.is_integer
        or t.is_floating
        or t.is_boolean
        or t.is_string
        or t.is_temporal
        or t.is_dictionary
    )


def _restore_extension(
    arr: Array, leases: list[_Lease], numpy_type: str, pa_column: Callable[[], Any] | None
) -> Any:
    """A column whose pandas metadata names an extension dtype (``Int64``, ``string``,
    ``period[M]``...) comes back with it, as pyarrow restores it (``_get_extension_dtypes``)."""
    pd = _pandas()
    if numpy_type in _MASKED_NAMES:
        if _masked_name(arr.type) is None or (numpy_type == "boolean") != arr.type.is_boolean:
            return None
        if numpy_type != _masked_name(arr.type):
            return None
        return _masked_array(arr, leases, numpy_type)
    if numpy_type == "string" and arr.type.is_string:
        return _string_column(arr, pd, "numpy_nullable")
    try:
        np.dtype(numpy_type)
        return None  # a NumPy dtype: the default conversion gives it
    except TypeError:
        pass
    pa = _pyarrow()
    if pa is None or pa_column is None:
        return None
    try:
        dtype = pd.api.types.pandas_dtype(numpy_type)
    except (TypeError, ValueError):
        return None
    if not isinstance(dtype, pd.api.extensions.ExtensionDtype) or not hasattr(
        dtype, "__from_arrow__"
    ):
        return None
    return dtype.__from_arrow__(pa_column())


def _dictionary(arr: Array, leases: list[_Lease], writable: bool, ordered: bool) -> Any:
    """A dictionary column as a Categorical: categories the dictionary values, codes as wide
    as pandas makes them for that many categories (int8 below 127)."""
    pd = _pandas()
    indices, dictionary = arr.indices, arr.dictionary
    assert indices is not None and dictionary is not None
    codes_view = values_view(indices)
    assert codes_view is not None
    if len(dictionary) == 0:
        categories = pd.Index([], dtype=object)
    else:
        categories = pd.Index(column_to_pandas(dictionary, [], None, None))
    if not categories.is_unique:
        # Chunks' dictionaries concatenated as they were (arrow-rs merges them only when they
        # outgrow the rows): one category per value, in order of first appearance, as pyarrow
        # unifies them; the codes are remapped (a copy).
        mask = _mask(arr)
        _check_indices(codes_view, mask, len(categories))
        remap, unique = pd.factorize(categories)
        target = _code_dtype(len(unique))
        codes = remap.astype(target)[codes_view if mask is None else np.where(mask, 0, codes_view)]
        if mask is not None:
            codes[mask] = -1
        return compat.categorical_sharing_codes(
            codes, pd.CategoricalDtype(pd.Index(unique), ordered=ordered)
        )
    dtype = pd.CategoricalDtype(categories, ordered=ordered)
    target = _code_dtype(len(categories))
    if getattr(leases, "sentinels", False) and codes_view.dtype == target:
        # From colbridge's own decoder for read_pandas: codes are validated and null codes
        # already hold -1 (src/interop/pandas.rs).
        return compat.categorical_sharing_codes(_leased(codes_view, leases), dtype)
    return _categorical(codes_view, _mask(arr), dtype, leases, target, writable)


#: Codes converted at a time by ``_categorical`` (bounds its scratch memory).
_CODE_ROWS = 1 << 20


def _categorical(
    indices: np.ndarray[Any, Any],
    mask: np.ndarray[Any, np.dtype[np.bool_]] | None,
    dtype: Any,
    leases: list[_Lease],
    target: np.dtype[Any],
    writable: bool = False,
) -> Any:
    """A Categorical whose codes are the Arrow indices, in pandas' code width ``target``
    (shared when the indices already have that width and no nulls; unsigned indices are
    reinterpreted as the signed type of the same width, bit-identical for valid indices).
    Wider indices are narrowed a slice at a time: into their own buffer when the frame owns it
    alone (``writable``), else into a new one; nothing else as large as the column is made."""
    _check_indices(indices, mask, len(dtype.categories))
    if mask is None and indices.dtype.itemsize == target.itemsize:
        codes = _leased(indices, leases).view(target)
        return compat.categorical_sharing_codes(codes, dtype)
    if writable and indices.dtype.itemsize >= target.itemsize:
        # Slice k is written below where slice k + 1 starts (or onto itself), so every index
        # is read before its bytes are overwritten (NumPy buffers an overlapping slice).
        codes = _leased(indices, leases).view(target)[: len(indices)]
    else:
        codes = np.empty(len(indices), dtype=target)
    for start in range(0, len(indices), _CODE_ROWS):
        part = slice(start, start + _CODE_ROWS)
        np.copyto(codes[part], indices[part], casting="unsafe")
        if mask is not None:
            codes[part][mask[part]] = -1
    return compat.categorical_sharing_codes(codes, dtype)


def _check_indices(
    indices: np.ndarray[Any, Any],
    mask: np.ndarray[Any, np.dtype[np.bool_]] | None,
    n_categories: int,
) -> None:
    """Refuse dictionary indices (outside null slots) that do not index the dictionary (a
    slice at a time, so that the check needs no copy of the column)."""
    for start in range(0, len(indices), _CODE_ROWS):
        part = indices[start : start + _CODE_ROWS]
        valid = part if mask is None else part[~mask[start : start + _CODE_ROWS]]
        if len(valid) and (int(valid.min()) < 0 or int(valid.max()) >= n_categories):
            from colbridge.errors import InvalidInputError

            raise InvalidInputError(
                f"dictionary indices out of range for a dictionary of {n_categories} values"
            )


def _to_pyarrow(arr: Array) -> Any:
    import pyarrow as pa

    return pa.array(arr)


def _single(col: Array | ChunkedArray) -> Array:
    from colbridge._colbridge import Array

    if isinstance(col, Array):
        return col
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def check_dtype_backend(dtype_backend: str | None) -> None:
    """Refuse an unknown ``dtype_backend``, and ``"pyarrow"`` without pyarrow (saying how to
    install it), before any work is done."""
    if dtype_backend not in (None, "numpy_nullable", "pyarrow"):
        from colbridge.errors import InvalidInputError

        raise InvalidInputError(
            f"dtype_backend must be None, 'numpy_nullable' or 'pyarrow', not {dtype_backend!r}"
        )
    if dtype_backend == "pyarrow":
        require("pyarrow", "dtype_backend='pyarrow'")


def _pyarrow_columns(table: Table, chunk_rows: list[int] | None) -> Callable[[int], Any]:
    """Column ``i`` of ``table`` as a pyarrow ChunkedArray over the same memory (through the
    Arrow C stream, built once), cut into ``chunk_rows`` chunks when given: pyarrow converts
    struct children chunk by chunk, so the chunks must be the ones ``pandas.read_parquet``
    sees."""
    cache: list[Any] = []

    def column(i: int) -> Any:
        pa = _pyarrow()
        if pa is None:
            raise ImportError("pyarrow")
        if not cache:
            cache.append(pa.table(table))
        col = cache[0].column(i)
        if chunk_rows is None or sum(chunk_rows) != len(col) or "list_view" in str(col.type):
            # (pyarrow's to_pandas misreads list_view chunks that are slices: lists are
            # converted over the whole column anyway.)
            return col
        whole = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        pieces, offset = [], 0
        for n in chunk_rows:
            pieces.append(whole.slice(offset, n))
            offset += n
        return pa.chunked_array(pieces, type=col.type)

    return column


def to_dataframe(
    table: Table,
    types_mapper: Callable[[Any], Any] | None = None,
    dtype_backend: str | None = None,
    *,
    hand_over: bool = False,
    pandas_sentinels: bool = False,
    consume: bool = False,
    chunk_rows: list[int] | None = None,
    ignore_metadata: bool = False,
) -> Any:
    """``Table.to_pandas``: see the module docstring for the sharing and writing policy. The
    frame is the one pyarrow's ``Table.to_pandas`` gives (with ``types_mapper`` as pandas
    passes it for ``dtype_backend``), including the index and column labels stored in the
    pandas metadata.

    ``hand_over=True`` is for tables nobody else can see (``read_pandas``, and
    ``to_pandas(self_destruct=True)`` on a table that alone holds its memory): the memory is
    given to pandas writable, with no owner frame, as if pandas had allocated it.
    ``pandas_sentinels=True`` says colbridge's decoder already wrote pandas' sentinels into it
    and checked its dictionary codes (``read_pandas``). ``consume=True`` (a table handed over
    by ``to_pandas(self_destruct=True)``, which nothing else holds) first converts the table's
    columns in their own buffers to what pandas holds (``Table._for_pandas``), but for the
    integer columns the pandas metadata restores as masked arrays."""
    check_dtype_backend(dtype_backend)
    _pandas()
    meta = None if ignore_metadata else pandas_metadata(table.schema.metadata)
    prepared = set(table._for_pandas(masked_integers(meta))) if consume else set()
    by_field = {
        c.get("field_name"): c for c in (meta or {}).get("columns", []) if isinstance(c, dict)
    }
    pa_columns = _pyarrow_columns(table, chunk_rows)
    leases = _Leases(writable=hand_over)
    columns = []
    for i, (name, col) in enumerate(zip(table.column_names, table.columns, strict=True)):
        leases.sentinels = hand_over and (pandas_sentinels or name in prepared)
        try:
            values = column_to_pandas(
                _single(col),
                leases,
                types_mapper,
                dtype_backend,
                field_meta=by_field.get(name),
                pa_column=(lambda i=i: pa_columns(i)),  # type: ignore[misc]
                extension="ARROW:extension:name" in table.schema.field(i).metadata,
            )
        except (KeyError, NotImplementedError) as e:
            # pyarrow has no pandas conversion for some types (day-time intervals raise
            # KeyError, others ArrowNotImplementedError, a NotImplementedError).
            from colbridge.errors import UnsupportedTypeError

            raise UnsupportedTypeError(
                f"column {name!r}: pandas has no conversion for {col.type}"
            ) from e
        except (ValueError, OverflowError) as e:
            # A value pandas cannot hold (a date past year 9999, a timestamp outside Python's
            # range): a colbridge error naming the column, still a ValueError as pandas' is.
            # pyarrow's own refusals (sub-microsecond times) stay pyarrow's, as pandas gives them.
            if isinstance(e, ColbridgeError) or type(e).__module__.startswith("pyarrow"):
                raise
            raise InvalidInputError(f"column {name!r} ({col.type}): {e}") from e
        columns.append(values)
    frame = compat.frame_from_columns(table.column_names, columns, table.num_rows)
    if not hand_over:
        _pin_copy_on_write(frame, leases)
    if meta is not None:
        frame = restore_metadata(frame, meta)
    return frame


def masked_integers(meta: dict[str, Any] | None) -> list[str]:
    """The columns the pandas metadata ``meta`` gives a masked integer dtype (``Int32``...)."""
    return [
        c["field_name"]
        for c in (meta or {}).get("columns", [])
        if isinstance(c, dict)
        and isinstance(c.get("field_name"), str)
        and c.get("numpy_type") in _MASKED_NAMES
        and "Int" in c["numpy_type"]
    ]


def pandas_metadata(schema_metadata: dict[str, str]) -> dict[str, Any] | None:
    """The ``pandas`` schema-metadata entry (written by pandas/pyarrow), or None."""
    import json

    raw = schema_metadata.get("pandas")
    if not raw:
        return None
    try:
        meta = json.loads(raw)
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def restore_metadata(df: Any, meta: dict[str, Any]) -> Any:
    """The index and column labels the pandas metadata describes, as pyarrow restores them
    (``pyarrow.pandas_compat._reconstruct_index`` and ``_reconstruct_columns_from_metadata``):
    stored index columns become the index (levels named from the metadata,
    ``__index_level_N__`` unnamed), a stored range becomes a RangeIndex when its length is
    the number of rows read, and the column labels get their stored names and types."""
    pd = _pandas()
    entries = [c for c in meta.get("columns", []) if isinstance(c, dict)]
    names = {c.get("field_name"): c.get("name") for c in entries}
    index_specs = meta.get("index_columns", [])
    index_fields = [i for i in index_specs if isinstance(i, str)]
    present = [i for i in index_fields if i in df.columns]
    if present:
        level_names = [names.get(i) if i in names else i for i in present]
        df = df.set_index(present)
        df.index.names = [
            None if (n is None and str(i).startswith("__index_level_")) else n
            for i, n in zip(present, level_names, strict=True)
        ]
    elif index_specs and all(isinstance(i, dict) for i in index_specs):
        r = index_specs[0]
        if r.get("kind") == "range" and len(index_specs) == 1:
            try:
                index = pd.RangeIndex(r["start"], r["stop"], r["step"], name=r.get("name"))
            except (KeyError, TypeError, ValueError):
                index = None
            if index is not None and len(index) == len(df):
                df.index = index
    renamed = {f: n for f, n in names.items() if f in df.columns and f not in present and n != f}
    if renamed and all(isinstance(n, str) or n is None for n in renamed.values()):
        df = compat.rename_columns(df, {f: n for f, n in renamed.items() if n is not None})
    df.columns = _column_labels(df.columns, meta.get("column_indexes"))
    return df


def _column_labels(columns: Any, column_indexes: Any) -> Any:
    """The column labels from ``column_indexes``: a MultiIndex from the stored tuple strings,
    int/float/datetime labels from their string form, the level names."""
    import ast

    pd = _pandas()
    if not isinstance(column_indexes, list) or not column_indexes:
        return columns
    specs = [c for c in column_indexes if isinstance(c, dict)]
    if len(specs) != len(column_indexes):
        return columns
    level_names = [c.get("name") for c in specs]
    if len(specs) > 1:
        try:
            tuples = [ast.literal_eval(c) for c in columns]
        except (ValueError, SyntaxError):
            return columns
        if all(isinstance(t, tuple) and len(t) == len(specs) for t in tuples):
            return pd.MultiIndex.from_tuples(tuples, names=level_names)
        return columns
    spec = specs[0]
    pandas_type = spec.get("pandas_type")
    out = columns
    try:
        if pandas_type in (
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
        ):
            out = pd.Index([int(c) for c in columns], dtype=spec.get("numpy_type") or "int64")
        elif pandas_type in ("float16", "float32", "float64"):
            out = pd.Index([float(c) for c in columns], dtype=spec.get("numpy_type"))
        elif pandas_type in ("datetime", "datetimetz"):
            out = pd.DatetimeIndex(pd.to_datetime(list(columns)))
    except (TypeError, ValueError):
        out = columns
    if len(columns) == 0 and pandas_type not in (None, "unicode", "bytes", "object", "empty"):
        out = pd.Index([], dtype=np.int64)
    out = out.copy() if out is columns else out
    out.name = level_names[0]
    return out


def to_series(arr: Array | ChunkedArray, **kwargs: Any) -> Any:
    """``Array.to_pandas``: a Series over the array's memory (same policy as ``to_dataframe``)."""
    pd = _pandas()
    check_dtype_backend(kwargs.get("dtype_backend"))
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
