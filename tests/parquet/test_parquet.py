"""Parquet: read_parquet, filters, ParquetFile, streaming, write_parquet and read_pandas.

Every file is generated here (pyarrow / pandas writers into ``tmp_path``); pyarrow and pandas
are the oracles.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge
from colbridge._pandas import _Lease

# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------

N = 100


def _sample_table(n: int = N) -> pa.Table:
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
    return _sample_table()


@pytest.fixture
def path(tmp_path: Path, table: pa.Table) -> Path:
    p = tmp_path / "sample.parquet"
    pq.write_table(table, p, row_group_size=10)
    return p


def _pa(t: Any) -> pa.Table:
    return pa.table(t)


def _same(got: Any, want: pa.Table) -> None:
    got = _pa(got)
    assert got.schema.names == want.schema.names
    assert got.schema.types == want.schema.types
    assert got.to_pylist() == want.to_pylist()


# --------------------------------------------------------------------------------------
# read_parquet: sources and options
# --------------------------------------------------------------------------------------


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
def test_read_parquet_sources(path: Path, table: pa.Table, make: Any) -> None:
    src = make(path)
    try:
        _same(colbridge.read_parquet(src), pq.read_table(path))
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
    _same(t, pq.read_table(path, columns=["s", "id"]))


def test_columns_unknown_raises(path: Path) -> None:
    with pytest.raises(colbridge.InvalidInputError, match="nope"):
        colbridge.read_parquet(path, columns=["nope"])


def test_row_groups(path: Path) -> None:
    want = pq.ParquetFile(path).read_row_groups([3, 0, 7])
    _same(colbridge.read_parquet(path, row_groups=[3, 0, 7]), want)
    with pytest.raises(colbridge.InvalidInputError, match="out of range"):
        colbridge.read_parquet(path, row_groups=[10])


@pytest.mark.parametrize("batch_size", [1, 7, 10, 33, N, 1000])
def test_batch_size_chunks_are_zero_copy_slices(path: Path, batch_size: int) -> None:
    t = colbridge.read_parquet(path, batch_size=batch_size)
    _same(t, pq.read_table(path))
    col = t.column("id")
    lengths = [len(c.to_pylist()) for c in col.chunks]
    expected = [min(batch_size, N - s) for s in range(0, N, batch_size)]
    assert lengths == expected
    # The chunks are consecutive views of one buffer: each starts where the previous ends.
    addresses = [c.values.address for c in col.chunks]
    assert addresses == [addresses[0] + 8 * s for s in range(0, N, batch_size)]
    numpy_addresses = [c.to_numpy().__array_interface__["data"][0] for c in col.chunks]
    assert numpy_addresses == addresses


def test_use_threads_same_result(path: Path) -> None:
    a = _pa(colbridge.read_parquet(path, use_threads=False))
    b = _pa(colbridge.read_parquet(path, use_threads=True))
    assert a.equals(b)
    assert a.equals(pq.read_table(path))


def test_empty_file_and_empty_selection(tmp_path: Path) -> None:
    p = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"x": pa.array([], pa.int32())}), p)
    t = colbridge.read_parquet(p)
    assert t.num_rows == 0 and t.column_names == ["x"]
    assert _pa(t).schema.types == [pa.int32()]


def test_timezone_kept(tmp_path: Path) -> None:
    p = tmp_path / "tz.parquet"
    want = pa.table({"a": pa.array([1, None, 3], pa.timestamp("ns", tz="Europe/Paris"))})
    pq.write_table(want, p)
    _same(colbridge.read_parquet(p), pq.read_table(p))


def test_timezone_of_coerced_unit_kept(tmp_path: Path) -> None:
    """Seconds are stored as milliseconds; the stored Arrow schema's timezone still wins."""
    p = tmp_path / "tz_s.parquet"
    pq.write_table(pa.table({"a": pa.array([1, None, 3], pa.timestamp("s", tz="Asia/Tokyo"))}), p)
    _same(colbridge.read_parquet(p), pq.read_table(p))


# --------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------


