"""Columns colbridge decodes page by page into exactly sized buffers.

String, binary and dictionary columns, and null-free fixed-width numbers, from several writers
and layouts (data page v1/v2, dictionary or plain pages, a dictionary that overflows into plain
pages mid-chunk, files without the size statistic, so the column is counted first) must read
back as pyarrow reads them.
"""

import random

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import colbridge

N = 30_000


def _values() -> list[str | None]:
    return [None if i % 9 == 4 else f"{(i * 7919) % 1500:x}é" * (i % 4) for i in range(N)]


LAYOUTS = {
    "pyarrow-dictionary-v1": dict(data_page_version="1.0"),
    "pyarrow-dictionary-v2": dict(data_page_version="2.0"),
    "pyarrow-plain-v2-zstd": dict(
        use_dictionary=False, data_page_version="2.0", compression="zstd"
    ),
    "pyarrow-dictionary-overflow": dict(dictionary_pagesize_limit=2_000),
    "pyarrow-uncompressed-small-pages": dict(compression="none", data_page_size=4_096),
}


def _expected_nbytes(array: pa.Array) -> int:
    validity = (len(array) + 7) // 8 if array.null_count else 0
    width = 8 if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type) else 4
    return validity + width * (len(array) + 1) + len(array.buffers()[2])


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_pyarrow_layouts_read_back_exactly(tmp_path, layout):
    table = pa.table({"s": pa.array(_values()), "b": pa.array(_values(), pa.binary())})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=11_000, **LAYOUTS[layout])
    got = colbridge.read_parquet(path)
    assert pa.table(got).equals(pq.read_table(path))
    for name in ("s", "b"):
        column = got.column(name)
        assert column.num_chunks == 1
        # One buffer of the exact size per part (validity rounded up to 64 bytes at most).
        want = _expected_nbytes(pa.array(column.chunk(0)))
        assert want <= column.nbytes < want + 64


@pytest.mark.parametrize("writer", ["polars", "duckdb"])
def test_files_without_size_statistics(tmp_path, writer):
    table = pa.table({"s": pa.array(_values())})
    path = tmp_path / f"{writer}.parquet"
    if writer == "polars":
        pl.from_arrow(table).write_parquet(path, row_group_size=11_000)
    else:
        source = table  # noqa: F841 — read by DuckDB's replacement scan
        duckdb.sql(
            f"COPY (SELECT * FROM source) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 11000)"
        )
    got = colbridge.read_parquet(path)
    want = pq.read_table(path)
    assert pa.table(got).column("s").to_pylist() == want.column("s").to_pylist()
    assert got.column("s").nbytes < _expected_nbytes(pa.array(got.column("s").chunk(0))) + 64


@pytest.mark.parametrize("overflow", [False, True])
def test_categoricals_across_row_groups_match_pandas(tmp_path, overflow):
    frame = pd.DataFrame({"c": pd.Categorical(_values())})
    path = tmp_path / "cat.parquet"
    options = dict(dictionary_pagesize_limit=2_000) if overflow else {}
    frame.to_parquet(path, row_group_size=7_000, **options)
    got = colbridge.read_pandas(path)
    want = pd.read_parquet(path)
    assert list(got["c"].cat.categories) == list(want["c"].cat.categories)
    pd.testing.assert_series_equal(got["c"].astype(object), want["c"].astype(object))


@pytest.mark.parametrize("column", ["strings", "floats with nulls", "int96"])
@pytest.mark.parametrize("use_dictionary", [True, False])
def test_corrupted_pages_fail_cleanly(tmp_path, use_dictionary, column):
    values = {
        "strings": pa.array(_values()[:3_000]),
        "floats with nulls": pa.array([None if i % 7 == 0 else i % 50 / 4 for i in range(3_000)]),
        "int96": pa.array([i % 40 * 10**15 for i in range(3_000)], pa.timestamp("ns")),
    }[column]
    path = tmp_path / "good.parquet"
    pq.write_table(
        pa.table({"v": values}),
        path,
        compression="none",
        use_dictionary=use_dictionary,
        data_page_size=2_048,
        use_deprecated_int96_timestamps=column == "int96",
    )
    good = path.read_bytes()
    meta = pq.ParquetFile(path).metadata.row_group(0).column(0)
    start = meta.dictionary_page_offset or meta.data_page_offset
    end = start + meta.total_compressed_size
    rng = random.Random(7)
    outcomes = set()
    for _ in range(150):
        data = bytearray(good)
        for _ in range(3):
            data[rng.randrange(start, end)] = rng.randrange(256)
        try:
            colbridge.read_parquet(bytes(data))
            outcomes.add("read")
        except colbridge.errors.ColbridgeError as e:
            assert isinstance(e, ValueError | OSError)
            outcomes.add("error")
    assert "error" in outcomes  # the damage was seen, and nothing crashed


def test_read_pandas_hands_string_buffers_over_as_decoded(tmp_path):
    from colbridge._pandas import to_dataframe

    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"s": _values()}), path, row_group_size=11_000)
    # What read_pandas does: strings decoded with 64-bit offsets, pandas' own layout ...
    table = colbridge._colbridge.read_parquet(path, pandas_sentinels=True)
    column = table.column("s").chunk(0)
    assert str(column.type) == "large_string"
    offsets, data = column.offsets.address, column.data.address
    frame = to_dataframe(table, hand_over=True)
    # ... so the frame's string column holds those very buffers: no offsets widened in a copy.
    held = pa.array(frame["s"].array)
    assert held.type == pa.large_string()
    assert held.buffers()[1].address == offsets
    assert held.buffers()[2].address == data
    assert frame["s"].tolist() == pd.read_parquet(path)["s"].tolist()


