"""Dask DataFrames whose partitions colbridge reads: ``colbridge.dask.read_parquet``.

The graph is built from footers alone: the dataset's files are listed as
:func:`colbridge.read_pandas` lists them (directories, hive partitions, globs, lists), each
file's footer gives its row groups, and those are cut into pieces (a file, or a run of its row
groups) of about ``blocksize`` decoded bytes. ``filters`` drop files by their partition values
and row groups by their statistics before any task exists; ``meta`` comes from the schema and
the statistics (an integer column with nulls anywhere is ``Int64`` in every partition), and a
sorted ``index=`` column's statistics give the divisions.

Each task calls a small picklable :class:`ParquetReader` with its :class:`Piece`: the worker
decodes it with ``read_pandas`` (one copy), adds the partition columns, and returns what
freed memory colbridge's allocator holds to the OS before the next piece. Dask's optimizer
pushes column selections into the reader (its ``columns=`` keyword; ``columns`` /
``project_columns`` of Dask's ``DataFrameIOFunction`` protocol), so ``ddf[["a"]]`` decodes
``a`` alone. Errors are colbridge's own exceptions, naming the file, raised by ``compute()``.

Example:
    >>> import colbridge.dask
    >>> ddf = colbridge.dask.read_parquet(["data.parquet", "data.parquet"])
    >>> ddf.npartitions, int(ddf["x"].sum().compute())
    (2, 9000)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from colbridge import _colbridge as _core
from colbridge import _storage
from colbridge._partitioning import Filters, Partitioning, Term, file_filters
from colbridge._sources import FileRef, list_files, single_file
from colbridge.errors import InvalidInputError

__all__ = ["ParquetReader", "Piece", "io_counters", "read_parquet", "release_memory"]

#: Dask's default partition size for Parquet (``dask.dataframe.read_parquet``'s blocksize).
DEFAULT_BLOCKSIZE = 256 * 2**20

_COUNTERS = {"bytes_read": 0, "partitions": 0}
_LOCK = threading.Lock()


def io_counters() -> dict[str, int]:
    """What colbridge's Dask reader has done in this process: bytes fetched from files and
    partitions read (``client.run(colbridge.dask.io_counters)`` asks every worker).

    Example:
        >>> sorted(colbridge.dask.io_counters())
        ['bytes_read', 'partitions']
    """
    with _LOCK:
        return dict(_COUNTERS)


def release_memory() -> None:
    """Return the memory colbridge's allocator holds free to the OS now. The reader calls it
    before each piece; ``client.run(colbridge.dask.release_memory)`` does it on idle workers.

    Example:
        >>> colbridge.dask.release_memory()
    """
    _core.release_memory()


@dataclass(frozen=True)
class Piece:
    """One partition's worth of a file: its row groups (``None``: all), the filter left once
    its partition values are known, and those values (codes into the reader's categories).

    Example:
        >>> colbridge.dask.Piece("data.parquet", row_groups=(0,))
        Piece(path='data.parquet', row_groups=(0,), filters=None, partition_codes=())
    """

    path: str
    row_groups: tuple[int, ...] | None = None
    filters: list[list[Term]] | None = None
    partition_codes: tuple[int, ...] = ()


class ParquetReader:
    """The function of every task: ``reader(piece, columns=None)`` is one pandas partition.

    It holds only what every partition needs (column names, partition categories, the index
    and the dtypes of ``meta``), so the graph stays small when pickled.

    Example:
        >>> ddf = colbridge.dask.read_parquet("data.parquet")
        >>> reader = colbridge.dask.ParquetReader.of(ddf)
        >>> reader.project_columns(["y"])(colbridge.dask.Piece("data.parquet")).shape
        (1000, 1)
    """

    def __init__(
        self,
        columns: list[str],
        partitions: dict[str, tuple[list[Any], bool]],
        index: str | None,
        dtypes: dict[str, str],
        limits: dict[str, int | None] | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        self._columns = columns
        self._partitions = partitions
        self._index = index
        self._dtypes = dtypes
        self._limits = limits or {}
        self._storage_options = storage_options

    @classmethod
    def of(cls, ddf: Any) -> ParquetReader:
        """The reader of a collection ``read_parquet`` made (its ``from_map`` expression's
        function, with the columns the optimizer pushed into it)."""
        from dask.dataframe.dask_expr.io import FromMap

        for expr in ddf.expr.walk():
            if isinstance(expr, FromMap) and isinstance(expr.func, ParquetReader):
                columns = expr.kwargs.get("columns")
                return expr.func if columns is None else expr.func.project_columns(columns)
        raise InvalidInputError("not a collection colbridge.dask.read_parquet made")

    @property
    def columns(self) -> list[str]:
        """The columns a partition holds (Dask's ``DataFrameIOFunction`` protocol)."""
        return list(self._columns)

    def project_columns(self, columns: Sequence[str]) -> ParquetReader:
        """A reader of ``columns`` only (Dask's ``DataFrameIOFunction`` protocol)."""
        return ParquetReader(
            list(columns),
            self._partitions,
            self._index,
            self._dtypes,
            self._limits,
            self._storage_options,
        )

    def __call__(self, piece: Piece, columns: Sequence[str] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        from colbridge.parquet import read_pandas

        wanted = list(columns) if columns is not None else self._columns
        data = [c for c in wanted if c not in self._partitions]
        if self._index is not None and self._index not in data:
            data.append(self._index)
        release_memory()  # what the previous piece freed goes back to the OS first
        fetched = [0]

        def count(done: int, total: int) -> None:
            fetched[0] = done

        df = read_pandas(
            piece.path,
            columns=data,
            row_groups=None if piece.row_groups is None else list(piece.row_groups),
            filters=piece.filters,
            progress=count,
            storage_options=self._storage_options if _storage.scheme(piece.path) else None,
            **self._limits,  # type: ignore[arg-type]
        )
        with _LOCK:
            _COUNTERS["bytes_read"] += fetched[0]
            _COUNTERS["partitions"] += 1
        if self._index is not None and self._index not in df.index.names:
            df = df.set_index(self._index)
        keys = list(self._partitions)
        for key, code in zip(keys, piece.partition_codes, strict=True):
            if key in wanted:
                values, integer = self._partitions[key]
                codes = np.full(len(df), code, dtype=np.int8 if len(values) < 128 else np.int32)
                df[key] = pd.Categorical.from_codes(codes, dtype=_category(pd, values, integer))
        for name, dtype in self._dtypes.items():
            if name in df.columns and str(df[name].dtype) != dtype:
                df[name] = df[name].astype(dtype)
        return df[[c for c in wanted if c != self._index]]


def _parquet_file(source: Any, limits: dict[str, int | None]) -> Any:
    return _core.ParquetFile(
        source,
        max_footer_bytes=limits.get("max_footer_bytes"),
        max_page_bytes=limits.get("max_page_bytes"),
        max_decoded_bytes=limits.get("max_decoded_bytes"),
    )


def _category(pd: Any, values: list[Any], integer: bool) -> Any:
    import numpy as np

    index = pd.Index(np.array(values, dtype=np.int32)) if integer else pd.Index(values, dtype="str")
    return pd.CategoricalDtype(index, ordered=False)


def _blocksize(blocksize: int | str | None) -> int:
    if blocksize is None:
        return DEFAULT_BLOCKSIZE
    if isinstance(blocksize, str):
        from dask.utils import parse_bytes

        return int(parse_bytes(blocksize))
    return int(blocksize)


def _split(sizes: list[int], split_row_groups: bool | int | str, blocksize: int) -> list[list[int]]:
    """Cut a file's row groups (given their decoded sizes) into pieces."""
    groups = list(range(len(sizes)))
    if split_row_groups is False or not groups:
        return [groups]
    if split_row_groups is True:
        return [[g] for g in groups]
    if isinstance(split_row_groups, int):
        n = max(1, split_row_groups)
        return [groups[i : i + n] for i in range(0, len(groups), n)]
    if split_row_groups != "adaptive":
        raise InvalidInputError(
            f"split_row_groups must be 'adaptive', True, False or an int, not {split_row_groups!r}"
        )
    pieces: list[list[int]] = [[]]
    size = 0
    for g, s in zip(groups, sizes, strict=True):
        if pieces[-1] and size + s > blocksize:
            pieces.append([])
            size = 0
        pieces[-1].append(g)
        size += s
    return pieces


def _stat(stats: dict[str, Any] | None, key: str, field: Any) -> Any:
    if not stats or stats.get(key) is None:
        return None
    value = stats[key]
    t = field.type
    if t.is_timestamp and isinstance(value, int):
        import pandas as pd

        return pd.Timestamp(value, unit=t.time_unit, tz=t.tz)
    return value


def _divisions(ranges: list[tuple[Any, Any] | None]) -> tuple[Any, ...] | None:
    """Divisions from each piece's (min, max) of the index: known when every piece has them and
    they are sorted without overlap."""
    if not ranges or any(r is None for r in ranges):
        return None
    bounds = [r for r in ranges if r is not None]
    try:
        for (_, hi), (lo, _) in zip(bounds, bounds[1:], strict=False):
            if not hi < lo:
                return None
        if any(not lo <= hi for lo, hi in bounds):
            return None
    except TypeError:
        return None
    return (*[lo for lo, _ in bounds], bounds[-1][1])


def _meta(first: Any, data: list[str], nullable_ints: set[str], limits: dict[str, Any]) -> Any:
    """An empty frame with the partitions' dtypes, from the first file's footer (no data)."""
    from colbridge.parquet import read_pandas

    meta = read_pandas(first, columns=data, row_groups=[], **limits)
    for name in nullable_ints:
        meta[name] = meta[name].astype(str(meta[name].dtype).capitalize())
    return meta


def read_parquet(
    path: Any,
    columns: Sequence[str] | None = None,
    filters: Filters | None = None,
    index: str | None = None,
    storage_options: dict[str, Any] | None = None,
    split_row_groups: bool | int | str = "adaptive",
    blocksize: int | str | None = DEFAULT_BLOCKSIZE,
    **limits: int | None,
) -> Any:
    """A ``dask.dataframe.DataFrame`` of a Parquet file or dataset, its partitions read by
    colbridge (one copy per partition, at about the output's size in memory).

    ``path`` is anything :func:`colbridge.read_pandas` reads by path (a file, a directory with
    hive partitions, a glob, a list). ``columns`` and ``filters`` are ``read_pandas``' (filters
    drop files by partition values and row groups by statistics when the graph is built, then
    filter rows exactly). ``index`` names a column to become the index; when its statistics
    show the pieces sorted, the divisions are known. ``split_row_groups``: ``"adaptive"``
    (row groups gathered into pieces of about ``blocksize`` decoded bytes, default 256 MiB),
    ``True`` (a piece per row group), ``False`` (per file) or a number of row groups per
    piece. ``storage_options`` are :func:`colbridge.read_pandas`' (object storage URLs; each
    worker opens the files it reads). ``limits`` are ``read_pandas``' resource limits.

    Memory: Dask's scheduler hands a one-thread worker two reading tasks at a time
    (``distributed.scheduler.worker-saturation``, 1.1), so a worker holds two partitions at its
    peak; setting it to 1.0 before the cluster starts holds one, at some cost in time
    (``benches/results/dask_cluster.md``).

    Example:
        >>> ddf = colbridge.dask.read_parquet("data.parquet", columns=["x"], index="x",
        ...                                   filters=[("x", ">=", 5)])
        >>> ddf.divisions, len(ddf.compute())
        ((0, 9), 500)
    """
    import dask.dataframe as dd

    unknown_limits = set(limits) - {"max_footer_bytes", "max_page_bytes", "max_decoded_bytes"}
    if unknown_limits:
        raise TypeError(
            f"read_parquet() got an unexpected keyword argument {min(unknown_limits)!r}"
        )
    files = list_files(path, storage_options)
    if files is None:
        if isinstance(path, str) or hasattr(path, "__fspath__"):
            text = os.fspath(path)
            if _storage.scheme(text):
                files = [FileRef(text, (), storage_options)]
            else:
                files = [FileRef(single_file(path, storage_options))]
        else:
            raise InvalidInputError(
                f"colbridge.dask reads paths (files, directories, globs, lists), not "
                f"{type(path).__name__}"
            )
    if not files:
        raise InvalidInputError(f"{path}: no Parquet file to read (an empty directory)")
    partitioning = Partitioning.of(files)
    first = _parquet_file(files[0].source, limits)
    stored_index = _stored_index(first.schema.metadata)  # restored as the index by read_pandas
    names = [n for n in first.schema.names if n not in stored_index or n == index]
    keys = [k for k in partitioning.keys if k not in names]
    wanted = list(columns) if columns is not None else names + keys
    if index is not None and index not in names:
        raise InvalidInputError(f"index: no column named '{index}' in {files[0].path}")
    wanted = [c for c in wanted if c != index]
    unknown = [c for c in wanted if c not in names and c not in keys]
    if unknown:
        raise InvalidInputError(f"no column named '{unknown[0]}' in the dataset")
    data = [c for c in wanted if c not in keys] + ([index] if index else [])
    size = _blocksize(blocksize)

    pieces: list[Piece] = []
    ranges: list[tuple[Any, Any] | None] = []
    nullable_ints: set[str] = set()
    int_columns = {
        f.name for f in (first.schema[i] for i in range(len(names))) if f.type.is_integer
    }
    for ref in files:
        keep, rest = file_filters(filters, ref, partitioning)
        if not keep:
            continue
        pf = first if ref is files[0] else _parquet_file(ref.source, limits)
        meta = pf.metadata
        groups = pf.filter_row_groups(rest) if rest is not None else None
        row_groups = meta["row_groups"]
        chosen = list(range(len(row_groups))) if groups is None else groups
        if not chosen:
            continue
        leaves = [c["path"] for c in row_groups[chosen[0]]["columns"]]
        for name in int_columns & set(data):
            if name in leaves:
                j = leaves.index(name)
                stats = [row_groups[g]["columns"][j]["statistics"] for g in chosen]
                if any(s is None or (s.get("null_count") or 0) > 0 for s in stats):
                    nullable_ints.add(name)
        codes = tuple(_code(partitioning, ref, k) for k in keys)
        sizes = [row_groups[g]["total_byte_size"] for g in chosen]
        whole = groups is None
        for part in _split(sizes, split_row_groups, size):
            rgs = [chosen[i] for i in part]
            piece = Piece(ref.path, None if whole and len(rgs) == len(chosen) else tuple(rgs))
            pieces.append(replace(piece, filters=rest, partition_codes=codes))
            ranges.append(_range(pf, row_groups, rgs, index, leaves) if index else None)
    if not pieces:  # everything filtered out: one empty partition
        pieces = [
            Piece(files[0].path, (), None, tuple(_code(partitioning, files[0], k) for k in keys))
        ]
        ranges = [None]
    meta = _meta(files[0].source, data, nullable_ints, limits)
    dtypes = {name: str(dtype) for name, dtype in meta.dtypes.items()}
    if index is not None and index not in meta.index.names:
        meta = meta.set_index(index)
    import pandas as pd

    for key in keys:
        meta[key] = pd.Categorical(
            [],
            dtype=_category(pd, partitioning.values[key], partitioning.integer[key]),
        )
    meta = meta[wanted]
    reader = ParquetReader(
        wanted,
        {k: (partitioning.values[k], partitioning.integer[k]) for k in keys},
        index,
        dtypes,
        dict(limits),
        storage_options,
    )
    divisions = _divisions(ranges) if index is not None else None
    return dd.from_map(  # type: ignore[no-untyped-call]
        reader,
        pieces,
        meta=meta,
        divisions=divisions,
        label="colbridge-read-parquet",
        enforce_metadata=False,
    )


def _stored_index(metadata: dict[str, str]) -> list[str]:
    import json

    try:
        pandas = json.loads(metadata.get("pandas") or "{}")
    except ValueError:
        return []
    return [i for i in pandas.get("index_columns", []) if isinstance(i, str)]


def _code(partitioning: Partitioning, ref: FileRef, key: str) -> int:
    value = partitioning.value(ref, key)
    return -1 if value is None else partitioning.values[key].index(value)


def _range(
    pf: Any, row_groups: list[dict[str, Any]], rgs: list[int], index: str | None, leaves: list[str]
) -> tuple[Any, Any] | None:
    if index is None or index not in leaves:
        return None
    j = leaves.index(index)
    field = pf.schema.field(index)
    lows = [_stat(row_groups[g]["columns"][j]["statistics"], "min", field) for g in rgs]
    highs = [_stat(row_groups[g]["columns"][j]["statistics"], "max", field) for g in rgs]
    if any(v is None for v in lows + highs):
        return None
    try:
        return min(lows), max(highs)
    except TypeError:
        return None
