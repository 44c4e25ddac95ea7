"""Parquet from S3: wall time, requests, bytes fetched and peak RSS of each reader.

S3 is moto's server on loopback (the one ``tests/remote`` starts), with 20 ms added before
every reply, as a stand-in for a real store's round trip, and with each object's body kept in
memory so that a range GET costs its own bytes rather than the whole object's
(``serve_ranges_from_memory``); every request is logged by the server, so requests and bytes
are what the store served, not what a reader reports. The file (about 160 MiB, 5 row groups,
9 columns, snappy) is written by pyarrow. Each read runs in a fresh child process (a warm-up
read of a small object first, then the timed read with the peak RSS reset before it;
``benches/_child.py``), full and one column of nine.

Readers:
- ``colbridge.read_parquet(url, storage_options=...)`` (a Table) and ``colbridge.read_pandas``,
  with the default plan (no ``prefetch_bytes`` bound: every run asked for at once in file order,
  streamed into pieces dropped as they are decoded) and with a 64 MiB bound (chunk by chunk in
  the decoders' order)
- ``pd.read_parquet(url, storage_options=...)`` (pyarrow engine over s3fs, as pandas users read S3)
- ``pq.read_table`` with pyarrow's own ``S3FileSystem``
- ``pl.read_parquet(url, storage_options=...)`` (Polars' object_store reader)

Goals (issue 11): fewer requests and bytes than every peer, time <= 0.8x the fastest peer,
peak RSS <= 1.1x the output. The server is Python serving from one process, so every reader's
time is bounded by its pace; compare requests and bytes first.

Not a test: run it directly and read the Markdown table it prints::

    .venv/bin/pip install '.[bench]'
    .venv/bin/python benches/s3_read.py                # about 200 MB
    .venv/bin/python benches/s3_read.py --rows 500000  # smaller
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benches"))
import _child as child  # noqa: E402  (the benchmarks' shared child process)

from tests.remote.servers import S3Server  # noqa: E402  (the tests' loopback S3)

KEY, SECRET, REGION = "bench", "bench", "us-east-1"
COLUMN = "f2"

# Run in each child before the reads (benches/_child.py): the endpoint and the columns come in
# sys.argv[3:], and each peer's way of spelling the store.
SETUP = r"""
import json
import colbridge, pandas as pd, polars as pl, pyarrow.parquet as pq, pyarrow.fs as pafs
endpoint, columns = sys.argv[3], json.loads(sys.argv[4])
KEY, SECRET, REGION = "bench", "bench", "us-east-1"
pandas_options = {"key": KEY, "secret": SECRET, "endpoint_url": endpoint,
                  "client_kwargs": {"region_name": REGION}}
colbridge_options = {"key": KEY, "secret": SECRET, "endpoint_url": endpoint, "region": REGION}
polars_options = {"aws_access_key_id": KEY, "aws_secret_access_key": SECRET,
                  "aws_endpoint_url": endpoint, "aws_region": REGION, "aws_allow_http": "true"}
s3 = pafs.S3FileSystem(access_key=KEY, secret_key=SECRET, region=REGION, scheme="http",
                       endpoint_override=endpoint.split("://")[1])