def _oracle_mask(df: pd.DataFrame, col: str, op: str, value: Any) -> np.ndarray:
    s = df[col]
    valid = s.notna().to_numpy()
    if op == "is null":
        return ~valid
    if op == "is not null":
        return valid
    if op in ("in", "not in"):
        hit = s.isin(list(value)).to_numpy() & valid
        return hit if op == "in" else ~hit  # like pandas' ~isin and pyarrow: nulls are "not in"
    ops = {
        "==": s.__eq__,
        "!=": s.__ne__,
        "<": s.__lt__,
        "<=": s.__le__,
        ">": s.__gt__,
        ">=": s.__ge__,
    }
    res = ops[op](value)
    return np.asarray(res.fillna(False), dtype=bool) & valid


TERMS = [
    ("i", "==", 10),
    ("i", "!=", 10),
    ("i", "<", 0),
    ("i", "<=", 0),
    ("i", ">", 20),
    ("i", ">=", 20),
    ("i", "in", [1, 2, 3, 40]),
    ("i", "not in", [1, 2, 3, 40]),
    ("i", "is null", None),
    ("i", "is not null", None),
    ("f", ">", 0.5),
    ("f", "<=", -0.5),
    ("f", "is null", None),
    ("s", "==", "s03"),
    ("s", "!=", "s03"),
    ("s", ">=", "s10"),
    ("s", "in", ["s01", "s12"]),
    ("s", "not in", ["s01", "s12"]),
    ("s", "is not null", None),
    ("id", "<", 15),
    ("id", ">=", 95),
    ("t", ">=", dt.datetime(2024, 1, 3)),
    ("b", "==", True),
]


def _expected(table: pa.Table, dnf: list[list[tuple[str, str, Any]]]) -> pa.Table:
    df = table.to_pandas()
    mask = np.zeros(len(df), dtype=bool)
    for conj in dnf:
        m = np.ones(len(df), dtype=bool)
        for col, op, value in conj:
            m &= _oracle_mask(df, col, op, value)
        mask |= m
    return table.filter(pa.array(mask))


@pytest.mark.parametrize("term", TERMS, ids=[f"{c} {o} {v}" for c, o, v in TERMS])
def test_filter_single_term(path: Path, table: pa.Table, term: tuple) -> None:
    got = colbridge.read_parquet(path, filters=[term])
    want = _expected(table, [[term]])
    _same(got, want)
    # pyarrow agrees with the pandas oracle
    if term[1] not in ("is null", "is not null"):
        assert pq.read_table(path, filters=[term]).to_pylist() == want.to_pylist()


def test_filter_and(path: Path, table: pa.Table) -> None:
    conj = [("i", ">", -20), ("f", "is not null", None), ("s", "!=", "s05")]
    _same(colbridge.read_parquet(path, filters=conj), _expected(table, [conj]))


def test_filter_dnf_or_of_ands(path: Path, table: pa.Table) -> None:
    dnf = [
        [("i", "<", -30), ("f", ">", 0.0)],
        [("s", "in", ["s01", "s02"]), ("id", ">=", 50)],
        [("i", "is null", None), ("id", "<", 20)],
    ]
    got = colbridge.read_parquet(path, filters=dnf)
    want = _expected(table, dnf)
    assert want.num_rows > 0
    _same(got, want)
    # pyarrow's DNF filters have no "is null": it checks the first two conjunctions
    assert (
        pq.read_table(path, filters=dnf[:2]).to_pylist()
        == _expected(pq.read_table(path), dnf[:2]).to_pylist()
    )


def test_filter_with_columns_and_row_groups(path: Path, table: pa.Table) -> None:
    got = colbridge.read_parquet(path, columns=["s"], row_groups=[0, 1], filters=[("i", ">", 0)])
    first20 = table.slice(0, 20)
    want = _expected(first20, [[("i", ">", 0)]]).select(["s"])
    _same(got, want)


