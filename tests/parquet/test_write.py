"""write_parquet: Tables, pandas DataFrames and pyarrow tables round-trip through every codec;
compression level, row-group size and statistics are honoured; bad options are refused."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

from .conftest import same, sample_table

COMPRESSIONS = [None, "none", "snappy", "gzip", "brotli", "lz4", "zstd"]


def _writable_sample() -> pa.Table:
    return sample_table(40)


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("kind", ["colbridge", "pandas", "pyarrow"])
def test_every_kind_of_input_round_trips_through_every_codec(
    tmp_path: Path, compression: str | None, kind: str
) -> None:
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
    same(colbridge.read_parquet(p).select(src.column_names), back.select(src.column_names))


def test_level_row_group_size_and_statistics_are_honoured(tmp_path: Path) -> None:
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
def test_bad_options_raise_invalid_input(tmp_path: Path, kwargs: dict, exc: type) -> None:
    with pytest.raises(exc):
        colbridge.write_parquet(colbridge.table({"x": [1]}), tmp_path / "x.parquet", **kwargs)


def test_dictionaries_of_string_and_binary_views_are_written_as_their_values(
    tmp_path: Path, capfd: Any
) -> None:
    # arrow-rs' writer takes dictionaries of plain strings or binary only (it panicked on
    # views); the dictionary's values are converted, the indices kept, also inside lists and
    # structs, and pyarrow reads back the values pyarrow wrote them from.
    words = pa.array(["a", None, "bb", "a", "ccc"]).cast(pa.string_view()).dictionary_encode()
    blobs = pa.array([b"x", b"yy", None, b"x", b"x"]).cast(pa.binary_view()).dictionary_encode()
    listed = pa.ListArray.from_arrays([0, 2, 2, 5, 5, 5], words)
    src = pa.table(
        {
            "w": words,
            "b": blobs,
            "l": listed,
            "s": pa.StructArray.from_arrays([words], ["w"]),
        }
    )
    p = tmp_path / "views.parquet"
    colbridge.write_parquet(colbridge.table(src), p)
    back = pq.read_table(p)
    assert back.column("w").to_pylist() == ["a", None, "bb", "a", "ccc"]
    assert back.column("b").to_pylist() == [b"x", b"yy", None, b"x", b"x"]
    assert back.column("l").to_pylist() == [["a", None], [], ["bb", "a", "ccc"], [], []]
    assert back.column("s").to_pylist() == [{"w": v} for v in ["a", None, "bb", "a", "ccc"]]
    assert "panicked" not in capfd.readouterr().err
