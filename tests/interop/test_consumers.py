"""Arrow PyCapsule consumers: pyarrow, Polars, DuckDB and nanoarrow read colbridge objects."""

from __future__ import annotations

import datetime as dt

import duckdb
import nanoarrow as na
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

import colbridge

from ..conftest import address, pyarrow_type


@pytest.fixture
def table() -> colbridge.Table:
    return colbridge.table(
        {
            "i": np.arange(5, dtype=np.int64),
            "f": [0.5, None, 1.5, 2.5, None],
            "s": ["a", "b", None, "d", "eeeeeeeeeeeeeeeeeee"],
            "t": [dt.datetime(2020, 1, d) for d in range(1, 6)],
            "l": [[1], [], None, [2, 3], [4]],
        }
    )


EXPECTED = {
    "i": [0, 1, 2, 3, 4],
    "f": [0.5, None, 1.5, 2.5, None],
    "s": ["a", "b", None, "d", "eeeeeeeeeeeeeeeeeee"],
    "t": [dt.datetime(2020, 1, d) for d in range(1, 6)],
    "l": [[1], [], None, [2, 3], [4]],
}


# --- pyarrow ---------------------------------------------------------------------------------


def test_pyarrow_table(table: colbridge.Table) -> None:
    out = pa.table(table)
    assert out.to_pydict() == EXPECTED
    assert out.schema.field("i").type == pa.int64()
    assert out.schema.field("t").type == pa.timestamp("us")
    assert out.schema.field("l").type == pa.list_(pa.int64())
    assert (
        out.column("i").chunk(0).buffers()[1].address == table.column("i").chunk(0).values.address
    )


def test_pyarrow_array_and_chunked_array() -> None:
    arr = colbridge.array([1, None, 3])
    out = pa.array(arr)
    assert out.type == pa.int64()
    assert out.to_pylist() == [1, None, 3]
    assert out.buffers()[1].address == arr.values.address
    chunked = pa.chunked_array(colbridge.chunked_array([[1, 2], [3]]))
    assert chunked.num_chunks == 2
    assert chunked.to_pylist() == [1, 2, 3]
    column = colbridge.table({"x": [1]}).column("x")
    assert pa.chunked_array(column).to_pylist() == [1]


def test_pyarrow_record_batch_reader(table: colbridge.Table) -> None:
    reader = pa.RecordBatchReader.from_stream(table)
    assert reader.schema.names == ["i", "f", "s", "t", "l"]
    assert reader.read_all().to_pydict() == EXPECTED


def test_pyarrow_schema_and_type_capsules(table: colbridge.Table) -> None:
    assert pa.schema(table.schema).names == table.column_names
    assert pa.schema(table).names == table.column_names
    assert pa.field(colbridge.Field("x", "int32")).type == pa.int32()
    assert pyarrow_type(colbridge.DataType("timestamp[ms, tz=UTC]")) == pa.timestamp("ms", tz="UTC")


def test_pyarrow_array_with_type_uses_requested_schema() -> None:
    arr = colbridge.array(["x", None])
    assert pa.array(arr, type=pa.large_string()).type == pa.large_string()
    assert pa.array(arr, type=pa.large_string()).to_pylist() == ["x", None]


def test_multi_chunk_table_exports_batches() -> None:
    table = colbridge.table(
        pa.Table.from_batches([pa.record_batch({"a": [1, 2]}), pa.record_batch({"a": [3]})])
    )
    assert table.column("a").num_chunks == 2
    out = pa.table(table)
    assert out.column("a").num_chunks == 2
    assert out.to_pydict() == {"a": [1, 2, 3]}
    assert pl.DataFrame(table)["a"].to_list() == [1, 2, 3]


# --- requested_schema ------------------------------------------------------------------------


def test_requested_string_view_is_honoured() -> None:
    arr = colbridge.array(["x", None, "a string longer than twelve bytes"])
    schema_capsule, array_capsule = arr.__arrow_c_array__(pa.string_view().__arrow_c_schema__())
    out = pa.Array._import_from_c_capsule(schema_capsule, array_capsule)
    assert out.type == pa.string_view()
    assert out.to_pylist() == ["x", None, "a string longer than twelve bytes"]
    assert pa.array(arr, type=pa.string_view()).type == pa.string_view()


def test_requested_schema_on_streams() -> None:
    chunked = colbridge.chunked_array([["a"], [None, "b"]])
    stream = chunked.__arrow_c_stream__(pa.large_string().__arrow_c_schema__())
    imported = pa.chunked_array(na.ArrayStream(stream))
    assert imported.type == pa.large_string()
    assert imported.to_pylist() == ["a", None, "b"]
    result = pa.chunked_array(chunked, type=pa.large_string())
    assert result.type == pa.large_string()
    assert result.to_pylist() == ["a", None, "b"]

    table = colbridge.table({"a": [1, 2], "s": ["x", "y"]})
    requested = pa.schema([("a", pa.int32()), ("s", pa.string_view())])
    reader = pa.RecordBatchReader._import_from_c_capsule(
        table.__arrow_c_stream__(requested.__arrow_c_schema__())
    )
    assert reader.schema.types == [pa.int32(), pa.string_view()]
    assert reader.read_all().to_pydict() == {"a": [1, 2], "s": ["x", "y"]}