"""

READERS = {
    "colbridge.read_parquet": "colbridge.read_parquet(path, columns=columns, "
    "storage_options=colbridge_options)",
    "colbridge.read_pandas": "colbridge.read_pandas(path, columns=columns, "
    "storage_options=colbridge_options)",
    "colbridge.read_pandas, prefetch_bytes=64 MiB": "colbridge.read_pandas(path, "
    "columns=columns, storage_options={**colbridge_options, 'prefetch_bytes': 64 << 20})",
    "pd.read_parquet (s3fs)": "pd.read_parquet(path, columns=columns, "
    "storage_options=pandas_options)",
    "pq.read_table (S3FileSystem)": "pq.read_table(path[5:], columns=columns, filesystem=s3)",
    "pl.read_parquet": "pl.read_parquet(path, columns=columns, storage_options=polars_options)",
}
PEERS = ["pd.read_parquet (s3fs)", "pq.read_table (S3FileSystem)", "pl.read_parquet"]


def make_file(rows: int) -> bytes:
    """Nine columns: a sorted id, five random floats, an int32, a low-cardinality string and a
    timestamp; five row groups, snappy (pyarrow's defaults otherwise)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(11)
    columns: dict[str, Any] = {"id": np.arange(rows, dtype=np.int64)}
    for i in range(5):
        columns[f"f{i}"] = rng.random(rows)
    columns["n"] = rng.integers(0, 1000, rows, dtype=np.int32)
    columns["city"] = pa.array(rng.choice(["oslo", "lima", "pune", "kobe"], rows))
    columns["ts"] = pa.array(
        np.datetime64("2024-01-01", "ns") + rng.integers(0, 10**15, rows).astype("m8[ns]")
    )
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink, row_group_size=-(-rows // 5), compression="snappy")
    return sink.getvalue()


def serve_ranges_from_memory() -> None:
    """Make moto answer a range GET at the cost of the range, as a real store does.

    moto reads an object's whole body for every GET, ranges included (``FakeKey.value`` reads
    the spooled file, then the response slices it): about 115 ms per request for this file,
    whatever the range, which turns every extra request into a large, unrealistic cost. Here
    each body is read once and kept, so a request costs the added latency plus its own bytes.
    """
    from moto.s3.models import FakeKey

    stored = FakeKey.value

    def get(key: Any) -> bytes:
        body = key.__dict__.get("_bench_body")
        if body is None:
            body = key.__dict__["_bench_body"] = stored.fget(key)
        return body

    def put(key: Any, value: bytes) -> None:
        key.__dict__.pop("_bench_body", None)
        stored.fset(key, value)

    FakeKey.value = property(get, put)  # type: ignore[method-assign,assignment]


def run(server: S3Server, expression: str, columns: list[str] | None) -> dict[str, Any]:
    server.log.clear()
    big, warm = "s3://bench/big.parquet", "s3://bench/warm.parquet"
    result = child.run(SETUP, expression, big, warm, server.endpoint, json.dumps(columns))
    served = [r for r in server.log.requests if r.path.endswith("/bench/big.parquet")]
    result["requests"] = len(served)
    result["bytes"] = sum(r.sent for r in served)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    print(child.versions(args.repeats))

    data = make_file(args.rows)
    serve_ranges_from_memory()
    server = S3Server(latency=args.latency_ms / 1000)
    client = server.client()
    client.create_bucket(Bucket="bench")
    client.put_object(Bucket="bench", Key="big.parquet", Body=data)
    client.put_object(Bucket="bench", Key="warm.parquet", Body=make_file(1000))
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    j = [meta.schema.column(i).name for i in range(meta.num_columns)].index(COLUMN)
    column_bytes = sum(meta.row_group(g).column(j).total_compressed_size for g in range(5))
    print(
        f"{len(data) / 2**20:.0f} MiB file, {args.rows:,} rows, {meta.num_row_groups} row "
        f"groups; one column ({COLUMN}) is {column_bytes / 2**20:.1f} MiB of chunks; "
        f"{args.latency_ms:.0f} ms per request\n"
    )
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for label, columns, size in (("full", None, len(data)), ("one column", [COLUMN], column_bytes)):
        print(f"### {label} read\n")
        print(
            "| reader | time (s), min (median) | vs fastest peer | requests | bytes fetched "
            "/ needed | peak RSS / output |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        runs: dict[str, list[dict[str, Any]]] = {}
        for name, expression in READERS.items():
            runs[name] = [run(server, expression, columns) for _ in range(args.repeats)]
        results[label] = runs
        fastest = min(min(r["seconds"] for r in runs[p]) for p in PEERS)
        for name, rs in runs.items():
            times = [r["seconds"] for r in rs]
            best = min(rs, key=lambda r: r["seconds"])
            print(
                f"| {name} | {min(times):.2f} ({statistics.median(times):.2f}) | "
                f"{min(times) / fastest:.2f}x | {best['requests']} | "
                f"{best['bytes'] / size:.2f}x | "
                f"{best['rss_kib'] * 1024 / max(best['out_bytes'], 1):.2f}x |"
            )
        print()
    server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
