"""One column: its protocol dtype, offset, null description and buffers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from colbridge._interchange.buffer import Buffer, _bitmap, _owned, _shifted
from colbridge._interchange.protocol import (
    _BITMASK,
    _BYTES,
    _NATIVE,
    CategoricalDescription,
    ColumnBuffers,
    ColumnNullType,
    Dtype,
    DtypeKind,
    _storage_dtype,
    protocol_dtype,
)
from colbridge._numpy import bitmap_to_mask
from colbridge.errors import ZeroCopyError

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray
    from colbridge._colbridge import Buffer as ArrowBuffer


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
        return protocol_dtype(self._col.type)

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
