"""The protocol's own vocabulary: enums and dtype tuples fixed by the spec, the typed dicts its
methods return, and the protocol dtype of each Arrow type."""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING, TypedDict

from colbridge.errors import UnsupportedTypeError

if TYPE_CHECKING:
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
