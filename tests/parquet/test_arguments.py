"""The arguments newcomers get wrong first: an unreachable URL (directories, globs and
lists are datasets: tests/dataset), ``columns`` as a string, no columns, repeated and ambiguous
column names. Each is refused with a message that names the path or column and says what is
accepted, or does what pandas does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

READERS = {"read_parquet": colbridge.read_parquet, "read_pandas": colbridge.read_pandas}


@pytest.fixture(params=sorted(READERS))
def read(request: pytest.FixtureRequest):
    return READERS[request.param]


def test_parquet_file_on_a_directory_names_it(path: Path) -> None:
    with pytest.raises(IsADirectoryError) as info:
        colbridge.ParquetFile(path.parent)
    assert info.value.filename == str(path.parent)


def test_an_unreachable_url_is_a_storage_error_naming_it(read) -> None:
    # A loopback port nothing listens on (object storage itself is tested in tests/remote).
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/t.parquet"
    with pytest.raises(colbridge.StorageError) as info:
        read(url, storage_options={"retries": 0})
    assert isinstance(info.value, OSError) and url in str(info.value)


def test_a_file_named_like_a_pattern_is_read(read, path: Path) -> None:
    odd = path.with_name("trips[2023]*.parquet")
    odd.write_bytes(path.read_bytes())
    assert len(read(odd)) == 100 if read is colbridge.read_pandas else read(odd).num_rows == 100


def test_a_missing_file_stays_file_not_found_naming_it(read, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        read(tmp_path / "nope.parquet")


def test_columns_as_a_string_is_refused_as_pandas_refuses_it(read, path: Path) -> None:
    with pytest.raises(colbridge.InvalidInputError) as info:
        read(path, columns="s")
    assert str(info.value) == (
        "columns: expected a list of column names, got the string 's' (use columns=['s'])"
    )
    with pytest.raises(ValueError):  # pandas refuses it too, with a ValueError
        pd.read_parquet(path, columns="s")


def test_an_unknown_column_lists_the_columns_of_the_file(read, path: Path) -> None:
    with pytest.raises(colbridge.InvalidInputError) as info:
        read(path, columns=["zone"])
    assert str(info.value) == (
        "no column named 'zone' in the file; its columns are 'id', 'i', 'f', 's', 't', 'b'"
    )


def test_no_columns_gives_every_row_and_no_column_as_pandas_does(path: Path) -> None:
    got = colbridge.read_pandas(path, columns=[])
    assert got.shape == (100, 0)
    pd.testing.assert_frame_equal(got, pd.read_parquet(path, columns=[]))
    assert colbridge.read_parquet(path, columns=[]).num_rows == 100


def test_a_column_asked_for_twice_is_returned_twice_as_pandas_does(path: Path) -> None:
    got = colbridge.read_pandas(path, columns=["s", "id", "s"])
    pd.testing.assert_frame_equal(got, pd.read_parquet(path, columns=["s", "id", "s"]))
    assert colbridge.read_parquet(path, columns=["s", "s"]).column_names == ["s", "s"]


@pytest.fixture
def duplicated(tmp_path: Path) -> Path:
    p = tmp_path / "duplicated.parquet"
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"]), p)
    return p


def test_a_file_with_a_repeated_name_reads_whole_with_both_columns(duplicated: Path) -> None:
    assert colbridge.read_parquet(duplicated).column_names == ["a", "a"]
    want = pq.ParquetFile(duplicated).read().to_pandas()  # pyarrow keeps both as well
    pd.testing.assert_frame_equal(colbridge.read_pandas(duplicated), want)


@pytest.mark.parametrize(
    "how",
    [{"columns": ["a"]}, {"filters": [("a", ">", 1)]}],
    ids=["columns", "filters"],
)
def test_a_repeated_name_is_ambiguous_when_selected(read, duplicated: Path, how: dict) -> None:
    with pytest.raises(colbridge.InvalidInputError) as info:
        read(duplicated, **how)
    assert str(info.value) == (
        "column name 'a' is ambiguous: the file has 2 columns of that name (positions [0, 1]); "
        "read all columns to get each of them"
    )
    with pytest.raises(pa.ArrowInvalid, match="Multiple matches"):  # as pyarrow refuses it
        pq.read_table(duplicated, columns=["a"])


def test_columns_as_a_string_is_refused_by_every_reader(path: Path, tmp_path: Path) -> None:
    # Not only read_parquet/read_pandas: ParquetFile's own readers and the IPC readers, where a
    # string used to be taken as one-letter names or fail in pyo3's extraction.
    feather = tmp_path / "t.arrow"
    colbridge.write_ipc(colbridge.read_parquet(path), feather)
    calls = {
        "ParquetFile.read": lambda: colbridge.ParquetFile(path).read(columns="a"),
        "ParquetFile.iter_batches": lambda: colbridge.ParquetFile(path).iter_batches(columns="a"),
        "read_ipc": lambda: colbridge.read_ipc(feather, columns="a"),
        "read_feather": lambda: colbridge.read_feather(feather, columns="a"),
    }
    for name, call in calls.items():
        with pytest.raises(colbridge.InvalidInputError, match=r"use columns=\['a'\]"):
            call()
            pytest.fail(f"{name} took a string as column names")


def test_single_file_readers_say_what_they_take(path: Path, tmp_path: Path) -> None:
    feather = tmp_path / "t.arrow"
    colbridge.write_ipc(colbridge.read_parquet(path), feather)
    for reader in (colbridge.read_ipc, colbridge.read_feather):
        name = reader.__name__
        with pytest.raises(IsADirectoryError, match=f"{name} reads one local file") as info:
            reader(tmp_path)
        assert info.value.filename == str(tmp_path)
        with pytest.raises(colbridge.InvalidInputError, match="not a glob pattern") as e:
            reader(str(tmp_path / "*.arrow"))
        assert "*.arrow" in str(e.value)
        with pytest.raises(colbridge.InvalidInputError, match="URLs") as e:
            reader("https://user:secret@example.org/t.arrow")
        assert "example.org/t.arrow" in str(e.value) and "secret" not in str(e.value)
        got = reader(f"file://{feather}")  # a file:// URL is a path
        rows = got.num_rows if name == "read_ipc" else len(got)
        assert rows == colbridge.read_parquet(path).num_rows
    with pytest.raises(colbridge.InvalidInputError, match="not a glob pattern") as e:
        colbridge.ParquetFile(str(path.parent / "*.parquet"))
    assert "read_parquet(pattern)" in str(e.value)
    with pytest.raises(colbridge.InvalidInputError) as e:
        colbridge.read_numpy(path.parent)
    assert str(path.parent) in str(e.value) and "reads one file" in str(e.value)


def test_writers_refuse_object_storage_naming_the_url(path: Path) -> None:
    table = colbridge.read_parquet(path)
    for write in (colbridge.write_parquet, colbridge.write_ipc):
        with pytest.raises(colbridge.InvalidInputError, match="not supported") as e:
            write(table, "s3://bucket/out.parquet")
        assert "s3://bucket/out.parquet" in str(e.value)
