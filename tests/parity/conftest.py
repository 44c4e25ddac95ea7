"""The parity suite's oracle and data: pandas' own reader (``pd.read_parquet``, i.e. pyarrow's
``Table.to_pandas``) against colbridge, on the shared corpus and on a generated matrix of
files (every case of ``cases.CASES`` through several writers)."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import colbridge

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from .cases import CASES  # noqa: E402

BACKENDS = [None, "numpy_nullable", "pyarrow"]


def read_pandas_oracle(path: Path, backend: str | None, **kw: Any) -> Any:
    """``pd.read_parquet`` as a user calls it (no ``dtype_backend`` for the default)."""
    if backend is not None:
        kw["dtype_backend"] = backend
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_parquet(path, **kw)


def assert_same_frame(got: Any, want: Any) -> None:
    """``assert_frame_equal`` (dtypes included); columns pandas cannot compare at all
    (``ArrowDtype(string_view)``, ``ArrowDtype(binary_view)``: it raises NotImplementedError
    even for identical frames; Arrow timestamps beyond year 9999 inside a struct: ValueError)
    are compared as Arrow arrays."""
    try:
        pd.testing.assert_frame_equal(got, want)
        return
    except (NotImplementedError, ValueError):
        pass
    pd.testing.assert_index_equal(got.columns, want.columns)
    pd.testing.assert_index_equal(got.index, want.index)
    for i in range(want.shape[1]):
        g, w = got.iloc[:, i], want.iloc[:, i]
        assert g.dtype == w.dtype, want.columns[i]
        try:
            pd.testing.assert_series_equal(g, w)
        except (NotImplementedError, ValueError):
            ga = pa.chunked_array(g.array._pa_array).combine_chunks()
            wa = pa.chunked_array(w.array._pa_array).combine_chunks()
            assert ga.equals(wa), want.columns[i]


def compare_file(path: Path, backend: str | None) -> None:
    """colbridge.read_pandas(path) equals pd.read_parquet(path) under ``backend``; where pandas
    refuses the file, colbridge reads it or refuses too (never crashes)."""
    try:
        want = read_pandas_oracle(path, backend)
    except Exception:  # noqa: BLE001  (pandas refuses: the file is not part of the parity claim)
        try:
            colbridge.read_pandas(path, dtype_backend=backend)
        except Exception:  # noqa: BLE001,S110  (a clean refusal, as pandas)
            pass
        return
    got = colbridge.read_pandas(path, dtype_backend=backend)
    assert_same_frame(got, want)


def compare_to_pandas(path: Path) -> None:
    """``colbridge.read_parquet(p).to_pandas()`` equals ``pq.read_table(p).to_pandas()``."""
    try:
        want = pq.read_table(path).to_pandas()
    except Exception:  # noqa: BLE001
        return
    assert_same_frame(colbridge.read_parquet(path).to_pandas(), want)


# --- the generated matrix --------------------------------------------------------------------


def group_of(case: str) -> str:
    prefixes = [
        ("dictionary", "dictionary"),
        (("list", "large_list", "fixed_size_list"), "lists"),
        (("struct", "map", "extension"), "nested_other"),
        ("float", "floats"),
        ("decimal", "decimals"),
        (("date", "time", "duration", "interval"), "temporal"),
        (("string", "large_string", "binary", "large_binary", "fixed_size_binary"), "strings"),
    ]
    for prefix, group in prefixes:
        if case.startswith(prefix):
            return group
    return "ints_bool_null"


def case_table(case: str) -> Any:
    make = CASES[case]
    return pa.table({case: make(False), case + " +nulls": make(True)})


def _writable(t: Any, **kw: Any) -> bool:
    try:
        pq.write_table(t, pa.BufferOutputStream(), **kw)
    except Exception:  # noqa: BLE001  (a type this writer cannot store is left out)
        return False
    return True


def _concat(tables: list[Any]) -> Any:
    cols, names = [], []
    for t in tables:
        cols += t.columns
        names += t.column_names
    return pa.Table.from_arrays(cols, names=names)


def _groups(keep: Callable[[str], bool] = lambda c: True, **kw: Any) -> dict[str, Any]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for case in CASES:
        t = case_table(case)
        if keep(case) and _writable(t, **kw):
            groups[group_of(case)].append(t)
    return {g: _concat(ts) for g, ts in groups.items()}


PYARROW_VARIANTS = {
    "pyarrow-v1": {"version": "1.0"},
    "pyarrow-nodict": {"use_dictionary": False},
    "pyarrow-pagev2": {"data_page_version": "2.0"},
    "pyarrow-rg2": {"row_group_size": 2},
    "pyarrow-noschema": {"store_schema": False},
}


def _pandas_frames() -> dict[str, Any]:
    base = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"], "f": [1.5, np.nan, 3.0]})
    multi = pd.MultiIndex.from_arrays([["u", "u", "v"], [1, 2, 1]], names=["k", None])
    dates = pd.DatetimeIndex(["2020-01-01", "2020-06-01", "2021-01-01"], tz="Europe/Paris")
    column_multi = pd.MultiIndex.from_tuples(
        [("x", "a"), ("x", "b"), ("y", "a")], names=["l0", "l1"]
    )
    return {
        "range": base,
        "range_10_16_2_named": base.set_axis(pd.RangeIndex(10, 16, 2, name="r")),
        "named_int": base.set_axis(pd.Index([7, 8, 9], name="id")),
        "unnamed_int": base.set_axis(pd.Index([10, 30, 20])),
        "str_index": base.set_axis(pd.Index(["p", None, "r"], name="s")),
        "multiindex": base.set_axis(multi),
        "datetimeindex_tz": base.set_axis(dates.as_unit("us").rename("t")),
        "categoricalindex": base.set_axis(pd.CategoricalIndex(["x", "y", "x"], name="c")),
        "columns_name": base.rename_axis(columns="cols"),
        "columns_multiindex": pd.DataFrame([[1, 2, 3]], columns=column_multi),
        "int_column_names": pd.DataFrame({0: [1, 2], 1: [3.5, None]}),
        "zero_rows": base.iloc[:0],
        "zero_columns_named_index": pd.DataFrame(index=pd.Index([1, 2], name="k")),
        "dtypes": pd.DataFrame(
            {
                "Int64": pd.array([1, None, 3], dtype="Int64"),
                "boolean": pd.array([True, None, False], dtype="boolean"),
                "Float64": pd.array([0.5, None, 1.0], dtype="Float64"),
                "string": pd.array(["a", None, "c"], dtype="string"),
                "cat_ordered": pd.Categorical(["lo", "hi", None], ["lo", "hi"], ordered=True),
                "tz_s": pd.date_range("2020", periods=3, tz="UTC", unit="s"),
                "period": pd.period_range("2020-01", periods=3, freq="M"),
                "timedelta": pd.to_timedelta([1, 2, None], unit="s"),
                "bytes": [b"a", None, b"c"],
            }
        ),
    }


def generate_matrix(out: Path) -> list[Path]:
    """Write the matrix: one pyarrow file per case, the cases grouped by family under each
    pyarrow writer variant, INT96 and coerced timestamps, Polars and DuckDB writes, pandas
    frames with every index kind, and multi-row-group files."""
    files: list[Path] = []

    def target(writer: str, name: str) -> Path:
        (out / writer).mkdir(parents=True, exist_ok=True)
        files.append(out / writer / f"{name}.parquet")
        return files[-1]

    for i, case in enumerate(CASES):
        t = case_table(case)
        if _writable(t):
            pq.write_table(t, target("pyarrow", f"{i:03d}"))
    for writer, kw in PYARROW_VARIANTS.items():
        for group, t in _groups(**kw).items():
            pq.write_table(t, target(writer, group), **kw)
    temporal = _groups(lambda c: group_of(c) == "temporal")["temporal"]
    pq.write_table(temporal, target("int96", "int96"), use_deprecated_int96_timestamps=True)
    pq.write_table(
        temporal,
        target("int96", "int96-noschema"),
        use_deprecated_int96_timestamps=True,
        store_schema=False,
    )
    pq.write_table(
        temporal,
        target("int96", "coerce-ms"),
        coerce_timestamps="ms",
        allow_truncated_timestamps=True,
    )
    _write_polars(target)
    _write_duckdb(target)
    for name, df in _pandas_frames().items():
        df.to_parquet(target("pandas", name))
    base = _pandas_frames()["range"]
    base.set_axis(pd.Index([7, 8, 9], name="id")).to_parquet(
        target("pandas", "index_false"), index=False
    )
    base.to_parquet(target("pandas", "index_true_range"), index=True)
    _write_multi_row_group(target)
    return files


def _write_polars(target: Callable[[str, str], Path]) -> None:
    try:
        import polars as pl
    except ImportError:
        return
    groups: dict[str, list[Any]] = defaultdict(list)
    for case in CASES:
        t = case_table(case)
        for col in t.column_names:
            try:
                frame = pl.from_arrow(t.select([col]))
                frame.write_parquet(pa.BufferOutputStream())
            except BaseException:  # noqa: BLE001,S112  (Polars panics on some types: left out)
                continue
            groups[group_of(case)].append(frame)
    for group, frames in groups.items():
        pl.concat(frames, how="horizontal").write_parquet(target("polars", group))


def _write_duckdb(target: Callable[[str, str], Path]) -> None:
    try:
        import duckdb
    except ImportError:
        return
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    groups: dict[str, list[Any]] = defaultdict(list)
    for case in CASES:
        # DuckDB writes Arrow durations as INTERVAL (pyarrow reads fixed_size_binary[12]):
        # not a type pandas and colbridge can agree on (see test_matrix.py).
        if case.startswith("duration"):
            continue
        t = case_table(case)
        for col in t.column_names:
            one = t.select([col])
            try:
                con.register("probe", one)
                con.execute("COPY (SELECT * FROM probe) TO '/dev/null' (FORMAT parquet)")
            except Exception:  # noqa: BLE001,S112  (a type DuckDB cannot write: left out)
                continue
            finally:
                con.unregister("probe")
            groups[group_of(case)].append(one)
    for group, tables in groups.items():
        con.register("grouped", _concat(tables))
        path = target("duckdb", group)
        con.execute(f"COPY (SELECT * FROM grouped) TO '{path}' (FORMAT parquet)")
        con.unregister("grouped")


def _write_multi_row_group(target: Callable[[str, str], Path]) -> None:
    st = pa.struct([("x", pa.int64())])
    t1 = pa.table(
        {
            "dict": pa.DictionaryArray.from_arrays(
                pa.array([0, 1], pa.int32()), pa.array(["b", "a"])
            ),
            "int": pa.array([1, 2], pa.int64()),
            "list": pa.array([[1], [2, 3]], pa.list_(pa.int64())),
            "struct": pa.array([{"x": 1}, {"x": 2}], st),
        }
    )
    t2 = pa.table(
        {
            "dict": pa.DictionaryArray.from_arrays(
                pa.array([0, None], pa.int32()), pa.array(["c", "a"])
            ),
            "int": pa.array([3, None], pa.int64()),
            "list": pa.array([[None], [4]], pa.list_(pa.int64())),
            "struct": pa.array([None, {"x": None}], st),
        }
    )
    with pq.ParquetWriter(target("special", "rowgroups_differ"), t1.schema) as w:
        w.write_table(t1)
        w.write_table(t2)
    cats = pa.array([f"v{i}" for i in range(130)])

    def codes(top: int) -> Any:
        return pa.DictionaryArray.from_arrays(pa.array([0, top - 1, None], pa.int32()), cats[:top])

    pq.write_table(
        pa.table({"d126": codes(126), "d127": codes(127), "d130": codes(130)}),
        target("special", "dict_code_width"),
    )
    # A struct column over a row group longer than pyarrow's 131,072-row batches, with a null
    # in the last batch: its int child is float in that batch only.
    n = 300_000
    values = [{"x": i} for i in range(n - 1)] + [None]
    pq.write_table(pa.table({"s": pa.array(values, st)}), target("special", "struct_batches"))


@pytest.fixture(scope="session")
def matrix_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("parity-matrix")
    return {f"{p.parent.name}/{p.stem}": p for p in generate_matrix(out)}
