"""Polars hand-off: through the Arrow C stream, so numeric columns are shared, not copied.

Example:
    >>> colbridge.table({"a": [1, 2]}).to_polars()["a"].to_list()
    [1, 2]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from colbridge._optional import require

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray, Table


def _polars() -> Any:
    return require("polars", "to_polars()")


def to_dataframe(table: Table) -> Any:
    """``Table.to_polars``: a Polars DataFrame over the table's memory."""
    return _polars().DataFrame(table)


def to_series(arr: Array | ChunkedArray) -> Any:
    """``Array.to_polars``: a Polars Series over the array's memory."""
    return _polars().Series(arr)
