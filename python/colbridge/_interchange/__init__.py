"""The (legacy) DataFrame interchange protocol (``__dataframe__``) over colbridge tables.

Laid out like Polars' ``polars/interchange`` package: ``protocol`` (the spec's enums, dtypes and
typed dicts), ``buffer`` (one block of memory), ``column`` and ``dataframe``.

Spec: https://data-apis.org/dataframe-protocol/latest/. Every buffer handed out points into the
Arrow memory itself (``Buffer.ptr`` is the address of a :class:`colbridge.Buffer`); nothing is
copied except where the protocol cannot describe the Arrow layout (see below). pyarrow is not
needed here.

Offsets. The protocol has a single element ``offset`` per column that applies to every buffer,
while Arrow bitmaps (validity, boolean values) may start at any bit. colbridge's bitmap buffers
start at the byte holding the array's first bit and report ``bit_offset`` (0..7), so a column's
``offset`` is that bit offset and every other buffer pointer is moved back by ``offset``
elements to match. Consumers only read elements ``offset .. offset + size()``, which are exactly
the array's own elements.

Copies happen only when
  * a column has several chunks and ``get_buffers()`` is called on it directly (``allow_copy``),
  * a boolean column's values and validity bitmaps start at different bits (rare; the values
    bitmap is re-aligned),
  * a floating-point column with nulls: pandas' consumer writes NaN *in place* into the null
    slots of the data buffer it is given, which would write into memory colbridge lends out
    read-only (perhaps a NumPy array the user still holds). With ``allow_copy=True`` such a
    column's data buffer is therefore a private copy with NaN in the null slots; with
    ``allow_copy=False`` it is the Arrow buffer itself,
  * ``nan_as_null=True`` on a floating-point column with nulls (the nulls become NaN in a copy).

Example:
    >>> import colbridge
    >>> df = colbridge.table({"a": [1, 2, None]}).__dataframe__()
    >>> col = df.get_column_by_name("a")
    >>> col.dtype, col.describe_null, col.null_count
    ((<DtypeKind.INT: 0>, 64, 'l', '='), (<ColumnNullType.USE_BITMASK: 3>, 0), 1)
"""

from __future__ import annotations

from colbridge._interchange.buffer import Buffer
from colbridge._interchange.column import Column
from colbridge._interchange.dataframe import DataFrame
from colbridge._interchange.protocol import (
    ColumnBuffers,
    ColumnNullType,
    DlpackDeviceType,
    DtypeKind,
)

__all__ = [
    "Buffer",
    "Column",
    "ColumnBuffers",
    "ColumnNullType",
    "DataFrame",
    "DlpackDeviceType",
    "DtypeKind",
]
