"""``DataType`` answers questions about itself (format, widths, unit, zone, index/value types,
predicates) the way pyarrow's types and the Arrow C data interface do, so no caller parses a
type's name."""

from __future__ import annotations

import nanoarrow as na
import pyarrow as pa
import pytest

import colbridge

from ..conftest import pyarrow_type

TYPES: list[str | pa.DataType] = [
    "null", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "halffloat", "float", "double", "string", "large_string", "string_view", "binary",
    "large_binary", "binary_view", "fixed_size_binary[3]", "date32[day]", "date64[ms]",
    "time32[ms]", "time64[ns]", "timestamp[s]", "timestamp[us, tz=UTC]",
    "timestamp[ns, tz=Europe/Paris]", "duration[ms]", "decimal128(10, 2)", "decimal256(40, 5)",
    "list<item: int64>", "large_list<item: string>", pa.list_(pa.float64(), 3),
    pa.struct([("a", pa.int64()), ("b", pa.string())]), pa.map_(pa.string(), pa.int64()),
    pa.dictionary(pa.int8(), pa.string()), pa.dictionary(pa.uint32(), pa.float64()),
]  # fmt: skip


PREDICATES = {
    "is_null": pa.types.is_null,
    "is_boolean": pa.types.is_boolean,
    "is_integer": pa.types.is_integer,
    "is_signed_integer": pa.types.is_signed_integer,
    "is_unsigned_integer": pa.types.is_unsigned_integer,
    "is_floating": pa.types.is_floating,
    "is_decimal": pa.types.is_decimal,
    "is_temporal": pa.types.is_temporal,
    "is_timestamp": pa.types.is_timestamp,
    "is_date": pa.types.is_date,
    "is_time": pa.types.is_time,
    "is_duration": pa.types.is_duration,
    "is_string": lambda t: (
        pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    ),
    "is_binary": lambda t: (
        pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)
    ),
    "is_list": lambda t: (
        pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    ),
    "is_struct": pa.types.is_struct,
    "is_map": pa.types.is_map,
    "is_dictionary": pa.types.is_dictionary,
    "is_nested": pa.types.is_nested,
    "is_numeric": lambda t: (
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    ),
}


@pytest.fixture(params=TYPES, ids=str)
def types(request: pytest.FixtureRequest) -> tuple[colbridge.DataType, pa.DataType]:
    t = colbridge.DataType(request.param)
    return t, pyarrow_type(t)


@pytest.mark.parametrize("predicate", sorted(PREDICATES))
def test_predicates_agree_with_pyarrow(types, predicate: str) -> None:
    t, pat = types
    assert getattr(t, predicate) is PREDICATES[predicate](pat)


def test_format_is_the_c_data_interface_format(types) -> None:
    t, _ = types
    assert t.format == na.c_schema(t).format


def test_attributes_agree_with_pyarrow(types) -> None:
    t, pat = types
    assert t.tz == getattr(pat, "tz", None)
    unit = getattr(pat, "unit", None)
    assert t.time_unit == (unit if isinstance(unit, str) and not pa.types.is_date(pat) else None)
    assert t.list_size == getattr(pat, "list_size", None)
    assert t.precision == getattr(pat, "precision", None)
    assert t.scale == getattr(pat, "scale", None)
    if pa.types.is_dictionary(pat):
        assert t.index_type == colbridge.DataType(pat.index_type)
        assert t.value_type == colbridge.DataType(pat.value_type)
    elif hasattr(pat, "value_type"):
        assert t.value_type == colbridge.DataType(pat.value_type)
    else:
        assert t.index_type is None and t.value_type is None
    try:
        width = pat.bit_width
    except ValueError:
        width = None
    if not (pa.types.is_dictionary(pat) or pa.types.is_fixed_size_binary(pat)):
        assert t.bit_width == width
    if t.bit_width is not None and not pa.types.is_boolean(pat):
        assert t.byte_width == pat.byte_width


def test_attributes_a_type_does_not_have_are_none() -> None:
    t = colbridge.DataType("int64")
    assert (t.time_unit, t.tz, t.index_type, t.value_type, t.list_size) == (None,) * 5
    assert (t.precision, t.scale) == (None, None)
    assert colbridge.DataType("string").bit_width is None
    assert colbridge.DataType("fixed_size_binary[3]").byte_width == 3
