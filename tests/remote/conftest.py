"""Loopback servers and files for the object-storage tests (no network: the servers are
started here, on 127.0.0.1)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import colbridge

if not hasattr(colbridge._colbridge, "RemoteFile"):
    pytest.skip("colbridge built without the 'remote' feature", allow_module_level=True)
pytest.importorskip("moto.server")
pytest.importorskip("boto3")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from tests.remote.servers import RangeServer, S3Server  # noqa: E402

ROWS, GROUPS, COLUMNS = 40_000, 4, 10


def wide_file(page_index: bool = True) -> bytes:
    """Ten columns (``k`` sorted, ``c1``..``c9`` random floats) in four row groups of many
    small plain pages, uncompressed so that the bytes of a column are predictable."""
    rng = np.random.default_rng(7)
    columns: dict[str, Any] = {"k": np.arange(ROWS, dtype=np.int64)}
    for i in range(1, COLUMNS):
        columns[f"c{i}"] = rng.random(ROWS)
    sink = io.BytesIO()
    pq.write_table(
        pa.table(columns),
        sink,
        row_group_size=ROWS // GROUPS,
        data_page_size=8 << 10,
        compression="none",
        use_dictionary=False,
        write_page_index=page_index,
    )
    return sink.getvalue()


@pytest.fixture(scope="session")
def wide() -> bytes:
    return wide_file()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    server.client().create_bucket(Bucket="data")
    yield server
    server.stop()


@pytest.fixture
def http_files(wide: bytes) -> Iterator[RangeServer]:
    server = RangeServer({"/wide.parquet": wide})
    yield server
    server.stop()
