"""The protocol's own vocabulary: enums and dtype tuples fixed by the spec, the typed dicts its
methods return, and the protocol dtype of each Arrow type."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, TypedDict

from colbridge.errors import UnsupportedTypeError

if TYPE_CHECKING:
    from colbridge._colbridge import DataType
    from colbridge._interchange.buffer import Buffer
    from colbridge._interchange.column import Column


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

_BITMASK: Dtype = (DtypeKind.BOOL, 1, "b", _NATIVE)
_BYTES: Dtype = (DtypeKind.UINT, 8, "C", _NATIVE)


def _kind(t: DataType) -> DtypeKind | None:
    """The protocol kind of a type the protocol can describe without its children."""
    if t.is_signed_integer:
        return DtypeKind.INT
    if t.is_unsigned_integer:
        return DtypeKind.UINT
    if t.is_floating:
        return DtypeKind.FLOAT
    if t.is_boolean:
        return DtypeKind.BOOL
    if t.is_date or t.is_timestamp or t.is_duration:
        return DtypeKind.DATETIME
    if t.is_string and t.format in ("u", "U"):  # string views have no offsets buffer
        return DtypeKind.STRING
    return None


def protocol_dtype(t: DataType) -> Dtype:
    """The protocol dtype tuple of an Arrow type: its kind, bit width and Arrow C format string
    (a dictionary is categorical, with its index type's width and format).

    Raises :class:`colbridge.UnsupportedTypeError` for types the protocol cannot describe
    (nested types, binary, decimals, times of day, string views, ...).

    Example:
        >>> protocol_dtype(colbridge.DataType("timestamp[us, tz=UTC]"))
        (<DtypeKind.DATETIME: 22>, 64, 'tsu:UTC', '=')
    """
    index = t.index_type
    if index is not None and index.is_integer and index.bit_width is not None:
        return (DtypeKind.CATEGORICAL, index.bit_width, t.format, _NATIVE)
    kind = _kind(t)
    if kind == DtypeKind.STRING:
        return (kind, 8, t.format, _NATIVE)
    if kind is not None and t.bit_width is not None:
        return (kind, t.bit_width, t.format, _NATIVE)
    raise UnsupportedTypeError(f"the DataFrame interchange protocol cannot describe Arrow type {t}")


def _storage_dtype(dtype: Dtype) -> Dtype:
    """The dtype of a column's data buffer: temporal values as the integers that store them."""
    kind, bits, fmt, _ = dtype
    if kind == DtypeKind.DATETIME:
        return (DtypeKind.INT, bits, "l" if bits == 64 else "i", _NATIVE)
    return dtype


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
