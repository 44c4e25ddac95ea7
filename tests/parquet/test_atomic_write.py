"""write_parquet replaces a path atomically, or not at all.

The file is written to a temporary file beside the destination and renamed over it only once
complete: a type error, an exception mid-write or Ctrl-C leaves the old file byte for byte as it
was and no temporary file behind; a process killed outright (SIGKILL) leaves the old file intact
and at most its temporary file. Columns Parquet cannot hold are refused, naming them, before
anything touches the disk, and every failure is a colbridge error or a real ``OSError``, never a
``PanicException``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

OLD = b"PAR1 the previous contents of the file, which must survive PAR1"


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.parquet"
    path.write_bytes(OLD)
    return path


def temporary_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".*.colbridge-tmp"))


def assert_untouched(path: Path) -> None:
    assert path.read_bytes() == OLD
    assert temporary_files(path.parent) == []


# --- success ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fsync", [False, True])
def test_a_successful_write_replaces_the_file_and_leaves_nothing_else(
    old_file: Path, fsync: bool
) -> None:
    colbridge.write_parquet(colbridge.table({"x": [1, 2, 3]}), old_file, fsync=fsync)
    assert pq.read_table(old_file).column("x").to_pylist() == [1, 2, 3]
    assert temporary_files(old_file.parent) == []
    assert sorted(p.name for p in old_file.parent.iterdir()) == [old_file.name]


def test_a_new_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "new.parquet"
    colbridge.write_parquet(colbridge.table({"x": ["a"]}), str(path))
    assert pq.read_table(path).column("x").to_pylist() == ["a"]
    assert temporary_files(tmp_path) == []


def test_the_replacement_keeps_the_old_files_permissions(old_file: Path) -> None:
    old_file.chmod(0o640)
    colbridge.write_parquet(colbridge.table({"x": [1]}), old_file)
    assert old_file.stat().st_mode & 0o777 == 0o640


def test_a_symlink_is_written_through(tmp_path: Path, old_file: Path) -> None:
    link = tmp_path / "link.parquet"
    link.symlink_to(old_file)
    colbridge.write_parquet(colbridge.table({"x": [7]}), link)
    assert link.is_symlink()
    assert pq.read_table(old_file).column("x").to_pylist() == [7]


def test_a_file_object_still_receives_the_file(tmp_path: Path, monkeypatch: Any) -> None:
    # No atomicity to offer there: the whole file is written with one call, no temporary file.
    monkeypatch.chdir(tmp_path)
    sink = io.BytesIO()
    colbridge.write_parquet(colbridge.table({"x": list(range(100))}), sink)
    assert pq.read_table(io.BytesIO(sink.getvalue())).column("x").to_pylist() == list(range(100))
    assert list(tmp_path.iterdir()) == []


def test_a_large_table_written_in_slices_reads_back_whole(tmp_path: Path) -> None:
    # Large batches are encoded in ~1 MiB slices (a Ctrl-C check between each).
    n = 600_000
    values = np.arange(n, dtype=np.int64)
    path = tmp_path / "big.parquet"
    colbridge.write_parquet(
        colbridge.table({"x": values, "s": [str(i % 97) for i in range(n)]}), path
    )
    back = pq.read_table(path)
    assert back.num_rows == n
    np.testing.assert_array_equal(back.column("x").to_numpy(), values)
    assert pq.ParquetFile(path).num_row_groups == 1  # slicing the input cuts no row groups


# --- refused before the disk is touched ------------------------------------------------------


def union_column() -> pa.Array:
    return pa.UnionArray.from_dense(
        pa.array([0, 1], pa.int8()), pa.array([0, 0], pa.int32()), [pa.array([1]), pa.array(["a"])]
    )


@pytest.mark.parametrize(
    ("column", "words"),
    [
        pytest.param(lambda: union_column(), "Parquet has no union type", id="dense_union"),
        pytest.param(
            lambda: pa.UnionArray.from_sparse(pa.array([0], pa.int8()), [pa.array([1])]),
            "Parquet has no union type",
            id="sparse_union",
        ),
        pytest.param(
            lambda: pa.ListArray.from_arrays(pa.array([0, 2], pa.int32()), union_column()),
            "Parquet has no union type",
            id="list_of_union",
        ),
        pytest.param(
            lambda: pa.array([pa.MonthDayNano([1, 2, 3])]), "MonthDayNano", id="month_day_nano"
        ),
        pytest.param(lambda: pa.array([{}], pa.struct([])), "empty structs", id="empty_struct"),
    ],
)
def test_unwritable_types_are_refused_naming_the_column(
    old_file: Path, column: Any, words: str
) -> None:
    data = pa.table({"fine": pa.array([1] * len(column())), "bad": column()})
    with pytest.raises(colbridge.UnsupportedTypeError, match=words) as info:
        colbridge.write_parquet(data, old_file)
    assert "column 'bad'" in str(info.value)
    assert_untouched(old_file)


def every_type() -> dict[str, pa.Array]:
    """One column of (nearly) every type pyarrow builds."""
    sparse = pa.UnionArray.from_sparse(pa.array([0], pa.int8()), [pa.array([1])])
    day = dt.date(2020, 1, 1)
    return {
        "null": pa.nulls(1),
        "bool": pa.array([True]),
        "uint64": pa.array([2**63], pa.uint64()),
        "float16": pa.array([1.5], pa.float16()),
        "decimal32": pa.array([decimal.Decimal("1.5")], pa.decimal32(5, 2)),
        "decimal256": pa.array([decimal.Decimal("1.5")], pa.decimal256(50, 2)),
        "date64": pa.array([day], pa.date64()),
        "time32": pa.array([dt.time(1)], pa.time32("s")),
        "timestamp_tz": pa.array([dt.datetime(2020, 1, 1)], pa.timestamp("s", "UTC")),
        "duration": pa.array([dt.timedelta(1)], pa.duration("ms")),
        "month_day_nano": pa.array([pa.MonthDayNano([1, 2, 3])]),
        "binary_view": pa.array([b"x"], pa.binary_view()),
        "fixed_size_binary": pa.array([b"xy"], pa.binary(2)),
        "string_view": pa.array(["x"], pa.string_view()),
        "large_list": pa.array([[1]], pa.large_list(pa.int64())),
        "fixed_size_list": pa.array([[1, 2]], pa.list_(pa.int64(), 2)),
        "list_view": pa.array([[1]], pa.list_view(pa.int64())),
        "struct": pa.array([{"a": 1, "b": "x"}]),
        "empty_struct": pa.array([{}], pa.struct([])),
        "map": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
        "dictionary": pa.array(["a"]).dictionary_encode(),
        "dictionary_decimal": pa.array([decimal.Decimal("1.5")]).dictionary_encode(),
        "dictionary_string_view": pa.array(["a"], pa.string_view()).dictionary_encode(),
        "dictionary_binary_view": pa.array([b"a"], pa.binary_view()).dictionary_encode(),
        "run_end_encoded": pa.RunEndEncodedArray.from_arrays(
            pa.array([1], pa.int32()), pa.array(["a"])
        ),
        "sparse_union": sparse,
        "list_of_union": pa.ListArray.from_arrays(pa.array([0, 1], pa.int32()), sparse),
        "struct_of_interval": pa.StructArray.from_arrays(
            [pa.array([pa.MonthDayNano([1, 2, 3])])], names=["i"]
        ),
        "uuid": pa.array([b"0" * 16], pa.uuid()),
    }


UNWRITABLE = {
    "month_day_nano",
    "empty_struct",
    "sparse_union",
    "list_of_union",
    "struct_of_interval",
}


@pytest.mark.parametrize(("name", "column"), list(every_type().items()))
def test_every_type_is_written_or_refused_never_a_panic(
    old_file: Path, name: str, column: pa.Array
) -> None:
    try:
        colbridge.write_parquet(pa.table({name: column}), old_file)
    except colbridge.UnsupportedTypeError as e:
        assert name in UNWRITABLE, e
        assert f"column '{name}'" in str(e)
        assert_untouched(old_file)
    else:
        assert name not in UNWRITABLE
        assert pq.read_table(old_file).num_rows == 1


def test_a_column_of_mixed_values_is_invalid_input_naming_it(old_file: Path) -> None:
    frame = pd.DataFrame({"ok": [1, 2], "mixed": pd.Series([1, "x"], dtype=object)})
    with pytest.raises(colbridge.InvalidInputError, match="column 'mixed'"):
        colbridge.write_parquet(frame, old_file)
    with pytest.raises(colbridge.InvalidInputError, match="column 'm'.*mixed types"):
        colbridge.write_parquet({"m": [1, "x"]}, old_file)
    assert_untouched(old_file)


def test_invalid_arrow_data_is_refused_before_the_disk(old_file: Path) -> None:
    keys = pa.array([0, 1, 100000], pa.int32())
    bad = pa.DictionaryArray.from_arrays(keys, pa.array(["a", "b"]), safe=False)
    with pytest.raises(colbridge.InvalidInputError, match="column 'd'.*out of bounds"):
        colbridge.write_parquet(pa.table({"d": bad}), old_file)
    assert_untouched(old_file)


def test_bad_options_are_refused_before_the_disk(old_file: Path) -> None:
    table = colbridge.table({"x": [1]})
    with pytest.raises(colbridge.InvalidInputError, match="unknown compression"):
        colbridge.write_parquet(table, old_file, compression="nope")
    with pytest.raises(colbridge.InvalidInputError, match="row_group_size"):
        colbridge.write_parquet(table, old_file, row_group_size=0)
    assert_untouched(old_file)


def test_a_missing_directory_is_file_not_found_naming_the_path(tmp_path: Path) -> None:
    where = tmp_path / "no" / "such" / "out.parquet"
    with pytest.raises(FileNotFoundError) as info:
        colbridge.write_parquet(colbridge.table({"x": [1]}), where)
    assert info.value.filename == str(where)
    assert str(where) in str(info.value)
    assert not (tmp_path / "no").exists()


def test_where_is_a_str_bytes_or_pathlike_path_or_a_file_object(tmp_path: Path) -> None:
    table = colbridge.table({"x": [1]})
    colbridge.write_parquet(table, os.fsencode(tmp_path / "bytes.parquet"))
    assert pq.read_table(tmp_path / "bytes.parquet").num_rows == 1
    with pytest.raises(colbridge.UnsupportedTypeError, match="not int"):
        colbridge.write_parquet(table, 123)


def test_a_directory_is_not_replaced(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        colbridge.write_parquet(colbridge.table({"x": [1]}), tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- failures mid-write ----------------------------------------------------------------------


def run_child(code: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout
    )


FILE_TOO_LARGE = r"""
import json, resource, signal, sys
import numpy as np
import colbridge
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
table = colbridge.table({"x": np.random.default_rng(0).integers(0, 2**62, 1_000_000)})
try:
    colbridge.write_parquet(table, sys.argv[1], compression=None)