def _numbers(nulls: bool) -> pa.Table:
    n = 25_000
    mask = pa.array([nulls and i % 13 == 5 for i in range(n)])
    ints = [(i * 7919) % 700 for i in range(n)]  # few distinct values: dictionary pages
    columns = {
        "i32": pa.array(ints, pa.int32()),
        "u32": pa.array([v * 3_000_000 for v in ints], pa.uint32()),
        "i64": pa.array([i * i for i in range(n)], pa.int64()),
        "u64": pa.array([2**63 + i for i in range(n)], pa.uint64()),
        "f32": pa.array([v / 8 for v in ints], pa.float32()),
        "f64": pa.array([i / 3 for i in range(n)], pa.float64()),
        "d32": pa.array(ints, pa.int32()).cast(pa.date32()),
        "ts_ms_tz": pa.array([i * 1_000 for i in range(n)], pa.timestamp("ms", tz="Asia/Tokyo")),
        "ts_us": pa.array([i * 1_000_000 for i in range(n)], pa.timestamp("us")),
        "ts_ns": pa.array([i for i in range(n)], pa.timestamp("ns")),
        "i8": pa.array([v % 100 for v in ints], pa.int8()),  # stored as INT32: left to arrow-rs
    }
    if nulls:
        columns = {k: pc.if_else(mask, pa.nulls(n, v.type), v) for k, v in columns.items()}
    return pa.table(columns)


@pytest.mark.parametrize("nulls", [False, True])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_numeric_columns_read_back_exactly(tmp_path, layout, nulls):
    table = _numbers(nulls)
    path = tmp_path / "n.parquet"
    pq.write_table(table, path, row_group_size=9_000, **LAYOUTS[layout])
    got = pa.table(colbridge.read_parquet(path))
    assert got.equals(pq.read_table(path))
    assert got.equals(table)
    frame = colbridge.read_pandas(path)
    pd.testing.assert_frame_equal(frame, pd.read_parquet(path), check_dtype=False)


def test_numeric_columns_are_decoded_in_place(tmp_path):
    path = tmp_path / "n.parquet"
    pq.write_table(_numbers(False), path, row_group_size=9_000)
    got = colbridge.read_parquet(path)
    for name in got.column_names:
        column = got.column(name)
        assert column.num_chunks == 1
        width = pa.array(column.chunk(0)).type.bit_width // 8
        assert column.nbytes == width * got.num_rows  # one exactly sized buffer, no validity


@pytest.mark.parametrize("page_index", [False, True])
def test_filtered_reads_decode_only_the_selected_rows(tmp_path, page_index):
    n = 40_000
    table = pa.table(
        {
            "k": pa.array(range(n), pa.int64()),
            "s": pa.array(_values() + _values()[: n - N]),
            "c": pa.array([f"c{i % 37}" for i in range(n)]).dictionary_encode(),
            "f": pa.array([i / 7 for i in range(n)], pa.float64()),
        }
    )
    path = tmp_path / "f.parquet"
    pq.write_table(
        table, path, row_group_size=15_000, data_page_size=2_048, write_page_index=page_index
    )
    filters = [[("k", ">=", 14_990), ("k", "<", 15_020)], [("k", "in", [3, 39_999])]]
    got = pa.table(colbridge.read_parquet(path, filters=filters))
    assert got.equals(pq.read_table(path, filters=filters))
    frame = colbridge.read_pandas(path, filters=filters)
    assert frame["k"].tolist() == [3, *range(14_990, 15_020), 39_999]
    assert frame["c"].astype(object).tolist() == [f"c{k % 37}" for k in frame["k"]]


@pytest.mark.parametrize("encoding", ["DELTA_BYTE_ARRAY", "DELTA_LENGTH_BYTE_ARRAY"])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_delta_encoded_strings_read_back_exactly(tmp_path, encoding, version):
    table = pa.table({"s": pa.array(_values()), "b": pa.array(_values(), pa.binary())})
    path = tmp_path / "d.parquet"
    pq.write_table(
        table,
        path,
        use_dictionary=False,
        column_encoding={"s": encoding, "b": encoding},
        data_page_version=version,
        row_group_size=11_000,
        data_page_size=4_096,
    )
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).encodings[-1] == encoding
    got = colbridge.read_parquet(path)
    assert pa.table(got).equals(pq.read_table(path))
    want = _expected_nbytes(pa.array(got.column("s").chunk(0)))
    assert want <= got.column("s").nbytes < want + 64


def test_int96_timestamps_read_as_pyarrow_reads_them(tmp_path):
    n = 20_000
    ts = pa.array(
        [None if i % 11 == 0 else i * 86_400_000_000_007 for i in range(-n // 2, n // 2)],
        pa.timestamp("ns"),
    )
    path = tmp_path / "int96.parquet"
    pq.write_table(
        pa.table({"t": ts}), path, use_deprecated_int96_timestamps=True, row_group_size=7_000
    )
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).physical_type == "INT96"
    got = pa.table(colbridge.read_parquet(path))
    assert got.equals(pq.read_table(path))
    frame = colbridge.read_pandas(path)
    pd.testing.assert_series_equal(frame["t"], pd.read_parquet(path)["t"])