def test_filter_on_dictionary_column(tmp_path: Path) -> None:
    p = tmp_path / "dict.parquet"
    df = pd.DataFrame({"c": pd.Categorical(["x", "y", None, "x", "z"]), "v": range(5)})
    df.to_parquet(p)
    got = _pa(colbridge.read_parquet(p, filters=[("c", "in", ["x", "z"])]))
    assert got.column("v").to_pylist() == [0, 3, 4]


def test_filter_no_match(path: Path) -> None:
    t = colbridge.read_parquet(path, filters=[("id", ">", 10_000)])
    assert t.num_rows == 0
    assert _pa(t).schema.names == pq.read_schema(path).names


def _corrupt_row_groups_except(path: Path, keep: int) -> None:
    """Overwrite every column chunk of every row group but ``keep`` with 0xFF bytes.

    The footer (with the statistics) stays intact, so a reader that prunes by statistics never
    touches the garbage, and one that does not prune fails."""
    md = pq.ParquetFile(path).metadata
    data = bytearray(path.read_bytes())
    for g in range(md.num_row_groups):
        if g == keep:
            continue
        for c in range(md.num_columns):
            cc = md.row_group(g).column(c)
            start = cc.data_page_offset
            if cc.has_dictionary_page and cc.dictionary_page_offset:
                start = min(start, cc.dictionary_page_offset)
            data[start : start + cc.total_compressed_size] = b"\xff" * cc.total_compressed_size
    path.write_bytes(bytes(data))


def test_row_groups_really_pruned(tmp_path: Path) -> None:
    p = tmp_path / "ten.parquet"
    t = pa.table({"k": np.arange(100, dtype=np.int64), "v": np.arange(100, dtype=np.float64) / 2})
    pq.write_table(t, p, row_group_size=10)
    pf = colbridge.ParquetFile(p)
    assert pf.num_row_groups == 10
    stats = [rg["columns"][0]["statistics"] for rg in pf.metadata["row_groups"]]
    assert [(s["min"], s["max"]) for s in stats] == [(10 * g, 10 * g + 9) for g in range(10)]

    _corrupt_row_groups_except(p, keep=4)
    with pytest.raises(colbridge.ParquetError):
        colbridge.read_parquet(p)
    for filters in (
        [("k", ">=", 42), ("k", "<", 47)],
        [("k", "in", [41, 45])],
        [[("k", "==", 40)], [("k", "==", 49)]],
    ):
        got = _pa(colbridge.read_parquet(p, filters=filters))
        want = _expected(t, filters if isinstance(filters[0], list) else [filters])
        assert got.equals(want), filters


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        ([("nope", "==", 1)], "unknown column"),
        ([("i", "~", 1)], "operator"),
        ([("i", "==", None)], "None"),
        ([("i", "<", None)], "None"),
        ([("i", "in", "abc")], "collection"),
        ([("i", "==")], "column, op, value"),
        ([[("i", "==", 1)], [("zz", ">", 2)]], "unknown column"),
        (5, "list"),
    ],
)
def test_bad_filters(path: Path, filters: Any, match: str) -> None:
    with pytest.raises(colbridge.InvalidInputError, match=match):
        colbridge.read_parquet(path, filters=filters)


def test_filter_value_of_wrong_type(path: Path) -> None:
    with pytest.raises(colbridge.ColbridgeError):
        colbridge.read_parquet(path, filters=[("i", "==", "not a number")])


# --------------------------------------------------------------------------------------
# ParquetFile
# --------------------------------------------------------------------------------------