except OSError as e:
    print(json.dumps({"cls": type(e).__name__, "errno": e.errno, "filename": e.filename}))
"""


def test_an_io_error_mid_write_leaves_the_old_file(old_file: Path) -> None:
    # The file-size limit makes the disk "full" after 1 MiB of an 8 MiB file.
    proc = run_child(FILE_TOO_LARGE, str(old_file))
    assert proc.returncode == 0, proc.stderr
    error = json.loads(proc.stdout)
    assert error == {"cls": "OSError", "errno": 27, "filename": str(old_file)}  # EFBIG
    assert_untouched(old_file)


LONG_WRITE = r"""
import io, json, sys, time
import numpy as np
import colbridge
options = dict(compression="gzip", compression_level=9, row_group_size=100_000)
rng = np.random.default_rng(0)
def table(n):
    return colbridge.table({"a": rng.integers(0, 2**62, n), "b": rng.random(n)})
# Size the write to take about 8 s on this machine and build: time a small one first.
start = time.perf_counter()
colbridge.write_parquet(table(100_000), io.BytesIO(), **options)
rate = 100_000 / (time.perf_counter() - start)
rows = min(int(rate * 8), 20_000_000)
big = table(rows)
print(json.dumps({"rows": rows, "estimated_seconds": rows / rate}), flush=True)
start = time.perf_counter()
try:
    colbridge.write_parquet(big, sys.argv[1], **options)
    print(json.dumps({"outcome": "completed"}), flush=True)
