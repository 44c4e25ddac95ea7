"""The files most Parquet tests read: a sample table written by pyarrow in ten row groups of ten
rows (every column type with nulls), a pandas frame written by pandas in three row groups, and
the check that a read equals pyarrow's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from colbridge._pandas import _Lease

N = 100


def sample_table(n: int = N) -> pa.Table:
    rng = np.random.default_rng(7)
    ints = pa.array(
        [None if i % 7 == 3 else int(v) for i, v in enumerate(rng.integers(-50, 50, n))],
        pa.int64(),
    )
    floats = pa.array([None if i % 5 == 1 else float(v) for i, v in enumerate(rng.normal(size=n))])
    strings = pa.array([None if i % 6 == 2 else f"s{i % 13:02d}" for i in range(n)])
    base = dt.datetime(2024, 1, 1)
    stamps = pa.array(
        [None if i % 9 == 4 else base + dt.timedelta(hours=i) for i in range(n)],
        pa.timestamp("us"),
    )
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "i": ints,
            "f": floats,
            "s": strings,
            "t": stamps,
            "b": pa.array([i % 3 == 0 for i in range(n)]),
        }
    )


@pytest.fixture
def table() -> pa.Table:
    return sample_table()


@pytest.fixture
def path(tmp_path: Path, table: pa.Table) -> Path:
    p = tmp_path / "sample.parquet"
    pq.write_table(table, p, row_group_size=10)
    return p


def same(got: Any, want: pa.Table) -> None:
    """``got`` (anything pyarrow imports) has ``want``'s names, types and values."""
    got = pa.table(got)
    assert got.schema.names == want.schema.names
    assert got.schema.types == want.schema.types
    assert got.to_pylist() == want.to_pylist()


def pandas_frame(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "i": np.arange(n, dtype=np.int64),
            "i_null": pd.array([None if k % 4 == 0 else k for k in range(n)], dtype="Int64"),
            "i32": np.arange(n, dtype=np.int32),
            "f": rng.normal(size=n),
            "f_null": [None if k % 3 == 0 else float(k) for k in range(n)],
            "f32": np.arange(n, dtype=np.float32),
            "b": [k % 2 == 0 for k in range(n)],
            "s": [None if k % 5 == 0 else f"v{k}" for k in range(n)],
            "cat": pd.Categorical([None if k % 7 == 0 else "abc"[k % 3] for k in range(n)]),
            "ts": pd.array(
                [
                    None if k % 6 == 0 else pd.Timestamp("2024-01-01") + pd.Timedelta(hours=k)
                    for k in range(n)
                ],
                dtype="datetime64[ns]",
            ),
            "ts_tz": pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Paris"),
        }
    )


@pytest.fixture
def pandas_path(tmp_path: Path) -> Path:
    p = tmp_path / "pandas.parquet"
    pandas_frame().to_parquet(p, row_group_size=10)
    return p


def lease_of(arr: np.ndarray) -> _Lease | None:
    """The colbridge lease at the root of ``arr``'s bases: the decoded Arrow buffer itself."""
    base: Any = arr
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return base if isinstance(base, _Lease) else None