def test_parquet_file_schema_and_metadata(path: Path) -> None:
    pf = colbridge.ParquetFile(path)
    ref = pq.ParquetFile(path)
    assert pf.schema.names == ref.schema_arrow.names
    assert [str(t) for t in pf.schema.types] == [str(t) for t in ref.schema_arrow.types]
    assert pf.num_rows == ref.metadata.num_rows == N
    assert pf.num_row_groups == ref.metadata.num_row_groups == 10
    md = pf.metadata
    assert md["num_rows"] == N
    assert md["num_row_groups"] == 10
    assert md["num_columns"] == ref.metadata.num_columns
    assert md["created_by"] == ref.metadata.created_by
    assert "ARROW:schema" in md["key_value_metadata"]
    for g, rg in enumerate(md["row_groups"]):
        rref = ref.metadata.row_group(g)
        assert rg["num_rows"] == rref.num_rows
        assert rg["total_byte_size"] == rref.total_byte_size
        for c, col in enumerate(rg["columns"]):
            cref = rref.column(c)
            assert col["path"] == cref.path_in_schema
            assert col["physical_type"] == cref.physical_type
            assert col["compression"] == cref.compression
            assert set(col["encodings"]) == set(cref.encodings)
            assert col["num_values"] == cref.num_values
            assert col["total_compressed_size"] == cref.total_compressed_size
            assert col["total_uncompressed_size"] == cref.total_uncompressed_size
            assert col["data_page_offset"] == cref.data_page_offset
            st, sref = col["statistics"], cref.statistics
            assert st["null_count"] == sref.null_count
            if cref.physical_type in ("INT64", "DOUBLE", "BOOLEAN") and cref.path_in_schema != "t":
                assert (st["min"], st["max"]) == (sref.min, sref.max)
            if cref.path_in_schema == "s":
                assert (st["min"], st["max"]) == (sref.min, sref.max)


@pytest.mark.parametrize("codec", ["NONE", "SNAPPY", "GZIP", "BROTLI", "ZSTD", "LZ4"])
def test_parquet_file_reports_codec(tmp_path: Path, codec: str) -> None:
    p = tmp_path / "c.parquet"
    pq.write_table(pa.table({"x": list(range(50))}), p, compression=codec)
    col = colbridge.ParquetFile(p).metadata["row_groups"][0]["columns"][0]
    want = pq.ParquetFile(p).metadata.row_group(0).column(0).compression
    # pyarrow calls the LZ4_RAW codec (Parquet codec 7) "LZ4"; colbridge uses the spec's names
    assert col["compression"] == {"LZ4": "LZ4_RAW", "NONE": "UNCOMPRESSED"}.get(want, want)


def test_parquet_file_read(path: Path, table: pa.Table) -> None:
    pf = colbridge.ParquetFile(path)
    _same(pf.read(), table)
    _same(pf.read(columns=["f"], row_groups=[2]), table.slice(20, 10).select(["f"]))
    _same(pf.read(filters=[("id", "<", 5)]), table.slice(0, 5))
    assert "10 row groups" in repr(pf)


def test_iter_batches_yields_tables(path: Path, table: pa.Table) -> None:
    pf = colbridge.ParquetFile(path)
    batches = list(pf.iter_batches(batch_size=16))
    assert all(isinstance(b, colbridge.Table) for b in batches)
    assert [b.num_rows for b in batches] == [16] * 6 + [4]
    assert pa.concat_tables([_pa(b) for b in batches]).equals(table)
    sub = list(pf.iter_batches(batch_size=100, columns=["s"], row_groups=[1]))
    assert len(sub) == 1
    _same(sub[0], table.slice(10, 10).select(["s"]))


def test_iter_batches_consumers(path: Path, table: pa.Table) -> None:
    import duckdb

    pf = colbridge.ParquetFile(path)
    reader = pf.iter_batches(batch_size=16)
    assert reader.schema.names == table.schema.names
    got = pa.table(reader)
    assert got.equals(table)
    with pytest.raises(colbridge.InvalidInputError, match="consumed"):
        pa.table(reader)

    pl_df = pl.DataFrame(pf.iter_batches(batch_size=16))
    assert pl_df.height == N
    assert pl_df["id"].to_list() == list(range(N))
    assert pl_df["s"].to_list() == table.column("s").to_pylist()

    stream = pf.iter_batches(batch_size=16, columns=["id", "i"])  # noqa: F841 (DuckDB scans it)
    con = duckdb.connect()
    total, count = con.execute("SELECT sum(id), count(i) FROM stream").fetchone()
    assert total == sum(range(N))
    assert count == N - table.column("i").null_count

    rbr = pa.RecordBatchReader.from_stream(pf.iter_batches(batch_size=50))
    assert [b.num_rows for b in rbr] == [50, 50]
    assert pf.iter_batches(batch_size=8).read_all().num_rows == N


