"""Arrow IPC and Feather v2 (the IPC file format), read without copying.

``read_ipc`` maps the file into memory and slices every column out of the mapping, after
checking and validating the file; ``read_feather`` hands those columns to pandas as they are;
``write_ipc`` / ``write_feather`` write files that can be read that way (uncompressed, 64-byte
aligned buffers).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

from colbridge import _colbridge as _core
from colbridge._colbridge import Table
from colbridge._sources import local_destination, local_file
from colbridge.errors import InvalidInputError, UnsupportedTypeError
from colbridge.parquet import _column_list

__all__ = ["read_feather", "read_ipc", "write_feather", "write_ipc"]

Source = str | os.PathLike[str] | bytes | Any


def read_ipc(
    source: Source,
    columns: Sequence[str | int] | None = None,
    memory_map: bool = True,
    require_zero_copy: bool = False,
    validate: bool = True,
) -> Table:
    """Read an Arrow IPC file (Feather v2) or stream into a :class:`Table`.

    ``source`` is a path, ``bytes`` or a binary file object; the format (file or stream) is
    recognised from the bytes. ``columns`` selects columns by name or position.

    With ``memory_map=True`` (the default) a path is memory-mapped, and every buffer of an
    uncompressed little-endian file whose buffers are aligned for their types (as every
    writer aligns them) is a view into the mapping: nothing is read or copied up front, and
    the mapping stays alive, read-only, for as long as any array, NumPy view, pandas column or
    pyarrow/Polars import of it does. Buffers that cannot be used where they lie are copied,
    column by column, the rest staying mapped: compressed batches (LZ4 or zstd) are
    decompressed, big-endian files byte-swapped, misaligned buffers copied.
    ``require_zero_copy=True`` raises :class:`~colbridge.ZeroCopyError` naming the first such
    column instead, before copying anything. ``memory_map=False`` reads the file into memory
    once (columns are then views of that copy).

    The file is checked before any array is handed out: messages, buffers and dictionaries
    must lie inside the file and agree with the schema, and with ``validate=True`` (the
    default) every array is validated in full (offsets, UTF-8, dictionary indices, union ids,
    run ends, decimal precision). A file that fails raises
    :class:`~colbridge.ArrowIpcError` naming the file, the message and the column.
    ``validate=False`` skips the per-value validation for files you trust; it is unsafe (see
    SECURITY.md).

    A mapping shows the file as it is on disk: if another process truncates the file while
    arrays of it are alive, reading them crashes the process with SIGBUS, as with every
    memory-mapped file (NumPy's ``memmap``, ``pyarrow.memory_map``). Use ``memory_map=False``
    for files that may change while you read them.

    Example:
        >>> t = colbridge.read_ipc("data.arrow", require_zero_copy=True)
        >>> t.num_rows, t.column_names
        (1000, ['x', 'y'])
        >>> colbridge.read_ipc("data.arrow", columns=["y"]).column("y").to_pylist()[:3]
        [0.0, 0.25, 0.5]
    """
    return _core.read_ipc(
        local_file(source, "read_ipc"),
        columns=_column_list(columns),
        memory_map=memory_map,
        require_zero_copy=require_zero_copy,
        validate=validate,
    )


def read_feather(
    source: Source,
    columns: Sequence[str | int] | None = None,
    dtype_backend: str | None = None,
    memory_map: bool = True,
    require_zero_copy: bool = False,
    validate: bool = True,
) -> Any:
    """Read a Feather v2 / Arrow IPC file into a pandas DataFrame equal to ``pd.read_feather``'s.

    The file is read by :func:`read_ipc` (same ``memory_map``, ``require_zero_copy`` and
    ``validate``), and the columns become the DataFrame's without a copy where pandas can hold
    them: numeric, temporal and dictionary (categorical) columns without nulls, read from a file
    written in one record batch, are read-only views of the mapping (pandas copies a column
    before writing to it). Columns split over several record batches are concatenated, and
    nulls in integer columns become NaN in a float copy, as pandas needs. ``dtype_backend``
    (``"numpy_nullable"`` or ``"pyarrow"``) and the pandas index and column names stored by
    pandas/pyarrow are honoured as ``pd.read_feather`` does.

    Example:
        >>> df = colbridge.read_feather("data.arrow")
        >>> df.shape, df["x"].dtype
        ((1000, 2), dtype('int64'))
        >>> df.loc[0, "x"] = 5  # a normal frame: the column is copied before the write
        >>> int(df.loc[0, "x"]), colbridge.read_feather("data.arrow")["x"].iloc[0]
        (5, np.int64(0))
    """
    from colbridge._pandas import check_dtype_backend, to_dataframe

    check_dtype_backend(dtype_backend)
    table = read_ipc(
        local_file(source, "read_feather"),
        # pd.read_feather reads every column for an empty list, as for None.
        columns=_column_list(columns) or None,
        memory_map=memory_map,
        require_zero_copy=require_zero_copy,
        validate=validate,
    )
    # to_dataframe restores the index and column labels from the pandas metadata.
    return to_dataframe(table, dtype_backend=dtype_backend)


def write_ipc(
    data: Any,
    where: str | os.PathLike[str] | Any,
    compression: Literal["lz4", "zstd"] | None = None,
    compression_level: int | None = None,
    format: Literal["file", "stream"] = "file",
    fsync: bool = False,
) -> None:
    """Write a :class:`Table`, a pandas DataFrame or any Arrow PyCapsule producer as an Arrow
    IPC file (``format="file"``, which is Feather v2) or stream (``format="stream"``).

    Buffers are 64-byte aligned and, by default, uncompressed, so :func:`read_ipc` can map the
    file without a copy; ``compression="lz4"`` or ``"zstd"`` (with ``compression_level`` for
    zstd) trades that for size. A path is replaced atomically, as :func:`write_parquet` does
    (a temporary file renamed over it once complete; ``fsync=True`` syncs it to disk); a
    binary file object receives the whole file in one ``write`` call.

    Example:
        >>> colbridge.write_ipc(colbridge.table({"a": [1, 2]}), "out.arrow")
        >>> colbridge.read_ipc("out.arrow").to_pydict()
        {'a': [1, 2]}
    """
    _core.write_ipc(
        _table(data, "write_ipc"),
        local_destination(where, "write_ipc"),
        compression=compression,
        compression_level=compression_level,
        format=format,
        fsync=fsync,
    )


def write_feather(
    df: Any,
    where: str | os.PathLike[str] | Any,
    compression: Literal["lz4", "zstd"] | None = None,
    compression_level: int | None = None,
    fsync: bool = False,
) -> None:
    """Write a pandas DataFrame (or anything :func:`write_ipc` takes) as a Feather v2 file
    that ``pd.read_feather`` and :func:`read_feather` read back.

    Unlike ``DataFrame.to_feather``, which compresses with LZ4 by default, the file is
    uncompressed unless ``compression`` says otherwise, so that it can be read memory-mapped
    without a copy. The DataFrame's index is not stored: a frame whose index is not the default
    ``RangeIndex`` is refused (``reset_index()`` it first).

    Example:
        >>> colbridge.write_feather(pd.DataFrame({"a": [1.5, 2.5]}), "out.feather")
        >>> pd.read_feather("out.feather")["a"].tolist()
        [1.5, 2.5]
    """
    index = getattr(df, "index", None)
    if index is not None and hasattr(df, "columns"):
        import pandas as pd

        default = pd.RangeIndex(len(df))
        if not (isinstance(index, pd.RangeIndex) and index.equals(default) and index.name is None):
            raise InvalidInputError(
                "write_feather does not store a DataFrame's index, and this one is not the "
                "default RangeIndex: call df.reset_index() first"
            )
    write_ipc(
        df,
        where,
        compression=compression,
        compression_level=compression_level,
        format="file",
        fsync=fsync,
    )


def _table(data: Any, caller: str) -> Table:
    from colbridge._construct import table as to_table

    if isinstance(data, Table):
        return data
    try:
        return to_table(data)
    except UnsupportedTypeError as e:
        raise UnsupportedTypeError(f"{caller}: {e}") from None
