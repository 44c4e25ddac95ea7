"""One 2-D block for models: ``read_numpy`` and ``read_pandas(consolidate=True)``.

Rust decodes the selected numeric columns into one buffer, column after column (see
``src/parquet/block.rs``); here it becomes a Fortran-order NumPy array ``(rows, columns)`` whose
columns are contiguous slices of that buffer, or one pandas block ``(columns, rows)`` per dtype.
The buffer is owned by nobody else, so it is handed over writable, as if NumPy had allocated
it (the same lease ``read_pandas`` uses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from colbridge import _colbridge as _core
from colbridge import _pandas_compat as compat
from colbridge._pandas import _Lease
from colbridge.errors import InvalidInputError

#: The block dtypes Rust decodes into, by the Arrow type that goes in without conversion.
_BLOCK_DTYPES = {"double": "float64", "float": "float32", "int64": "int64", "int32": "int32"}


def read_block(
    source: Any, columns: list[str] | None, dtype: str, nulls: str, **read: Any
) -> tuple[np.ndarray[Any, Any], list[str]]:
    """The selected columns as a writable ``(columns, rows)`` C-order array (pandas' block
    shape; its transpose is the Fortran-order ``(rows, columns)`` array) and their names."""
    flat, names, rows = _core.read_block(source, columns=columns, dtype=dtype, nulls=nulls, **read)
    view = np.asarray(flat.values) if len(flat) else np.empty(0, dtype=dtype)
    del flat
    block = np.asarray(_Lease(view, writable=True)).view(view.dtype)
    return block.reshape(len(names), rows), names


def consolidated_frame(
    pf: Any,
    source: Any,
    columns: list[str] | None,
    row_groups: list[int] | None,
    filters: Any,
    read_pandas: Callable[..., Any],
    **read: Any,
) -> Any:
    """``read_pandas(..., consolidate=True)``: the frame ``read_pandas`` gives, with its float64,
    float32, int64 and int32 columns each in one 2-D block per dtype decoded in place.

    An integer column goes into its integer block where the footer's statistics show no nulls in
    the row groups read, into the float64 block (nulls as NaN, as pandas types it) where they
    show some and no filter could drop those rows; otherwise, and for every other type, it is
    read as ``read_pandas`` reads it, in a block of its own."""
    import pandas as pd

    from colbridge._pandas import pandas_metadata

    meta = pandas_metadata(pf.schema.metadata) or {}
    index_columns = {i for i in meta.get("index_columns", []) if isinstance(i, str)}
    schema = pf.schema
    wanted = columns if columns is not None else [n for n in schema.names if n not in index_columns]
    if len(set(wanted)) != len(wanted):
        raise InvalidInputError("consolidate=True needs distinct column names")
    stored = {
        c.get("field_name"): c.get("numpy_type")
        for c in meta.get("columns", [])
        if isinstance(c, dict)
    }
    groups: dict[str, list[str]] = {}
    for name in wanted:
        dtype = _block_dtype(pf, name, row_groups, filters)
        arrow = str(pf.schema.field(name).type)
        # A dtype the pandas metadata restores (Int64, a categorical...) stays pandas' own.
        if stored.get(name) not in (None, dtype, arrow if dtype == "float64" else dtype):
            continue
        if dtype is not None:
            groups.setdefault(dtype, []).append(name)
    in_blocks = {n for names in groups.values() for n in names}
    rest = [n for n in wanted if n not in in_blocks]
    others = read_pandas(source, columns=rest, row_groups=row_groups, filters=filters)
    # Labels as pandas gives them (from the pandas metadata), read from no rows at all.
    labels = read_pandas(source, columns=wanted, row_groups=[]).columns
    position = {name: i for i, name in enumerate(wanted)}
    blocks: list[tuple[Any, np.ndarray[Any, Any]]] = []
    for dtype, names in groups.items():
        block, _ = read_block(
            source,
            names,
            dtype,
            "nan" if dtype.startswith("float") else "raise",
            row_groups=row_groups,
            filters=filters,
            **read,
        )
        if block.shape[1] != len(others):
            raise InvalidInputError(
                f"the {dtype} block has {block.shape[1]} rows where the other columns have "
                f"{len(others)}: the file changed while it was read"
            )
        blocks.append((block, np.array([position[n] for n in names])))
    for i, name in enumerate(rest):
        values = others.iloc[:, i].array
        if isinstance(values, pd.arrays.NumpyExtensionArray):
            values = values.to_numpy().reshape(1, -1)
        blocks.append((values, np.array([position[name]])))
    if not blocks:
        return others
    return compat.frame_from_blocks(blocks, others.index, labels)


def _block_dtype(pf: Any, name: str, row_groups: Sequence[int] | None, filters: Any) -> str | None:
    """The block a column goes into (see ``consolidated_frame``), or None."""
    field = pf.schema.field(name)
    arrow = str(field.type)
    if arrow in ("double", "float"):
        return _BLOCK_DTYPES[arrow]
    if arrow not in ("int64", "int32"):
        return None
    counts = _null_counts(pf, name, row_groups)
    if counts is None:
        return None
    if sum(counts) == 0:
        return _BLOCK_DTYPES[arrow]
    return "float64" if filters is None else None


def _null_counts(pf: Any, name: str, row_groups: Sequence[int] | None) -> list[int] | None:
    """Each row group's null count of top-level column ``name`` per its statistics, or None
    where one of them does not say."""
    groups = pf.metadata["row_groups"]
    picked = range(len(groups)) if row_groups is None else row_groups
    counts = []
    for i in picked:
        chunk = next((c for c in groups[i]["columns"] if c["path"] == name), None)
        stats = (chunk or {}).get("statistics") or {}
        count = stats.get("null_count")
        if not isinstance(count, int):
            return None
        counts.append(count)
    return counts
