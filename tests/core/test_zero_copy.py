"""Zero-copy: the address colbridge reports is the address every consumer holds.

Each consumer is checked on its own per type, and once all together on one column. Where a
consumer genuinely cannot share a type, the documented behaviour (a converted copy with equal
values) is asserted instead, so a change in either direction is noticed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import colbridge

from ..conftest import address

N = 7

# Arrow type name -> (itemsize, NumPy dtype of `to_numpy()`)
FIXED_WIDTH = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
    "timestamp[s]": "datetime64[s]",
    "timestamp[ms]": "datetime64[ms]",
    "timestamp[us]": "datetime64[us]",
    "timestamp[ns]": "datetime64[ns]",
    "timestamp[s, tz=UTC]": "datetime64[s]",
    "timestamp[ms, tz=Europe/Paris]": "datetime64[ms]",
    "timestamp[us, tz=America/New_York]": "datetime64[us]",
    "timestamp[ns, tz=+05:30]": "datetime64[ns]",
    "date64": "datetime64[ms]",
    "duration[s]": "timedelta64[s]",
    "duration[ms]": "timedelta64[ms]",
    "duration[us]": "timedelta64[us]",
    "duration[ns]": "timedelta64[ns]",
}
TYPES = list(FIXED_WIDTH)

# Polars has no second-resolution Datetime/Duration: it converts those to milliseconds (a copy).
POLARS_CONVERTS = {"timestamp[s]", "timestamp[s, tz=UTC]", "duration[s]"}
# Polars only accepts IANA zone names, not fixed offsets such as "+05:30" (same with pyarrow).
POLARS_REJECTS = {"timestamp[ns, tz=+05:30]"}


def make(type_name: str) -> colbridge.Array:
    """A colbridge array of `type_name` with N distinct, in-range values and no nulls."""
    if type_name == "date64":
        storage = np.arange(N, dtype=np.int64) * 86_400_000
    elif type_name.startswith(("timestamp", "duration")):
        storage = np.arange(N, dtype=np.int64) * 1_000 + 1_600_000_000
    else:
        storage = np.arange(N) + 1
    arr = colbridge.array(storage).cast(type_name)
    assert isinstance(arr, colbridge.Array)
    assert arr.null_count == 0
    return arr


def pandas_values(series: pd.Series) -> np.ndarray[Any, Any]:
    """The NumPy array pandas stores for a column (storage of tz-aware datetimes as int64)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.array.asi8
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.array.codes
    return series.to_numpy()


@pytest.mark.parametrize("type_name", TYPES)
def test_numpy_shares_values(type_name: str) -> None:
    arr = make(type_name)
    out = arr.to_numpy()
    assert out.dtype == np.dtype(FIXED_WIDTH[type_name])
    assert address(out) == arr.values.address
    assert np.shares_memory(out, np.asarray(arr.values))
    assert not out.flags.writeable
    storage = out.view(np.int64) if out.dtype.kind in "mM" else out
    assert storage.tolist() == np.asarray(arr.values).tolist()


@pytest.mark.parametrize("type_name", TYPES)
def test_pandas_shares_values(type_name: str) -> None:
    arr = make(type_name)
    table = colbridge.table({"c": arr})
    col = table.to_pandas()["c"]
    if type_name == "date64":
        # pandas (pyarrow's to_pandas) gives datetime.date objects for dates: nothing to share.
        assert col.dtype == object
        assert col.tolist() == pa.array(arr).to_pandas().tolist()
        return
    values = pandas_values(col)
    assert address(values) == arr.values.address
    assert np.shares_memory(values, np.asarray(arr.values))
    if ", tz=" in type_name:
        assert isinstance(col.dtype, pd.DatetimeTZDtype)
        expected = pa.array(arr).to_pandas()
        assert col.tolist() == expected.tolist()
        assert [t.utcoffset() for t in col] == [t.utcoffset() for t in expected]


@pytest.mark.parametrize("type_name", TYPES)
def test_polars_shares_values(type_name: str) -> None:
    arr = make(type_name)
    if type_name in POLARS_REJECTS:
        with pytest.raises(pl.exceptions.ComputeError, match="time zone"):
            pl.DataFrame(colbridge.table({"c": arr}))
        with pytest.raises(pl.exceptions.ComputeError, match="time zone"):
            pl.Series(pa.array(arr))
        return
    series = pl.DataFrame(colbridge.table({"c": arr}))["c"]
    if type_name in POLARS_CONVERTS:
        # Documented: Polars converts second resolution to milliseconds, i.e. copies.
        assert series.dtype.time_unit == "ms"  # type: ignore[attr-defined]
        assert series.to_list() == pl.Series(pa.array(arr)).to_list()
        assert address(series.to_numpy(allow_copy=False)) != arr.values.address
        return
    out = series.to_numpy(allow_copy=False)
    assert address(out) == arr.values.address


