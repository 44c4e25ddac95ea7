"""Many threads at once, and many repetitions: the same answers from 8 threads running 9
different operations concurrently (the decoders release the GIL, so they really overlap), and
no memory kept by 2,000 reads or 10,000 cycles of views handed out and dropped."""

from __future__ import annotations

import gc
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

ROWS = 30_000


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 0.5 MB decoded: ints with nulls, floats, strings, a dictionary; 3 row groups."""
    rng = np.random.default_rng(5)
    table = pa.table(
        {
            "i": pa.array(rng.integers(0, 1000, ROWS), mask=rng.random(ROWS) < 0.1),
            "f": rng.random(ROWS),
            "s": pa.array([f"v{i % 97}" for i in range(ROWS)]),
            "d": pa.array([f"c{i % 5}" for i in range(ROWS)]).dictionary_encode(),
        }
    )
    path = tmp_path_factory.mktemp("threads") / "sample.parquet"
    pq.write_table(table, path, row_group_size=ROWS // 3)
    return path


def rss() -> int:
    """This process's resident memory, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def operations(path: Path, out: Path) -> dict[str, Callable[[], Any]]:
    """Nine things users do, each returning something comparable across runs."""
    want = pq.read_table(path)

    def write_read() -> Any:
        colbridge.write_parquet(colbridge.read_parquet(path), out)
        return pq.read_table(out).equals(want)

    return {
        "read_parquet": lambda: pa.table(colbridge.read_parquet(path)).equals(want),
        "read_pandas": lambda: colbridge.read_pandas(path).equals(pd.read_parquet(path)),
        "iter_batches": lambda: sum(
            b.num_rows for b in colbridge.ParquetFile(path).iter_batches(batch_size=4096)
        ),
        "filtered": lambda: colbridge.read_parquet(path, filters=[("f", "<", 0.5)]).num_rows,
        "numpy view": lambda: float(
            colbridge.read_parquet(path, columns=["f"]).column("f").to_numpy().sum()
        ),
        "import": lambda: colbridge.table(want).to_pandas().equals(want.to_pandas()),
        "stream export": lambda: pa.table(colbridge.table(want)).equals(want),
        "buffer protocol": lambda: bytes(
            memoryview(colbridge.array(np.arange(100, dtype=np.int64)).values)
        ),
        "write": write_read,
    }


def test_eight_threads_running_nine_operations_agree_with_one(sample: Path, tmp_path: Path) -> None:
    expected = {name: op() for name, op in operations(sample, tmp_path / "one.parquet").items()}
    assert all(v is not False for v in expected.values()), expected
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        ops = operations(sample, tmp_path / f"t{n}.parquet")
        try:
            start.wait()
            got = {}
            for _ in range(3):
                # Each thread starts at a different operation, so all nine overlap.
                names = list(ops)
                for name in names[n % 9 :] + names[: n % 9]:
                    got[name] = ops[name]()
            results.append(got)
        except BaseException as e:  # reported below, with its thread's traceback
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    assert len(results) == 8
    for got in results:
        assert got == expected


def _steady(cycle: Callable[[], None], warm: int, count: int) -> int:
    """RSS growth over ``count`` cycles after ``warm`` cycles (allocator pools filled)."""
    for _ in range(warm):
        cycle()
    gc.collect()
    before = rss()
    for _ in range(count):
        cycle()
    gc.collect()
    return rss() - before


def test_two_thousand_reads_keep_no_memory(sample: Path) -> None:
    data = sample.read_bytes()

    def cycle() -> None:
        colbridge.read_parquet(sample)
        colbridge.read_pandas(io.BytesIO(data), columns=["i", "d"])

    # A read decodes ~0.5 MB: a leak of the output would be ~1 GB over the run.
    grown = _steady(cycle, warm=100, count=2_000)
    assert grown < 48 << 20, f"RSS grew by {grown >> 20} MiB over 2,000 reads"


def test_ten_thousand_view_cycles_keep_no_memory() -> None:
    def cycle() -> None:
        # A new 128 KiB array each time: a view kept alive anywhere would keep its memory.
        arr = colbridge.array(np.full(16_384, 1.5))
        total = np.asarray(arr).sum() + memoryview(arr.values).nbytes
        arr.__arrow_c_array__()
        frame = colbridge.table({"x": arr}).to_pandas()
        assert total == 16_384 * 1.5 + 16_384 * 8 and len(frame) == len(pa.array(arr))

    # A leak of the array would be 1.25 GB over the run.
    grown = _steady(cycle, warm=200, count=10_000)
    assert grown < 48 << 20, f"RSS grew by {grown >> 20} MiB over 10,000 view cycles"
