"""The graph from footers alone: pieces, meta, divisions and pruning, checked without running
a task (the local scheduler runs what needs running)."""

from __future__ import annotations

import pickle

import pytest
from pandas.testing import assert_frame_equal

import colbridge
import colbridge.dask

from .conftest import ROW_GROUP, ROWS_PER_FILE, as_dask, pd


def test_npartitions_follow_the_pieces(dataset):
    assert colbridge.dask.read_parquet(dataset).npartitions == 6  # a file each (adaptive)
    assert colbridge.dask.read_parquet(dataset, split_row_groups=True).npartitions == 24
    assert colbridge.dask.read_parquet(dataset, split_row_groups=3).npartitions == 12
    small = colbridge.dask.read_parquet(dataset, blocksize=ROW_GROUP * 70)
    assert small.npartitions == 24  # ~90 bytes a row: one row group per piece fits


def test_meta_comes_from_the_footer_without_reading_data(dataset):
    before = colbridge.dask.io_counters()["partitions"]
    ddf = colbridge.dask.read_parquet(dataset)
    assert colbridge.dask.io_counters()["partitions"] == before  # building the graph read none
    expected = pd.read_parquet(dataset)
    assert list(ddf.columns) == list(expected.columns)
    assert ddf.dtypes["day"] == expected.dtypes["day"]  # int32 categories 1, 2, 3
    assert ddf.dtypes["id"] == "int64" and ddf.dtypes["group"] == "int32"


def test_the_sync_scheduler_computes_what_pandas_reads(dataset):
    ddf = colbridge.dask.read_parquet(dataset, split_row_groups=True)
    got = ddf.compute(scheduler="sync").reset_index(drop=True)
    assert_frame_equal(got, as_dask(pd.read_parquet(dataset), ddf))


def test_filters_prune_files_and_row_groups_when_the_graph_is_built(dataset):
    ddf = colbridge.dask.read_parquet(
        dataset,
        split_row_groups=True,
        filters=[("day", "=", 2), ("id", "<", ROWS_PER_FILE * 2 + 1500)],
    )
    assert ddf.npartitions == 2  # day=2's first file, its first two row groups
    got = ddf.compute(scheduler="sync").reset_index(drop=True)
    expected = pd.read_parquet(dataset, filters=[("day", "=", 2), ("id", "<", 9500)])
    assert_frame_equal(got, as_dask(expected, ddf))


def test_a_filter_keeping_nothing_is_one_empty_partition(dataset):
    ddf = colbridge.dask.read_parquet(dataset, filters=[("day", "=", 9)])
    assert ddf.npartitions == 1 and len(ddf.compute(scheduler="sync")) == 0


def test_divisions_come_from_the_statistics_of_a_sorted_index(dataset):
    ddf = colbridge.dask.read_parquet(dataset, index="id", split_row_groups=True)
    assert ddf.known_divisions
    assert ddf.divisions == (*range(0, 6 * ROWS_PER_FILE, ROW_GROUP), 6 * ROWS_PER_FILE - 1)
    assert ddf.loc[5_000:5_004].compute(scheduler="sync").index.tolist() == list(range(5000, 5005))


def test_an_unsorted_index_has_unknown_divisions(dataset):
    assert not colbridge.dask.read_parquet(dataset, index="group").known_divisions


def test_the_reader_is_small_when_pickled(dataset):
    reader = colbridge.dask.ParquetReader.of(colbridge.dask.read_parquet(dataset))
    assert len(pickle.dumps(reader)) < 1_000


def test_column_projection_reaches_the_reader(dataset):
    ddf = colbridge.dask.read_parquet(dataset)
    assert colbridge.dask.ParquetReader.of(ddf).columns == [
        *("id", "value", "payload", "wide", "group", "day")
    ]
    projected = ddf[["id", "day"]].optimize(fuse=False)  # what each task passes the reader
    assert colbridge.dask.ParquetReader.of(projected).columns == ["id", "day"]


def test_storage_options_are_for_urls_only(dataset):
    with pytest.raises(colbridge.InvalidInputError, match="storage_options is only for URLs"):
        colbridge.dask.read_parquet(dataset, storage_options={"anon": True})
