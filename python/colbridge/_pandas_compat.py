"""Every pandas internal colbridge relies on, and every pandas-version branch, in one place.

pandas has no public way to hand it memory it must neither copy nor write (see
``colbridge._pandas``), nor to read some of its arrays' buffers without a copy, so a few
private attributes are used; public API is used wherever pandas has one that keeps the memory
shared. Each function below names what it touches. ``CHECKED_VERSIONS`` lists the pandas
releases this module was checked against (the address and Copy-on-Write tests passing);
``tests/interop/test_pandas_compat.py`` fails on any other release, as a reminder to re-check it.

pandas itself is imported lazily: importing colbridge never imports pandas.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

CHECKED_VERSIONS: tuple[tuple[int, int], ...] = ((3, 1),)
"""The pandas releases, as (major, minor), whose internals this module was checked against."""


@functools.cache
def version() -> tuple[int, int]:
    """The installed pandas release as (major, minor)."""
    import pandas as pd

    m = re.match(r"(\d+)\.(\d+)", pd.__version__)
    return (int(m[1]), int(m[2])) if m else (0, 0)


def version_string() -> str:
    """The installed pandas version string (stored in the ``pandas`` Parquet metadata)."""
    import pandas as pd

    return str(pd.__version__)


def is_ge_v3() -> bool:
    """pandas 3 or later (Copy-on-Write always on, ``copy=`` keywords gone)."""
    return version() >= (3, 0)


# --- building pandas objects over colbridge memory -------------------------------------------


def frame_from_columns(names: list[str], columns: list[Any], num_rows: int) -> Any:
    """A DataFrame of ``num_rows`` rows with one block per column, each block the column's own
    array (no copy, no consolidation); repeated names are kept, as pandas keeps them.

    Public: ``pandas.api.internals.create_dataframe_from_blocks`` on pandas 3, as pyarrow does;
    before, ``DataFrame(dict, copy=False)``, which keeps the blocks apart too (keyed by position,
    then named, so that repeated names do not collapse).
    """
    import pandas as pd

    index = pd.RangeIndex(num_rows)
    if not columns:
        return pd.DataFrame(index=index, columns=pd.Index(names, dtype=object))
    if not is_ge_v3():
        frame = pd.DataFrame(dict(enumerate(columns)), index=index, copy=False)
        frame.columns = pd.Index(names)
        return frame
    from pandas.api.internals import create_dataframe_from_blocks

    blocks = [
        (c.reshape(1, -1) if isinstance(c, np.ndarray) else c, np.array([i]))
        for i, c in enumerate(columns)
    ]
    return create_dataframe_from_blocks(blocks, index=index, columns=pd.Index(names))


def frame_from_blocks(blocks: list[tuple[Any, Any]], index: Any, columns: Any) -> Any:
    """A DataFrame from ``(values, positions)`` blocks (2-D values, one row per position), each
    block kept as it is: ``pandas.api.internals.create_dataframe_from_blocks`` on pandas 3;
    before, one block per column (``DataFrame(dict, copy=False)``), the same frame."""
    import pandas as pd

    if is_ge_v3():
        from pandas.api.internals import create_dataframe_from_blocks

        return create_dataframe_from_blocks(blocks, index=index, columns=columns)
    parts = {p: v[k] for v, where in blocks for k, p in enumerate(where)}
    frame = pd.DataFrame({i: parts[i] for i in range(len(columns))}, index=index, copy=False)
    frame.columns = columns
    return frame


def categorical_sharing_codes(codes: np.ndarray[Any, Any], dtype: Any) -> Any:
    """A Categorical over ``codes`` as they are (validated, signed, -1 for nulls).

    Internal: ``NDArrayBacked._simple_new``, the base-class constructor, reached with
    ``super(Categorical, Categorical)``. Every public constructor (``Categorical.from_codes``
    too) narrows the codes to the smallest integer type for the number of categories, a copy
    of int16/32/64 codes.
    """
    import pandas as pd

    return super(pd.Categorical, pd.Categorical)._simple_new(codes, dtype)


def categorical_from_codes(codes: np.ndarray[Any, Any], dtype: Any) -> Any:
    """A Categorical over already validated ``codes`` (public: ``from_codes`` unvalidated)."""
    import pandas as pd

    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def datetime_tz_array(utc: np.ndarray[Any, Any], dtype: Any) -> Any:
    """A tz-aware DatetimeArray over UTC ``datetime64`` values, sharing them.

    Internal: ``DatetimeArray._simple_new``; the public constructors either copy or read naive
    values as wall times in the zone.
    """
    import pandas as pd

    return pd.arrays.DatetimeArray._simple_new(utc, dtype=dtype)


def copy_on_write_sentinels(obj: Any) -> tuple[Any, ...]:
    """For each block of a DataFrame or Series, an empty block registered in the same
    Copy-on-Write references: while a sentinel lives, pandas sees its block as shared and
    copies it before any write. The sentinels hold empty copies of the values, never the
    values themselves.

    Internal: ``obj._mgr.blocks``, ``Block.values``, ``Block.refs`` and
    ``Block.make_block_same_class(values, refs=)``.
    """
    sentinels = []
    for block in obj._mgr.blocks:
        values = block.values
        empty = values[..., :0].copy() if isinstance(values, np.ndarray) else values[:0].copy()
        sentinels.append(block.make_block_same_class(empty, refs=block.refs))
    return tuple(sentinels)


def rename_columns(df: Any, names: dict[Any, Any]) -> Any:
    """``df.rename(columns=names)`` without copying the data (``copy=False`` before pandas 3,
    where the keyword is gone)."""
    return df.rename(columns=names) if is_ge_v3() else df.rename(columns=names, copy=False)


# --- reading the memory behind pandas arrays -------------------------------------------------


def masked_parts(values: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
    """``(data, mask)`` of a masked array (``IntegerArray``, ``FloatingArray``,
    ``BooleanArray``), both shared; None for other arrays.

    Internal: ``BaseMaskedArray._data`` and ``._mask``.
    """
    mask = getattr(values, "_mask", None)
    data = getattr(values, "_data", None)
    if mask is not None and isinstance(data, np.ndarray):
        return data, mask
    return None


def arrow_data(values: Any) -> Any | None:
    """The pyarrow ChunkedArray behind an Arrow-backed array (``ArrowDtype``, pyarrow-backed
    strings), shared; None for other arrays (public: ``__arrow_array__``)."""
    import pandas as pd

    if isinstance(values, pd.arrays.ArrowExtensionArray):
        return values.__arrow_array__()
    return None


def datetime_storage(values: Any) -> np.ndarray[Any, Any] | None:
    """The ``datetime64`` values (UTC) behind a DatetimeArray, shared; None for other arrays.

    Internal: ``DatetimeArray._ndarray``.
    """
    storage = getattr(values, "_ndarray", None)
    return storage if isinstance(storage, np.ndarray) else None
