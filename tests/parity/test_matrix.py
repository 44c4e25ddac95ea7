"""Parity on the generated matrix: every Arrow type (with and without nulls, nested, several
row groups) written by pyarrow (defaults and 5 variants, INT96), Polars, DuckDB and pandas
(every index kind, column indexes, extension dtypes), read by ``colbridge.read_pandas`` under
each dtype backend and compared with ``pd.read_parquet``; and in memory
``colbridge.table(t).to_pandas()`` against ``t.to_pandas()``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import colbridge

from .cases import CASES
from .conftest import (
    BACKENDS,
    assert_same_frame,
    case_table,
    compare_file,
    compare_to_pandas,
    pa,
    read_pandas_oracle,
)

WRITERS = [
    "pyarrow",
    "pyarrow-v1",
    "pyarrow-nodict",
    "pyarrow-pagev2",
    "pyarrow-rg2",
    "pyarrow-noschema",
    "int96",
    "polars",
    "duckdb",
    "pandas",
    "special",
]


def _failures(files: dict[str, Path], writer: str, check: Any) -> list[str]:
    out = []
    for key, path in files.items():
        if not key.startswith(writer + "/"):
            continue
        try:
            check(path)
        except AssertionError as e:
            out.append(f"{key}: {' '.join(str(e).split())[:300]}")
    return out


@pytest.mark.parametrize("backend", BACKENDS, ids=["default", "numpy_nullable", "pyarrow"])
@pytest.mark.parametrize("writer", WRITERS)
def test_read_pandas_equals_pandas(
    matrix_files: dict[str, Path], writer: str, backend: str | None
) -> None:
    if not any(k.startswith(writer + "/") for k in matrix_files):
        pytest.skip(f"{writer} is not installed")
    failures = _failures(matrix_files, writer, lambda p: compare_file(p, backend))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("writer", WRITERS)
def test_read_parquet_to_pandas_equals_pyarrow(matrix_files: dict[str, Path], writer: str) -> None:
    if not any(k.startswith(writer + "/") for k in matrix_files):
        pytest.skip(f"{writer} is not installed")
    failures = _failures(matrix_files, writer, compare_to_pandas)
    assert not failures, "\n".join(failures)


def test_code_width_follows_pandas(matrix_files: dict[str, Path]) -> None:
    df = colbridge.read_pandas(matrix_files["special/dict_code_width"])
    # pandas' rule: fewer than 127 categories int8, then int16 (127 itself is int16).
    assert [df[c].cat.codes.dtype for c in ("d126", "d127", "d130")] == [
        np.int8,
        np.int16,
        np.int16,
    ]


def test_struct_children_follow_pyarrows_batches(matrix_files: dict[str, Path]) -> None:
    df = colbridge.read_pandas(matrix_files["special/struct_batches"])
    # The null is in the last 131,072-row batch: its ints become floats there only.
    assert type(df["s"].iloc[0]["x"]) is int
    assert type(df["s"].iloc[262_144]["x"]) is float
    assert df["s"].iloc[-1] is None


# --- in memory -------------------------------------------------------------------------------


def _cases() -> list[Any]:
    # Sliced nested structs included: arrow-rs applied a sliced struct<struct>'s offset twice
    # until the import pushed struct offsets down into the children.
    return [
        pytest.param(case, sliced, id=f"{case}{'-sliced' if sliced else ''}")
        for case in CASES
        for sliced in (False, True)
    ]


@pytest.mark.parametrize(("case", "sliced"), _cases())
def test_table_to_pandas_equals_pyarrow(case: str, sliced: bool) -> None:
    t = case_table(case)
    if sliced:
        t = t.slice(1, 2)
    try:
        want = t.to_pandas()
    except pa.ArrowInvalid:
        # pyarrow refuses (time64[ns] with sub-microsecond values): colbridge refuses too.
        with pytest.raises(pa.ArrowInvalid):
            colbridge.table(t).to_pandas()
        return
    got = colbridge.table(t).to_pandas()
    if sliced and case.startswith("list_view"):
        # pyarrow's to_pandas misreads sliced list_view arrays (rows come back None);
        # colbridge gives the right values.
        rows = [None if v is None else v.tolist() for v in got.iloc[:, 1]]
        assert rows[0] is None and rows[1][1:] == [5.0, 6.0] and np.isnan(rows[1][0])
        assert t.column(1).to_pylist() == [None, [None, 5, 6]]
        return
    assert_same_frame(got, want)


@pytest.mark.parametrize("backend", BACKENDS, ids=["default", "numpy_nullable", "pyarrow"])
def test_duckdb_interval_is_a_documented_difference(tmp_path: Path, backend: str | None) -> None:
    # DuckDB stores Arrow durations as Parquet INTERVAL. pyarrow reads those as
    # fixed_size_binary[12] (pandas: 12 raw bytes per row); arrow-rs reads Arrow intervals,
    # which pandas cannot hold: colbridge refuses the column by name.
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "interval.parquet"
    con = duckdb.connect()
    con.register("t", pa.table({"d": pa.array([1, None, 3], pa.duration("s"))}))
    con.execute(f"COPY (SELECT * FROM t) TO '{path}' (FORMAT parquet)")
    # months, days, milliseconds as little-endian int32s: 1 s is 1000 ms.
    first = read_pandas_oracle(path, backend)["d"].iloc[0]
    assert bytes(first) == bytes(8) + (1000).to_bytes(4, "little")
    with pytest.raises(colbridge.UnsupportedTypeError, match="'d'"):
        colbridge.read_pandas(path, dtype_backend=backend)
