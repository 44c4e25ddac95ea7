"""Hive partitions: typed and ordered as pandas/pyarrow give them, and filters on them that skip
whole files before any of their bytes are read."""

from __future__ import annotations

import pytest
from pandas.testing import assert_frame_equal

import colbridge

from .conftest import pd, write


def partitioned(root, values, key="k"):
    for v in values:
        write(root / f"{key}={v}" / "p.parquet", pd.DataFrame({"x": [1, 2]}))
    return root


@pytest.mark.parametrize(
    "values",
    [
        [9, 10, 100, -1],  # int32 categories, in path (not numeric) order
        ["b", "a", "C"],
        ["1.5", "2"],  # not integers: strings
        [3000000000, 1],  # beyond int32: strings
        ["2024", "abc"],
        ["a%20b", "c d"],  # URL-decoded
        ["", "1"],
    ],
    ids=["ints", "strings", "floats", "big-ints", "mixed", "escaped", "empty"],
)
def test_partition_columns_have_pandas_dtype_and_category_order(tmp_path, values):
    root = partitioned(tmp_path, values)
    got, expected = colbridge.read_pandas(root), pd.read_parquet(root)
    assert_frame_equal(got, expected)
    assert got.k.dtype == expected.k.dtype  # categories (and their dtype) in the same order


def test_the_table_types_partitions_as_pyarrow_does(hive):
    import pyarrow.parquet as pq

    table = colbridge.read_parquet(hive)
    expected = pq.read_table(hive).schema
    for name in ("year", "city"):
        assert str(table.schema.field(name).type) == str(expected.field(name).type)
    assert table.column("amount").num_chunks == 12  # one chunk per file, no concatenation
    got, expected = table.to_pandas(), pd.read_parquet(hive)
    for name in ("year", "city"):  # Table.to_pandas shares the int32 codes, pyarrow narrows
        assert got[name].cat.categories.equals(expected[name].cat.categories)
    assert_frame_equal(got.astype(object), expected.astype(object))


@pytest.mark.parametrize(
    "filters",
    [
        [("year", "=", 10)],
        [("year", "in", [9, 2024]), ("city", "!=", "oslo")],
        [("year", ">", 9), ("units", ">=", 2)],
        [[("year", "=", 9)], [("units", "==", 3)]],
        [("city", "not in", ["lima"])],
    ],
    ids=["eq", "in-and-ne", "partition-and-data", "or", "not-in"],
)
def test_filters_on_partitions_give_what_pandas_gives(hive, filters):
    assert_frame_equal(
        colbridge.read_pandas(hive, filters=filters), pd.read_parquet(hive, filters=filters)
    )


def test_partition_filters_skip_files_before_reading_them(hive):
    # A file in a pruned partition is not even opened: here it is not Parquet at all.
    (hive / "year=2024" / "city=oslo" / "part-0.parquet").write_bytes(b"garbage")
    with pytest.raises(colbridge.ParquetError, match="year=2024/city=oslo"):
        colbridge.read_pandas(hive)
    got = colbridge.read_pandas(hive, filters=[("year", "<", 2024)])
    assert set(got.year) == {9, 10}


def test_partition_filters_reduce_the_bytes_fetched(hive):
    fetched = {}

    def record(name):
        return lambda done, total: fetched.__setitem__(name, done)

    colbridge.read_parquet(hive, progress=record("all"))
    colbridge.read_parquet(hive, filters=[("city", "=", "lima")], progress=record("lima"))
    assert 0 < fetched["lima"] <= fetched["all"] * 0.6


def test_a_filter_of_the_wrong_type_for_a_partition_is_a_clear_error(hive):
    with pytest.raises(colbridge.InvalidInputError, match="partition 'year' \\(integers\\)"):
        colbridge.read_pandas(hive, filters=[("year", "=", "2024")])


def test_selecting_partition_columns_keeps_the_order_asked_for(hive):
    columns = ["city", "units", "year"]
    assert_frame_equal(
        colbridge.read_pandas(hive, columns=columns), pd.read_parquet(hive, columns=columns)
    )


def test_a_null_partition_value_is_a_missing_category(tmp_path):
    root = partitioned(tmp_path, ["__HIVE_DEFAULT_PARTITION__", "a"])
    got = colbridge.read_pandas(root)  # pyarrow 26 refuses this dataset
    assert got.k.isna().tolist() == [True, True, False, False]
    assert list(got.k.cat.categories) == ["a"]