# --------------------------------------------------------------------------------------
# write_parquet
# --------------------------------------------------------------------------------------

COMPRESSIONS = [None, "none", "snappy", "gzip", "brotli", "lz4", "zstd"]


def _writable_sample() -> pa.Table:
    return _sample_table(40)


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("kind", ["colbridge", "pandas", "pyarrow"])
def test_write_parquet_round_trip(tmp_path: Path, compression: str | None, kind: str) -> None:
    src = _writable_sample()
    data: Any = {
        "colbridge": lambda: colbridge.table(src),
        "pandas": lambda: src.to_pandas(),
        "pyarrow": lambda: src,
    }[kind]()
    p = tmp_path / "w.parquet"
    colbridge.write_parquet(data, p, compression=compression)
    want_codec = {None: "UNCOMPRESSED", "none": "UNCOMPRESSED", "lz4": "LZ4"}.get(
        compression, (compression or "").upper()
    )
    assert pq.ParquetFile(p).metadata.row_group(0).column(0).compression == want_codec
    assert colbridge.ParquetFile(p).metadata["row_groups"][0]["columns"][0]["compression"] == (
        "LZ4_RAW" if want_codec == "LZ4" else want_codec
    )
    back = pq.read_table(p)
    assert back.column_names[: src.num_columns] == src.column_names
    for name in src.column_names:
        want = src.column(name).to_pylist()
        got = back.column(name).to_pylist()
        if name == "f":  # pandas round trip: NaN for None
            got = [None if v is None or v != v else v for v in got]
        if name == "t" and kind == "pandas":  # pandas holds timestamps as datetime64[us]
            got = [None if v is None else v for v in got]
        assert got == want, name
    pdf = pl.read_parquet(p)
    assert pdf["id"].to_list() == src.column("id").to_pylist()
    assert pdf["s"].to_list() == src.column("s").to_pylist()
    _same(colbridge.read_parquet(p).select(src.column_names), back.select(src.column_names))


def test_write_parquet_level_row_groups_statistics(tmp_path: Path) -> None:
    src = colbridge.table({"x": np.arange(100, dtype=np.int64)})
    p = tmp_path / "o.parquet"
    colbridge.write_parquet(src, p, compression="zstd", compression_level=9, row_group_size=25)
    md = pq.ParquetFile(p).metadata
    assert md.num_row_groups == 4
    assert md.row_group(0).column(0).statistics.max == 24
    colbridge.write_parquet(src, p, write_statistics=False)
    assert not pq.ParquetFile(p).metadata.row_group(0).column(0).is_stats_set
    buf = io.BytesIO()
    colbridge.write_parquet(src, buf)
    assert pq.read_table(io.BytesIO(buf.getvalue())).column("x").to_pylist() == list(range(100))


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"compression": "lzo"}, colbridge.InvalidInputError),
        ({"compression": "zstd", "compression_level": 99}, colbridge.InvalidInputError),
        ({"row_group_size": 0}, colbridge.InvalidInputError),
    ],
)
def test_write_parquet_bad_options(tmp_path: Path, kwargs: dict, exc: type) -> None:
    with pytest.raises(exc):
        colbridge.write_parquet(colbridge.table({"x": [1]}), tmp_path / "x.parquet", **kwargs)


# --------------------------------------------------------------------------------------
# read_pandas
# --------------------------------------------------------------------------------------


def _pandas_frame(n: int = 30) -> pd.DataFrame:
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
    _pandas_frame().to_parquet(p, row_group_size=10)
    return p