@pytest.mark.parametrize("type_name", TYPES)
def test_pyarrow_shares_values(type_name: str) -> None:
    arr = make(type_name)
    chunk = pa.table(colbridge.table({"c": arr})).column("c").chunk(0)
    assert chunk.type == pa.array(arr).type
    assert chunk.buffers()[1].address + chunk.offset * arr.values.itemsize == arr.values.address
    assert pa.array(arr).buffers()[1].address == arr.values.address


def test_all_four_consumers_hold_one_buffer() -> None:
    table = colbridge.table({"x": np.arange(1_000, dtype=np.float64)})
    rust = table.column("x").chunk(0).values.address
    via_numpy = address(table.column("x").to_numpy())
    via_pandas = address(table.to_pandas()["x"].to_numpy())
    via_polars = address(pl.DataFrame(table)["x"].to_numpy(allow_copy=False))
    via_pyarrow = pa.table(table).column("x").chunk(0).buffers()[1].address
    assert rust == via_numpy == via_pandas == via_polars == via_pyarrow


def test_all_four_consumers_on_a_timestamp_column_with_tz() -> None:
    arr = make("timestamp[us, tz=UTC]")
    table = colbridge.table({"t": arr})
    a = arr.values.address
    assert address(table.column("t").to_numpy()) == a
    assert address(table.to_pandas()["t"].array.asi8) == a
    assert address(pl.DataFrame(table)["t"].to_numpy(allow_copy=False)) == a
    assert pa.table(table).column("t").chunk(0).buffers()[1].address == a


def test_sliced_column_is_shared_at_the_slice() -> None:
    arr = colbridge.array(np.arange(100, dtype=np.int32)).slice(10, 20)
    base = arr.values.address
    assert arr.to_numpy().tolist() == list(range(10, 30))
    assert address(arr.to_numpy()) == base
    pa_arr = pa.array(arr)
    assert pa_arr.buffers()[1].address + pa_arr.offset * 4 == base
    assert address(colbridge.table({"s": arr}).to_pandas()["s"].to_numpy()) == base
    assert address(pl.Series(arr).to_numpy(allow_copy=False)) == base


# --- types some consumers cannot share -----------------------------------------------------


def test_date32_shared_by_pyarrow_and_polars_copied_by_numpy_and_pandas() -> None:
    arr = colbridge.array([dt.date(2020, 1, 1), dt.date(2021, 6, 30), dt.date(1969, 12, 31)])
    assert str(arr.type) == "date32[day]"
    a = arr.values.address
    # NumPy: datetime64[D] is 64-bit, Arrow's date32 is 32-bit -> documented copy.
    out = arr.to_numpy()
    assert out.dtype == np.dtype("datetime64[D]")
    assert not np.shares_memory(out, np.asarray(arr.values))
    assert out.tolist() == arr.to_pylist()
    with pytest.raises(colbridge.ZeroCopyError):
        arr.to_numpy(zero_copy_only=True)
    # pandas: date objects, like pyarrow's default date_as_object=True -> copy.
    col = colbridge.table({"d": arr}).to_pandas()["d"]
    assert col.dtype == object
    assert col.tolist() == arr.to_pylist()
    # Polars: Date is int32 days, so the physical values are the very same buffer.
    series = pl.DataFrame(colbridge.table({"d": arr}))["d"]
    assert series.dtype == pl.Date
    assert address(series.to_physical().to_numpy(allow_copy=False)) == a
    # pyarrow shares.
    assert pa.array(arr).buffers()[1].address == a


def _dictionary(index_type: pa.DataType) -> colbridge.Array:
    pa_arr = pa.array(["a", "b", "a", "c", "b"]).dictionary_encode()
    out = colbridge.array(pa_arr.cast(pa.dictionary(index_type, pa.string())))
    assert isinstance(out, colbridge.Array)
    return out


INDEX_TYPES = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint32()]


