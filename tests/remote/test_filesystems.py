"""``filesystem=``: a file inside an obstore store (S3 on loopback, and a local store), a pyarrow
``FileSystem`` or an fsspec filesystem, read by ranges through the store's own reader and equal
to ``pandas.read_parquet`` of the same file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import colbridge
from colbridge.errors import InvalidInputError
from tests.remote.conftest import GROUPS, ROWS, pq
from tests.remote.servers import S3Server

pd = pytest.importorskip("pandas")
obstore = pytest.importorskip("obstore")
from obstore.store import LocalStore, S3Store  # noqa: E402


def _s3_store(s3: S3Server) -> Any:
    return S3Store(
        "data",
        endpoint=s3.endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        region="us-east-1",
        client_options={"allow_http": True},
    )


def test_an_obstore_s3_store_reads_the_selected_columns_by_ranges(
    s3: S3Server, wide: bytes
) -> None:
    s3.client().put_object(Bucket="data", Key="in/wide.parquet", Body=wide)
    s3.log.clear()
    store = _s3_store(s3)
    got = colbridge.read_pandas("in/wide.parquet", columns=["c3"], filesystem=store)
    pd.testing.assert_frame_equal(got, pd.read_parquet(io.BytesIO(wide), columns=["c3"]))
    gets = s3.log.gets("in/wide.parquet")
    fetched = sum(r.sent for r in gets)
    assert len(got) == ROWS
    # colbridge's own read plan: one request for the footer, one per chunk of the column at
    # most, never the whole object.
    assert len(gets) <= 1 + GROUPS, [r.range for r in gets]
    assert 0 < fetched < len(wide) / 3, (fetched, len(wide))
    table = colbridge.read_parquet("in/wide.parquet", filesystem=store)
    assert table.num_rows == ROWS and table.num_columns == 10


def test_a_missing_object_in_a_store_is_file_not_found_naming_it(s3: S3Server) -> None:
    with pytest.raises(FileNotFoundError, match="absent.parquet"):
        colbridge.read_parquet("absent.parquet", filesystem=_s3_store(s3))


def _frame_file(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        {"a": range(500), "b": [f"v{i % 7}" for i in range(500)]},
        index=pd.Index(range(0, 1000, 2), name="k"),
    )
    path = tmp_path / "f.parquet"
    frame.to_parquet(path, row_group_size=100)
    return path


@pytest.mark.parametrize("kind", ["obstore", "pyarrow", "fsspec"])
def test_every_kind_of_filesystem_gives_pandas_frame(tmp_path: Path, kind: str) -> None:
    path = _frame_file(tmp_path)
    if kind == "obstore":
        fs, where = LocalStore(str(tmp_path)), "f.parquet"
    elif kind == "pyarrow":
        fs, where = pytest.importorskip("pyarrow.fs").LocalFileSystem(), str(path)
    else:
        fs, where = pytest.importorskip("fsspec").filesystem("file"), str(path)
    expected = pd.read_parquet(path)
    pd.testing.assert_frame_equal(colbridge.read_pandas(where, filesystem=fs), expected)
    got = colbridge.read_parquet(where, columns=["b"], filters=[("a", "<", 50)], filesystem=fs)
    assert got.column("b").to_pylist() == expected["b"][:50].tolist()
    assert pq.read_table(path).num_rows == 500


def test_filesystem_takes_one_path_and_no_storage_options(tmp_path: Path) -> None:
    store = LocalStore(str(_frame_file(tmp_path).parent))
    with pytest.raises(InvalidInputError, match="not both"):
        colbridge.read_parquet("f.parquet", filesystem=store, storage_options={"anon": True})
    with pytest.raises(InvalidInputError, match="path of one file"):
        colbridge.read_parquet(b"PAR1", filesystem=store)
    with pytest.raises(InvalidInputError, match="obstore store"):
        colbridge.read_parquet("f.parquet", filesystem=object())


def test_a_path_never_leaves_its_store(tmp_path: Path) -> None:
    # As obstore itself: no '..' (nor '.' or empty) segments, so a store's root or prefix holds.
    _frame_file(tmp_path)
    inner = tmp_path / "inner"
    inner.mkdir()
    for path in ("../f.parquet", "a/../../f.parquet", "./f.parquet", "a//f.parquet"):
        with pytest.raises(InvalidInputError, match="segments"):
            colbridge.read_parquet(path, filesystem=LocalStore(str(inner)))
    with pytest.raises(InvalidInputError, match="segments"):
        colbridge.read_pandas("../x.parquet", filesystem=S3Store("b", prefix="p", region="r"))


def test_an_obstore_http_store_reads_through_colbridges_plan(http_files: Any, wide: bytes) -> None:
    from obstore.store import HTTPStore

    store = HTTPStore.from_url(f"{http_files.url}/")
    got = colbridge.read_pandas("wide.parquet", columns=["k"], filesystem=store)
    pd.testing.assert_frame_equal(got, pd.read_parquet(io.BytesIO(wide), columns=["k"]))


def test_cloud_stores_become_urls_with_their_config_as_storage_options() -> None:
    from obstore.store import AzureStore, GCSStore

    from colbridge._sources import in_filesystem

    cases = [
        (
            S3Store("b", prefix="p/q", region="eu-west-1", client_options={"allow_http": True}),
            ("s3://b/p/q/f.parquet", {"region": "eu-west-1", "allow_http": "true"}),
        ),
        (GCSStore("g", skip_signature=True), ("gs://g/f.parquet", {"skip_signature": "true"})),
        (
            AzureStore("c", account_name="acct", skip_signature=True),
            ("az://c/f.parquet", {"account_name": "acct", "skip_signature": "true"}),
        ),
    ]
    for store, expected in cases:
        with in_filesystem(store, "/f.parquet") as got:
            assert got == expected
