"""The DataFrame: a colbridge Table's columns and row chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from colbridge._interchange.column import Column, _splits

if TYPE_CHECKING:
    from colbridge._colbridge import Table


class DataFrame:
    """A colbridge :class:`~colbridge.Table` as a ``__dataframe__`` interchange object.

    Example:
        >>> import colbridge
        >>> df = colbridge.table({"a": [1, 2], "b": ["x", "y"]}).__dataframe__()
        >>> df.num_columns(), df.num_rows(), list(df.column_names())
        (2, 2, ['a', 'b'])
    """

    def __init__(self, table: Table, nan_as_null: bool = False, allow_copy: bool = True) -> None:
        self._table = table
        self._nan_as_null = nan_as_null
        self._allow_copy = allow_copy

    def __dataframe__(self, nan_as_null: bool = False, allow_copy: bool = True) -> DataFrame:
        """The protocol object itself (with the given options)."""
        return DataFrame(self._table, nan_as_null, allow_copy)

    @property
    def metadata(self) -> dict[str, Any]:
        """The table's schema metadata, with keys prefixed ``colbridge.``."""
        meta = self._table.schema.metadata or {}
        return {f"colbridge.{_text(k)}": _text(v) for k, v in meta.items()}

    def num_columns(self) -> int:
        """Number of columns."""
        return self._table.num_columns

    def num_rows(self) -> int:
        """Number of rows."""
        return self._table.num_rows

    def num_chunks(self) -> int:
        """Number of chunks: rows split wherever any column's chunks split."""
        return len(self._bounds()) - 1 if self._table.num_rows else 1

    def column_names(self) -> Iterable[str]:
        """The column names, in order."""
        return list(self._table.column_names)

    def get_column(self, i: int) -> Column:
        """The column at position ``i``."""
        return Column(self._table.column(i), self._nan_as_null, self._allow_copy)

    def get_column_by_name(self, name: str) -> Column:
        """The column called ``name``."""
        return Column(self._table.column(name), self._nan_as_null, self._allow_copy)

    def get_columns(self) -> Iterable[Column]:
        """All columns, in order."""
        return [self.get_column(i) for i in range(self.num_columns())]

    def select_columns(self, indices: Sequence[int]) -> DataFrame:
        """A DataFrame of the columns at ``indices`` (no copy)."""
        if not isinstance(indices, Sequence) or isinstance(indices, str):
            raise TypeError("indices must be a sequence of integers")
        return self._with(self._table.select([int(i) for i in indices]))

    def select_columns_by_name(self, names: Sequence[str]) -> DataFrame:
        """A DataFrame of the columns called ``names`` (no copy)."""
        if not isinstance(names, Sequence) or isinstance(names, str):
            raise TypeError("names must be a sequence of strings")
        return self._with(self._table.select(list(names)))

    def get_chunks(self, n_chunks: int | None = None) -> Iterator[DataFrame]:
        """The row chunks as DataFrames (zero-copy slices); every column has one chunk in each."""
        bounds = self._bounds()
        natural = len(bounds) - 1
        if natural == 0:
            yield self
            return
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            for s, n in _splits(end - start, n_chunks, natural):
                yield self._with(self._table.slice(start + s, n))

    def _bounds(self) -> list[int]:
        bounds = {0, self._table.num_rows}
        for col in self._table.columns:
            at = 0
            for chunk in col.chunks:
                at += len(chunk)
                bounds.add(at)
        return sorted(b for b in bounds if b <= self._table.num_rows)

    def _with(self, table: Table) -> DataFrame:
        return DataFrame(table, self._nan_as_null, self._allow_copy)

    def __repr__(self) -> str:
        return (
            f"colbridge.interchange.DataFrame({self.num_rows()} rows x "
            f"{self.num_columns()} columns)"
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
