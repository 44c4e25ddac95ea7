"""The (legacy) DataFrame interchange protocol (``__dataframe__``) over colbridge tables.

Spec: https://data-apis.org/dataframe-protocol/latest/. Every buffer handed out points into the
Arrow memory itself (``Buffer.ptr`` is the address of a :class:`colbridge.Buffer`); nothing is
copied except where the protocol cannot describe the Arrow layout (see below). pyarrow is not
needed here.

Offsets. The protocol has a single element ``offset`` per column that applies to every buffer,
while Arrow bitmaps (validity, boolean values) may start at any bit. colbridge's bitmap buffers
start at the byte holding the array's first bit and report ``bit_offset`` (0..7), so a column's
``offset`` is that bit offset and every other buffer pointer is moved back by ``offset``
elements to match. Consumers only read elements ``offset .. offset + size()``, which are exactly
the array's own elements.

Copies happen only when
  * a column has several chunks and ``get_buffers()`` is called on it directly (``allow_copy``),
  * a boolean column's values and validity bitmaps start at different bits (rare; the values
    bitmap is re-aligned),
  * a floating-point column with nulls: pandas' consumer writes NaN *in place* into the null
    slots of the data buffer it is given, which would write into memory colbridge lends out
    read-only (perhaps a NumPy array the user still holds). With ``allow_copy=True`` such a
    column's data buffer is therefore a private copy with NaN in the null slots; with
    ``allow_copy=False`` it is the Arrow buffer itself,
  * ``nan_as_null=True`` on a floating-point column with nulls (the nulls become NaN in a copy).

Example:
    >>> import colbridge
    >>> df = colbridge.table({"a": [1, 2, None]}).__dataframe__()
    >>> col = df.get_column_by_name("a")
    >>> col.dtype, col.describe_null, col.null_count
    ((<DtypeKind.INT: 0>, 64, 'l', '='), (<ColumnNullType.USE_BITMASK: 3>, 0), 1)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from colbridge._numpy import bitmap_to_mask
from colbridge.errors import UnsupportedTypeError, ZeroCopyError

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray, Table
    from colbridge._colbridge import Buffer as ArrowBuffer

__all__ = [
    "Buffer",
    "Column",
    "ColumnBuffers",
    "ColumnNullType",
    "DataFrame",
    "DlpackDeviceType",
    "DtypeKind",
]


class DtypeKind(enum.IntEnum):
    """The ``kind`` of a protocol dtype (values fixed by the spec)."""

    INT = 0
    UINT = 1
    FLOAT = 2
    BOOL = 20
    STRING = 21
    DATETIME = 22
    CATEGORICAL = 23


class ColumnNullType(enum.IntEnum):
    """How a column represents missing values (values fixed by the spec)."""

    NON_NULLABLE = 0
    USE_NAN = 1
    USE_SENTINEL = 2
    USE_BITMASK = 3
    USE_BYTEMASK = 4


class DlpackDeviceType(enum.IntEnum):
    """DLPack device types; colbridge memory always lives on the CPU."""

    CPU = 1


Dtype = tuple[DtypeKind, int, str, str]
"""(kind, bit width, Arrow C format string, endianness)."""

_NATIVE = "="

# Arrow C data interface format strings of the fixed-width types colbridge names.
_FIXED: dict[str, tuple[DtypeKind, int, str]] = {
    "int8": (DtypeKind.INT, 8, "c"),
    "int16": (DtypeKind.INT, 16, "s"),
    "int32": (DtypeKind.INT, 32, "i"),
    "int64": (DtypeKind.INT, 64, "l"),
    "uint8": (DtypeKind.UINT, 8, "C"),
    "uint16": (DtypeKind.UINT, 16, "S"),
    "uint32": (DtypeKind.UINT, 32, "I"),
    "uint64": (DtypeKind.UINT, 64, "L"),
    "halffloat": (DtypeKind.FLOAT, 16, "e"),
    "float": (DtypeKind.FLOAT, 32, "f"),
    "double": (DtypeKind.FLOAT, 64, "g"),
    "date32[day]": (DtypeKind.DATETIME, 32, "tdD"),
    "date64[ms]": (DtypeKind.DATETIME, 64, "tdm"),
}
_VARIABLE: dict[str, tuple[DtypeKind, int, str]] = {
    "bool": (DtypeKind.BOOL, 1, "b"),
    "string": (DtypeKind.STRING, 8, "u"),
    "large_string": (DtypeKind.STRING, 8, "U"),
}
_UNIT_LETTER = {"s": "s", "ms": "m", "us": "u", "ns": "n"}
_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:, tz=(.*))?\]$")
_DURATION = re.compile(r"^duration\[(s|ms|us|ns)\]$")
_DICTIONARY = re.compile(r"^dictionary<values=(.*), indices=(\w+), ordered=([01])>$")

_BITMASK: Dtype = (DtypeKind.BOOL, 1, "b", _NATIVE)
_BYTES: Dtype = (DtypeKind.UINT, 8, "C", _NATIVE)


def protocol_dtype(type_name: str) -> Dtype:
    """The protocol dtype tuple of an Arrow type, by its colbridge (pyarrow-style) name.

    Raises :class:`colbridge.UnsupportedTypeError` for types the protocol cannot describe
    (nested types, binary, decimals, string views, ...).

    Example:
        >>> protocol_dtype("timestamp[us, tz=UTC]")
        (<DtypeKind.DATETIME: 22>, 64, 'tsu:UTC', '=')
    """
    info = _FIXED.get(type_name) or _VARIABLE.get(type_name)
    if info is not None:
        return (info[0], info[1], info[2], _NATIVE)
    if m := _TIMESTAMP.match(type_name):
        return (DtypeKind.DATETIME, 64, f"ts{_UNIT_LETTER[m[1]]}:{m[2] or ''}", _NATIVE)
    if m := _DURATION.match(type_name):
        return (DtypeKind.DATETIME, 64, f"tD{_UNIT_LETTER[m[1]]}", _NATIVE)
    if m := _DICTIONARY.match(type_name):
        index = _FIXED.get(m[2])
        if index is not None and index[0] in (DtypeKind.INT, DtypeKind.UINT):
            return (DtypeKind.CATEGORICAL, index[1], index[2], _NATIVE)
    raise UnsupportedTypeError(
        f"the DataFrame interchange protocol cannot describe Arrow type {type_name}"
    )


def _storage_dtype(dtype: Dtype) -> Dtype:
    """The dtype of a column's data buffer: temporal values as the integers that store them."""
    kind, bits, fmt, _ = dtype
    if kind == DtypeKind.DATETIME:
        return (DtypeKind.INT, bits, "l" if bits == 64 else "i", _NATIVE)
    return dtype