@pytest.mark.parametrize("backend", [None, "numpy_nullable", "pyarrow"])
def test_read_pandas_matches_pandas(pandas_path: Path, backend: str | None) -> None:
    kwargs = {} if backend is None else {"dtype_backend": backend}
    got = colbridge.read_pandas(pandas_path, dtype_backend=backend)
    want = pd.read_parquet(pandas_path, **kwargs)
    assert list(got.columns) == list(want.columns)
    assert dict(got.dtypes) == dict(want.dtypes)
    # category order: see test_read_pandas_category_order_across_row_groups
    pd.testing.assert_frame_equal(got, want, check_categorical=False)
    if backend != "pyarrow":
        assert sorted(got["cat"].cat.categories) == sorted(want["cat"].cat.categories)


def test_read_pandas_category_order_across_row_groups(pandas_path: Path) -> None:
    got = colbridge.read_pandas(pandas_path)
    want = pd.read_parquet(pandas_path)
    assert list(got["cat"].cat.categories) == list(want["cat"].cat.categories)


def test_read_pandas_category_order_one_row_group(tmp_path: Path) -> None:
    p = tmp_path / "cat.parquet"
    _pandas_frame().to_parquet(p)
    got, want = colbridge.read_pandas(p), pd.read_parquet(p)
    assert list(got["cat"].cat.categories) == list(want["cat"].cat.categories)
    pd.testing.assert_series_equal(got["cat"], want["cat"])


def test_read_pandas_columns_filters_row_groups(pandas_path: Path) -> None:
    want = pd.read_parquet(pandas_path)
    got = colbridge.read_pandas(pandas_path, columns=["f_null", "s"])
    pd.testing.assert_frame_equal(got, want[["f_null", "s"]])
    got = colbridge.read_pandas(pandas_path, filters=[("i", ">=", 25)])
    assert got["i"].tolist() == [25, 26, 27, 28, 29]
    got = colbridge.read_pandas(pandas_path, row_groups=[1])
    assert got["i"].tolist() == list(range(10, 20))


def test_read_pandas_bad_backend(pandas_path: Path) -> None:
    with pytest.raises(colbridge.InvalidInputError):
        colbridge.read_pandas(pandas_path, dtype_backend="numpy")


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(pd.Index([5, 6, 7, 8], name="idx"), id="named"),
        pytest.param(pd.Index(["a", "b", "c", "d"]), id="unnamed-str"),
        pytest.param(pd.RangeIndex(0, 4), id="default-range"),
        pytest.param(pd.RangeIndex(10, 18, 2, name="r"), id="named-range"),
        pytest.param(
            pd.MultiIndex.from_tuples([(1, "a"), (1, "b"), (2, "a"), (2, "b")], names=["n", "l"]),
            id="multi",
        ),
    ],
)
def test_read_pandas_restores_index(tmp_path: Path, index: pd.Index) -> None:
    df = pd.DataFrame({"x": [1.5, 2.5, None, 4.5], "y": ["p", "q", "r", "s"]}, index=index)
    p = tmp_path / "idx.parquet"
    df.to_parquet(p)
    got = colbridge.read_pandas(p)
    pd.testing.assert_frame_equal(got, pd.read_parquet(p))
    pd.testing.assert_index_equal(got.index, df.index, exact=False)
    got = colbridge.read_pandas(io.BytesIO(p.read_bytes()))
    pd.testing.assert_frame_equal(got, pd.read_parquet(p))


def test_read_pandas_restores_column_names(tmp_path: Path) -> None:
    df = pd.DataFrame({1: [1, 2], "two": [3.0, 4.0]})
    df.columns = pd.Index(["1", "two"], name="cols")
    p = tmp_path / "c.parquet"
    df.to_parquet(p)
    pd.testing.assert_frame_equal(colbridge.read_pandas(p), pd.read_parquet(p))


def _lease_of(arr: np.ndarray) -> _Lease | None:
    base: Any = arr
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return base if isinstance(base, _Lease) else None


def _block_values(df: pd.DataFrame, col: str) -> np.ndarray:
    """The ndarray pandas holds for a column (not a read-only CoW view of it)."""
    values = df._mgr.iget_values(df.columns.get_loc(col))
    return getattr(values, "_ndarray", values)


