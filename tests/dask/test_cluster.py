"""colbridge.dask on a real cluster: a LocalCluster of two worker processes, started and
stopped by this module (the workers are spawned, so they import it: it must stay importable)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

import colbridge
import colbridge.dask

from .conftest import as_dask, pa, pd, pq

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def bytes_read(client) -> int:
    return sum(c["bytes_read"] for c in client.run(colbridge.dask.io_counters).values())


def test_compute_equals_what_pandas_reads(client, dataset):
    ddf = colbridge.dask.read_parquet(dataset)
    got = client.compute(ddf).result().reset_index(drop=True)
    assert_frame_equal(got, as_dask(pd.read_parquet(dataset), ddf))
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()


def test_column_projection_reduces_the_bytes_workers_read(client, dataset):
    before = bytes_read(client)
    client.compute(colbridge.dask.read_parquet(dataset)).result()
    everything = bytes_read(client) - before
    before = bytes_read(client)
    ids = client.compute(colbridge.dask.read_parquet(dataset)[["id"]]).result()
    one_column = bytes_read(client) - before
    assert list(ids.columns) == ["id"]
    id_bytes = sum(
        rg["columns"][0]["total_compressed_size"]
        for f in colbridge.dataset.dataset(dataset).files
        for rg in colbridge.ParquetFile(f.path).metadata["row_groups"]
    )
    assert one_column <= id_bytes * 1.05 + 6 * 4096  # the id chunks (and footers)
    assert one_column < everything / 3


def test_filters_reduce_the_bytes_workers_read(client, dataset):
    before = bytes_read(client)
    client.compute(colbridge.dask.read_parquet(dataset, columns=["id"])).result()
    everything = bytes_read(client) - before
    before = bytes_read(client)
    ddf = colbridge.dask.read_parquet(dataset, columns=["id"], filters=[("day", "=", 3)])
    day3 = client.compute(ddf).result()
    assert len(day3) == 8_000
    assert bytes_read(client) - before <= everything / 3 + 4096


def test_a_corrupt_page_fails_at_compute_naming_the_file(client, dataset, tmp_path):
    root = tmp_path / "corrupt"
    shutil.copytree(dataset, root)
    victim = root / "day=2" / "part-1.parquet"
    column = colbridge.ParquetFile(victim).metadata["row_groups"][1]["columns"][0]
    with open(victim, "r+b") as f:  # the page header and data: the footer stays intact
        f.seek(column["data_page_offset"])
        f.write(b"\xff" * 64)
    ddf = colbridge.dask.read_parquet(root)  # the graph builds from footers alone
    with pytest.raises(colbridge.ParquetError, match="day=2/part-1.parquet"):
        client.compute(ddf).result()


def test_divisions_are_known_and_used_on_the_cluster(client, dataset):
    ddf = colbridge.dask.read_parquet(dataset, index="id", split_row_groups=True)
    assert ddf.known_divisions
    got = client.compute(ddf.loc[12_345:12_349]).result()
    assert got.index.tolist() == list(range(12_345, 12_350))


def test_worker_memory_returns_between_partitions(client, tmp_path):
    """Sixteen 8 MB partitions through one reduction: the workers' resident memory
    afterwards stays within a few partitions of what it was (colbridge's allocator returns what
    it freed)."""
    n, files = 1_000_000, 16
    for i in range(files):
        pq.write_table(
            pa.table({"v": np.arange(n, dtype=np.int64) + i}), tmp_path / f"{i:02}.parquet"
        )

    def rss() -> int:
        import psutil

        colbridge.dask.release_memory()
        return psutil.Process().memory_info().rss

    warm_up = [tmp_path / f"{i:02}.parquet" for i in range(4)]
    client.compute(colbridge.dask.read_parquet(warm_up).sum()).result()
    before = client.run(rss)
    total = client.compute(colbridge.dask.read_parquet(tmp_path).sum()).result()
    after = client.run(rss)
    assert int(total["v"]) == sum(n * (n - 1) // 2 + i * n for i in range(files))
    for worker, start in before.items():
        assert after[worker] - start < 32 * 2**20, (worker, start, after[worker])


def test_a_dataset_in_s3_is_read_by_the_workers(client, dataset):
    """The same dataset in S3 (moto on loopback): the workers open the objects themselves and
    fetch only the projected column's chunks (read from the server's own request log)."""
    pytest.importorskip("moto.server")
    if not hasattr(colbridge._colbridge, "RemoteFile"):
        pytest.skip("colbridge built without the 'remote' feature")
    from tests.remote.servers import S3Server

    server = S3Server()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="lake")
        files = sorted(dataset.rglob("*.parquet"))
        for path in files:
            key = f"events/{path.relative_to(dataset).as_posix()}"
            s3.put_object(Bucket="lake", Key=key, Body=path.read_bytes())
        options = server.options(metadata_size_hint=4096)
        server.log.clear()
        ddf = colbridge.dask.read_parquet(
            "s3://lake/events", columns=["id", "day"], storage_options=options
        )
        got = client.compute(ddf).result().reset_index(drop=True)
        want = pd.read_parquet(dataset, columns=["id", "day"])
        assert_frame_equal(got, as_dask(want, ddf))
        id_bytes = sum(
            rg["columns"][0]["total_compressed_size"]
            for f in files
            for rg in colbridge.ParquetFile(f).metadata["row_groups"]
        )
        data = [r for r in server.log.requests if r.method == "GET" and r.range is not None]
        ranged = sum(r.sent for r in data if not r.range.startswith("bytes=-"))
        assert ranged <= 1.25 * id_bytes + len(files) * 2 * 4096
        assert ranged < sum(p.stat().st_size for p in files) / 3
    finally:
        server.stop()
