"""String and binary columns larger than one decoding batch are assembled exactly."""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import colbridge


@pytest.mark.parametrize("kind", ["string", "large_string", "binary"])
def test_long_string_columns_match_pyarrow(tmp_path, kind):
    n = 1_200_000  # more than one decoding batch (1 Mi rows)
    values = [None if i % 11 == 0 else f"v{i}" * (i % 3) for i in range(n)]
    array = pa.array(values, type=kind if kind != "binary" else "string")
    if kind == "binary":
        array = array.cast(pa.binary())
    path = tmp_path / f"{kind}.parquet"
    pq.write_table(pa.table({"v": array}), path, row_group_size=700_000)
    got = colbridge.read_parquet(path)
    assert got.column("v").num_chunks == 1
    assert pa.table(got).equals(pq.read_table(path))
    filtered = colbridge.read_parquet(path, filters=[("v", "is not null")])  # 2-tuple form
    want = pq.read_table(path)
    assert pa.table(filtered).equals(want.filter(pc.is_valid(want["v"])))
