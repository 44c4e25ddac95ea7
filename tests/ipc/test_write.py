"""write_ipc / write_feather: files pyarrow and pandas read back, uncompressed and mappable by
default, compressed on request, and a path replaced atomically or not at all."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import colbridge

from .test_read import sample_table

OLD = b"the previous contents of the file, which must survive"


@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
def test_pyarrow_reads_what_write_ipc_writes(tmp_path: Path, compression: str | None) -> None:
    expected = sample_table()
    path = tmp_path / "out.arrow"
    colbridge.write_ipc(colbridge.table(expected), path, compression=compression)
    with ipc.open_file(path) as reader:
        assert reader.read_all().equals(expected)
    assert pa.table(colbridge.read_ipc(path)).equals(expected)


def test_the_stream_format(tmp_path: Path) -> None:
    expected = sample_table()
    path = tmp_path / "out.arrows"
    colbridge.write_ipc(colbridge.table(expected), path, format="stream")
    assert ipc.open_stream(path.read_bytes()).read_all().equals(expected)
    assert pa.table(colbridge.read_ipc(path)).equals(expected)


def test_the_default_is_uncompressed_and_mappable(tmp_path: Path) -> None:
    path = tmp_path / "out.arrow"
    colbridge.write_ipc(colbridge.table(sample_table()), path)
    colbridge.read_ipc(path, require_zero_copy=True)


def test_compression_is_recorded_and_refused_under_require_zero_copy(tmp_path: Path) -> None:
    path = tmp_path / "out.arrow"
    data = colbridge.table({"x": np.zeros(100_000)})
    colbridge.write_ipc(data, path, compression="zstd", compression_level=5)
    assert path.stat().st_size < 100_000
    with pytest.raises(colbridge.ZeroCopyError, match="column 'x'"):
        colbridge.read_ipc(path, require_zero_copy=True)


def test_bad_options_are_refused(tmp_path: Path) -> None:
    table = colbridge.table({"x": [1]})
    with pytest.raises(colbridge.InvalidInputError, match="unknown IPC compression 'gzip'"):
        colbridge.write_ipc(table, tmp_path / "a", compression="gzip")  # type: ignore[arg-type]
    with pytest.raises(colbridge.InvalidInputError, match="compression_level"):
        colbridge.write_ipc(table, tmp_path / "a", compression="lz4", compression_level=3)
    with pytest.raises(colbridge.InvalidInputError, match="format"):
        colbridge.write_ipc(table, tmp_path / "a", format="json")  # type: ignore[arg-type]
    assert not (tmp_path / "a").exists()


def test_a_binary_file_object(tmp_path: Path) -> None:
    sink = io.BytesIO()
    colbridge.write_ipc(colbridge.table({"x": [1, 2, 3]}), sink)
    assert ipc.open_file(sink.getvalue()).read_all().column("x").to_pylist() == [1, 2, 3]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.arrow"
    path.write_bytes(OLD)
    with pytest.raises(colbridge.UnsupportedTypeError):
        colbridge.write_ipc(object(), path)
    with pytest.raises(colbridge.InvalidInputError):
        colbridge.write_ipc(colbridge.table({"x": [1]}), path, compression="bogus")  # type: ignore[arg-type]
    assert path.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.arrow"]


def test_a_successful_write_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out.arrow"
    path.write_bytes(OLD)
    colbridge.write_ipc(colbridge.table({"x": [1]}), path, fsync=True)
    assert colbridge.read_ipc(path).column("x").to_pylist() == [1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.arrow"]


def test_a_directory_that_does_not_exist_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        colbridge.write_ipc(colbridge.table({"x": [1]}), tmp_path / "no" / "out.arrow")


def test_write_feather_round_trips_through_pandas(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "a": [1.5, 2.5, None],
            "s": ["x", None, "z"],
            "t": pd.date_range("2024-01-01", periods=3, tz="UTC"),
            "c": pd.Categorical(["p", "q", "p"]),
        }
    )
    path = tmp_path / "out.feather"
    colbridge.write_feather(df, path)
    pd.testing.assert_frame_equal(pd.read_feather(path), df)
    pd.testing.assert_frame_equal(colbridge.read_feather(path), df)


def test_write_feather_refuses_an_index_it_cannot_store(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2]}, index=[5, 6])
    with pytest.raises(colbridge.InvalidInputError, match="reset_index"):
        colbridge.write_feather(df, tmp_path / "out.feather")


def test_chunks_with_different_dictionaries_are_written(tmp_path: Path) -> None:
    chunked = pa.chunked_array(
        [pa.array(["a", "b"]).dictionary_encode(), pa.array(["c"]).dictionary_encode()]
    )
    path = tmp_path / "out.arrow"
    colbridge.write_ipc(colbridge.table(pa.table({"d": chunked})), path)
    assert pa.table(colbridge.read_ipc(path)).column("d").to_pylist() == ["a", "b", "c"]


LONG_WRITE = r"""
import io, json, sys, time
import numpy as np
import pyarrow as pa
import colbridge
rng = np.random.default_rng(0)
def table(batches):
    batch = pa.record_batch({"a": rng.integers(0, 2**62, 20_000), "b": rng.random(20_000)})
    return colbridge.table(pa.Table.from_batches([batch] * batches))
options = dict(compression="zstd", compression_level=19)
# Size the write to take about 8 s on this machine and build: time a small one first.
start = time.perf_counter()
colbridge.write_ipc(table(10), io.BytesIO(), **options)
rate = 10 / (time.perf_counter() - start)
batches = min(int(rate * 8), 10_000)
big = table(batches)
print(json.dumps({"estimated_seconds": batches / rate}), flush=True)
try:
    colbridge.write_ipc(big, sys.argv[1], **options)
    print(json.dumps({"outcome": "completed"}), flush=True)
except KeyboardInterrupt:
    print(json.dumps({"outcome": "KeyboardInterrupt"}), flush=True)
"""


def test_sigint_stops_a_long_write_and_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.arrow"
    path.write_bytes(OLD)
    child = subprocess.Popen(
        [sys.executable, "-c", LONG_WRITE, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    plan = json.loads(child.stdout.readline() or "{}")
    assert plan.get("estimated_seconds", 0) > 5, (plan, child.communicate())
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 0 for p in tmp_path.glob(".*.colbridge-tmp")):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.01)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    took = time.monotonic() - sent
    assert json.loads(out.splitlines()[-1]) == {"outcome": "KeyboardInterrupt"}, err
    assert took < 3, f"the write went on for {took:.1f} s after Ctrl-C"
    assert path.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.arrow"]
