"""Parquet reading and writing.

``read_parquet`` decodes each column straight into one contiguous Arrow buffer, columns in
parallel with the GIL released; ``read_pandas`` hands those buffers to pandas with no second
copy; ``ParquetFile`` inspects and streams; ``write_parquet`` writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict, TypeVar

import numpy as np

from colbridge import _colbridge as _core
from colbridge import dataset as _dataset
from colbridge._colbridge import BatchReader, ParquetFile, Table
from colbridge._progress import reporter
from colbridge._sources import in_filesystem, local_destination, single_file
from colbridge._storage import redact
from colbridge.errors import InvalidInputError, UnsupportedTypeError

__all__ = [
    "BatchReader",
    "ParquetFile",
    "read_numpy",
    "read_pandas",
    "read_parquet",
    "write_parquet",
]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | Any
Filters = (
    tuple[str, str, Any] | Sequence[tuple[str, str, Any]] | Sequence[Sequence[tuple[str, str, Any]]]
)


_Name = TypeVar("_Name", str, str | int)


def _shown(source: Any) -> str:
    """``source`` as an error message names it (a URL without its credentials)."""
    if isinstance(source, str | os.PathLike):
        return redact(str(os.fspath(source)))
    if isinstance(source, list | tuple):
        return f"a list of {len(source)} paths"
    return type(source).__name__


def _column_list(columns: Sequence[_Name] | None) -> list[_Name] | None:
    """``columns`` as a list; a string is refused, as pandas refuses it (a string is a sequence
    of one-letter names, never what was meant)."""
    if columns is None:
        return None
    if isinstance(columns, str | bytes):
        raise InvalidInputError(
            f"columns: expected a list of column names, got the string {columns!r} "
            f"(use columns=[{columns!r}])"
        )
    return list(columns)


def read_parquet(
    source: Source,
    columns: Sequence[str] | None = None,
    row_groups: Sequence[int] | None = None,
    filters: Filters | None = None,
    batch_size: int | None = None,
    use_threads: bool = True,
    progress: bool | Callable[[int, int], object] | None = None,
    *,
    max_footer_bytes: int | None = None,
    max_page_bytes: int | None = None,
    max_decoded_bytes: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    filesystem: Any = None,
) -> Table:
    """Read a Parquet file into a :class:`Table` (one contiguous buffer per column).

    ``source`` is a path, bytes / a buffer, or a binary file object (a seekable one is read by
    ranges at absolute offsets, as pyarrow reads it, never copied whole); a directory, a glob or a
    list of paths is read as one dataset (see :mod:`colbridge.dataset`: hive partitions become
    dictionary columns, ``filters`` on them skip whole files, one chunk per file), and
    ``file://`` URLs are paths. URLs of object storage (``s3://``, ``gs://``, ``az://``,
    ``abfs(s)://``, ``http(s)://``) are read by ranges: one request for the footer, then only
    the selected column chunks (only the selected pages where a filter and a page index allow),
    merged and fetched several at a time; ``storage_options`` takes pandas' keys (``key``,
    ``secret``, ``endpoint_url``, ``region``, ``anon``, ...; see the README). With ``filesystem``
    (an obstore store, or a pyarrow ``FileSystem`` or fsspec filesystem as
    ``pandas.read_parquet`` takes them) ``source`` is the path of one file inside it, read by
    ranges (an obstore store's config and client options become the URL's ``storage_options``, so
    the read plan is a URL's; a pyarrow or fsspec file is read through its file object).
    ``columns`` selects
    top-level columns (in that order) and ``row_groups`` row groups by index. ``filters`` takes the
    pyarrow/pandas DNF form: a list of ``(column, op, value)`` terms that must all hold
    (``[("x", ">", 3), ("y", "<", 1)]``; a single term may stand alone), or a list of such lists
    of which any may hold; ISO 8601 strings compare with date, time and timestamp columns. Row
    groups are pruned by their statistics, then rows are filtered exactly. ``batch_size`` splits the
    columns into chunks of that many rows (zero-copy slices). ``progress`` shows a progress bar
    (``tqdm`` when installed): ``None`` shows it for files over 256 MiB when interactive; a
    callable is called instead with ``(bytes_fetched, bytes_planned)`` as the read goes.
    Ctrl-C stops a read promptly with ``KeyboardInterrupt``.

    Resource limits guard against files whose stated sizes lie: ``max_footer_bytes`` (default
    256 MiB), ``max_page_bytes`` (a page decompressed, default 1 GiB) and ``max_decoded_bytes``
    (the whole read, default the memory this process may use: physical memory, or less under a
    container's memory limit or ``ulimit -v``); ``0`` lifts a limit; a file over a limit raises
    :class:`~colbridge.LimitExceededError` naming it (see SECURITY.md).

    Example:
        >>> t = colbridge.read_parquet("data.parquet", columns=["x"], filters=[("x", ">", 3)])
        >>> t.num_rows
        600
    """
    limits = _Limits(
        max_footer_bytes=max_footer_bytes,
        max_page_bytes=max_page_bytes,
        max_decoded_bytes=max_decoded_bytes,
    )
    if filesystem is not None:
        with in_filesystem(filesystem, source, storage_options) as (where, options):
            args = (columns, row_groups, filters, batch_size, use_threads, progress)
            return read_parquet(where, *args, **limits, storage_options=options)
    files = _dataset.list_files(source, storage_options)
    if files is not None:
        _no_row_groups(row_groups)
        with reporter(progress, source) as on_progress:
            return _dataset.Dataset(files, **limits).read(
                columns, filters, use_threads, on_progress, batch_size
            )
    source = single_file(source, storage_options)
    with reporter(progress, source) as on_progress:
        return _core.read_parquet(
            source,
            columns=_column_list(columns),
            row_groups=None if row_groups is None else list(row_groups),
            filters=filters,
            batch_size=batch_size,
            use_threads=use_threads,
            on_progress=on_progress,
            max_footer_bytes=max_footer_bytes,
            max_page_bytes=max_page_bytes,
            max_decoded_bytes=max_decoded_bytes,
        )


def _pandas_chunks(pf: ParquetFile, row_groups: list[int] | None) -> list[int]:
    """The chunk lengths ``pandas.read_parquet`` converts: one per row group read, cut at
    131,072 rows (the batch size of pyarrow's dataset scanner). pyarrow converts struct
    children chunk by chunk, so the frame depends on them."""
    groups = pf.metadata["row_groups"]
    chunks = []
    for i in range(len(groups)) if row_groups is None else row_groups:
        n = int(groups[i]["num_rows"])
        while n > _SCANNER_BATCH:
            chunks.append(_SCANNER_BATCH)
            n -= _SCANNER_BATCH
        if n:
            chunks.append(n)
    return chunks


def _no_row_groups(row_groups: Sequence[int] | None) -> None:
    if row_groups is not None:
        from colbridge.errors import InvalidInputError

        raise InvalidInputError(
            "row_groups selects row groups of one file; a dataset of many files takes filters"
        )


_SCANNER_BATCH = 131_072


class _Limits(TypedDict):
    max_footer_bytes: int | None
    max_page_bytes: int | None
    max_decoded_bytes: int | None


def read_pandas(
    source: Source,
    columns: Sequence[str] | None = None,
    row_groups: Sequence[int] | None = None,
    filters: Filters | None = None,
    use_threads: bool = True,
    dtype_backend: str | None = None,
    progress: bool | Callable[[int, int], object] | None = None,
    *,
    max_footer_bytes: int | None = None,
    max_page_bytes: int | None = None,
    max_decoded_bytes: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    filesystem: Any = None,
    consolidate: bool = False,
) -> Any:
    """Read a Parquet file into a pandas DataFrame, writing each value to memory once.

    The frame is the one ``pandas.read_parquet(source, dtype_backend=...)`` returns (dtypes,
    values, index and column labels from the pandas metadata; see the README's *pandas
    parity*). With ``dtype_backend=None`` the decoded buffers become the DataFrame's columns:
    nulls are written as NaN / NaT / -1 codes in place, and integer columns with nulls become
    float64 as in pandas (8-byte integers converted in place). The frame owns its memory like
    any pandas frame (writable, aliased by nothing else). ``"numpy_nullable"`` and
    ``"pyarrow"`` pick pandas' nullable or Arrow-backed dtypes as ``pandas.read_parquet``
    does. A directory, a glob or a list of paths is read as one dataset, as
    ``pandas.read_parquet`` reads it (hive partitions as Categorical columns, see
    :mod:`colbridge.dataset`). ``progress``, ``filesystem`` and the resource limits
    (``max_footer_bytes``, ``max_page_bytes``, ``max_decoded_bytes``) work as in
    :func:`read_parquet`.

    ``consolidate=True`` (one file, ``dtype_backend=None``) gives pandas its own consolidated
    layout for the float64, float32, int64 and int32 columns: each dtype's columns are decoded
    straight into one 2-D block (as :func:`read_numpy` does), so ``df.to_numpy()`` of such
    columns is a view of it, not a copy. An integer column joins its block where the footer's
    statistics show it has no nulls (with nulls, the float64 block, as pandas types it); other
    columns are read as usual. The frame equals the one without it.

    Example:
        >>> df = colbridge.read_pandas("data.parquet")
        >>> df.loc[0, "x"] = 5  # a normal, writable frame
        >>> df["x"].head(3).tolist()
        [5, 1, 2]
    """
    from colbridge._pandas import check_dtype_backend, masked_integers, to_dataframe

    check_dtype_backend(dtype_backend)
    limits = _Limits(
        max_footer_bytes=max_footer_bytes,
        max_page_bytes=max_page_bytes,
        max_decoded_bytes=max_decoded_bytes,
    )
    if filesystem is not None:
        with in_filesystem(filesystem, source, storage_options) as (where, options):
            args = (columns, row_groups, filters, use_threads, dtype_backend, progress)
            return read_pandas(
                where, *args, **limits, storage_options=options, consolidate=consolidate
            )
    files = _dataset.list_files(source, storage_options)
    if consolidate:
        return _consolidated(
            source,
            files,
            columns,
            row_groups,
            filters,
            use_threads,
            dtype_backend,
            limits,
            storage_options,
        )
    if files is not None:
        _no_row_groups(row_groups)
        with reporter(progress, source) as on_progress:
            return _dataset.Dataset(files, **limits).read_pandas(
                columns, filters, use_threads, dtype_backend, on_progress
            )
    source = single_file(source, storage_options)
    pf = ParquetFile(source, **limits) if not hasattr(source, "read") else None
    meta = _pandas_compat_meta(pf)
    cols = _column_list(columns)
    if meta is not None and cols is not None:
        cols += [i for i in meta.get("index_columns", []) if isinstance(i, str) and i not in cols]
    groups = None if row_groups is None else list(row_groups)
    chunks = _pandas_chunks(pf, groups) if pf is not None and filters is None else None
    with reporter(progress, source) as on_progress:
        table = _core.read_parquet(
            source,
            columns=cols,
            row_groups=groups,
            filters=filters,
            use_threads=use_threads,
            on_progress=on_progress,
            pandas_sentinels=dtype_backend is None,
            # Integer columns with nulls decoded as pandas' float64, but for those the pandas
            # metadata restores as masked arrays; all kept where it is unknown before the read
            # (a file object, read once).
            keep_integers=masked_integers(meta) if pf is not None else None,
            **limits,
        )
    if dtype_backend is None:
        df = to_dataframe(table, hand_over=True, pandas_sentinels=True, chunk_rows=chunks)
        del table  # the frame now owns the buffers alone
        return df
    return to_dataframe(table, dtype_backend=dtype_backend, chunk_rows=chunks)


def _consolidated(
    source: Source,
    files: Any,
    columns: Sequence[str] | None,
    row_groups: Sequence[int] | None,
    filters: Filters | None,
    use_threads: bool,
    dtype_backend: str | None,
    limits: _Limits,
    storage_options: Mapping[str, Any] | None,
) -> Any:
    from colbridge._block import consolidated_frame

    if files is not None or dtype_backend is not None:
        raise InvalidInputError(
            "consolidate=True reads one file with dtype_backend=None (NumPy blocks)"
        )
    source = single_file(source, storage_options)
    if hasattr(source, "read"):
        raise InvalidInputError("consolidate=True reads a path or bytes, not a file object")

    def reader(
        src: Source, columns: list[str], row_groups: list[int] | None, filters: Any = None
    ) -> Any:
        return read_pandas(
            src,
            columns=columns,
            row_groups=row_groups,
            filters=filters,
            use_threads=use_threads,
            progress=False,
            **limits,
        )

    return consolidated_frame(
        ParquetFile(source, **limits),
        source,
        _column_list(columns),
        None if row_groups is None else list(row_groups),
        filters,
        reader,
        use_threads=use_threads,
        **limits,
    )


def read_numpy(
    source: Source,
    columns: Sequence[str] | None = None,
    dtype: str = "float64",
    order: str = "F",
    nulls: str | None = None,
    row_groups: Sequence[int] | None = None,
    filters: Filters | None = None,
    use_threads: bool = True,
    progress: bool | Callable[[int, int], object] | None = None,
    *,
    max_footer_bytes: int | None = None,
    max_page_bytes: int | None = None,
    max_decoded_bytes: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Any:
    """Read numeric Parquet columns into one 2-D NumPy array of shape (rows, columns).

    The hand-off to scikit-learn or PyTorch (``torch.from_numpy``) at one copy: each column is
    decoded straight into its slice of one buffer (``order="F"``, the default: every column a
    contiguous slice), columns in parallel with the GIL released. ``dtype`` is ``"float64"``,
    ``"float32"``, ``"int64"`` or ``"int32"``; a narrower number is decoded into its slice and
    widened in place, and other columns (booleans, layouts arrow-rs decodes) are converted into
    their slice a chunk at a time. Integer blocks take integer and boolean columns only; an
    integer that does not fit is an :class:`~colbridge.InvalidInputError`. ``nulls="nan"`` (the
    default for float dtypes) writes NaN for a null; ``nulls="raise"`` (the default for integer
    dtypes) refuses a column with nulls, naming it. ``order="C"`` gives a row-major array (a
    second copy, made by NumPy). The array is writable and owned by nobody else. ``columns``,
    ``row_groups``, ``filters``, ``progress`` and the limits work as in
    :func:`read_parquet`; a column that is not numeric is an
    :class:`~colbridge.UnsupportedTypeError` naming it.

    Example:
        >>> X = colbridge.read_numpy("data.parquet", columns=["x", "y"])
        >>> X.shape, X.dtype, X.flags.f_contiguous
        ((1000, 2), dtype('float64'), True)
        >>> X[:2].tolist()
        [[0.0, 0.0], [1.0, 0.25]]
    """
    from colbridge._block import read_block

    if order not in ("F", "C"):
        raise InvalidInputError(f"order={order!r}: use 'F' (column-major) or 'C' (row-major)")
    if _dataset.list_files(source, storage_options) is not None:
        raise InvalidInputError(
            f"{_shown(source)}: read_numpy reads one file, not a directory, glob or list"
        )
    if nulls is None:
        nulls = "raise" if dtype.startswith("i") else "nan"
    source = single_file(source, storage_options)
    with reporter(progress, source) as on_progress:
        block, _ = read_block(
            source,
            _column_list(columns),
            dtype,
            nulls,
            row_groups=None if row_groups is None else list(row_groups),
            filters=filters,
            use_threads=use_threads,
            on_progress=on_progress,
            max_footer_bytes=max_footer_bytes,
            max_page_bytes=max_page_bytes,
            max_decoded_bytes=max_decoded_bytes,
        )
    array = block.T
    return np.ascontiguousarray(array) if order == "C" else array


def _pandas_compat_meta(pf: ParquetFile | None) -> dict[str, Any] | None:
    from colbridge._pandas import pandas_metadata

    return pandas_metadata(pf.schema.metadata) if pf is not None else None


def write_parquet(
    data: Any,
    where: str | os.PathLike[str] | Any,
    compression: str | None = "zstd",
    compression_level: int | None = None,
    row_group_size: int | None = None,
    write_statistics: bool = True,
    fsync: bool = False,
    index: bool | None = None,
) -> None:
    """Write a :class:`Table`, a pandas DataFrame or any Arrow PyCapsule producer to Parquet.

    ``where`` is a path or a binary file object. A path is replaced atomically: the file is
    written to a temporary file in the same directory (``.<name>.<random>.colbridge-tmp``) and
    renamed over ``where`` only once complete, so an error, an exception or Ctrl-C leaves an
    existing file exactly as it was and no temporary file behind (a process killed outright,
    e.g. by SIGKILL, can leave its temporary file, never a partial ``where``). ``fsync=True``
    also syncs the file and then the directory to disk before returning, so the new file
    survives a power cut. A file object receives the whole file in one ``write`` call at the
    end, without those guarantees.

    A pandas DataFrame is written as ``DataFrame.to_parquet`` writes it: with the ``pandas``
    metadata and its index (``index=None``: a RangeIndex as metadata only, any other index as
    columns; ``True``: always as columns; ``False``: not at all), so ``pandas.read_parquet``
    and :func:`read_pandas` give the frame back. Types Parquet cannot store as they are are
    cast as pyarrow casts them (``timestamp[s]`` and ``time32[s]`` to milliseconds, ``date64``
    to ``date32``).

    A column Parquet cannot hold (a union, a month_day_nano interval) raises
    :class:`~colbridge.errors.UnsupportedTypeError` naming it before anything touches the disk,
    as a column of mixed values raises :class:`~colbridge.errors.InvalidInputError`. I/O
    failures are ``OSError`` subclasses naming ``where`` (``FileNotFoundError`` for a missing
    directory). Ctrl-C stops a long write promptly with ``KeyboardInterrupt``.

    Example:
        >>> colbridge.write_parquet(colbridge.table({"x": [1, 2]}), "out.parquet")
        >>> colbridge.read_parquet("out.parquet").to_pydict()
        {'x': [1, 2]}
    """
    from colbridge._construct import pandas_table, type_
    from colbridge._construct import table as to_table
    from colbridge._pandas_write import parquet_compatible

    if not isinstance(data, Table):
        try:
            if type_(data).__module__.startswith("pandas") and hasattr(data, "columns"):
                data = pandas_table(data, index)
            else:
                data = to_table(data)
        except UnsupportedTypeError as e:
            raise UnsupportedTypeError(f"write_parquet: {e}") from None
    data = parquet_compatible(data)
    _core.write_parquet(
        data,
        local_destination(where, "write_parquet"),
        compression=compression,
        compression_level=compression_level,
        row_group_size=row_group_size,
        write_statistics=write_statistics,
        fsync=fsync,
    )
