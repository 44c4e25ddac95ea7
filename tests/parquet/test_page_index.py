"""Filters skip the pages that the page index rules out, and still return exact rows."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from colbridge import _colbridge as core


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    n = 400_000
    rng = np.random.default_rng(1)
    table = pa.table({"k": np.arange(n), "v": rng.random(n), "s": [f"s{i % 97}" for i in range(n)]})
    out = {}
    for name, index in (("indexed", True), ("plain", False)):
        out[name] = root / f"{name}.parquet"
        pq.write_table(
            table,
            out[name],
            row_group_size=n,  # one row group: only pages can be pruned
            data_page_size=8 * 1024,
            write_page_index=index,
            compression="none",
            use_dictionary=False,  # a dictionary page is needed whatever the filter
        )
    return out, table.to_pandas()


def fetched(path, filters):
    calls = []
    table = core.read_parquet(path, filters=filters, on_progress=lambda d, t: calls.append(d))
    return table, calls[-1]


@pytest.mark.parametrize(
    "filters",
    [
        [("k", ">=", 200_000), ("k", "<", 200_050)],
        [("k", "in", [5, 399_999])],
        [[("k", "<", 10)], [("k", ">", 399_990)]],
    ],
    ids=["range", "in", "or"],
)
def test_page_index_prunes_pages_and_rows_stay_exact(files, filters):
    paths, frame = files
    indexed, indexed_bytes = fetched(paths["indexed"], filters)
    plain, plain_bytes = fetched(paths["plain"], filters)
    assert indexed.to_pydict() == plain.to_pydict()
    expected = frame.query(
        " or ".join(
            "(" + " and ".join(f"k {op if op != 'in' else 'in'} {v!r}" for _, op, v in conj) + ")"
            for conj in (filters if isinstance(filters[0], list) else [filters])
        )
    )
    assert indexed.column("k").to_pylist() == expected["k"].tolist()
    assert indexed.column("s").to_pylist() == expected["s"].tolist()
    assert indexed_bytes < plain_bytes / 10, (indexed_bytes, plain_bytes)


def test_filters_that_rule_nothing_out_read_everything(files):
    paths, frame = files
    table, _ = fetched(paths["indexed"], [("k", ">=", 0)])
    assert table.num_rows == len(frame)
