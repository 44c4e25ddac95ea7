"""colbridge: Rust-built Arrow columns that NumPy, pandas, Polars and pyarrow share without a copy.

Example:
    >>> import colbridge, numpy as np
    >>> arr = colbridge.array(np.arange(3))
    >>> np.shares_memory(arr.to_numpy(), np.asarray(arr.values))
    True
"""

from colbridge import dataset as dataset
from colbridge._colbridge import (
    Array,
    Buffer,
    ChunkedArray,
    DataType,
    Field,
    Schema,
    Table,
)
from colbridge._colbridge import __version__ as __version__
from colbridge._construct import array, chunked_array, table
from colbridge._numpy import bitmap_to_mask
from colbridge.errors import (
    ArrowIpcError,
    CapsuleError,
    CastError,
    ColbridgeError,
    CorruptFileError,
    DLPackError,
    InvalidInputError,
    LimitExceededError,
    ObjectNotFoundError,
    ParquetError,
    ReadOnlyBufferError,
    SchemaError,
    StorageError,
    StoragePermissionError,
    UnsupportedTypeError,
    ZeroCopyError,
)
from colbridge.ipc import read_feather, read_ipc, write_feather, write_ipc
from colbridge.parquet import (
    BatchReader,
    ParquetFile,
    read_numpy,
    read_pandas,
    read_parquet,
    write_parquet,
)

__all__ = [
    "Array",
    "ArrowIpcError",
    "BatchReader",
    "Buffer",
    "CapsuleError",
    "CastError",
    "ChunkedArray",
    "ColbridgeError",
    "DLPackError",
    "CorruptFileError",
    "DataType",
    "Field",
    "InvalidInputError",
    "LimitExceededError",
    "ObjectNotFoundError",
    "ParquetFile",
    "ParquetError",
    "ReadOnlyBufferError",
    "Schema",
    "SchemaError",
    "StorageError",
    "StoragePermissionError",
    "Table",
    "UnsupportedTypeError",
    "ZeroCopyError",
    "array",
    "bitmap_to_mask",
    "chunked_array",
    "read_feather",
    "read_ipc",
    "read_numpy",
    "read_pandas",
    "read_parquet",
    "table",
    "write_feather",
    "write_ipc",
    "write_parquet",
]