class Buffer:
    """One contiguous block of memory handed to a consumer: a pointer and a size in bytes.

    ``owner`` (a :class:`colbridge.Buffer` or, for the rare copies, a NumPy array) keeps the
    memory alive for as long as this object lives.

    Example:
        >>> import colbridge
        >>> arr = colbridge.array([1, 2, 3])
        >>> Buffer(arr.values.address, arr.values.size, arr.values).bufsize
        24
    """

    __slots__ = ("_bufsize", "_owner", "_ptr")

    def __init__(self, ptr: int, bufsize: int, owner: Any) -> None:
        self._ptr = ptr
        self._bufsize = bufsize
        self._owner = owner

    @property
    def bufsize(self) -> int:
        """Size of the buffer in bytes."""
        return self._bufsize

    @property
    def ptr(self) -> int:
        """Address of the first byte, as an integer."""
        return self._ptr

    def __copy__(self) -> Buffer:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Buffer:
        # The memory is immutable and shared by design; pandas deep-copies ``DataFrame.attrs``
        # (where its consumer keeps the buffers alive), so a deep copy is this same view.
        return self

    def __dlpack__(self) -> Any:
        """Not supported: consumers use ``ptr`` and ``bufsize`` (the spec makes this optional)."""
        raise NotImplementedError("colbridge interchange buffers do not implement __dlpack__")

    def __dlpack_device__(self) -> tuple[DlpackDeviceType, int | None]:
        """Device type and id: always the CPU."""
        return (DlpackDeviceType.CPU, None)

    def __repr__(self) -> str:
        return f"colbridge.interchange.Buffer(ptr=0x{self._ptr:x}, bufsize={self._bufsize})"