@pytest.mark.parametrize("col", ["f_null", "ts", "f", "i", "f32"])
def test_read_pandas_columns_are_the_decoded_buffers(pandas_path: Path, col: str) -> None:
    df = colbridge.read_pandas(pandas_path)
    values = _block_values(df, col)
    lease = _lease_of(values)
    assert lease is not None, f"{col}: pandas holds a copy, not colbridge's buffer"
    # The pandas column starts at the decoded Arrow buffer the lease wraps.
    assert values.__array_interface__["data"][0] == lease.__array_interface__["data"][0]
    assert not lease.__array_interface__["data"][1]  # handed over writable
    assert values.flags.writeable
    assert np.shares_memory(_block_values(df, col), _block_values(df, col))
    if col in ("f_null", "ts"):
        # nulls became NaN / NaT in place, in that same memory
        assert df[col].isna().sum() == pd.read_parquet(pandas_path)[col].isna().sum() > 0


def test_read_pandas_nullable_int_shares_values(pandas_path: Path) -> None:
    df = colbridge.read_pandas(pandas_path)
    arr = df["i_null"].array
    assert isinstance(arr, pd.arrays.IntegerArray)
    assert _lease_of(arr._data) is not None


def test_read_pandas_frame_is_writable(pandas_path: Path) -> None:
    df = colbridge.read_pandas(pandas_path)
    before = _block_values(df, "f_null").__array_interface__["data"][0]
    df.loc[1, "f_null"] = 123.0
    df["f_null"] = df["f_null"]  # no-op assignment keeps working
    assert df.loc[1, "f_null"] == 123.0
    df.fillna({"f_null": -1.0}, inplace=True)
    assert (df["f_null"] == -1.0).sum() == 10
    df.loc[0, "i"] = 99
    df.loc[2, "ts"] = pd.Timestamp("1999-01-01")
    df.loc[3, "cat"] = "a"
    df.loc[0, "s"] = "new"
    assert df.loc[0, "i"] == 99 and df.loc[0, "s"] == "new"
    assert df.loc[2, "ts"] == pd.Timestamp("1999-01-01")
    # the float write landed in the decoded buffer itself: no copy was needed
    assert _block_values(df, "f_null").__array_interface__["data"][0] == before
    df2 = colbridge.read_pandas(pandas_path)
    assert df2.loc[1, "f_null"] == 1.0  # a fresh read is unaffected


def test_table_to_pandas_stays_read_only_shared(pandas_path: Path) -> None:
    """Not read_pandas: Table.to_pandas shares memory, so writes must copy first."""
    t = colbridge.read_parquet(pandas_path)
    df = t.to_pandas()
    df.loc[0, "f"] = 1e9
    assert t.column("f").to_pylist()[0] != 1e9


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        colbridge.read_parquet(tmp_path / "missing.parquet")
    with pytest.raises(FileNotFoundError):
        colbridge.read_pandas(tmp_path / "missing.parquet")
    with pytest.raises(FileNotFoundError):
        colbridge.ParquetFile(tmp_path / "missing.parquet")


def test_not_parquet(tmp_path: Path) -> None:
    p = tmp_path / "text.parquet"
    p.write_text("hello, this is not a parquet file at all\n" * 10)
    for src in (p, p.read_bytes(), b"", b"PAR1"):
        with pytest.raises(colbridge.ParquetError):
            colbridge.read_parquet(src)
    with pytest.raises(ValueError):  # ParquetError is a ValueError
        colbridge.read_pandas(p)


@pytest.mark.parametrize("cut", [1, 8, 100, 0.5])
def test_truncated(path: Path, tmp_path: Path, cut: float) -> None:
    data = path.read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut
    p = tmp_path / "trunc.parquet"
    p.write_bytes(data[:n])
    with pytest.raises(colbridge.ParquetError):
        colbridge.read_parquet(p)
    with pytest.raises(colbridge.ParquetError):
        colbridge.read_parquet(data[:n])


def test_corrupt_pages_raise_parquet_error(path: Path, tmp_path: Path) -> None:
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


def test_no_pyarrow_needed(pandas_path: Path) -> None:
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
