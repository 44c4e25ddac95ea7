"""Property tests: random arrays of every supported type, with nulls, slices and empty arrays,
survive Python -> colbridge -> pyarrow -> colbridge and colbridge -> Polars -> colbridge with
equal values and types."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import zoneinfo
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colbridge

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = dt.UTC


def ints(bits: int, signed: bool) -> st.SearchStrategy[int]:
    if signed:
        return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return st.integers(0, 2**bits - 1)


def aware(tz: dt.tzinfo) -> st.SearchStrategy[dt.datetime]:
    # Generated as UTC instants and shown in `tz`, so every wall time exists.
    naive = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1))
    return naive.map(lambda d: d.replace(tzinfo=UTC).astimezone(tz))


DECIMALS = st.decimals(
    min_value=-(10**7), max_value=10**7, places=2, allow_nan=False, allow_infinity=False
)
TEXT = st.text(max_size=20)
STRUCTS = st.fixed_dictionaries(
    {"a": st.none() | ints(64, True), "b": st.none() | TEXT, "c": st.none() | st.booleans()}
)

# name -> (element strategy, colbridge type name or None to infer, pyarrow type)
CASES: dict[str, tuple[st.SearchStrategy[Any], str | None, pa.DataType]] = {
    "int8": (ints(8, True), "int8", pa.int8()),
    "int16": (ints(16, True), "int16", pa.int16()),
    "int32": (ints(32, True), "int32", pa.int32()),
    "int64": (ints(64, True), None, pa.int64()),
    "uint8": (ints(8, False), "uint8", pa.uint8()),
    "uint16": (ints(16, False), "uint16", pa.uint16()),
    "uint32": (ints(32, False), "uint32", pa.uint32()),
    "uint64": (ints(64, False), "uint64", pa.uint64()),
    "float16": (st.floats(width=16, allow_nan=False), "float16", pa.float16()),
    "float32": (st.floats(width=32), "float32", pa.float32()),
    "float64": (st.floats(), None, pa.float64()),
    "bool": (st.booleans(), None, pa.bool_()),
    "string": (TEXT, None, pa.string()),
    "large_string": (TEXT, "large_string", pa.large_string()),
    "binary": (st.binary(max_size=20), None, pa.binary()),
    "date32": (st.dates(), None, pa.date32()),
    "timestamp": (
        st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)),
        None,
        pa.timestamp("us"),
    ),
    "timestamp_ms": (
        st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)).map(
            lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
        ),
        "timestamp[ms]",
        pa.timestamp("ms"),
    ),
    "timestamp_utc": (aware(UTC), None, pa.timestamp("us", tz="UTC")),
    "timestamp_paris": (aware(PARIS), None, pa.timestamp("us", tz="Europe/Paris")),
    "time64": (st.times(), None, pa.time64("us")),
    "time32": (st.times().map(lambda t: t.replace(microsecond=0)), "time32[s]", pa.time32("s")),
    "duration": (
        st.timedeltas(dt.timedelta(days=-(10**6)), dt.timedelta(days=10**6)),
        None,
        pa.duration("us"),
    ),
    "decimal": (DECIMALS, "decimal128(12, 2)", pa.decimal128(12, 2)),
    "list": (st.lists(st.none() | ints(64, True), max_size=5), None, pa.list_(pa.int64())),
    "list_of_lists": (
        st.lists(st.none() | st.lists(st.none() | TEXT, max_size=3), max_size=3),
        None,
        pa.list_(pa.list_(pa.string())),
    ),
    "struct": (
        STRUCTS,
        None,
        pa.struct([("a", pa.int64()), ("b", pa.string()), ("c", pa.bool_())]),
    ),
}


def same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN (element-wise, recursively)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return bool(a == b) and type(a) is type(b)


def expected_python(values: list[Any], name: str) -> list[Any]:
    """What to_pylist gives back: float16/float32 values are rounded to their width."""
    if name in ("float16", "float32"):
        import numpy as np

        dtype = np.float16 if name == "float16" else np.float32
        return [None if v is None else float(dtype(v)) for v in values]
    return values


def build(name: str, values: list[Any]) -> colbridge.Array:
    # The type is always stated here (inference is tested against pyarrow's separately).
    arr = colbridge.array(values, type=CASES[name][2])
    assert isinstance(arr, colbridge.Array)
    return arr


def values_and_slice(name: str) -> st.SearchStrategy[tuple[list[Any], int, int]]:
    element = CASES[name][0]

    @st.composite
    def draw(draw_: Any) -> tuple[list[Any], int, int]:
        values = draw_(st.lists(st.none() | element, max_size=40))
        start = draw_(st.integers(0, len(values)))
        stop = draw_(st.integers(start, len(values)))
        return values, start, stop

    return draw()


# Types Polars stores differently: (colbridge type of the Arrow data Polars exports back).
POLARS_EXPORTS = {
    "string": "string_view",
    "large_string": "string_view",
    "binary": "binary_view",
    "list": "large_list<item: int64>",
    "list_of_lists": "large_list<item: large_list<item: string_view>>",
    "struct": "struct<a: int64, b: string_view, c: bool>",
    # Polars has only nanosecond times.
    "time32": "time64[ns]",
    "time64": "time64[ns]",
}


@pytest.mark.parametrize("name", list(CASES))
def test_python_round_trip(name: str) -> None:
    @SETTINGS
    @given(values_and_slice(name))
    def check(case: tuple[list[Any], int, int]) -> None:
        values, start, stop = case
        arr = build(name, values)
        assert len(arr) == len(values)
        assert arr.null_count == sum(v is None for v in values)
        assert same(arr.to_pylist(), expected_python(values, name))
        part = arr.slice(start, stop - start)
        assert same(part.to_pylist(), expected_python(values[start:stop], name))
        assert same(arr[start:stop].to_pylist(), part.to_pylist())

    check()


@pytest.mark.parametrize("name", list(CASES))
def test_pyarrow_round_trip(name: str) -> None:
    pa_type = CASES[name][2]

    @SETTINGS
    @given(values_and_slice(name))
    def check(case: tuple[list[Any], int, int]) -> None:
        values, start, stop = case
        for arr in (build(name, values), build(name, values).slice(start, stop - start)):
            expected = expected_python(arr.to_pylist(), name)
            out = pa.array(arr)
            assert out.type == pa_type
            assert same(out.to_pylist(), expected)
            # pyarrow builds the same array from the same Python values (NaN != NaN in equals).
            rebuilt = pa.array(arr.to_pylist(), type=pa_type)
            assert out.equals(rebuilt) or same(out.to_pylist(), rebuilt.to_pylist())
            back = colbridge.array(out)
            assert isinstance(back, colbridge.Array)
            assert back.type == arr.type
            assert back.equals(arr) or same(back.to_pylist(), arr.to_pylist())
            assert same(back.to_pylist(), expected)
            # pyarrow-built arrays import to the same thing colbridge builds.
            imported = colbridge.array(pa.array(arr.to_pylist(), type=pa_type))
            assert imported.type == arr.type
            assert same(imported.to_pylist(), expected)

    check()


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][1] is None])
def test_inferred_type_matches_pyarrow(name: str) -> None:
    @SETTINGS
    @given(st.lists(st.none() | CASES[name][0], min_size=1, max_size=20))
    def check(values: list[Any]) -> None:
        if all(v is None for v in values):
            return
        arr = colbridge.array(values)
        assert pa.array(arr).type == pa.array(values).type

    check()


@pytest.mark.parametrize("name", list(CASES))
def test_polars_round_trip(name: str) -> None:
    @SETTINGS
    @given(values_and_slice(name))
    def check(case: tuple[list[Any], int, int]) -> None:
        values, start, stop = case
        arr = build(name, values).slice(start, stop - start)
        expected = expected_python(values[start:stop], name)
        series = pl.Series(arr)
        assert len(series) == len(arr)
        assert series.null_count() == arr.null_count
        assert same(series.to_list(), expected)
        back = colbridge.array(series)
        assert isinstance(back, colbridge.Array)
        assert str(back.type) == POLARS_EXPORTS.get(name, str(arr.type))
        assert same(back.to_pylist(), expected)

    check()


@pytest.mark.parametrize("name", list(CASES))
def test_empty_arrays(name: str) -> None:
    arr = build(name, [])
    assert len(arr) == 0
    assert arr.to_pylist() == []
    pa_type = CASES[name][2]
    if CASES[name][1] is not None:
        assert pa.array(arr).type == pa_type
    assert pa.array(arr).to_pylist() == []
    assert colbridge.array(pa.array([], type=pa_type)).to_pylist() == []
    assert pl.Series(arr).to_list() == []
    assert colbridge.table({"x": arr}).to_pydict() == {"x": []}


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["i", "f", "s", "t", "l"]),
        st.just(None),
        min_size=1,
    ),
    st.integers(0, 25),
    st.data(),
)
def test_table_round_trip(columns: dict[str, None], n: int, data: st.DataObject) -> None:
    kinds = {"i": "int64", "f": "float64", "s": "string", "t": "timestamp", "l": "list"}
    pydict = {
        c: data.draw(st.lists(st.none() | CASES[kinds[c]][0], min_size=n, max_size=n))
        for c in columns
    }
    table = colbridge.table({c: build(kinds[c], v) for c, v in pydict.items()})
    assert table.num_rows == n
    assert same(table.to_pydict(), pydict)
    via_pa = colbridge.table(pa.table(table))
    assert via_pa.schema == table.schema
    assert same(via_pa.to_pydict(), pydict)
    via_pl = colbridge.table(pl.DataFrame(table))
    assert same(via_pl.to_pydict(), pydict)


def test_timedelta_out_of_range_is_a_clean_error() -> None:
    big = dt.timedelta(days=999_999_999)
    with pytest.raises(colbridge.InvalidInputError):
        colbridge.array([big], type="duration[ns]")


def test_decimal_with_exponent_round_trip() -> None:
    values = [decimal.Decimal("1E+2"), decimal.Decimal("-0.50"), None]
    arr = colbridge.array(values)
    assert pa.array(arr).to_pylist() == pa.array(values).to_pylist()


def test_polars_null_columns_import() -> None:
    # Polars exports the null type with one (NULL) validity buffer, which arrow-rs refuses.
    frame = pl.DataFrame(colbridge.table({"n": [None, None], "a": [1, 2]}))
    assert frame.schema["n"] == pl.Null
    assert colbridge.table(frame).to_pydict() == {"n": [None, None], "a": [1, 2]}
    assert colbridge.array(pl.Series([None, None])).to_pylist() == [None, None]
    nested = pl.DataFrame({"l": [[None], None], "s": [{"x": None}, None]})
    back = colbridge.table(nested)
    assert [str(t) for t in back.schema.types] == ["large_list<item: null>", "struct<x: null>"]
    assert back.to_pydict() == {"l": [[None], None], "s": [{"x": None}, None]}