class ColumnBuffers(TypedDict):
    """What :meth:`Column.get_buffers` returns."""

    data: tuple[Buffer, Dtype]
    validity: tuple[Buffer, Dtype] | None
    offsets: tuple[Buffer, Dtype] | None


class CategoricalDescription(TypedDict):
    """What :attr:`Column.describe_categorical` returns."""

    is_ordered: bool
    is_dictionary: bool
    categories: Column | None


def _shifted(buf: ArrowBuffer, elements: int) -> Buffer:
    """``buf`` seen from ``elements`` elements before its start (to honour a column offset)."""
    back = elements * buf.itemsize
    return Buffer(buf.address - back, buf.size + back, buf)


def _bitmap(buf: ArrowBuffer) -> Buffer:
    return Buffer(buf.address, buf.size, buf)


def _owned(values: np.ndarray[Any, Any]) -> Buffer:
    return Buffer(values.__array_interface__["data"][0], values.nbytes, values)


def _single(col: Array | ChunkedArray, allow_copy: bool) -> Array:
    from colbridge._colbridge import Array

    if isinstance(col, Array):
        return col
    if col.num_chunks == 1:
        return col.chunk(0)
    if not allow_copy:
        raise ZeroCopyError(
            f"a column of {col.num_chunks} chunks has no single set of buffers without a copy "
            "(allow_copy=False); iterate get_chunks() instead"
        )
    return col.combine_chunks()


class _Layout:
    """The protocol view of one Arrow array: offset, null description and buffers."""

    def __init__(self, arr: Array, dtype: Dtype, nan_as_null: bool, allow_copy: bool) -> None:
        kind = dtype[0]
        validity = arr.validity if arr.null_count > 0 else None
        self.offset = validity.bit_offset or 0 if validity is not None else 0
        self.validity: tuple[Buffer, Dtype] | None = None
        self.offsets: tuple[Buffer, Dtype] | None = None
        self.describe_null: tuple[ColumnNullType, Any] = (ColumnNullType.NON_NULLABLE, None)
        if validity is not None:
            self.validity = (_bitmap(validity), _BITMASK)
            self.describe_null = (ColumnNullType.USE_BITMASK, 0)

        if kind == DtypeKind.BOOL:
            self.data = self._bool_data(arr, validity, allow_copy)
        elif kind == DtypeKind.STRING:
            offsets, data = arr.offsets, arr.data
            assert offsets is not None and data is not None
            bits = offsets.itemsize * 8
            fmt = "l" if bits == 64 else "i"
            self.offsets = (_shifted(offsets, self.offset), (DtypeKind.INT, bits, fmt, _NATIVE))
            self.data = (Buffer(data.address, data.size, data), _BYTES)
        else:
            values = arr.values  # fixed-width values, or a dictionary's indices
            assert values is not None
            storage = _storage_dtype(dtype)
            if kind == DtypeKind.CATEGORICAL:
                storage = (
                    DtypeKind.INT if dtype[2].islower() else DtypeKind.UINT,
                    *dtype[1:],
                )
            self.data = (_shifted(values, self.offset), storage)
            if kind == DtypeKind.FLOAT and validity is not None and (nan_as_null or allow_copy):
                self._float_with_nan(arr, values, storage, nan_as_null)

    def _bool_data(
        self, arr: Array, validity: ArrowBuffer | None, allow_copy: bool
    ) -> tuple[Buffer, Dtype]:
        values = arr.values
        assert values is not None
        start = values.bit_offset or 0
        if validity is None:
            self.offset = start
        elif start != self.offset:
            if not allow_copy:
                raise ZeroCopyError(
                    "the boolean values and validity bitmaps start at different bits; "
                    "aligning them needs a copy (allow_copy=False)"
                )
            bits = np.concatenate([np.zeros(self.offset, np.bool_), bitmap_to_mask(values)])
            return (_owned(np.packbits(bits, bitorder="little")), _BITMASK)
        return (_bitmap(values), _BITMASK)

    def _float_with_nan(
        self, arr: Array, values: ArrowBuffer, storage: Dtype, nan_as_null: bool
    ) -> None:
        copy = np.zeros(self.offset + len(arr), dtype=np.asarray(values).dtype)
        copy[self.offset :] = np.asarray(values)
        copy[self.offset :][~bitmap_to_mask(arr.validity)] = np.nan  # type: ignore[arg-type]
        self.data = (_owned(copy), storage)
        if nan_as_null:
            self.validity = None
            self.describe_null = (ColumnNullType.USE_NAN, None)