def test_requested_schema_equal_to_own_is_zero_copy() -> None:
    arr = colbridge.array(np.arange(4))
    out = pa.Array._import_from_c_capsule(*arr.__arrow_c_array__(pa.int64().__arrow_c_schema__()))
    assert out.buffers()[1].address == arr.values.address


# --- Polars ----------------------------------------------------------------------------------


def test_polars_dataframe(table: colbridge.Table) -> None:
    frame = pl.DataFrame(table)
    assert frame.columns == ["i", "f", "s", "t", "l"]
    assert frame.schema["i"] == pl.Int64
    assert frame.schema["s"] == pl.String
    assert frame.schema["t"] == pl.Datetime("us")
    assert frame.schema["l"] == pl.List(pl.Int64)
    assert frame.to_dict(as_series=False) == EXPECTED
    assert (
        address(frame["i"].to_numpy(allow_copy=False)) == table.column("i").chunk(0).values.address
    )
    assert table.to_polars().equals(frame)


def test_polars_series() -> None:
    arr = colbridge.array([1.5, None, 2.5])
    series = pl.Series(arr)
    assert series.dtype == pl.Float64
    assert series.to_list() == [1.5, None, 2.5]
    assert arr.to_polars().to_list() == [1.5, None, 2.5]
    assert pl.Series(colbridge.chunked_array([[1], [2]])).to_list() == [1, 2]
    assert colbridge.chunked_array([["a"], ["b"]]).to_polars().to_list() == ["a", "b"]


def test_polars_round_trip(table: colbridge.Table) -> None:
    back = colbridge.table(pl.DataFrame(table))
    assert back.to_pydict() == EXPECTED


# --- DuckDB ----------------------------------------------------------------------------------


def test_duckdb_sql_over_a_table_variable(table: colbridge.Table) -> None:
    t = table  # noqa: F841 - DuckDB finds it by name
    con = duckdb.connect()
    try:
        assert con.sql("select sum(i), count(s), count(*) from t").fetchall() == [(10, 4, 5)]
        assert con.sql("select s from t where i >= 3 order by i").fetchall() == [
            ("d",),
            ("eeeeeeeeeeeeeeeeeee",),
        ]
        assert con.sql("select max(t) from t").fetchall() == [(dt.datetime(2020, 1, 5),)]
        assert con.sql("select l from t where i = 3").fetchall() == [([2, 3],)]
        # ... and back into colbridge.
        result = colbridge.table(con.sql("select i * 2 as j from t order by j"))
        assert result.to_pydict() == {"j": [0, 2, 4, 6, 8]}
    finally:
        con.close()


def test_duckdb_over_an_array() -> None:
    arr = colbridge.array(np.arange(10))  # noqa: F841 - referenced by name in SQL
    t = colbridge.table({"x": arr})  # noqa: F841
    assert duckdb.sql("select sum(x) from t").fetchall() == [(45,)]


# --- nanoarrow -------------------------------------------------------------------------------


def test_nanoarrow_c_array() -> None:
    arr = colbridge.array([1, None, 3])
    c = na.c_array(arr)
    assert c.length == 3
    assert c.null_count == 1
    assert c.buffers[1] == arr.values.address
    assert c.buffers[0] == arr.validity.address
    assert c.schema.format == "l"


def test_nanoarrow_array() -> None:
    arr = colbridge.array(np.arange(3, dtype=np.float64))
    out = na.Array(arr)
    assert out.to_pylist() == [0.0, 1.0, 2.0]
    view = out.buffer(1)
    assert list(view) == [0.0, 1.0, 2.0]
    strings = na.Array(colbridge.array(["a", None]))
    assert strings.to_pylist() == ["a", None]


def test_nanoarrow_stream(table: colbridge.Table) -> None:
    stream = na.c_array_stream(table)
    assert stream.get_schema().n_children == 5
    out = na.Array(table)
    assert out.to_pylist()[0] == {
        "i": 0,
        "f": 0.5,
        "s": "a",
        "t": dt.datetime(2020, 1, 1),
        "l": [1],
    }


def test_nanoarrow_producer_into_colbridge() -> None:
    source = na.c_array([1, 2, 3], na.int32())
    arr = colbridge.array(source)
    assert str(arr.type) == "int32"
    assert arr.to_pylist() == [1, 2, 3]
    assert arr.values.address == source.buffers[1]
