"""Wide files: every column (numeric, dictionary, string, nested) is exactly the file's, in the
order asked for, whatever the threading."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    rng = np.random.default_rng(7)
    n = 5_000
    cols = {f"f{i:03d}": rng.random(n) for i in range(60)}
    cols["tag"] = pa.array([f"t{i % 5}" for i in range(n)]).dictionary_encode()
    cols["s"] = pa.array([f"s{i}" if i % 3 else None for i in range(n)])
    cols["nested"] = pa.array([{"a": i, "b": [i, i + 1]} for i in range(n)])
    path = tmp_path_factory.mktemp("wide") / "wide.parquet"
    pq.write_table(pa.table(cols), path, row_group_size=1_500)
    return path


@pytest.mark.parametrize("use_threads", [True, False])
def test_every_column_matches_pyarrow(wide, use_threads):
    got = colbridge.read_parquet(wide, use_threads=use_threads)
    assert pa.table(got).equals(pq.read_table(wide))


def test_selected_columns_come_in_the_order_asked(wide):
    names = ["f059", "nested", "f000", "tag", "f030", "s"] + [f"f{i:03d}" for i in range(1, 20)]
    got = colbridge.read_parquet(wide, columns=names)
    assert got.column_names == names
    want = pq.read_table(wide, columns=names)
    for name in names:
        assert pa.array(got.column(name).chunk(0)).equals(want.column(name).combine_chunks())


def test_filters_on_wide_files(wide):
    got = colbridge.read_parquet(wide, filters=[("f000", "<", 0.1)])
    want = pq.read_table(wide, filters=[("f000", "<", 0.1)])
    assert pa.table(got).equals(want)