class Column:
    """One column of a :class:`DataFrame`: a colbridge ``ChunkedArray`` or ``Array``.

    Example:
        >>> import colbridge
        >>> col = colbridge.table({"s": ["a", None]}).__dataframe__().get_column(0)
        >>> col.size(), col.dtype[0].name, sorted(col.get_buffers())
        (2, 'STRING', ['data', 'offsets', 'validity'])
    """

    def __init__(
        self, column: Array | ChunkedArray, nan_as_null: bool = False, allow_copy: bool = True
    ) -> None:
        self._col = column
        self._nan_as_null = nan_as_null
        self._allow_copy = allow_copy
        self._layout_cache: _Layout | None = None

    def _layout(self) -> _Layout:
        if self._layout_cache is None:
            arr = _single(self._col, self._allow_copy)
            self._layout_cache = _Layout(arr, self.dtype, self._nan_as_null, self._allow_copy)
        return self._layout_cache

    def size(self) -> int:
        """Number of elements."""
        return len(self._col)

    @property
    def offset(self) -> int:
        """Offset of the first element in every buffer (0..7: the bit offset of the bitmaps)."""
        return self._layout().offset

    @property
    def dtype(self) -> Dtype:
        """(kind, bit width, Arrow C format string, endianness) of the column."""
        return protocol_dtype(str(self._col.type))

    @property
    def describe_categorical(self) -> CategoricalDescription:
        """For dictionary columns: ordering and the categories (the dictionary) as a Column.

        The dictionary of the first chunk is used; colbridge does not record ``ordered``
        in its type names, so ``is_ordered`` is always False.
        """
        if self.dtype[0] != DtypeKind.CATEGORICAL:
            raise TypeError("describe_categorical is only defined for categorical columns")
        arr = _single(self._col, self._allow_copy)
        dictionary = arr.dictionary
        categories = None if dictionary is None else Column(dictionary, False, self._allow_copy)
        return {"is_ordered": False, "is_dictionary": True, "categories": categories}

    @property
    def describe_null(self) -> tuple[ColumnNullType, Any]:
        """(null kind, value): a bit mask where 0 means null, or NaN, or no nulls."""
        return self._layout().describe_null

    @property
    def null_count(self) -> int:
        """Number of nulls."""
        return self._col.null_count

    @property
    def metadata(self) -> dict[str, Any]:
        """Column metadata (none)."""
        return {}

    def num_chunks(self) -> int:
        """Number of chunks."""
        from colbridge._colbridge import Array

        return 1 if isinstance(self._col, Array) else max(self._col.num_chunks, 1)

    def get_chunks(self, n_chunks: int | None = None) -> Iterator[Column]:
        """The chunks as Columns; ``n_chunks`` (a multiple of ``num_chunks()``) splits further."""
        from colbridge._colbridge import Array

        chunks = [self._col] if isinstance(self._col, Array) else list(self._col.chunks)
        if not chunks:
            chunks = [_single(self._col, True)]
        for arr in chunks:
            for start, length in _splits(len(arr), n_chunks, len(chunks)):
                yield Column(arr.slice(start, length), self._nan_as_null, self._allow_copy)

    def get_buffers(self) -> ColumnBuffers:
        """The data, validity and offsets buffers, each as (Buffer, dtype) or None."""
        layout = self._layout()
        return {"data": layout.data, "validity": layout.validity, "offsets": layout.offsets}

    def __repr__(self) -> str:
        return f"colbridge.interchange.Column<{self._col.type}> size={self.size()}"


