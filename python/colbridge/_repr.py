"""Notebook and text representations.

Only the previewed rows are formatted (head and tail slices are zero-copy), so a table of any
size renders in milliseconds.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray, ParquetFile, Schema, Table

PREVIEW_ROWS = 5
_STYLE = (
    "<style>.colbridge table{border-collapse:collapse;font-size:12px}"
    ".colbridge th,.colbridge td{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}"
    ".colbridge .dtype{color:#888;font-weight:normal}.colbridge .null{color:#bbb}</style>"
)


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="null">null</span>'
    text = repr(value) if isinstance(value, bytes) else str(value)
    if len(text) > 40:
        text = text[:39] + "…"
    return html.escape(text)


def _preview_rows(table: Table) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    n = table.num_rows
    if n <= 2 * PREVIEW_ROWS:
        return table.to_pylist(), []
    return table.slice(0, PREVIEW_ROWS).to_pylist(), table.slice(n - PREVIEW_ROWS).to_pylist()


def _schema_rows(schema: Schema) -> str:
    rows = []
    for i in range(len(schema)):
        f = schema[i]
        null = "nullable" if f.nullable else "not null"
        rows.append(
            f"<tr><td style='text-align:left'>{html.escape(f.name)}</td>"
            f"<td style='text-align:left'>{html.escape(str(f.type))}</td><td>{null}</td></tr>"
        )
    return "".join(rows)


def schema_html(schema: Schema) -> str:
    """``Schema._repr_html_``."""
    return (
        f"{_STYLE}<div class='colbridge'><b>colbridge.Schema</b> ({len(schema)} fields)"
        "<table><tr><th>name</th><th>type</th><th>nullability</th></tr>"
        f"{_schema_rows(schema)}</table></div>"
    )


def table_html(table: Table) -> str:
    """``Table._repr_html_``: shape, memory, sharing, schema-typed header, head and tail rows."""
    names = table.column_names
    types = [str(t) for t in table.schema.types]
    shared = [c.is_shared for c in table.columns]
    head, tail = _preview_rows(table)
    header = "".join(
        f"<th>{html.escape(n)}<br><span class='dtype'>{html.escape(t)}</span></th>"
        for n, t in zip(names, types, strict=True)
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r[n])}</td>" for n in names) + "</tr>" for r in head
    )
    if tail:
        body += "<tr>" + "".join("<td>…</td>" for _ in names) + "</tr>"
        body += "".join(
            "<tr>" + "".join(f"<td>{_cell(r[n])}</td>" for n in names) + "</tr>" for r in tail
        )
    sharing = (
        f"{sum(shared)} of {len(shared)} columns shared with other consumers"
        if any(shared)
        else "no column shared with another consumer"
    )
    return (
        f"{_STYLE}<div class='colbridge'><b>colbridge.Table</b>: {table.num_rows:,} rows × "
        f"{table.num_columns} columns, {_bytes(table.nbytes)} held; {sharing}"
        f"<table><tr>{header}</tr>{body}</table></div>"
    )


def array_html(arr: Array | ChunkedArray) -> str:
    """``Array._repr_html_`` / ``ChunkedArray._repr_html_``."""
    from colbridge._colbridge import Array

    n = len(arr)
    kind = "Array" if isinstance(arr, Array) else f"ChunkedArray ({arr.num_chunks} chunks)"
    if n <= 2 * PREVIEW_ROWS:
        values = [_cell(v) for v in arr.to_pylist()]
    else:
        values = [_cell(arr[i]) for i in range(PREVIEW_ROWS)] + ["…"]
        values += [_cell(arr[i]) for i in range(n - PREVIEW_ROWS, n)]
    rows = "".join(f"<tr><td>{v}</td></tr>" for v in values)
    shared = "shared with other consumers" if arr.is_shared else "not shared"
    return (
        f"{_STYLE}<div class='colbridge'><b>colbridge.{kind}</b>&lt;{html.escape(str(arr.type))}"
        f"&gt;: {n:,} values, {arr.null_count:,} nulls, {_bytes(arr.nbytes)} held; {shared}"
        f"<table>{rows}</table></div>"
    )


def parquet_file_html(pf: ParquetFile) -> str:
    """``ParquetFile._repr_html_``: schema and row-group overview from the footer only."""
    meta = pf.metadata
    groups = meta["row_groups"]
    size = sum(rg["compressed_size"] or 0 for rg in groups)
    codecs = sorted({c["compression"].split("(")[0] for rg in groups for c in rg["columns"]})
    return (
        f"{_STYLE}<div class='colbridge'><b>colbridge.ParquetFile</b>: {meta['num_rows']:,} rows, "
        f"{len(groups)} row groups, {_bytes(size)} compressed ({', '.join(codecs) or 'none'}); "
        f"written by {html.escape(str(meta['created_by']))}"
        "<table><tr><th>name</th><th>type</th><th>nullability</th></tr>"
        f"{_schema_rows(pf.schema)}</table></div>"
    )
