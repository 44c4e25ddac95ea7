"""to_pandas: dtypes, memory sharing, and the write policy (writes copy, never touch Arrow)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import colbridge

from ..conftest import pyarrow_type


def shares(a: Any, buf: colbridge.Buffer) -> bool:
    return bool(np.shares_memory(np.asarray(a), np.asarray(buf)))


@pytest.fixture
def table() -> colbridge.Table:
    return colbridge.table(
        {
            "a": [1, None, 3],
            "i": np.arange(3, dtype=np.int32),
            "f": colbridge.array([1.5, None, 3.0], type="float32"),
            "g": np.array([0.5, 1.5, 2.5]),
            "s": ["x", None, "z"],
            "tz": colbridge.array(
                [
                    dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                    None,
                    dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
                ]
            ),
            "d": colbridge.array(pa.array(["p", "q", "p"]).dictionary_encode()),
        }
    )


def test_ints_with_nulls_become_float64_nan_as_in_pandas() -> None:
    # pandas (through pyarrow) gives float64 with NaN for any integer column with a null.
    for type_name in ["int8", "int64", "uint16"]:
        arr = colbridge.array([1, None, 3], type=type_name)
        col = colbridge.table({"a": arr}).to_pandas()["a"]
        assert col.dtype == np.float64
        assert col.isna().tolist() == [False, True, False]
        # The table's memory is shared, so the float64 column is a copy; Arrow is untouched.
        assert arr.to_pylist() == [1, None, 3]
        pd.testing.assert_series_equal(col, pa.table({"a": pa.array(arr)}).to_pandas()["a"])


def test_nullable_ints_under_numpy_nullable_are_masked_arrays_sharing_values() -> None:
    for type_name, dtype in [("int8", "Int8"), ("int64", "Int64"), ("uint16", "UInt16")]:
        arr = colbridge.array([1, None, 3], type=type_name)
        col = colbridge.table({"a": arr}).to_pandas(dtype_backend="numpy_nullable")["a"]
        assert str(col.dtype) == dtype
        assert isinstance(col.array, pd.arrays.IntegerArray)
        assert shares(col.array._data, arr.values)
        assert col.tolist() == [1, pd.NA, 3]


def test_ints_without_nulls_are_plain_numpy() -> None:
    arr = colbridge.array(np.arange(4, dtype=np.int16))
    col = colbridge.table({"a": arr}).to_pandas()["a"]
    assert col.dtype == np.int16
    assert shares(col.to_numpy(), arr.values)


@pytest.mark.parametrize(("type_name", "dtype"), [("float32", np.float32), ("float64", np.float64)])
def test_floats_with_nulls_become_nan(type_name: str, dtype: Any) -> None:
    arr = colbridge.array([1.5, None, 3.0], type=type_name)
    col = colbridge.table({"f": arr}).to_pandas()["f"]
    assert col.dtype == dtype
    values = col.to_numpy()
    assert np.isnan(values[1])
    assert values[[0, 2]].tolist() == [1.5, 3.0]
    # Filling NaN needs a copy: the Arrow memory is untouched.
    assert np.asarray(arr.values).tolist()[0] == 1.5


def test_int64_with_nulls_in_numpy_conversion_is_float_nan() -> None:
    out = colbridge.array([1, None, 3]).to_numpy()
    assert out.dtype == np.float64
    assert np.isnan(out[1])


def test_timestamps_with_tz_share_memory() -> None:
    arr = colbridge.array(np.arange(5, dtype=np.int64) * 10**9).cast("timestamp[ns, tz=Asia/Tokyo]")
    col = colbridge.table({"t": arr}).to_pandas()["t"]
    assert isinstance(col.dtype, pd.DatetimeTZDtype)
    assert str(col.dtype.tz) == "Asia/Tokyo"
    assert col.dtype.unit == "ns"
    assert shares(col.array.asi8, arr.values)
    assert col.iloc[1] == pd.Timestamp(10**9, unit="ns", tz="UTC")
    assert col.iloc[1].tz is not None and str(col.iloc[1].tz) == "Asia/Tokyo"


def test_timestamps_with_tz_and_nulls_are_nat() -> None:
    arr = colbridge.array([dt.datetime(2020, 1, 1, tzinfo=dt.UTC), None])
    col = colbridge.table({"t": arr}).to_pandas()["t"]
    assert isinstance(col.dtype, pd.DatetimeTZDtype)
    assert col.isna().tolist() == [False, True]
    assert col.iloc[0] == pd.Timestamp("2020-01-01", tz="UTC")


def test_naive_timestamps_and_durations_share_memory() -> None:
    ts = colbridge.array(np.array([1, 2], dtype="datetime64[ms]"))
    du = colbridge.array(np.array([3, 4], dtype="timedelta64[us]"))
    df = colbridge.table({"ts": ts, "du": du}).to_pandas()
    assert df["ts"].dtype == np.dtype("datetime64[ms]")
    assert df["du"].dtype == np.dtype("timedelta64[us]")
    assert shares(df["ts"].to_numpy(), ts.values)
    assert shares(df["du"].to_numpy(), du.values)


def test_dictionary_becomes_categorical_sharing_codes() -> None:
    # Codes are as wide as pandas makes them for the number of categories (int8 below 127):
    # int8 indices are shared as they are.
    arr = colbridge.array(
        pa.array(["p", "q", "p", "r"])
        .dictionary_encode()
        .cast(pa.dictionary(pa.int8(), pa.string()))
    )
    col = colbridge.table({"d": arr}).to_pandas()["d"]
    assert col.array.codes.dtype == np.int8
    assert isinstance(col.dtype, pd.CategoricalDtype)
    assert list(col.cat.categories) == ["p", "q", "r"]
    assert shares(col.array.codes, arr.values)
    assert col.tolist() == ["p", "q", "p", "r"]
    # The shared codes behave like any Categorical.
    assert col.value_counts().to_dict() == {"p": 2, "q": 1, "r": 1}
    assert col.groupby(col, observed=True).size().to_dict() == {"p": 2, "q": 1, "r": 1}
    assert (col == "p").tolist() == [True, False, True, False]
    assert col.sort_values().tolist() == ["p", "p", "q", "r"]
    assert pd.concat([col, col]).tolist() == ["p", "q", "p", "r"] * 2


def test_dictionary_with_nulls_becomes_categorical_with_nan() -> None:
    arr = colbridge.array(pa.array(["p", None, "q"]).dictionary_encode())
    col = colbridge.table({"d": arr}).to_pandas()["d"]
    assert isinstance(col.dtype, pd.CategoricalDtype)
    assert col.array.codes.tolist() == [0, -1, 1]
    assert col.isna().tolist() == [False, True, False]
    # The Arrow indices were not overwritten with -1.
    assert colbridge.bitmap_to_mask(arr.validity).tolist() == [True, False, True]
    assert arr.to_pylist() == ["p", None, "q"]


def test_int32_indices_become_int8_codes_as_in_pandas() -> None:
    arr = colbridge.array(pa.array(["p", "q", None, "p"]).dictionary_encode())
    col = colbridge.table({"d": arr}).to_pandas()["d"]
    assert col.array.codes.dtype == np.int8
    assert col.array.codes.tolist() == [0, 1, -1, 0]
    pd.testing.assert_series_equal(col, pa.table({"d": pa.array(arr)}).to_pandas()["d"])


def test_chunks_with_their_own_dictionaries_become_one_set_of_categories() -> None:
    # pyarrow's read of a file with several row groups gives one dictionary per chunk; arrow-rs
    # concatenates them as they are (duplicates included) unless they outgrow the rows, and
    # pandas refused the duplicate categories. pyarrow unifies them in order of appearance.
    chunks = [
        pa.array([f"c{i % 5}" for i in range(1000)]).dictionary_encode(),
        pa.array(["c9", None, "c1", "c0"] * 250).dictionary_encode(),
        pa.array([f"c{i % 5}" for i in range(1000)]).dictionary_encode(),
    ]
    want = pa.table({"d": pa.chunked_array(chunks)})
    got = colbridge.table(want).to_pandas()
    pd.testing.assert_frame_equal(got, want.to_pandas())
    assert got["d"].cat.categories.tolist() == ["c0", "c1", "c2", "c3", "c4", "c9"]


def test_unsigned_dictionary_indices() -> None:
    arr = colbridge.array(
        pa.array(["p", "q", "p"]).dictionary_encode().cast(pa.dictionary(pa.uint8(), pa.string()))
    )
    col = colbridge.table({"d": arr}).to_pandas()["d"]
    assert col.tolist() == ["p", "q", "p"]
    assert shares(col.array.codes, arr.values)


def test_strings_become_pandas_str_dtype() -> None:
    col = colbridge.table({"s": ["x", None, "z"]}).to_pandas()["s"]
    assert col.dtype == "str"
    assert isinstance(col.dtype, pd.StringDtype)
    assert col.tolist()[0] == "x" and col.tolist()[2] == "z"
    assert col.isna().tolist() == [False, True, False]
    for type_name in ("large_string", "string_view"):
        other = colbridge.table({"s": colbridge.array(["x", None], type=type_name)}).to_pandas()
        assert other["s"].dtype == "str"
        assert other["s"].isna().tolist() == [False, True]


def test_booleans_and_nested_types() -> None:
    df = colbridge.table(
        {"b": [True, False], "bn": [True, None], "l": [[1], [2, 3]], "st": [{"x": 1}, {"x": 2}]}
    ).to_pandas()
    assert df["b"].dtype == np.bool_
    assert df["b"].tolist() == [True, False]
    assert df["bn"].tolist() == [True, None]
    # Lists are NumPy arrays per row, structs dicts, as pyarrow converts them.
    assert [type(v) for v in df["l"]] == [np.ndarray, np.ndarray]
    assert [v.tolist() for v in df["l"]] == [[1], [2, 3]]
    assert df["st"].tolist() == [{"x": 1}, {"x": 2}]


def test_array_and_chunked_array_to_pandas() -> None:
    arr = colbridge.array(np.arange(3, dtype=np.float64))
    series = arr.to_pandas()
    assert isinstance(series, pd.Series)
    assert shares(series.to_numpy(), arr.values)
    chunked = colbridge.chunked_array([[1, 2], [3]])
    assert chunked.to_pandas().tolist() == [1, 2, 3]


# --- writes ----------------------------------------------------------------------------------


def test_loc_write_copies_and_leaves_table_and_views_alone(table: colbridge.Table) -> None:
    before = table.to_pydict()
    i_view = table.column("i").to_numpy()
    g_view = table.column("g").to_numpy()
    a_values = np.asarray(table.column("a").chunk(0).values).copy()
    df = table.to_pandas()
    df.loc[0, "a"] = 5
    df.loc[0, "i"] = 5
    df.loc[1, "g"] = 5.0
    df.loc[0, "tz"] = pd.Timestamp("1999-01-01", tz="UTC")
    df.loc[2, "d"] = "q"
    df.loc[0, "s"] = "changed"
    assert df["a"].tolist()[::2] == [5.0, 3.0] and np.isnan(df["a"].iloc[1])
    assert df["i"].tolist() == [5, 1, 2]
    assert df["g"].tolist() == [0.5, 5.0, 2.5]
    assert df["d"].tolist() == ["p", "q", "q"]
    assert df["s"].iloc[0] == "changed"
    assert df.loc[0, "tz"] == pd.Timestamp("1999-01-01", tz="UTC")
    assert table.to_pydict() == before
    assert i_view.tolist() == [0, 1, 2]
    assert g_view.tolist() == [0.5, 1.5, 2.5]
    assert np.asarray(table.column("a").chunk(0).values).tolist() == a_values.tolist()


def test_fillna_inplace_copies(table: colbridge.Table) -> None:
    before = table.to_pydict()
    a_values = np.asarray(table.column("a").chunk(0).values).copy()
    df = table.to_pandas()[["a", "i", "f", "g"]]
    df.fillna(0, inplace=True)
    assert df["a"].tolist() == [1, 0, 3]
    assert df["f"].tolist() == [1.5, 0.0, 3.0]
    assert table.to_pydict() == before
    assert np.asarray(table.column("a").chunk(0).values).tolist() == a_values.tolist()

    whole = table.to_pandas()
    whole.fillna({"a": 0, "s": "-"}, inplace=True)
    assert whole["a"].tolist() == [1, 0, 3]
    assert whole["s"].tolist() == ["x", "-", "z"]
    assert table.to_pydict() == before


def test_other_write_paths_copy(table: colbridge.Table) -> None:
    before = table.to_pydict()
    view = table.column("i").to_numpy()
    df = table.to_pandas()
    df["i"] += 10
    df.iloc[0, 3] = 9.0
    column = df["g"]
    column.iloc[0] = -1.0
    series = table.column("i").to_pandas()
    series.iloc[0] = 42
    series2 = table.column("i").chunk(0).to_pandas()
    series2[1] = 43
    assert df["i"].tolist() == [10, 11, 12]
    assert df["g"].tolist()[0] == 9.0
    assert column.tolist()[0] == -1.0
    assert series.tolist() == [42, 1, 2]
    assert series2.tolist() == [0, 43, 2]
    assert view.tolist() == [0, 1, 2]
    assert table.to_pydict() == before


def test_shared_columns_are_read_only_views() -> None:
    table = colbridge.table({"i": np.arange(3)})
    df = table.to_pandas()
    assert not df["i"].to_numpy().flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        df["i"].to_numpy()[0] = 1


def test_frames_from_one_table_are_independent(table: colbridge.Table) -> None:
    first = table.to_pandas()
    second = table.to_pandas()
    first.loc[0, "i"] = 100
    assert second["i"].tolist() == [0, 1, 2]
    assert shares(second["i"].to_numpy(), table.column("i").chunk(0).values)


# --- dtype_backend and types_mapper ----------------------------------------------------------


def test_dtype_backend_numpy_nullable(table: colbridge.Table) -> None:
    df = table.to_pandas(dtype_backend="numpy_nullable")
    assert str(df["a"].dtype) == "Int64"
    assert str(df["i"].dtype) == "Int32"
    assert str(df["g"].dtype) == "Float64"
    assert isinstance(df["s"].dtype, pd.StringDtype)
    assert df["s"].dtype.na_value is pd.NA
    assert df["a"].tolist() == [1, pd.NA, 3]
    assert df["s"].tolist() == ["x", pd.NA, "z"]
    assert shares(df["i"].array._data, table.column("i").chunk(0).values)
    assert shares(df["g"].array._data, table.column("g").chunk(0).values)
    b = colbridge.table({"b": [True, None]}).to_pandas(dtype_backend="numpy_nullable")["b"]
    assert str(b.dtype) == "boolean"
    assert b.tolist() == [True, pd.NA]


def test_dtype_backend_pyarrow(table: colbridge.Table) -> None:
    df = table.to_pandas(dtype_backend="pyarrow")
    for name in table.column_names:
        assert isinstance(df[name].dtype, pd.ArrowDtype), name
    assert df["a"].dtype == pd.ArrowDtype(pa.int64())
    assert df["s"].dtype == pd.ArrowDtype(pa.string())
    assert df["a"].tolist() == [1, pd.NA, 3]
    pa_values = df["i"].array._pa_array.chunk(0)
    assert pa_values.buffers()[1].address == table.column("i").chunk(0).values.address


def test_invalid_dtype_backend(table: colbridge.Table) -> None:
    with pytest.raises(colbridge.InvalidInputError, match="dtype_backend"):
        table.to_pandas(dtype_backend="bogus")


def test_types_mapper(table: colbridge.Table) -> None:
    mapping = {pa.int64(): pd.Int64Dtype(), pa.string(): pd.StringDtype("pyarrow")}

    def mapper(arrow_type: Any) -> Any:
        return mapping.get(pyarrow_type(arrow_type))

    df = table.to_pandas(types_mapper=mapper)
    assert str(df["a"].dtype) == "Int64"
    assert df["a"].tolist() == [1, pd.NA, 3]
    assert df["s"].dtype == pd.StringDtype("pyarrow")
    assert df["i"].dtype == np.int32  # not mapped: default conversion


def test_pandas_round_trip() -> None:
    frame = pd.DataFrame(
        {
            "i": np.arange(3),
            "f": [0.5, np.nan, 1.0],
            "s": pd.array(["a", None, "c"], dtype="str"),
            "n": pd.array([1, None, 3], dtype="Int32"),
            "t": pd.date_range("2020", periods=3, freq="D"),
        }
    )
    back = colbridge.table(frame).to_pandas()
    pd.testing.assert_frame_equal(back, frame)
    assert back["i"].tolist() == [0, 1, 2]
    assert back["s"].isna().tolist() == [False, True, False]
    assert back["n"].tolist() == [1, pd.NA, 3]
    assert back["t"].tolist() == frame["t"].tolist()
    assert np.isnan(back["f"].iloc[1])
