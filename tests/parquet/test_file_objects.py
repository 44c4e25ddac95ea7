"""Binary file objects are read by ranges (the footer, then the selected column chunks), never
copied whole; a stream that cannot seek is read whole as before; the file object's own errors
reach the caller. pyarrow writes the files and is the oracle."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

import colbridge


class RecordingFile(io.BytesIO):
    """A BytesIO that records the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []
        self.lock = threading.Lock()

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        with self.lock:
            self.reads.append(len(data))
        return data


class Unseekable(io.RawIOBase):
    """A pipe-like stream: read() only."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._inner.readinto(buffer)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten float columns of 50,000 rows in four row groups (~4 MB, incompressible)."""
    rng = np.random.default_rng(7)
    table = pa.table({f"c{i}": rng.random(50_000) for i in range(10)})
    path = tmp_path_factory.mktemp("fileobj") / "wide.parquet"
    pq.write_table(table, path, row_group_size=12_500, compression="none")
    return path


def test_a_file_object_is_read_by_ranges_not_whole(wide: Path) -> None:
    data = wide.read_bytes()
    f = RecordingFile(data)
    got = colbridge.read_parquet(f, columns=["c3"])
    assert got.column("c3").to_numpy().tolist() == pq.read_table(wide)["c3"].to_pylist()
    meta = pq.ParquetFile(wide).metadata
    chunks = sum(meta.row_group(i).column(3).total_compressed_size for i in range(4))
    assert max(f.reads) < len(data) / 4  # no read of the whole file
    assert sum(f.reads) <= chunks * 1.1 + 64 * 1024  # the c3 chunks and the footer


@pytest.mark.parametrize("use_threads", [True, False])
def test_parallel_reads_of_one_file_object_agree_with_pyarrow(
    wide: Path, use_threads: bool
) -> None:
    with open(wide, "rb") as f:
        df = colbridge.read_pandas(f, use_threads=use_threads)
    assert_frame_equal(df, pd_read(wide))


def pd_read(path: Path):  # type: ignore[no-untyped-def]
    return pq.read_table(path).to_pandas()


def test_a_file_object_is_read_wherever_it_stands_and_can_be_read_again(wide: Path) -> None:
    f = io.BytesIO(wide.read_bytes())
    f.seek(123)
    assert colbridge.ParquetFile(f).num_rows == 50_000  # absolute offsets, as pyarrow reads
    assert colbridge.read_parquet(f, columns=["c0"]).num_rows == 50_000
    assert_frame_equal(colbridge.read_pandas(f), pd_read(wide))


def test_parquet_file_and_its_batches_read_a_file_object(wide: Path) -> None:
    with open(wide, "rb") as f:
        pf = colbridge.ParquetFile(f)
        rows = sum(len(b) for b in pf.iter_batches(batch_size=10_000, columns=["c1"]))
        assert rows == 50_000
        assert pf.read(columns=["c2"]).num_rows == 50_000


def test_an_unseekable_stream_is_read_whole(wide: Path) -> None:
    got = colbridge.read_parquet(io.BufferedReader(Unseekable(wide.read_bytes())))
    assert got.num_rows == 50_000


def test_the_file_objects_own_error_reaches_the_caller(wide: Path) -> None:
    class Failing(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            if self.tell() < 1_000_000:  # the footer reads, the first column chunks do not
                raise ConnectionResetError("the server hung up")
            return super().read(size)

    with pytest.raises(ConnectionResetError, match="hung up"):
        colbridge.read_parquet(Failing(wide.read_bytes()))


def test_a_file_object_that_shrinks_is_a_clean_os_error(wide: Path) -> None:
    class Shrinking(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            return super().read(size)[: max(0, (size or 0) // 2)]

    f = Shrinking(wide.read_bytes())
    with pytest.raises(OSError, match="returned .* of the"):
        colbridge.read_parquet(f)
