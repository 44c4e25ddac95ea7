"""read_feather returns what pd.read_feather returns, from columns that stay in the mapping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest

import colbridge

from ..conftest import address
from .test_read import inside, linux_only, mappings


def frame() -> pd.DataFrame:
    n = 500
    return pd.DataFrame(
        {
            "i": np.arange(n, dtype=np.int64),
            "f": np.linspace(0, 1, n),
            "f32": np.arange(n, dtype=np.float32),
            "u16": (np.arange(n) % 1000).astype(np.uint16),
            "b": np.arange(n) % 2 == 0,
            "s": [f"s{i}" for i in range(n)],
            "ts": pd.date_range("2024-01-01", periods=n, freq="min"),
            "tz": pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Paris"),
            "cat": pd.Categorical([["lo", "mid", "hi"][i % 3] for i in range(n)]),
            "nullable": pd.array([None if i % 9 == 0 else i for i in range(n)], dtype="Int32"),
            "opt_f": [None if i % 4 == 0 else i / 3 for i in range(n)],
            "date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)],
        }
    )


@pytest.mark.parametrize("compression", ["uncompressed", "lz4", "zstd"])
@pytest.mark.parametrize("dtype_backend", [None, "numpy_nullable", "pyarrow"])
def test_equal_to_pandas(tmp_path: Path, compression: str, dtype_backend: str | None) -> None:
    path = tmp_path / "data.feather"
    frame().to_feather(path, compression=compression)
    kwargs = {} if dtype_backend is None else {"dtype_backend": dtype_backend}
    expected = pd.read_feather(path, **kwargs)
    pd.testing.assert_frame_equal(colbridge.read_feather(path, **kwargs), expected)


def test_columns_equal_to_pandas(tmp_path: Path) -> None:
    path = tmp_path / "data.feather"
    frame().to_feather(path)
    for columns in (["s", "i"], []):  # an empty list reads every column, as in pandas
        expected = pd.read_feather(path, columns=columns)
        pd.testing.assert_frame_equal(colbridge.read_feather(path, columns=columns), expected)


def test_a_stored_index_is_restored_as_pandas_does(tmp_path: Path) -> None:
    path = tmp_path / "indexed.feather"
    df = frame().set_index("s")
    feather.write_feather(pa.Table.from_pandas(df), path)
    pd.testing.assert_frame_equal(colbridge.read_feather(path), pd.read_feather(path))


@linux_only
def test_numeric_columns_are_read_only_views_of_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "data.feather"
    colbridge.write_feather(frame(), path)
    df = colbridge.read_feather(path, require_zero_copy=True)
    ranges = mappings(path)
    for name in ["i", "f", "f32", "u16"]:
        values = df[name].to_numpy()
        assert inside(address(values), values.nbytes, ranges), name
        assert not values.flags.writeable
    ts = df["ts"].array.asi8
    assert inside(address(ts), ts.nbytes, ranges)
    # pandas copies before writing, as it does for any read-only column.
    df.loc[0, "i"] = 99
    assert df.loc[0, "i"] == 99
    assert colbridge.read_feather(path)["i"].iloc[0] == 0


@linux_only
def test_the_frame_keeps_the_mapping_alive(tmp_path: Path) -> None:
    path = tmp_path / "data.feather"
    colbridge.write_feather(pd.DataFrame({"x": np.arange(10_000.0)}), path)
    df = colbridge.read_feather(path)
    import gc

    gc.collect()
    assert mappings(path)
    assert df["x"].sum() == np.arange(10_000.0).sum()
    del df
    gc.collect()
    assert mappings(path) == []


def test_a_file_of_several_record_batches(tmp_path: Path) -> None:
    path = tmp_path / "batches.feather"
    table = pa.Table.from_pandas(frame(), preserve_index=False)
    feather.write_feather(table, path, chunksize=128, compression="uncompressed")
    pd.testing.assert_frame_equal(colbridge.read_feather(path), pd.read_feather(path))
