"""What a dataset source can be: a directory (recursive, writers' side files skipped), a glob,
a list of paths, a ``file://`` URL; and the clear errors for what it cannot."""

from __future__ import annotations

import glob
import os

import pytest
from pandas.testing import assert_frame_equal

import colbridge
from colbridge.dataset import list_files

from .conftest import pd, write


def test_a_directory_reads_as_pandas_reads_it(hive):
    assert_frame_equal(colbridge.read_pandas(hive), pd.read_parquet(hive))


def test_hidden_and_underscore_files_and_directories_are_skipped(hive):
    paths = [os.path.relpath(ref.path, hive) for ref in list_files(hive)]
    assert len(paths) == 12
    assert not any("_tmp" in p or "hidden" in p or "SUCCESS" in p or "crc" in p for p in paths)


def test_files_are_read_in_path_order(hive):
    paths = [ref.path for ref in list_files(hive)]
    assert paths == sorted(paths)


def test_a_list_of_paths_reads_as_pandas_reads_it(hive):
    files = sorted(glob.glob(f"{hive}/year=*/city=*/*.parquet"))[::-1]
    assert_frame_equal(colbridge.read_pandas(files), pd.read_parquet(files))


def test_a_glob_reads_the_files_it_matches_with_their_partitions(hive):
    got = colbridge.read_pandas(f"{hive}/year=1*/*/part-0.parquet")
    expected = pd.read_parquet(hive, filters=[("year", "=", 10)])
    expected = expected[expected.note.str.len() > 0]
    files = sorted(glob.glob(f"{hive}/year=1*/*/part-0.parquet"))
    assert_frame_equal(got, pd.read_parquet(files))
    assert set(got.year) == {10}


def test_a_glob_matching_nothing_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file matches"):
        colbridge.read_pandas(tmp_path / "*.parquet")


def test_a_missing_file_in_a_list_is_file_not_found_naming_it(hive):
    files = [*sorted(glob.glob(f"{hive}/year=9/*/*.parquet")), str(hive / "gone.parquet")]
    for read in (colbridge.read_pandas, colbridge.read_parquet):
        with pytest.raises(FileNotFoundError, match="gone.parquet"):
            read(files)


def test_a_missing_directory_is_file_not_found_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        colbridge.read_pandas(tmp_path / "nowhere")


def test_file_urls_are_paths(hive):
    assert_frame_equal(colbridge.read_pandas(hive.as_uri()), pd.read_parquet(hive))
    one = next(hive.glob("year=9/city=lima/part-0.parquet"))
    assert colbridge.ParquetFile(one.as_uri()).num_rows == 3
    assert colbridge.read_parquet(one.as_uri()).num_rows == 3


def test_storage_options_with_a_local_path_are_refused(hive):
    with pytest.raises(colbridge.InvalidInputError, match="storage_options is only for URLs"):
        colbridge.ParquetFile(next(hive.rglob("*.parquet")), storage_options={"anon": True})


def test_an_unknown_scheme_lists_the_supported_sources():
    with pytest.raises(colbridge.InvalidInputError, match="unknown URL scheme ftp://.*globs"):
        colbridge.read_parquet("ftp://host/x.parquet")


def test_parquet_file_of_a_directory_points_at_datasets(hive):
    with pytest.raises(IsADirectoryError, match="colbridge.dataset.dataset"):
        colbridge.ParquetFile(hive)


def test_a_dataset_object_describes_the_directory(hive):
    ds = colbridge.dataset.dataset(hive)
    assert len(ds.files) == 12
    assert ds.schema.names == ["amount", "units", "note", "year", "city"]
    assert ds.partitioning.values == {"year": [10, 2024, 9], "city": ["lima", "oslo"]}


def test_an_empty_directory_is_an_empty_frame_as_in_pandas(tmp_path):
    assert_frame_equal(colbridge.read_pandas(tmp_path), pd.read_parquet(tmp_path))
    assert colbridge.read_parquet(tmp_path).shape == (0, 0)


def test_a_file_object_is_still_one_file(tmp_path):
    path = write(tmp_path / "one.parquet", pd.DataFrame({"a": [1, 2]}))
    with open(path, "rb") as f:
        assert colbridge.read_pandas(f)["a"].tolist() == [1, 2]


def test_row_groups_are_refused_for_a_dataset(hive):
    with pytest.raises(colbridge.InvalidInputError, match="row_groups"):
        colbridge.read_parquet(hive, row_groups=[0])


def test_the_cli_inspects_and_previews_a_directory(hive, capsys):
    from colbridge.cli import main

    assert main(["inspect", str(hive)]) == 0
    out = capsys.readouterr().out
    assert "files:       12" in out and "partition:   year (3 values: 10, 2024, 9)" in out
    assert main(["head", str(hive), "-n", "2", "--columns", "units,city"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["units", "city"] and lines[2].split() == ["0", "lima"]
    assert "(2 of 42 rows)" in lines[-1]
