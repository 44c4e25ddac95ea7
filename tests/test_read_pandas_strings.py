"""read_pandas decodes strings with 64-bit offsets: the layout pandas' Arrow-backed `str` holds,
so pandas keeps the decoded arrays instead of widening them in a second copy."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "strings.parquet"
    table = pa.table({"s": ["a", "bb", None, "ccc"] * 500, "b": [b"x", None, b"yz", b""] * 500})
    pq.write_table(table, p, row_group_size=700)
    return p


def test_string_columns_reach_pandas_as_one_large_string_chunk(path):
    pytest.importorskip("pyarrow")
    df = colbridge.read_pandas(path)
    arrow = df["s"].array._pa_array
    assert arrow.type == pa.large_string() and arrow.num_chunks == 1
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))


def test_plain_reads_keep_the_file_s_string_type(path):
    assert str(colbridge.read_parquet(path).schema[0].type) == "string"


def test_filters_on_string_columns_work_with_large_strings(path):
    df = colbridge.read_pandas(path, filters=[("s", "in", ["bb", "ccc"])])
    assert sorted(set(df["s"])) == ["bb", "ccc"] and len(df) == 1000