def _splits(length: int, n_chunks: int | None, natural: int) -> list[tuple[int, int]]:
    """(start, length) of the pieces one natural chunk splits into for ``get_chunks``."""
    if n_chunks is None:
        return [(0, length)]
    if n_chunks < natural or n_chunks % natural:
        raise ValueError(f"n_chunks must be a multiple of num_chunks() = {natural}")
    pieces = n_chunks // natural
    step = -(-length // pieces) if length else 0
    return [(min(i * step, length), max(0, min(step, length - i * step))) for i in range(pieces)]


class DataFrame:
    """A colbridge :class:`~colbridge.Table` as a ``__dataframe__`` interchange object.

    Example:
        >>> import colbridge
        >>> df = colbridge.table({"a": [1, 2], "b": ["x", "y"]}).__dataframe__()
        >>> df.num_columns(), df.num_rows(), list(df.column_names())
        (2, 2, ['a', 'b'])
    """

    def __init__(self, table: Table, nan_as_null: bool = False, allow_copy: bool = True) -> None:
        self._table = table
        self._nan_as_null = nan_as_null
        self._allow_copy = allow_copy

    def __dataframe__(self, nan_as_null: bool = False, allow_copy: bool = True) -> DataFrame:
        """The protocol object itself (with the given options)."""
        return DataFrame(self._table, nan_as_null, allow_copy)

    @property
    def metadata(self) -> dict[str, Any]:
        """The table's schema metadata, with keys prefixed ``colbridge.``."""
        meta = self._table.schema.metadata or {}
        return {f"colbridge.{_text(k)}": _text(v) for k, v in meta.items()}

    def num_columns(self) -> int:
        """Number of columns."""
        return self._table.num_columns

    def num_rows(self) -> int:
        """Number of rows."""
        return self._table.num_rows

    def num_chunks(self) -> int:
        """Number of chunks: rows split wherever any column's chunks split."""
        return len(self._bounds()) - 1 if self._table.num_rows else 1

    def column_names(self) -> Iterable[str]:
        """The column names, in order."""
        return list(self._table.column_names)

    def get_column(self, i: int) -> Column:
        """The column at position ``i``."""
        return Column(self._table.column(i), self._nan_as_null, self._allow_copy)

    def get_column_by_name(self, name: str) -> Column:
        """The column called ``name``."""
        return Column(self._table.column(name), self._nan_as_null, self._allow_copy)

    def get_columns(self) -> Iterable[Column]:
        """All columns, in order."""
        return [self.get_column(i) for i in range(self.num_columns())]

    def select_columns(self, indices: Sequence[int]) -> DataFrame:
        """A DataFrame of the columns at ``indices`` (no copy)."""
        if not isinstance(indices, Sequence) or isinstance(indices, str):
            raise TypeError("indices must be a sequence of integers")
        return self._with(self._table.select([int(i) for i in indices]))

    def select_columns_by_name(self, names: Sequence[str]) -> DataFrame:
        """A DataFrame of the columns called ``names`` (no copy)."""
        if not isinstance(names, Sequence) or isinstance(names, str):
            raise TypeError("names must be a sequence of strings")
        return self._with(self._table.select(list(names)))

    def get_chunks(self, n_chunks: int | None = None) -> Iterator[DataFrame]:
        """The row chunks as DataFrames (zero-copy slices); every column has one chunk in each."""
        bounds = self._bounds()
        natural = len(bounds) - 1
        if natural == 0:
            yield self
            return
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            for s, n in _splits(end - start, n_chunks, natural):
                yield self._with(self._table.slice(start + s, n))

    def _bounds(self) -> list[int]:
        bounds = {0, self._table.num_rows}
        for col in self._table.columns:
            at = 0
            for chunk in col.chunks:
                at += len(chunk)
                bounds.add(at)
        return sorted(b for b in bounds if b <= self._table.num_rows)

    def _with(self, table: Table) -> DataFrame:
        return DataFrame(table, self._nan_as_null, self._allow_copy)

    def __repr__(self) -> str:
        return (
            f"colbridge.interchange.DataFrame({self.num_rows()} rows x "
            f"{self.num_columns()} columns)"
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
