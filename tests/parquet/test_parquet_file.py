"""ParquetFile: schema and footer metadata as pyarrow reports them, reads, and iter_batches
streaming to pyarrow, Polars and DuckDB."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

from .conftest import N, same


def test_schema_and_metadata_match_pyarrow(path: Path) -> None:
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
def test_codecs_are_reported_by_their_parquet_names(tmp_path: Path, codec: str) -> None:
    p = tmp_path / "c.parquet"
    pq.write_table(pa.table({"x": list(range(50))}), p, compression=codec)
    col = colbridge.ParquetFile(p).metadata["row_groups"][0]["columns"][0]
    want = pq.ParquetFile(p).metadata.row_group(0).column(0).compression
    # pyarrow calls the LZ4_RAW codec (Parquet codec 7) "LZ4"; colbridge uses the spec's names
    assert col["compression"] == {"LZ4": "LZ4_RAW", "NONE": "UNCOMPRESSED"}.get(want, want)


def test_read_takes_columns_row_groups_and_filters(path: Path, table: pa.Table) -> None:
    pf = colbridge.ParquetFile(path)
    same(pf.read(), table)
    same(pf.read(columns=["f"], row_groups=[2]), table.slice(20, 10).select(["f"]))
    same(pf.read(filters=[("id", "<", 5)]), table.slice(0, 5))
    assert "10 row groups" in repr(pf)


def test_iter_batches_yields_tables(path: Path, table: pa.Table) -> None:
    pf = colbridge.ParquetFile(path)
    batches = list(pf.iter_batches(batch_size=16))
    assert all(isinstance(b, colbridge.Table) for b in batches)
    assert [b.num_rows for b in batches] == [16] * 6 + [4]
    assert pa.concat_tables([pa.table(b) for b in batches]).equals(table)
    sub = list(pf.iter_batches(batch_size=100, columns=["s"], row_groups=[1]))
    assert len(sub) == 1
    same(sub[0], table.slice(10, 10).select(["s"]))


def test_iter_batches_streams_to_pyarrow_polars_and_duckdb(path: Path, table: pa.Table) -> None:
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


@pytest.mark.parametrize("as_given", [str, Path], ids=["str", "Path"])
def test_repr_shows_the_path_as_the_user_gave_it(path: Path, monkeypatch, as_given) -> None:
    monkeypatch.chdir(path.parent.parent)
    relative = Path(path.parent.name) / path.name
    pf = colbridge.ParquetFile(as_given(relative))
    assert repr(pf) == (f"colbridge.ParquetFile({relative}: 100 rows, 10 row groups, 6 columns)")
    assert str(path.parent.parent) not in repr(pf)
