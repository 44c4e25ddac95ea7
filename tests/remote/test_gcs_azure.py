"""``gs://`` and ``az://`` through object_store's GCS and Azure clients. No GCS or Azure
emulator runs here offline, so the loopback Range server stands in for the stores' anonymous
object GET (``{base}/{bucket}/{key}`` for GCS, ``{endpoint}/{container}/{key}`` for Azure):
what is tested is colbridge's side — the URL, the options, the read plan (Azure has no suffix
ranges: a HEAD for the size, then the tail) — not the stores' authentication."""

from __future__ import annotations

import numpy as np
import pytest

import colbridge
from tests.remote.conftest import GROUPS
from tests.remote.servers import RangeServer


@pytest.fixture
def stores(wide: bytes):
    server = RangeServer({"/bkt/dir/w.parquet": wide, "/acct/cont/dir/w.parquet": wide})
    yield server
    server.stop()


def test_gcs(stores: RangeServer, wide: bytes) -> None:
    opts = {"anon": True, "base_url": stores.url}
    got = colbridge.read_parquet("gs://bkt/dir/w.parquet", columns=["c1"], storage_options=opts)
    want = colbridge.read_parquet(wide, columns=["c1"])
    assert np.array_equal(got.column("c1").to_numpy(), want.column("c1").to_numpy())
    ranges = [r.range for r in stores.log.requests]
    assert ranges[0] == "bytes=-65536" and len(ranges) == 1 + GROUPS


def test_azure_without_suffix_ranges_asks_the_size_first(stores: RangeServer, wide: bytes) -> None:
    opts = {"account_name": "acct", "anon": True, "endpoint": f"{stores.url}/acct"}
    opts["allow_http"] = True
    got = colbridge.read_pandas("az://cont/dir/w.parquet", columns=["k"], storage_options=opts)
    assert got["k"].tolist() == list(range(len(got)))
    methods = [(r.method, r.range) for r in stores.log.requests]
    assert methods[0] == ("HEAD", None)
    assert methods[1] == ("GET", f"bytes={len(wide) - 65536}-{len(wide) - 1}")
    assert len(methods) == 2 + GROUPS