@pytest.mark.parametrize("index_type", INDEX_TYPES, ids=str)
def test_dictionary_indices_shared(index_type: pa.DataType) -> None:
    arr = _dictionary(index_type)
    a = arr.values.address
    assert arr.values.itemsize == index_type.bit_width // 8
    # NumPy: the indices are a view; decoding the values is a copy.
    indices = arr.indices.to_numpy()
    assert indices.dtype == np.dtype(index_type.to_pandas_dtype())
    assert address(indices) == a
    assert indices.tolist() == [0, 1, 0, 2, 1]
    assert arr.to_numpy().tolist() == ["a", "b", "a", "c", "b"]
    # pandas: Categorical codes are the Arrow indices where their width is pandas' code width
    # for 3 categories (int8); wider indices are narrowed to it, as pyarrow does (a copy).
    col = colbridge.table({"d": arr}).to_pandas()["d"]
    assert isinstance(col.dtype, pd.CategoricalDtype)
    assert col.array.codes.dtype == np.int8
    shared = index_type.bit_width == 8
    assert (address(col.array.codes) == a) is shared
    assert np.shares_memory(col.array.codes, np.asarray(arr.values)) is shared
    assert col.tolist() == ["a", "b", "a", "c", "b"]
    # pyarrow shares the indices buffer.
    pa_arr = pa.array(arr)
    assert pa.types.is_dictionary(pa_arr.type)
    assert pa_arr.buffers()[1].address == a
    # Polars re-encodes into its own (uint32, global) categories: documented copy.
    series = pl.Series(arr)
    assert series.dtype == pl.Categorical
    assert series.to_list() == ["a", "b", "a", "c", "b"]
    assert address(series.to_physical().to_numpy()) != a


def test_polars_float16_is_shared() -> None:
    arr = make("float16")
    series = pl.Series(arr)
    assert series.dtype == pl.Float16
    assert address(series.to_numpy(allow_copy=False)) == arr.values.address


# --- imports ---------------------------------------------------------------------------------

NUMPY_DTYPES = [
    "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8",
    "M8[s]", "M8[ms]", "M8[us]", "M8[ns]", "m8[s]", "m8[ms]", "m8[us]", "m8[ns]",
]  # fmt: skip


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_numpy_input_is_imported_without_copy(dtype: str) -> None:
    source = np.arange(50).astype(dtype)
    arr = colbridge.array(source)
    assert arr.values.address == address(source)
    assert np.shares_memory(arr.to_numpy(), source)
    assert arr.to_numpy().dtype == source.dtype
    # ... and flows on to pyarrow and Polars still without a copy.
    assert pa.array(arr).buffers()[1].address == address(source)
    if dtype not in ("M8[s]", "m8[s]"):
        assert address(pl.Series(arr).to_numpy(allow_copy=False)) == address(source)


def test_numpy_masked_input_shares_values() -> None:
    source = np.arange(6, dtype=np.int64)
    arr = colbridge.array(np.ma.masked_array(source, mask=[0, 1, 0, 0, 1, 0]))
    assert arr.values.address == address(source)
    assert arr.to_pylist() == [0, None, 2, 3, None, 5]


def test_strided_numpy_input_is_copied_once() -> None:
    source = np.arange(10, dtype=np.int64)[::2]
    arr = colbridge.array(source)
    assert arr.to_pylist() == [0, 2, 4, 6, 8]
    assert not np.shares_memory(np.asarray(arr.values), source)


@pytest.mark.parametrize(
    "pa_type",
    [pa.int8(), pa.uint32(), pa.float64(), pa.timestamp("ns", tz="UTC"), pa.duration("ms")],
)
def test_pyarrow_array_input_is_imported_without_copy(pa_type: pa.DataType) -> None:
    source = pa.array(np.arange(20)).cast(pa_type)
    arr = colbridge.array(source)
    assert isinstance(arr, colbridge.Array)
    assert arr.type == colbridge.DataType(pa_type)
    assert arr.values.address == source.buffers()[1].address


def test_pyarrow_sliced_input_keeps_its_offset() -> None:
    source = pa.array(np.arange(20, dtype=np.int64)).slice(5, 10)
    arr = colbridge.array(source)
    assert arr.to_pylist() == list(range(5, 15))
    assert arr.values.address == source.buffers()[1].address + 5 * 8


def test_pyarrow_table_input_is_imported_without_copy() -> None:
    source = pa.table({"a": np.arange(10, dtype=np.int16), "b": np.linspace(0, 1, 10)})
    table = colbridge.table(source)
    for name in ("a", "b"):
        assert (
            table.column(name).chunk(0).values.address
            == source.column(name).chunk(0).buffers()[1].address
        )


def test_polars_input_is_imported_without_copy() -> None:
    series = pl.Series("x", np.arange(30, dtype=np.int32))
    arr = colbridge.array(series)
    assert isinstance(arr, colbridge.Array)
    assert arr.values.address == address(series.to_numpy(allow_copy=False))

    frame = pl.DataFrame({"a": np.arange(5, dtype=np.float32), "b": np.arange(5)})
    table = colbridge.table(frame)
    for name in ("a", "b"):
        assert table.column(name).chunk(0).values.address == address(
            frame[name].to_numpy(allow_copy=False)
        )


def test_pandas_input_is_imported_without_copy() -> None:
    source = np.arange(8, dtype=np.float64)
    frame = pd.DataFrame({"f": source}, copy=False)
    table = colbridge.table(frame)
    assert table.column("f").chunk(0).values.address == address(frame["f"].to_numpy())
