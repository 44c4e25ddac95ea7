"""Notebook (`_repr_html_`) and text representations."""

import numpy as np

import colbridge


def table(n=1000):
    return colbridge.table(
        {
            "id": np.arange(n, dtype=np.int64),
            "name": colbridge.array([f"row-{i}" if i % 7 else None for i in range(n)]),
        }
    )


def test_table_html_shows_shape_schema_memory_and_head_and_tail():
    t = table()
    html = t._repr_html_()
    assert "1,000 rows × 2 columns" in html
    assert "int64" in html and "string" in html
    assert "KiB held" in html
    for shown in ("row-1", "row-4", "row-998", "row-999"):
        assert shown in html
    assert "row-500" not in html  # only the preview rows are formatted
    assert "null" in html  # row 0 is null in "name"


def test_html_says_whether_columns_are_shared():
    t = table()
    assert "no column shared" in t._repr_html_()
    view = t.column("id").chunk(0).to_numpy()  # a NumPy consumer now sees column "id"
    assert t.column("id").is_shared and not t.column("name").is_shared
    assert "1 of 2 columns shared" in t._repr_html_()
    del view
    assert "no column shared" in t._repr_html_()


def test_huge_tables_format_only_the_preview():
    t = colbridge.table({"x": np.arange(20_000_000, dtype=np.int64)})
    html = t._repr_html_()
    assert "20,000,000 rows" in html
    assert len(html) < 5_000
    assert "19999999" in html and "10000000" not in html


def test_array_schema_and_parquet_file_html(tmp_path):
    t = table(30)
    arr = t.column("name").chunk(0)
    assert "30 values" in arr._repr_html_() and "5 nulls" in arr._repr_html_()
    assert "ChunkedArray (1 chunks)" in t.column("id")._repr_html_()
    schema_html = t.schema._repr_html_()
    assert "nullable" in schema_html and "string" in schema_html
    path = tmp_path / "t.parquet"
    colbridge.write_parquet(t, path, compression="snappy", row_group_size=10)
    pf_html = colbridge.ParquetFile(path)._repr_html_()
    assert "30 rows, 3 row groups" in pf_html and "SNAPPY" in pf_html


def test_text_reprs_are_compact():
    t = table(3)
    text = repr(t)
    assert text.startswith("colbridge.Table (3 rows x 2 columns)")
    assert "id: int64" in text
    assert repr(t.schema).startswith("Schema(")
    assert repr(colbridge.array([1, 2])).startswith("colbridge.Array<int64> len=2")
