"""read_pandas: the frame pandas.read_parquet gives for every dtype backend, with the index and
column names restored, built on the decoded buffers themselves (no copy) and writable."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import colbridge

from ..conftest import address
from .conftest import lease_of, pandas_frame


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
    pandas_frame().to_parquet(p)
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


def test_unknown_dtype_backend_raises_invalid_input(pandas_path: Path) -> None:
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


def _block_values(df: pd.DataFrame, col: str) -> np.ndarray:
    """The ndarray pandas holds for a column (not a read-only CoW view of it)."""
    values = df._mgr.iget_values(df.columns.get_loc(col))
    return getattr(values, "_ndarray", values)


@pytest.mark.parametrize("col", ["f_null", "ts", "f", "i", "f32"])
def test_read_pandas_columns_are_the_decoded_buffers(pandas_path: Path, col: str) -> None:
    df = colbridge.read_pandas(pandas_path)
    values = _block_values(df, col)
    lease = lease_of(values)
    assert lease is not None, f"{col}: pandas holds a copy, not colbridge's buffer"
    # The pandas column starts at the decoded Arrow buffer the lease wraps.
    assert address(values) == lease.__array_interface__["data"][0]
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
    assert lease_of(arr._data) is not None


def test_read_pandas_frame_is_writable(pandas_path: Path) -> None:
    df = colbridge.read_pandas(pandas_path)
    before = address(_block_values(df, "f_null"))
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
    assert address(_block_values(df, "f_null")) == before
    df2 = colbridge.read_pandas(pandas_path)
    assert df2.loc[1, "f_null"] == 1.0  # a fresh read is unaffected


def test_table_to_pandas_stays_read_only_shared(pandas_path: Path) -> None:
    """Not read_pandas: Table.to_pandas shares memory, so writes must copy first."""
    t = colbridge.read_parquet(pandas_path)
    df = t.to_pandas()
    df.loc[0, "f"] = 1e9
    assert t.column("f").to_pylist()[0] != 1e9


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"use_dictionary": False, "data_page_version": "2.0", "compression": "zstd"},
        {"row_group_size": 7_000, "data_page_size": 2048},
    ],
    ids=["dictionary", "plain-v2", "small-pages"],
)
def test_read_parquet_to_pandas_keeps_float_and_temporal_columns_with_nulls_shared(
    tmp_path: Path, options: dict[str, object]
) -> None:
    # Arrow leaves the values under nulls undefined: colbridge's decoder writes NaN / NaT there,
    # so the pyarrow idiom read_parquet(p).to_pandas() needs no second copy of such columns.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 20_000
    nulls = [i % 10 == 3 for i in range(n)]
    table = pa.table(
        {
            "f64": pa.array(np.arange(n) / 7, mask=np.array(nulls)),
            "f32": pa.array(np.arange(n, dtype=np.float32), mask=np.array(nulls)),
            "ts": pa.array(np.arange(n) * 10**6, pa.timestamp("us", "UTC"), mask=np.array(nulls)),
            "naive": pa.array(np.arange(n), pa.timestamp("ms"), mask=np.array(nulls)),
            "dur": pa.array(np.arange(n), pa.duration("ns"), mask=np.array(nulls)),
        }
    )
    path = tmp_path / "nulls.parquet"
    pq.write_table(table, path, **options)
    t = colbridge.read_parquet(path)
    df = t.to_pandas()
    pd.testing.assert_frame_equal(df, pq.read_table(path).to_pandas())
    for name in table.column_names:
        column = df[name].array
        values = column.asi8 if hasattr(column, "asi8") else column.to_numpy()
        assert address(values) == t.column(name).chunk(0).values.address, name
    # Still Copy-on-Write: a write lands in the frame, not in the table.
    df.loc[0, "f64"] = -1.0
    assert t.column("f64").chunk(0).to_pylist()[0] == 0.0
    # A filtered read (a row selection) writes the sentinels as well.
    picked = colbridge.read_parquet(path, filters=[("f32", ">=", 5000.0)])
    frame = picked.to_pandas()
    assert address(frame["f64"].to_numpy()) == picked.column("f64").chunk(0).values.address


@pytest.mark.parametrize("backend", [None, "numpy_nullable"])
@pytest.mark.parametrize("as_file_object", [False, True])
def test_pandas_masked_integers_of_32_bits_or_less_come_back_masked(
    tmp_path: Path, backend: str | None, as_file_object: bool
) -> None:
    # pandas stores Int8..UInt32 with their dtype in its metadata and pd.read_parquet restores
    # them; only plain integer columns with nulls become float64 (decoded so by colbridge).
    n = 50
    frame = pd.DataFrame(
        {
            name: pd.array([None if k % 6 == 1 else k for k in range(n)], dtype=name)
            for name in ("Int8", "Int16", "Int32", "UInt8", "UInt16", "UInt32")
        }
    )
    path = tmp_path / "masked.parquet"
    frame.to_parquet(path)
    source: object = io.BytesIO(path.read_bytes()) if as_file_object else path
    kwargs = {} if backend is None else {"dtype_backend": backend}
    got = colbridge.read_pandas(source, **kwargs)
    pd.testing.assert_frame_equal(got, pd.read_parquet(path, **kwargs))
    assert str(got["Int32"].dtype) == "Int32"
    if backend is None and not as_file_object:
        # The table given away converts nothing the pandas metadata restores as masked.
        given = colbridge.read_parquet(path).to_pandas(self_destruct=True)
        pd.testing.assert_frame_equal(given, pd.read_parquet(path))
    # Without the pandas metadata, pandas' default backend gives float64 with NaN.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    bare = tmp_path / "bare.parquet"
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata()
    pq.write_table(table, bare)
    got = colbridge.read_pandas(bare, **kwargs)
    pd.testing.assert_frame_equal(got, pd.read_parquet(bare, **kwargs))


def _int_table_path(tmp_path: Path) -> Path:
    """int64 and uint64 columns with nulls (pandas: float64 with NaN), in one row group."""
    n = 10_000
    nulls = np.arange(n) % 9 == 4
    path = tmp_path / "ints.parquet"
    colbridge.write_parquet(
        colbridge.table(
            {
                "i": [None if nulls[k] else k - 5000 for k in range(n)],
                "u": [None if nulls[n - 1 - k] else 3 * k for k in range(n)],
                "f": [None if nulls[k] else k / 4 for k in range(n)],
            }
        ).select(["i", "u", "f"]),
        path,
    )
    return path


def test_self_destruct_converts_int_columns_with_nulls_in_their_own_buffers(
    tmp_path: Path,
) -> None:
    # pyarrow's keyword: the table gives its memory to the frame, so int64 columns with nulls
    # become float64 in the very buffer the decoder filled (no second copy), and the frame may
    # write there without protecting the table, which refuses every use afterwards.
    path = _int_table_path(tmp_path)
    t = colbridge.read_parquet(path)
    before = {c: t.column(c).chunk(0).values.address for c in ("i", "u", "f")}
    df = t.to_pandas(self_destruct=True)
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))
    for c, at in before.items():
        values = _block_values(df, c)
        assert values.dtype == np.float64
        assert address(values) == at, c
        assert values.flags.writeable
    with pytest.raises(colbridge.errors.InvalidInputError, match="self_destruct"):
        _ = t.num_rows
    with pytest.raises(colbridge.errors.InvalidInputError, match="self_destruct"):
        t.to_pandas()
    with pytest.raises(colbridge.errors.InvalidInputError, match="self_destruct"):
        colbridge.write_parquet(t, tmp_path / "again.parquet")
    assert not (tmp_path / "again.parquet").exists()
    assert "self_destruct" in repr(t)
    df.loc[1, "i"] = 0.5  # the frame's own memory now
    assert df.loc[1, "i"] == 0.5


def test_self_destruct_hands_strings_over_with_pandas_offsets(tmp_path: Path) -> None:
    # pandas' `str` holds 64-bit offsets and casts a `string` column to them, holding both
    # offsets at once: the table given away widens its own offsets instead (the old ones given
    # back as it goes; that the conversion happens in colbridge is proven by the Rust tests of
    # `interop::pandas::large_strings`). Here: pandas' frame, with the very string bytes decoded.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 300_000
    words = pa.array([None if k % 11 == 3 else f"w{k % 977}-{k}" for k in range(n)])
    path = tmp_path / "strings.parquet"
    pq.write_table(pa.table({"s": words, "t": words.slice(7).to_pylist() + ["x"] * 7}), path)
    t = colbridge.read_parquet(path)
    assert str(t.schema.field("s").type) in ("string", "utf8")
    data = {c: t.column(c).chunk(0).data.address for c in ("s", "t")}
    df = t.to_pandas(self_destruct=True)
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))
    for c, at in data.items():
        held = pa.array(df[c].array)
        assert held.type == pa.large_string()
        assert held.buffers()[2].address == at, c
    # Without the keyword the table keeps its own string offsets and stays usable.
    kept = colbridge.read_parquet(path)
    pd.testing.assert_frame_equal(kept.to_pandas(), pd.read_parquet(path))
    assert kept.column("s").to_pylist()[:4] == words.to_pylist()[:4]


def test_self_destruct_shares_nothing_that_another_holder_sees(tmp_path: Path) -> None:
    # A column taken from the table (or a view of its memory) keeps the memory shared: the
    # frame then converts as without the keyword and never writes where the holder reads.
    path = _int_table_path(tmp_path)
    t = colbridge.read_parquet(path)
    kept = t.column("i")
    at = kept.chunk(0).values.address
    expected = kept.to_pylist()
    df = t.to_pandas(self_destruct=True)
    assert address(_block_values(df, "i")) != at  # a new float64 buffer
    df.loc[:, "i"] = -1.0
    assert kept.to_pylist() == expected
    with pytest.raises(colbridge.errors.InvalidInputError):
        t.column("i")
    # Asking for another backend keeps the memory shared too.
    t2 = colbridge.read_parquet(path)
    masked = t2.to_pandas(self_destruct=True, dtype_backend="numpy_nullable")
    pd.testing.assert_frame_equal(masked, pd.read_parquet(path, dtype_backend="numpy_nullable"))


def test_only_the_table_self_destruct_builds_is_converted_in_place(tmp_path: Path) -> None:
    # The private conversion changes column types: a user's table refuses it, unchanged.
    t = colbridge.read_parquet(_int_table_path(tmp_path))
    schema = t.schema
    with pytest.raises(colbridge.errors.InvalidInputError, match="self_destruct"):
        t._for_pandas([])
    assert t.schema == schema
    assert t.column("i").type == schema.field("i").type


def test_codes_start_at_the_width_the_chunks_dictionaries_need(tmp_path: Path) -> None:
    # Each row group brings 16 new categories: 160 in all, more than int8 codes index, though
    # no single row group has that many. The dictionary pages are read first, so the column is
    # decoded once, straight into int16 codes (a second decode would fetch its chunks again,
    # which the progress total would count).
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    values = [f"v{(k // 640) * 16 + k % 16}" for k in range(6400)]
    path = tmp_path / "growing.parquet"
    pq.write_table(pa.table({"c": pa.array(values).dictionary_encode()}), path, row_group_size=640)
    once: list[tuple[int, int]] = []
    colbridge.read_parquet(path, progress=lambda done, total: once.append((done, total)))
    seen: list[tuple[int, int]] = []
    df = colbridge.read_pandas(path, progress=lambda done, total: seen.append((done, total)))
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))
    assert df["c"].array.codes.dtype == np.int16
    assert seen[-1] == once[-1]  # the chunks' bytes read once, as read_parquet reads them


@pytest.mark.parametrize("n_categories", [5, 300])
@pytest.mark.parametrize("self_destruct", [True, False])
def test_dictionary_codes_are_narrowed_a_slice_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n_categories: int, self_destruct: bool
) -> None:
    # int32 indices become pandas' int8 / int16 codes in slices; given the table's memory,
    # in the indices' own buffer (each slice written below where the next is still unread).
    monkeypatch.setattr(colbridge._pandas, "_CODE_ROWS", 1000)
    n = 10_000
    frame = pd.DataFrame(
        {
            "c": pd.Categorical(
                [None if k % 11 == 5 else f"v{(k * 7) % n_categories}" for k in range(n)]
            )
        }
    )
    path = tmp_path / "categories.parquet"
    frame.to_parquet(path)
    t = colbridge.read_parquet(path)
    indices_at = t.column("c").chunk(0).indices.values.address
    df = t.to_pandas(self_destruct=self_destruct)
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))
    codes = df["c"].array.codes
    assert codes.dtype == (np.int8 if n_categories < 127 else np.int16)
    assert (address(codes) == indices_at) == self_destruct


def test_to_pandas_copies_where_null_slots_hold_other_values() -> None:
    # pyarrow leaves zeros under nulls: the column is copied and NaN written there.
    pa = pytest.importorskip("pyarrow")
    source = pa.array([1.5, None, 3.5])
    t = colbridge.table({"x": source})
    df = t.to_pandas()
    assert np.isnan(df["x"].iloc[1]) and df["x"].iloc[2] == 3.5
    assert address(df["x"].to_numpy()) != t.column("x").chunk(0).values.address


@pytest.mark.parametrize(
    "kind", ["int64", "uint64", "int32", "uint32", "int16", "uint16", "int8", "uint8"]
)
@pytest.mark.parametrize("dictionary", [True, False])
def test_int32_columns_with_nulls_are_decoded_as_pandas_floats(
    tmp_path: Path, kind: str, dictionary: bool
) -> None:
    # pandas gives an int32 column with nulls as float64 with NaN: the decoder writes the int32
    # values into the tail of the float64 buffer and widens them in place, so pandas holds the
    # decoded buffer itself (no int32 column and float64 copy side by side).
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 30_000
    top = {"int8": 100, "uint8": 200, "int16": 30_000, "uint16": 60_000}.get(kind, 100_000)
    values = pa.array(
        [None if i % 7 == 0 else (i * 7919) % top for i in range(n)], pa.type_for_alias(kind)
    )
    path = tmp_path / "ints.parquet"
    pq.write_table(
        pa.table({"x": values, "y": pa.array(np.arange(n, dtype=np.int32))}),
        path,
        row_group_size=8_000,
        use_dictionary=dictionary,
    )
    df = colbridge.read_pandas(path)
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))
    assert df["x"].dtype == np.float64 and df["y"].dtype == np.int32
    column = _block_values(df, "x")
    lease = lease_of(column)
    assert lease is not None and address(column) == lease.__array_interface__["data"][0]
    # The decoder itself wrote float64 (no mask as large as the column is made afterwards).
    decoded = colbridge._colbridge.read_parquet(path, pandas_sentinels=True, keep_integers=[])
    assert str(decoded.column("x").type) == "double"
    # With a filter the nulls may be gone, and pandas' dtype with them: the usual path.
    some = colbridge.read_pandas(path, filters=[("y", "<", 5)])
    pd.testing.assert_frame_equal(some, pd.read_parquet(path, filters=[("y", "<", 5)]))


def test_narrow_integers_out_of_range_wrap_as_pyarrow_reads_them(tmp_path: Path) -> None:
    # An INT32 page value outside its INT(8) logical type (a damaged or hostile file): pyarrow
    # and arrow-rs wrap it (1000 -> -24); the float64 path of read_pandas and read_numpy too.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "int8.parquet"
    pq.write_table(
        pa.table({"x": pa.array([7, None, 99], pa.int8())}),
        path,
        compression="none",
        use_dictionary=False,
        write_statistics=["x"],
    )
    data = bytearray(path.read_bytes())
    # The data page's values follow its header; the statistics (before them) keep 99.
    at = data.rfind(bytes([7, 0, 0, 0, 99, 0, 0, 0]), 0, len(data) // 2)
    assert at > 0
    data[at + 4 : at + 8] = (1000).to_bytes(4, "little", signed=True)
    path.write_bytes(bytes(data))
    want = pd.read_parquet(path)
    assert want["x"].tolist()[2] == -24
    pd.testing.assert_frame_equal(colbridge.read_pandas(path), want)
    assert colbridge.read_numpy(path).tolist()[2] == [-24.0]
