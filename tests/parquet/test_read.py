"""read_parquet: every kind of source; column, row-group and batch selection; threads; time
zones; and a clean ParquetError (or FileNotFoundError) for missing, foreign, truncated and
corrupt files. pyarrow writes every file into ``tmp_path`` and is the oracle."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

from ..conftest import address
from .conftest import N, same


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p, id="Path"),
        pytest.param(str, id="str"),
        pytest.param(lambda p: _FsPath(str(p)), id="PathLike"),
        pytest.param(lambda p: p.read_bytes(), id="bytes"),
        pytest.param(lambda p: bytearray(p.read_bytes()), id="bytearray"),
        pytest.param(lambda p: memoryview(p.read_bytes()), id="memoryview"),
        pytest.param(lambda p: io.BytesIO(p.read_bytes()), id="BytesIO"),
        pytest.param(lambda p: open(p, "rb"), id="file"),  # noqa: SIM115
    ],
)
def test_every_kind_of_source_reads_as_pyarrow_reads_it(
    path: Path, table: pa.Table, make: Any
) -> None:
    src = make(path)
    try:
        same(colbridge.read_parquet(src), pq.read_table(path))
    finally:
        if hasattr(src, "close"):
            src.close()


class _FsPath(os.PathLike):
    def __init__(self, p: str) -> None:
        self.p = p

    def __fspath__(self) -> str:
        return self.p


def test_read_parquet_one_contiguous_chunk_per_column(path: Path) -> None:
    t = colbridge.read_parquet(path)
    assert t.num_rows == N
    for name in t.column_names:
        assert t.column(name).num_chunks == 1


def test_columns_selects_and_orders(path: Path) -> None:
    t = colbridge.read_parquet(path, columns=["s", "id"])
    assert t.column_names == ["s", "id"]
    same(t, pq.read_table(path, columns=["s", "id"]))


def test_unknown_column_raises_invalid_input(path: Path) -> None:
    with pytest.raises(colbridge.InvalidInputError, match="nope"):
        colbridge.read_parquet(path, columns=["nope"])


def test_row_groups_are_read_in_the_order_given_and_checked(path: Path) -> None:
    want = pq.ParquetFile(path).read_row_groups([3, 0, 7])
    same(colbridge.read_parquet(path, row_groups=[3, 0, 7]), want)
    with pytest.raises(colbridge.InvalidInputError, match="out of range"):
        colbridge.read_parquet(path, row_groups=[10])


@pytest.mark.parametrize("batch_size", [1, 7, 10, 33, N, 1000])
def test_batch_size_chunks_are_zero_copy_slices(path: Path, batch_size: int) -> None:
    t = colbridge.read_parquet(path, batch_size=batch_size)
    same(t, pq.read_table(path))
    col = t.column("id")
    lengths = [len(c.to_pylist()) for c in col.chunks]
    expected = [min(batch_size, N - s) for s in range(0, N, batch_size)]
    assert lengths == expected
    # The chunks are consecutive views of one buffer: each starts where the previous ends.
    addresses = [c.values.address for c in col.chunks]
    assert addresses == [addresses[0] + 8 * s for s in range(0, N, batch_size)]
    numpy_addresses = [address(c.to_numpy()) for c in col.chunks]
    assert numpy_addresses == addresses


def test_threads_do_not_change_the_result(path: Path) -> None:
    a = pa.table(colbridge.read_parquet(path, use_threads=False))
    b = pa.table(colbridge.read_parquet(path, use_threads=True))
    assert a.equals(b)
    assert a.equals(pq.read_table(path))


def test_empty_file_reads_as_an_empty_table_with_its_schema(tmp_path: Path) -> None:
    p = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"x": pa.array([], pa.int32())}), p)
    t = colbridge.read_parquet(p)
    assert t.num_rows == 0 and t.column_names == ["x"]
    assert pa.table(t).schema.types == [pa.int32()]


def test_timestamp_time_zone_is_kept(tmp_path: Path) -> None:
    p = tmp_path / "tz.parquet"
    want = pa.table({"a": pa.array([1, None, 3], pa.timestamp("ns", tz="Europe/Paris"))})
    pq.write_table(want, p)
    same(colbridge.read_parquet(p), pq.read_table(p))


def test_timezone_of_coerced_unit_kept(tmp_path: Path) -> None:
    """Seconds are stored as milliseconds; the stored Arrow schema's timezone still wins."""
    p = tmp_path / "tz_s.parquet"
    pq.write_table(pa.table({"a": pa.array([1, None, 3], pa.timestamp("s", tz="Asia/Tokyo"))}), p)
    same(colbridge.read_parquet(p), pq.read_table(p))


def test_missing_file_raises_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        colbridge.read_parquet(tmp_path / "missing.parquet")
    with pytest.raises(FileNotFoundError):
        colbridge.read_pandas(tmp_path / "missing.parquet")
    with pytest.raises(FileNotFoundError):
        colbridge.ParquetFile(tmp_path / "missing.parquet")


def test_input_that_is_not_parquet_raises_parquet_error(tmp_path: Path) -> None:
    p = tmp_path / "text.parquet"
    p.write_text("hello, this is not a parquet file at all\n" * 10)
    for src in (p, p.read_bytes(), b"", b"PAR1"):
        with pytest.raises(colbridge.ParquetError):
            colbridge.read_parquet(src)
    with pytest.raises(ValueError):  # ParquetError is a ValueError
        colbridge.read_pandas(p)


@pytest.mark.parametrize("cut", [1, 8, 100, 0.5])
def test_truncated_file_raises_parquet_error(path: Path, tmp_path: Path, cut: float) -> None:
    data = path.read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut
    p = tmp_path / "trunc.parquet"
    p.write_bytes(data[:n])
    with pytest.raises(colbridge.ParquetError):
        colbridge.read_parquet(p)
    with pytest.raises(colbridge.ParquetError):
        colbridge.read_parquet(data[:n])


def test_corrupt_pages_raise_a_clean_error_or_read(path: Path, tmp_path: Path) -> None:
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    md = pq.ParquetFile(path).metadata
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    for trial in range(20):
        bad = bytearray(data)
        for pos in rng.integers(4, md.row_group(0).column(0).data_page_offset + 200, 8):
            if pos < footer_start:
                bad[pos] = int(rng.integers(0, 256))
        p = tmp_path / f"bad{trial}.parquet"
        p.write_bytes(bytes(bad))
        try:
            colbridge.read_parquet(p)
        except (colbridge.ColbridgeError, OSError):
            pass


def test_reading_needs_no_pyarrow(pandas_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["pyarrow"] = None
        import colbridge
        t = colbridge.read_parquet({str(pandas_path)!r}, filters=[("i", "<", 5)])
        assert t.num_rows == 5, t.num_rows
        df = colbridge.read_pandas({str(pandas_path)!r})
        assert len(df) == 30
        assert df["f_null"].isna().sum() == 10
        assert df["s"].tolist()[:2] == [None, "v1"] or str(df["s"].iloc[0]) == "nan"
        colbridge.ParquetFile({str(pandas_path)!r}).metadata
        assert "pyarrow" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
