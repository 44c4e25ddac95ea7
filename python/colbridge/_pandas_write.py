"""pandas → Table the way ``pyarrow.Table.from_pandas`` does it: the index stored as columns
(or, for a RangeIndex, as metadata only) and the ``pandas`` schema metadata that lets
``pandas.read_parquet``, pyarrow and colbridge rebuild the frame (index, column labels,
extension dtypes, categorical order, time zones).

The metadata format is pyarrow's (``pyarrow/pandas_compat.py``: ``construct_metadata``,
``get_logical_type``); the index rules are ``DataFrame.to_parquet``'s ``index`` argument:
``None`` stores a RangeIndex as metadata and any other index as columns, ``True`` stores every
index as columns, ``False`` stores none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from colbridge import _pandas_compat as compat

if TYPE_CHECKING:
    from colbridge._colbridge import Array, ChunkedArray, DataType, Table


def _logical_type(t: DataType) -> str:
    """pyarrow's ``get_logical_type``: the ``pandas_type`` of a column of Arrow type ``t``."""
    if t.is_null:
        return "empty"
    if t.is_boolean:
        return "bool"
    if t.is_integer or t.is_floating:
        return str(t)
    if t.is_date:
        return "date"
    if t.is_dictionary:
        return "categorical"
    if t.is_timestamp:
        return "datetimetz" if t.tz else "datetime"
    if t.is_decimal:
        return "decimal"
    if t.is_string and t.format == "u":
        return "unicode"
    if t.is_binary and t.format in ("z", "Z"):
        return "bytes"
    if t.is_list and t.value_type is not None:
        return f"list[{_logical_type(t.value_type)}]"
    return "object"


def _numpy_type(values: Any) -> str:
    dtype = values.dtype
    if str(dtype) == "category":
        return str(values.cat.codes.dtype)
    if getattr(dtype, "tz", None) is not None:
        return f"datetime64[{dtype.unit}]"  # the zone goes to the column's metadata
    return str(dtype)


def _column_entry(name: Any, field_name: str, values: Any, t: DataType) -> dict[str, Any]:
    metadata: dict[str, Any] | None = None
    dtype = values.dtype
    if str(dtype) == "category":
        metadata = {
            "num_categories": len(dtype.categories),
            "ordered": bool(dtype.ordered),
        }
    elif t.is_timestamp and t.tz:
        metadata = {"timezone": t.tz}
    elif t.is_decimal:
        metadata = {"precision": t.precision, "scale": t.scale}
    return {
        "name": name,
        "field_name": field_name,
        "pandas_type": _logical_type(t),
        "numpy_type": _numpy_type(values),
        "metadata": metadata,
    }


def _label_type(labels: Any) -> tuple[str, str]:
    """``(pandas_type, numpy_type)`` of a level of column labels, as pyarrow records them."""
    import pandas as pd

    dtype = labels.dtype
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "unicode", str(dtype)
    inferred = pd.api.types.infer_dtype(labels, skipna=True)
    kind = {
        "string": "unicode",
        "integer": str(dtype),
        "floating": str(dtype),
        "datetime64": "datetime",
        "boolean": "bool",
        "bytes": "bytes",
    }.get(inferred, "object" if inferred != "mixed-integer" else "mixed-integer")
    return kind, str(dtype)


def _column_indexes(columns: Any) -> list[dict[str, Any]]:
    import pandas as pd

    levels = (
        [columns.get_level_values(i) for i in range(columns.nlevels)]
        if isinstance(columns, pd.MultiIndex)
        else [columns]
    )
    out = []
    for level in levels:
        pandas_type, numpy_type = _label_type(level)
        name = level.name
        out.append(
            {
                "name": name,
                "field_name": None if name is None else str(name),
                "pandas_type": pandas_type,
                "numpy_type": numpy_type,
                "metadata": {"encoding": "UTF-8"} if pandas_type == "unicode" else None,
            }
        )
    return out


def frame_to_table(
    df: Any,
    preserve_index: bool | None,
    column: Callable[[str, Any], Array | ChunkedArray],
) -> Table:
    """``df`` as a Table with its index and the ``pandas`` metadata (``column(name, values)``
    converts one pandas Series or Index to an Arrow column)."""
    import pandas as pd

    from colbridge import _colbridge as core
    from colbridge._colbridge import __version__

    labels = list(df.columns)
    names = [str(label) for label in labels]
    columns = [column(n, df.iloc[:, i]) for i, n in enumerate(names)]
    entries = [
        _column_entry(n, n, df.iloc[:, i], c.type)
        for i, (n, c) in enumerate(zip(names, columns, strict=True))
    ]
    index = df.index
    index_specs: list[Any] = []
    range_only = isinstance(index, pd.RangeIndex) and preserve_index is None
    if range_only:
        index_specs.append(
            {
                "kind": "range",
                "name": index.name,
                "start": int(index.start),
                "stop": int(index.stop),
                "step": int(index.step),
            }
        )
    elif preserve_index is not False:
        for i in range(index.nlevels):
            level = index.get_level_values(i)
            name = index.names[i]
            if name is None or str(name) in names:
                field_name = f"__index_level_{i}__"
            else:
                field_name = str(name)
            col = column(field_name, level)
            entry = _column_entry(
                None if name is None else str(name), field_name, pd.Series(level), col.type
            )
            names.append(field_name)
            columns.append(col)
            entries.append(entry)
            index_specs.append(field_name)
    meta = {
        "index_columns": index_specs,
        "column_indexes": [] if preserve_index is False else _column_indexes(df.columns),
        "columns": entries,
        "attributes": {},
        "creator": {"library": "colbridge", "version": __version__},
        "pandas_version": compat.version_string(),
    }
    table = core.table_from_columns(names, columns)
    return table.replace_schema_metadata({"pandas": json.dumps(meta)})


def parquet_compatible(table: Table) -> Table:
    """The table with the columns Parquet cannot store as they are cast as pyarrow's writer
    casts them: ``timestamp[s]`` to milliseconds (Parquet has no seconds unit), ``time32[s]``
    to milliseconds and ``date64`` to ``date32``, so every reader gets the type back."""
    from colbridge import _colbridge as core

    columns: list[Any] = []
    changed = False
    for col in table.columns:
        t = col.type
        target = None
        if t.is_timestamp and t.time_unit == "s":
            target = f"timestamp[ms{', tz=' + t.tz if t.tz else ''}]"
        elif t.is_time and t.time_unit == "s":
            target = "time32[ms]"
        elif t.is_date and t.bit_width == 64:
            target = "date32"
        if target is None:
            columns.append(col)
            continue
        changed = True
        columns.append(core.chunked_from_arrays([c.cast(target) for c in col.chunks]))
    if not changed:
        return table
    out = core.table_from_columns(table.column_names, columns)
    return out.replace_schema_metadata(table.schema.metadata)
