"""A partitioned dataset for the Dask tests, and Dask's view of an expected pandas frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("dask.dataframe")

ROWS_PER_FILE = 4_000
ROW_GROUP = 1_000


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``day=`` partitions of two files each; ``ts`` ascending across the files (in path order),
    four row groups per file, a wide ``payload`` and a string column."""
    root = tmp_path_factory.mktemp("dask") / "events"
    start = 0
    for day in (1, 2, 3):
        for part in range(2):
            ids = np.arange(start, start + ROWS_PER_FILE, dtype=np.int64)
            start += ROWS_PER_FILE
            table = pa.table(
                {
                    "id": ids,
                    "value": (ids % 97).astype(np.float64),
                    "payload": np.sin(ids.astype(np.float64)),
                    "wide": [f"row-{i:08d}-" + "x" * 40 for i in ids],
                    "group": (ids % 5).astype(np.int32),
                }
            )
            path = root / f"day={day}" / f"part-{part}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path, row_group_size=ROW_GROUP, compression="snappy")
    return root


def as_dask(expected: Any, ddf: Any) -> Any:
    """``expected`` with Dask's dtypes for string columns (Dask converts pandas' ``str`` to
    ``string[pyarrow]``) and a fresh RangeIndex, for comparing with ``ddf.compute()``."""
    strings = {c: ddf.dtypes[c] for c in expected.columns if expected[c].dtype == "str"}
    return expected.astype(strings)
