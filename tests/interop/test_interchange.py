"""The ``__dataframe__`` interchange protocol (colbridge._interchange) against real consumers.

Consumers:
  * pandas' ``from_dataframe`` on ``table.__dataframe__()`` (the interchange path proper;
    ``from_dataframe(table)`` itself prefers the Arrow PyCapsule stream when pyarrow is there),
  * pyarrow's ``interchange.from_dataframe`` (a second, zero-copy protocol consumer),
  * Polars 2 dropped the interchange protocol: ``polars.from_dataframe(table)`` reads the
    PyCapsule stream, which is checked too.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import Any

import numpy as np
import pytest

import colbridge
from colbridge._interchange import ColumnNullType, DtypeKind

from ..conftest import address

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
pa_interchange = pytest.importorskip("pyarrow.interchange")

N = 21
NULL = {i for i in range(N) if i % 4 == 1}


def _vals(f: Any) -> list[Any]:
    return [None if i in NULL else f(i) for i in range(N)]


DAY_US = 86_400_000_000
# name -> (colbridge array with nulls, protocol dtype (kind, bits, format))
CASES: dict[str, tuple[Any, tuple[DtypeKind, int, str]]] = {
    "int8": (colbridge.array(_vals(lambda i: i - 10), "int8"), (DtypeKind.INT, 8, "c")),
    "int16": (colbridge.array(_vals(lambda i: i * 300), "int16"), (DtypeKind.INT, 16, "s")),
    "int32": (colbridge.array(_vals(lambda i: -i * 70_000), "int32"), (DtypeKind.INT, 32, "i")),
    "int64": (colbridge.array(_vals(lambda i: i * 10**12)), (DtypeKind.INT, 64, "l")),
    "uint8": (colbridge.array(_vals(lambda i: 255 - i), "uint8"), (DtypeKind.UINT, 8, "C")),
    "uint16": (colbridge.array(_vals(lambda i: i * 3000), "uint16"), (DtypeKind.UINT, 16, "S")),
    "uint32": (colbridge.array(_vals(lambda i: i * 2**27), "uint32"), (DtypeKind.UINT, 32, "I")),
    "uint64": (colbridge.array(_vals(lambda i: i * 2**40), "uint64"), (DtypeKind.UINT, 64, "L")),
    "float32": (colbridge.array(_vals(lambda i: i / 4), "float32"), (DtypeKind.FLOAT, 32, "f")),
    "float64": (colbridge.array(_vals(lambda i: i * 1.25 - 3)), (DtypeKind.FLOAT, 64, "g")),
    "bool": (colbridge.array(_vals(lambda i: i % 3 == 0)), (DtypeKind.BOOL, 1, "b")),
    "string": (colbridge.array(_vals(lambda i: f"s{i}é" * (i % 3))), (DtypeKind.STRING, 8, "u")),
    "large_string": (
        colbridge.array(_vals(lambda i: f"L{i}"), "large_string"),
        (DtypeKind.STRING, 8, "U"),
    ),
    "ts_utc": (
        colbridge.array(_vals(lambda i: i * 3_600_000_001)).cast("timestamp[us, tz=UTC]"),
        (DtypeKind.DATETIME, 64, "tsu:UTC"),
    ),
    "ts_paris": (
        colbridge.array(_vals(lambda i: i * 3_600_000_000_000)).cast(
            "timestamp[ns, tz=Europe/Paris]"
        ),
        (DtypeKind.DATETIME, 64, "tsn:Europe/Paris"),
    ),
    "ts_naive": (
        colbridge.array(_vals(lambda i: i * 1001)).cast("timestamp[ms]"),
        (DtypeKind.DATETIME, 64, "tsm:"),
    ),
    "date32": (
        colbridge.array(_vals(lambda i: 19_000 + i), "int32").cast("date32[day]"),
        (DtypeKind.DATETIME, 32, "tdD"),
    ),
    "date64": (
        colbridge.array(_vals(lambda i: (19_000 + i) * 86_400_000)).cast("date64[ms]"),
        (DtypeKind.DATETIME, 64, "tdm"),
    ),
    "duration": (
        colbridge.array(_vals(lambda i: i * 1500)).cast("duration[ms]"),
        (DtypeKind.DATETIME, 64, "tDm"),
    ),
    "dict_str": (
        colbridge.array(pa.array(_vals(lambda i: "abc"[i % 3])).dictionary_encode()),
        (DtypeKind.CATEGORICAL, 32, "i"),
    ),
    "dict_int8": (
        colbridge.array(
            pa.DictionaryArray.from_arrays(
                pa.array(_vals(lambda i: i % 2), pa.int8()), pa.array(["no", "yes"])
            )
        ),
        (DtypeKind.CATEGORICAL, 8, "c"),
    ),
}
# pandas' consumer has no duration support; pyarrow's only knows timestamps among temporals.
PANDAS_UNSUPPORTED = {"duration"}
PYARROW_UNSUPPORTED = {"date32", "date64", "duration"}

PANDAS_DTYPES = {
    "int8": "float64",  # ints with nulls become float64 with NaN
    "int16": "float64",
    "int32": "float64",
    "int64": "float64",
    "uint8": "float64",
    "uint16": "float64",
    "uint32": "float64",
    "uint64": "float64",
    "float32": "float32",
    "float64": "float64",
    "bool": "bool",  # pandas' consumer drops boolean nulls (see test_pandas_bool_nulls)
    "string": "str",
    "large_string": "str",
    "ts_utc": "datetime64[us, UTC]",
    "ts_paris": "datetime64[ns, Europe/Paris]",
    "ts_naive": "datetime64[ms]",
    "date32": "datetime64[s]",
    "date64": "datetime64[ms]",
    "dict_str": "category",
    "dict_int8": "category",
}
POLARS_DTYPES = {
    "int8": pl.Int8,
    "int16": pl.Int16,
    "int32": pl.Int32,
    "int64": pl.Int64,
    "uint8": pl.UInt8,
    "uint16": pl.UInt16,
    "uint32": pl.UInt32,
    "uint64": pl.UInt64,
    "float32": pl.Float32,
    "float64": pl.Float64,
    "bool": pl.Boolean,
    "string": pl.String,
    "large_string": pl.String,
    "ts_utc": pl.Datetime("us", "UTC"),
    "ts_paris": pl.Datetime("ns", "Europe/Paris"),
    "ts_naive": pl.Datetime("ms"),
    "date32": pl.Date,
    "date64": pl.Datetime("ms"),
    "duration": pl.Duration("ms"),
    "dict_str": pl.Categorical,
    "dict_int8": pl.Categorical,
}


@pytest.fixture(autouse=True)
def _quiet_pandas_deprecation():
    # pandas 3 deprecates the interchange protocol (Pandas4Warning); irrelevant here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _table(names: list[str]) -> colbridge.Table:
    return colbridge.table({n: CASES[n][0] for n in names})


# Full table, and slices whose first row is at bit offsets 3 and 7 of the validity bitmaps.
SLICES = {"full": (0, N), "slice3": (3, 14), "slice7": (7, 13), "empty_tail": (N, 0)}


def _normalize(v: Any) -> Any:
    """One Python value per logical value, whatever container it came out of."""
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime() if v.tzinfo else v.to_pydatetime().replace(tzinfo=None)
    if isinstance(v, pd.Timedelta):
        return v.to_pytimedelta()
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return float(v)
    return v


def _expected(t: colbridge.Table, name: str) -> list[Any]:
    return [_normalize(v) for v in t.column(name).to_pylist()]


def _pandas(t: colbridge.Table, allow_copy: bool = True) -> Any:
    obj = t.__dataframe__(allow_copy=allow_copy)
    assert not hasattr(obj, "__arrow_c_stream__")  # so pandas really uses the protocol
    return pd.api.interchange.from_dataframe(obj, allow_copy=allow_copy)


@pytest.mark.parametrize("part", SLICES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_protocol_metadata(name: str, part: str) -> None:
    start, length = SLICES[part]
    t = _table([name]).slice(start, length)
    col = t.__dataframe__().get_column_by_name(name)
    kind, bits, fmt = CASES[name][1]
    assert col.dtype == (kind, bits, fmt, "=")
    assert col.size() == length
    assert col.null_count == len({i for i in NULL if start <= i < start + length})
    assert 0 <= col.offset < 8
    bufs = col.get_buffers()
    if col.null_count:
        assert col.describe_null == (ColumnNullType.USE_BITMASK, 0)
        validity, vdtype = bufs["validity"]
        assert vdtype == (DtypeKind.BOOL, 1, "b", "=")
        arrow_validity = t.column(name).chunk(0).validity
        assert validity.ptr == arrow_validity.address  # zero-copy
        assert col.offset == arrow_validity.bit_offset
    else:
        assert col.describe_null == (ColumnNullType.NON_NULLABLE, None)
        assert bufs["validity"] is None
    assert (bufs["offsets"] is not None) == (kind == DtypeKind.STRING)
    if kind == DtypeKind.CATEGORICAL:
        cats = col.describe_categorical
        assert cats["is_dictionary"] and cats["is_ordered"] is False
        assert cats["categories"].size() in ((2, 3) if length else (0, 2, 3))
    else:
        with pytest.raises(TypeError):
            _ = col.describe_categorical


@pytest.mark.parametrize("part", SLICES)
@pytest.mark.parametrize("name", sorted(set(CASES) - PANDAS_UNSUPPORTED))
def test_pandas_values_and_dtypes(name: str, part: str) -> None:
    start, length = SLICES[part]
    t = _table([name]).slice(start, length)
    df = _pandas(t)
    assert list(df.columns) == [name]
    expected_dtype = PANDAS_DTYPES[name]
    if expected_dtype.startswith("float") and name.startswith(("int", "uint")):
        if not any(start <= i < start + length for i in NULL):
            expected_dtype = name  # no nulls in this slice: pandas keeps the integer type
    assert str(df[name].dtype) == expected_dtype
    got = [_normalize(v) for v in df[name].tolist()]
    want = _expected(t, name)
    if name == "bool":
        want = [bool(v) for v in want]  # see test_pandas_bool_nulls
    assert got == want


def test_pandas_bool_nulls() -> None:
    # pandas' consumer builds a NumPy bool array and sets nulls with ``data[mask] = None``,
    # which NumPy turns into False: boolean nulls are lost (a pandas limitation; the protocol
    # describes them correctly, and pyarrow's consumer keeps them).
    t = _table(["bool"])
    assert _pandas(t)["bool"].tolist()[1] is False
    assert pa_interchange.from_dataframe(t.__dataframe__())["bool"][1].as_py() is None


def test_pandas_duration_unsupported_by_consumer() -> None:
    with pytest.raises(NotImplementedError, match="tDm"):
        _pandas(_table(["duration"]))


@pytest.mark.parametrize("part", SLICES)
@pytest.mark.parametrize("name", sorted(set(CASES) - PYARROW_UNSUPPORTED))
def test_pyarrow_interchange_values_and_types(name: str, part: str) -> None:
    start, length = SLICES[part]
    t = _table([name]).slice(start, length)
    got = pa_interchange.from_dataframe(t.__dataframe__())
    reference = pa.table(t)  # the same data through the C stream
    assert got.column(name).type == reference.column(name).type
    assert got.column(name).to_pylist() == reference.column(name).to_pylist()


def test_pyarrow_interchange_is_zero_copy() -> None:
    t = _table(["int64", "string", "bool", "ts_utc"]).slice(3, 14)
    got = pa_interchange.from_dataframe(t.__dataframe__(allow_copy=False), allow_copy=False)
    for name in ["int64", "ts_utc"]:
        arrow = t.column(name).chunk(0)
        validity, values = got.column(name).chunk(0).buffers()
        assert validity.address == arrow.validity.address
        shift = got.column(name).chunk(0).offset * 8
        assert values.address + shift == arrow.values.address
    s = t.column("string").chunk(0)
    _, offsets, data = got.column("string").chunk(0).buffers()
    assert data.address == s.data.address
    assert offsets.address + got.column("string").chunk(0).offset * 4 == s.offsets.address


@pytest.mark.parametrize("part", SLICES)
def test_polars_from_dataframe(part: str) -> None:
    start, length = SLICES[part]
    t = _table(sorted(CASES)).slice(start, length)
    df = pl.from_dataframe(t)
    for name, dtype in POLARS_DTYPES.items():
        assert df[name].dtype == dtype, name
        got = [_normalize(v) for v in df[name].to_list()]
        assert got == _expected(t, name), name


def test_polars_2_no_longer_reads_the_protocol() -> None:
    # Polars 2 removed the interchange fallback: the protocol object alone is rejected.
    with pytest.raises(TypeError, match="PyCapsule"):
        pl.from_dataframe(_table(["int64"]).__dataframe__())


def test_pandas_from_table_itself() -> None:
    # With pyarrow installed, pandas prefers the PyCapsule stream over __dataframe__.
    t = _table(["int64", "string", "ts_utc", "dict_str"]).slice(3, 14)
    df = pd.api.interchange.from_dataframe(t)
    for name in t.column_names:
        assert [_normalize(v) for v in df[name].tolist()] == _expected(t, name)


def test_non_null_int64_is_zero_copy_on_our_side() -> None:
    source = np.arange(1000, dtype=np.int64)
    t = colbridge.table({"x": source})
    values = t.column("x").chunk(0).values
    col = t.__dataframe__(allow_copy=False).get_column_by_name("x")
    buf, dtype = col.get_buffers()["data"]
    assert buf.ptr == values.address == address(source)
    assert buf.bufsize == values.size == source.nbytes
    assert dtype == (DtypeKind.INT, 64, "l", "=")
    assert col.offset == 0 and col.describe_null[0] == ColumnNullType.NON_NULLABLE
    df = _pandas(t, allow_copy=False)
    assert df["x"].tolist() == source.tolist()
    # What is true of pandas 3.1: its consumer wraps the pointer without a copy, but
    # ``pd.DataFrame(dict_of_arrays)`` then copies, so the frame does not share our memory.
    assert not np.shares_memory(df["x"].to_numpy(), source)


def test_float_nulls_never_written_through() -> None:
    # pandas' consumer writes NaN in place into the null slots of the data buffer it gets.
    source = np.array([1.5, -7.0, 3.5, 4.5])
    t = colbridge.table({"f": np.ma.masked_array(source, [False, True, False, False])})
    df = _pandas(t)  # allow_copy=True: the data buffer is a private NaN-filled copy
    assert np.isnan(df["f"][1])
    assert source[1] == -7.0
    assert t.column("f").to_pylist() == [1.5, None, 3.5, 4.5]


def test_nan_as_null() -> None:
    t = _table(["float64"])
    col = t.__dataframe__(nan_as_null=True).get_column(0)
    assert col.describe_null == (ColumnNullType.USE_NAN, None)
    assert col.get_buffers()["validity"] is None
    got = pa_interchange.from_dataframe(t.__dataframe__(nan_as_null=True))
    assert got.column(0).to_pylist() == t.column(0).to_pylist()


class _StubBoolArray:
    """Duck-typed Array whose bool values and validity bitmaps start at different bits."""

    def __init__(self) -> None:
        self._values = colbridge.array([True, False, True, True, False, False, True, True])
        self._nulls = colbridge.array([1, 2, 3, None, 5, None, 7, 8, 9, 10, 11]).slice(3)
        self.values, self.validity = self._values.values, self._nulls.validity
        self.null_count = self._nulls.null_count
        self.type = colbridge.DataType("bool")
        self.num_chunks = 1

    def chunk(self, i: int) -> _StubBoolArray:
        return self

    def __len__(self) -> int:
        return 8


def test_bool_bitmaps_at_different_bits() -> None:
    from colbridge._interchange import Column

    stub = _StubBoolArray()
    assert stub.values.bit_offset == 0 and stub.validity.bit_offset == 3
    col = Column(stub)  # type: ignore[arg-type]
    bufs = col.get_buffers()
    assert col.offset == 3 and bufs["validity"][0].ptr == stub.validity.address
    data = bufs["data"][0]
    assert data.ptr != stub.values.address  # re-aligned copy
    raw = np.ctypeslib.as_array((np.ctypeslib.ctypes.c_uint8 * data.bufsize).from_address(data.ptr))
    bits = np.unpackbits(raw, bitorder="little")[3 : 3 + 8].astype(bool)
    assert bits.tolist() == [True, False, True, True, False, False, True, True]
    with pytest.raises(colbridge.ZeroCopyError):
        Column(stub, allow_copy=False).get_buffers()  # type: ignore[arg-type]


def test_validity_shared_after_cast() -> None:
    # arrow-rs casts reuse the (sliced) validity bitmap with fresh values: offsets differ.
    arr = colbridge.array([1, None, 0, 1, None, 0, 1, 1, 0, None, 1, 0, 1], "int32")
    t = colbridge.table({"x": arr.slice(3).cast("int64")})
    col = t.__dataframe__().get_column(0)
    assert col.offset == 3
    buf = col.get_buffers()["data"][0]
    assert buf.ptr + 3 * 8 == t.column(0).chunk(0).values.address
    assert [_normalize(v) for v in _pandas(t)["x"]] == _expected(t, "x")
    assert pa_interchange.from_dataframe(t.__dataframe__()).column(0).to_pylist() == (
        t.column(0).to_pylist()
    )


def test_chunks_and_selection() -> None:
    pt = pa.Table.from_batches(
        [
            pa.record_batch({"a": [1, 2, 3], "b": ["x", None, "z"]}),
            pa.record_batch({"a": [4, None], "b": ["u", "v"]}),
        ]
    )
    t = colbridge.table(pt)
    df = t.__dataframe__()
    assert df.num_chunks() == 2 and df.num_rows() == 5 and df.num_columns() == 2
    assert [c.num_rows() for c in df.get_chunks()] == [3, 2]
    assert [c.num_rows() for c in df.get_chunks(4)] == [2, 1, 1, 1]
    with pytest.raises(ValueError):
        list(df.get_chunks(3))
    col = df.get_column_by_name("a")
    assert col.num_chunks() == 2
    assert [c.size() for c in col.get_chunks()] == [3, 2]
    assert col.get_buffers()["data"][0].bufsize == 5 * 8  # combined: a copy, allowed
    with pytest.raises(colbridge.ZeroCopyError):
        t.__dataframe__(allow_copy=False).get_column(0).get_buffers()
    assert list(df.select_columns([1]).column_names()) == ["b"]
    assert list(df.select_columns_by_name(["b", "a"]).column_names()) == ["b", "a"]
    assert [c.dtype[0] for c in df.get_columns()] == [DtypeKind.INT, DtypeKind.STRING]
    assert df.__dataframe__() is not df and df.metadata == {}
    out = _pandas(t)
    assert [_normalize(v) for v in out["a"]] == [1.0, 2.0, 3.0, 4.0, None]
    assert out["b"].tolist()[:1] == ["x"] and out["b"].isna().tolist()[1]


def test_unsupported_type() -> None:
    t = colbridge.table({"l": [[1], [2, 3]]})
    with pytest.raises(colbridge.UnsupportedTypeError):
        _ = t.__dataframe__().get_column(0).dtype
