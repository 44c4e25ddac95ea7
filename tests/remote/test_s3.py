"""Reading from S3 (moto's server on loopback): the same data as a local read, the requests the
remote read plan promises (read from the server's own log), and clean errors."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import colbridge
from colbridge.errors import (
    InvalidInputError,
    ObjectNotFoundError,
    StorageError,
    StoragePermissionError,
)
from tests.remote.conftest import GROUPS, ROWS, pa, pq
from tests.remote.servers import S3Server

pd = pytest.importorskip("pandas")


@pytest.fixture
def wide_s3(s3: S3Server, wide: bytes) -> str:
    s3.client().put_object(Bucket="data", Key="wide.parquet", Body=wide)
    s3.log.clear()
    return "s3://data/wide.parquet"


def chunk_bytes(data: bytes, column: str) -> int:
    """The compressed bytes of ``column``'s chunks, from the footer (pyarrow's reading)."""
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    j = names.index(column)
    return sum(
        meta.row_group(g).column(j).total_compressed_size for g in range(meta.num_row_groups)
    )


def test_whole_file_equals_local_read(s3: S3Server, wide_s3: str, wide: bytes) -> None:
    got = colbridge.read_parquet(wide_s3, storage_options=s3.options())
    want = colbridge.read_parquet(wide)
    assert got.num_rows == ROWS
    assert got.to_pandas().equals(want.to_pandas())
    # Every GET was a range request; none asked for the whole object again.
    gets = s3.log.gets("/data/wide.parquet")
    assert all(r.range is not None for r in gets)
    assert sum(r.sent for r in gets) <= 1.05 * len(wide)


def test_one_column_of_ten_fetches_its_chunks_and_footer_only(
    s3: S3Server, wide_s3: str, wide: bytes
) -> None:
    got = colbridge.read_parquet(wide_s3, columns=["c3"], storage_options=s3.options())
    assert np.array_equal(
        got.column("c3").to_numpy(),
        colbridge.read_parquet(wide, columns=["c3"]).column("c3").to_numpy(),
    )
    gets = s3.log.gets("/data/wide.parquet")
    # One suffix request for size and footer, then one per chunk (c3's chunks are not adjacent).
    assert gets[0].range is not None and gets[0].range.startswith("bytes=-")
    assert len(gets) <= 1 + GROUPS, [r.range for r in gets]
    footer = int.from_bytes(wide[-8:-4], "little") + 8
    assert sum(r.sent for r in gets[1:]) <= 1.25 * chunk_bytes(wide, "c3")
    assert sum(r.sent for r in gets) <= 1.25 * (chunk_bytes(wide, "c3") + footer) + gets[0].sent


def test_filtered_read_fetches_only_the_selected_pages(
    s3: S3Server, wide_s3: str, wide: bytes
) -> None:
    # k is sorted: 200 of 40,000 rows, inside one row group, a few of its 8 KiB pages.
    filters = [("k", ">=", 12_000), ("k", "<", 12_200)]
    got = colbridge.read_parquet(
        wide_s3, columns=["c5"], filters=filters, storage_options=s3.options()
    )
    want = colbridge.read_parquet(wide, columns=["c5"], filters=filters)
    assert got.num_rows == 200
    assert np.array_equal(got.column("c5").to_numpy(), want.column("c5").to_numpy())
    data = sum(r.sent for r in s3.log.gets("/data/wide.parquet")[1:])
    # The pages of k and c5 holding those rows: a few pages, far from one chunk of each.
    one_group = (chunk_bytes(wide, "k") + chunk_bytes(wide, "c5")) / GROUPS
    assert 0 < data < 0.3 * one_group, data


def test_read_pandas_and_parquet_file(s3: S3Server, wide_s3: str, wide: bytes) -> None:
    df = colbridge.read_pandas(wide_s3, columns=["k", "c1"], storage_options=s3.options())
    pd.testing.assert_frame_equal(df, pd.read_parquet(io.BytesIO(wide), columns=["k", "c1"]))
    pf = colbridge.ParquetFile(wide_s3, storage_options=s3.options())
    assert pf.num_rows == ROWS
    assert pf.read(columns=["k"]).column("k").to_numpy()[-1] == ROWS - 1


def test_directory_with_hive_partitions(s3: S3Server, tmp_path: Any) -> None:
    client = s3.client()
    local = tmp_path / "sales"
    for year in (2023, 2024):
        for part in range(2):
            frame = pd.DataFrame({"x": np.arange(5) + 10 * part + year, "y": list("abcde")})
            path = local / f"year={year}" / f"part-{part}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(path)
            client.put_object(
                Bucket="data", Key=f"sales/year={year}/part-{part}.parquet", Body=path.read_bytes()
            )
    client.put_object(Bucket="data", Key="sales/_SUCCESS", Body=b"")
    got = colbridge.read_pandas("s3://data/sales", storage_options=s3.options())
    pd.testing.assert_frame_equal(got, pd.read_parquet(local))
    filtered = colbridge.read_pandas(
        "s3://data/sales/", filters=[("year", "=", 2024)], storage_options=s3.options()
    )
    pd.testing.assert_frame_equal(filtered, pd.read_parquet(local, filters=[("year", "=", 2024)]))
    listed = colbridge.read_parquet(
        ["s3://data/sales/year=2023/part-0.parquet", "s3://data/sales/year=2024/part-1.parquet"],
        storage_options=s3.options(),
    )
    assert listed.num_rows == 10


def test_missing_object_and_bucket(s3: S3Server) -> None:
    with pytest.raises(ObjectNotFoundError, match="s3://data/nope.parquet") as e:
        colbridge.read_parquet("s3://data/nope.parquet", storage_options=s3.options())
    assert isinstance(e.value, FileNotFoundError)
    with pytest.raises(FileNotFoundError, match="s3://no-such-bucket/x.parquet"):
        colbridge.read_parquet("s3://no-such-bucket/x.parquet", storage_options=s3.options())
    with pytest.raises(FileNotFoundError):
        colbridge.read_parquet("s3://data/empty-prefix/", storage_options=s3.options())


def test_refused_credentials_are_a_permission_error_without_the_secret(
    s3: S3Server, wide_s3: str
) -> None:
    # moto checks signatures once authentication is switched on for its server.
    s3.require_auth(True)
    try:
        secret = "sEcReT-do-not-print-9f3a"
        opts = s3.options(key="AKIANOTAKEY123", secret=secret)
        with pytest.raises(StoragePermissionError) as e:
            colbridge.read_parquet(wide_s3, storage_options=opts)
        assert isinstance(e.value, PermissionError)
        assert secret not in str(e.value) and "AKIANOTAKEY123" not in str(e.value)
    finally:
        s3.require_auth(False)


def test_unreachable_store_is_a_storage_error_after_the_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = {"endpoint_url": f"http://127.0.0.1:{port}", "anon": True, "retries": 1}
    with pytest.raises(StorageError, match="s3://data/x.parquet") as e:
        colbridge.read_parquet("s3://data/x.parquet", storage_options=opts)
    assert isinstance(e.value, OSError)


def test_bad_urls_and_options(s3: S3Server) -> None:
    with pytest.raises(InvalidInputError, match="s3://"):
        colbridge.read_parquet("ftp://host/x.parquet")
    with pytest.raises(InvalidInputError, match='unknown storage option "colour"'):
        colbridge.read_parquet("s3://data/x.parquet", storage_options={"colour": "blue"})
    with pytest.raises(InvalidInputError, match="storage_options is only for URLs"):
        colbridge.read_parquet("local.parquet", storage_options={"anon": True})


def test_cli_reads_a_url_with_storage_options(s3: S3Server, wide_s3: str, capsys: Any) -> None:
    from colbridge import cli

    opts = [f"-o{k}={v}" for k, v in s3.options().items()]
    assert cli.main([*opts, "head", wide_s3, "-n", "2", "--columns", "k"]) == 0
    out = capsys.readouterr().out
    assert "k" in out and "40,000 rows" in out.replace("40000", "40,000")
    assert cli.main([*opts, "inspect", "s3://data/missing.parquet"]) == 1
    assert "s3://data/missing.parquet" in capsys.readouterr().err


def test_a_prefetch_budget_fetches_chunk_by_chunk(s3: S3Server, wide_s3: str, wide: bytes) -> None:
    want = colbridge.read_parquet(wide, columns=["k", "c1"]).to_pandas()
    # k and c1 are neighbours in every row group: without a budget (the default) or within
    # one, each row group's two chunks are one request ...
    for options in (s3.options(), s3.options(prefetch_bytes=64 << 20)):
        got = colbridge.read_parquet(wide_s3, columns=["k", "c1"], storage_options=options)
        assert got.to_pandas().equals(want)
        assert len(s3.log.gets("/data/wide.parquet")) == 1 + GROUPS
        s3.log.clear()
    # ... with a budget smaller than the read, each chunk is its own request, asked for as the
    # decoders need it and dropped once decoded.
    opts = s3.options(prefetch_bytes=200_000)
    got = colbridge.read_parquet(wide_s3, columns=["k", "c1"], storage_options=opts)
    assert got.to_pandas().equals(want)
    gets = s3.log.gets("/data/wide.parquet")
    assert len(gets) == 1 + 2 * GROUPS
    assert sum(r.sent for r in gets[1:]) == chunk_bytes(wide, "k") + chunk_bytes(wide, "c1")


def test_a_budget_smaller_than_a_chunk_still_finishes(s3: S3Server) -> None:
    # One 2.4 MB chunk of 100 kB pages, and a budget of one byte: the chunk is fetched as 1 MiB
    # runs, so pages straddle two runs and the second is still held back when a decoder needs
    # it. The decoder must fetch it itself (the budget frees room only once those very bytes
    # are decoded); this read once waited forever, hence the child process and its timeout.
    values = np.random.default_rng(3).random(300_000)
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": values}), sink, compression="none", data_page_size=100_000)
    s3.client().put_object(Bucket="data", Key="one-chunk.parquet", Body=sink.getvalue())
    code = (
        "import json, sys, colbridge\n"
        "options = {**json.loads(sys.argv[1]), 'prefetch_bytes': 1}\n"
        "t = colbridge.read_parquet('s3://data/one-chunk.parquet', storage_options=options)\n"
        "print(repr(float(t.column('x').to_numpy().sum())))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(s3.options())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == float(values.sum())
    gets = s3.log.gets("/data/one-chunk.parquet")
    assert len(gets) >= 1 + 3  # the footer, then the chunk as three runs of at most 1 MiB
