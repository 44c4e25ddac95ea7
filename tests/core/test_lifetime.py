"""Lifetime: views outlive the colbridge objects they came from, and the memory is released
when the last view goes.

Memory is measured as resident set size (``/proc/self/statm``) around ~200 MB allocations, in
a fresh subprocess per scenario. colbridge allocates with mimalloc, which by default keeps freed
memory for reuse for a while; the subprocesses set ``MIMALLOC_PURGE_DELAY=0`` so freed memory is
returned to the OS at once. Margins are generous (half the allocation).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import colbridge

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm (Linux)"
)

MB = 2**20
N = 25_000_000  # float64 -> 200 MB
SIZE_MB = N * 8 / MB
MARGIN_MB = SIZE_MB / 2

PRELUDE = f"""
import gc, json, os, sys
import numpy as np
import colbridge

PAGE = os.sysconf("SC_PAGE_SIZE")
N = {N}
out = {{}}

def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20

def big():
    # 200 MB allocated by colbridge's Rust core (a cast allocates a new values buffer).
    return colbridge.array(np.arange(N, dtype=np.int32)).cast("float64")

EXPECTED_LAST = float(N - 1)
EXPECTED_SUM = float(N) * (N - 1) / 2
"""


def run(body: str) -> dict[str, float]:
    code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    env = dict(os.environ, MIMALLOC_PURGE_DELAY="0")
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_held_then_released(m: dict[str, float]) -> None:
    """`base` before allocating, `held` while only the view lives, `released` after it went."""
    assert m["held"] - m["base"] > SIZE_MB - MARGIN_MB, m
    assert m["held"] - m["released"] > SIZE_MB - MARGIN_MB, m


def test_numpy_view_outlives_array_and_is_released_last() -> None:
    m = run(
        """
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        arr = big()
        view = arr.to_numpy()
        del arr
        out["held"] = rss()
        assert view[-1] == EXPECTED_LAST and view.sum() == EXPECTED_SUM
        del view
        out["released"] = rss()
        """
    )
    assert_held_then_released(m)


def test_array_outlives_numpy_view() -> None:
    m = run(
        """
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        arr = big()
        view = np.asarray(arr.values)
        del view
        out["held"] = rss()
        assert arr.to_numpy()[-1] == EXPECTED_LAST
        del arr
        out["released"] = rss()
        """
    )
    assert_held_then_released(m)


def test_memoryview_outlives_table() -> None:
    m = run(
        """
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        table = colbridge.table({"a": big()})
        mv = memoryview(table.column("a").chunk(0).values)
        del table
        out["held"] = rss()
        assert mv[N - 1] == EXPECTED_LAST and mv.format == "d" and mv.readonly
        del mv
        out["released"] = rss()
        """
    )
    assert_held_then_released(m)


def test_table_outlives_memoryview() -> None:
    m = run(
        """
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        table = colbridge.table({"a": big()})
        mv = memoryview(table.column("a").chunk(0).values)
        mv.release()
        del mv
        out["held"] = rss()
        assert table.column("a").chunk(0).to_numpy()[-1] == EXPECTED_LAST
        del table
        out["released"] = rss()
        """
    )
    assert_held_then_released(m)


def test_numpy_input_is_kept_alive_by_the_array() -> None:
    m = run(
        """
        out["base"] = rss()
        src = np.arange(N, dtype=np.float64)
        arr = colbridge.array(src)
        del src
        out["held"] = rss()
        assert arr.to_numpy()[-1] == EXPECTED_LAST
        table = colbridge.table({"a": arr})
        del arr
        assert rss() - out["base"] > 100
        del table
        out["released"] = rss()
        """
    )
    assert_held_then_released(m)


def test_pandas_frame_outlives_table_both_orders() -> None:
    m = run(
        """
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        table = colbridge.table({"a": big()})
        df = table.to_pandas()
        del table
        out["held"] = rss()
        assert df["a"].iloc[-1] == EXPECTED_LAST
        column = df["a"]
        del df
        assert rss() - out["base"] > 100 and column.iloc[-1] == EXPECTED_LAST
        del column
        out["released"] = rss()

        table = colbridge.table({"a": big()})
        df = table.to_pandas()
        del df
        out["held2"] = rss()
        del table
        out["released2"] = rss()
        """
    )
    assert_held_then_released(m)
    assert m["held2"] - m["released2"] > SIZE_MB - MARGIN_MB, m


def test_pandas_written_frame_releases_shared_memory() -> None:
    m = run(
        """
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        df = colbridge.table({"a": big()}).to_pandas()
        df.loc[0, "a"] = -1.0  # copy-on-write: df now owns a private copy
        out["held"] = rss()
        del df
        out["released"] = rss()
        """
    )
    assert m["held"] - m["base"] > SIZE_MB - MARGIN_MB, m
    assert m["held"] - m["released"] > SIZE_MB - MARGIN_MB, m


def test_series_outlives_array() -> None:
    m = run(
        """
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        arr = big()
        series = arr.to_pandas()
        del arr
        out["held"] = rss()
        assert series.iloc[-1] == EXPECTED_LAST
        del series
        out["released"] = rss()
        """
    )
    assert_held_then_released(m)


def test_polars_frame_outlives_table() -> None:
    m = run(
        """
        import polars as pl
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        table = colbridge.table({"a": big()})
        frame = pl.DataFrame(table)
        del table
        out["held"] = rss()
        assert frame["a"][-1] == EXPECTED_LAST
        del frame
        out["released"] = rss()
        """
    )
    assert_held_then_released(m)


def test_pyarrow_table_outlives_table_both_orders() -> None:
    m = run(
        """
        import pyarrow as pa
        src = colbridge.array(np.arange(N, dtype=np.int32))
        out["base"] = rss()
        table = colbridge.table({"a": big()})
        pa_table = pa.table(table)
        del table
        out["held"] = rss()
        assert pa_table.column("a")[-1].as_py() == EXPECTED_LAST
        del pa_table
        out["released"] = rss()

        table = colbridge.table({"a": big()})
        pa_table = pa.table(table)
        del pa_table
        out["held2"] = rss()
        del table
        out["released2"] = rss()
        """
    )
    assert_held_then_released(m)
    assert m["held2"] - m["released2"] > SIZE_MB - MARGIN_MB, m


def test_repeated_hand_offs_do_not_accumulate_memory() -> None:
    """In-process, allocator defaults: if anything kept a reference, 8 rounds of 200 MB would
    grow the process by 1.6 GB; memory that is freed gets reused instead."""
    import pandas as pd  # noqa: F401 - import cost outside the measurement
    import polars as pl
    import pyarrow as pa

    page = os.sysconf("SC_PAGE_SIZE")

    def rss_mb() -> float:
        gc.collect()
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page / MB

    source = colbridge.array(np.arange(N, dtype=np.int32))
    start = None
    for i in range(8):
        arr = source.cast("float64")
        table = colbridge.table({"a": arr})
        views = [
            arr.to_numpy(),
            memoryview(arr.values),
            table.to_pandas(),
            table.column("a").to_pandas(),
            pl.DataFrame(table),
            pa.table(table),
        ]
        assert float(views[0][-1]) == N - 1
        del arr, table, views
        if i == 0:
            start = rss_mb()
    assert start is not None
    assert rss_mb() - start < 2 * SIZE_MB