except KeyboardInterrupt:
    # time.monotonic() is the system's monotonic clock, the same in the parent.
    print(json.dumps({"outcome": "KeyboardInterrupt", "at": time.monotonic()}), flush=True)
"""


def start_long_write(path: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """A child writing an ~8 s file to ``path``, returned once its temporary file has data."""
    child = subprocess.Popen(
        [sys.executable, "-c", LONG_WRITE, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    plan = json.loads(child.stdout.readline() or "{}")
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 0 for p in temporary_files(path.parent)):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.01)
    return child, plan


def test_sigint_stops_a_long_write_promptly_and_leaves_the_old_file(old_file: Path) -> None:
    child, plan = start_long_write(old_file)
    assert plan["estimated_seconds"] > 5, plan
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    last = json.loads(out.splitlines()[-1])
    assert last["outcome"] == "KeyboardInterrupt", err
    # From the signal to the KeyboardInterrupt in the child: the waiting thread wakes every
    # 100 ms and the encoder stops before its next slice (about 55-100 ms measured, SECURITY.md);
    # the bound leaves room for a loaded 2-core machine.
    took = last["at"] - sent
    assert took < 0.5, f"the write went on for {took:.2f} s after Ctrl-C"
    assert child.returncode == 0
    assert_untouched(old_file)


def test_sigkill_mid_write_leaves_the_old_file(old_file: Path) -> None:
    child, _ = start_long_write(old_file)
    child.kill()
    child.communicate(timeout=60)
    assert old_file.read_bytes() == OLD
    # A killed process cannot clean up: its temporary file may stay (and is all that may).
    leftovers = temporary_files(old_file.parent)
    assert len(leftovers) <= 1
    assert sorted(p.name for p in old_file.parent.iterdir()) == sorted(
        [old_file.name] + [p.name for p in leftovers]
    )
    for p in leftovers:
        os.remove(p)
