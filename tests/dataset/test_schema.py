"""One dataset, one schema: the first file's, as pyarrow takes it; later files convert to it
without loss or raise a SchemaError naming both files."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

import colbridge

from .conftest import pd


def files(tmp_path, *tables):
    for i, t in enumerate(tables):
        pq.write_table(pa.table(t), tmp_path / f"f{i}.parquet")
    return tmp_path


@pytest.mark.parametrize(
    "first, second",
    [
        ({"a": [1, 2], "b": [1.0, 2.0]}, {"a": [3]}),  # missing later: nulls there
        ({"a": [3]}, {"a": [1, 2], "b": [1.0, 2.0]}),  # only later: left out
        ({"a": pa.array([1], pa.int32())}, {"a": pa.array([2], pa.int64())}),
        ({"a": pa.array([1], pa.int64())}, {"a": pa.array([2], pa.int32())}),
        ({"a": [1], "b": [2]}, {"b": [3], "a": [4]}),  # column order
        ({"a": [1]}, {"a": pa.array([None], pa.int64())}),  # nulls make it float
        ({"a": pa.array(["x"], pa.string())}, {"a": pa.array(["y"], pa.large_string())}),
        ({"a": [1.5], "s": ["p"]}, {"a": pa.array([2.5], pa.float32())}),
    ],
    ids=[
        "missing-later",
        "only-later",
        "int32-int64",
        "int64-int32",
        "order",
        "nulls",
        "string-widths",
        "float-widths-missing-string",
    ],
)
def test_schemas_are_unified_as_pandas_unifies_them(tmp_path, first, second):
    root = files(tmp_path, first, second)
    expected = pd.read_parquet(root)
    got = colbridge.read_pandas(root)
    for name, dtype in got.dtypes.items():
        if str(dtype) == "Int64":  # colbridge keeps integers with nulls as masked Int64
            expected[name] = expected[name].astype("Int64")
    assert_frame_equal(got, expected)
    table = colbridge.read_parquet(root)
    assert table.schema.names == pq.read_table(root).schema.names
    assert_frame_equal(table.to_pandas(), expected)


@pytest.mark.parametrize(
    "second",
    [{"a": ["x"]}, {"a": [1.5]}, {"a": pa.array([1], pa.timestamp("us"))}],
    ids=["string", "float", "timestamp"],
)
def test_a_column_of_another_kind_is_a_schema_error_naming_both_files(tmp_path, second):
    root = files(tmp_path, {"a": [1]}, second)
    pattern = r"column 'a' is int64 in .*f0\.parquet but .* in .*f1\.parquet"
    with pytest.raises(colbridge.SchemaError, match=pattern):
        colbridge.read_pandas(root)
    with pytest.raises(colbridge.SchemaError, match=pattern):
        colbridge.read_parquet(root)


def test_a_column_of_another_kind_not_read_is_no_error(tmp_path):
    root = files(tmp_path, {"a": [1], "b": [1]}, {"a": [2], "b": ["x"]})
    assert colbridge.read_pandas(root, columns=["a"])["a"].tolist() == [1, 2]


def test_the_index_pandas_stored_is_restored_across_files(tmp_path):
    for i in range(3):
        frame = pd.DataFrame({"k": [i * 10 + j for j in range(3)], "v": [1.0, 2.0, 3.0]})
        frame.set_index("k").to_parquet(tmp_path / f"f{i}.parquet")
    assert_frame_equal(colbridge.read_pandas(tmp_path), pd.read_parquet(tmp_path))


def test_parallel_and_serial_reads_agree(hive):
    assert_frame_equal(colbridge.read_pandas(hive, use_threads=False), colbridge.read_pandas(hive))
