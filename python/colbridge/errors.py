"""colbridge's exception hierarchy.

Every error colbridge raises on bad input derives from :class:`ColbridgeError` *and* from the
builtin a Python user would catch for that kind of problem (``TypeError``, ``ValueError``,
``BufferError``), so ``except ValueError`` keeps working.

Example:
    >>> import colbridge
    >>> try:
    ...     colbridge.array([1, "a"])
    ... except ValueError as e:
    ...     print(type(e).__name__)
    InvalidInputError
"""

__all__ = [
    "ArrowIpcError",
    "CapsuleError",
    "CastError",
    "ColbridgeError",
    "DLPackError",
    "CorruptFileError",
    "InvalidInputError",
    "LimitExceededError",
    "ObjectNotFoundError",
    "ParquetError",
    "ReadOnlyBufferError",
    "SchemaError",
    "StorageError",
    "StoragePermissionError",
    "UnsupportedTypeError",
    "ZeroCopyError",
]


class ColbridgeError(Exception):
    """Base class of every error colbridge raises."""


class UnsupportedTypeError(ColbridgeError, TypeError):
    """An object (or mix of objects) colbridge cannot convert to Arrow."""


class InvalidInputError(ColbridgeError, ValueError):
    """Values that do not fit the requested or inferred type, or inconsistent input."""


class CastError(ColbridgeError, ValueError):
    """A type conversion that cannot be done, e.g. an unsatisfiable ``requested_schema``."""


class ZeroCopyError(ColbridgeError, ValueError):
    """A conversion would need a copy where the caller forbade one."""


class CapsuleError(ColbridgeError, TypeError):
    """An Arrow PyCapsule producer returned something that is not a valid capsule."""


class ParquetError(ColbridgeError, ValueError):
    """A Parquet file is malformed, unsupported, or cannot be decoded."""


class CorruptFileError(ParquetError):
    """A Parquet file whose bytes contradict themselves or the format: a footer, page header or
    page that cannot be what it claims (truncated, mis-sized, undecodable)."""


class LimitExceededError(ParquetError):
    """A Parquet file refused by a resource limit (footer size, page size, decoded bytes): the
    message names the limit and the keyword that raises it."""


class SchemaError(ColbridgeError, ValueError):
    """The files of a dataset disagree on a column's type: the message names the column and
    the two files."""


class ArrowIpcError(ColbridgeError, ValueError):
    """An Arrow IPC / Feather file that colbridge cannot read. Either its bytes contradict
    themselves or the format (a truncated file, a buffer or message outside the file, offsets,
    lengths or dictionary indices out of range, invalid UTF-8), or it uses a feature colbridge
    does not support (an unknown compression codec, a pre-1.0 metadata version). The message
    names the file and, where it can, the record batch and the column. It is the IPC
    counterpart of :class:`CorruptFileError`, which stays specific to Parquet."""


class DLPackError(ColbridgeError, BufferError):
    """An array that ``__dlpack__`` cannot export: nulls, a type DLPack has no code for, several
    chunks, or a device or stream other than the CPU's. A ``BufferError``, as the array API
    specifies for ``__dlpack__``."""


class StorageError(ColbridgeError, OSError):
    """Object storage (``s3://``, ``gs://``, ``az://``, ``http(s)://``) failed after the retries:
    the message names the URL and what the store said, never a credential."""


class ObjectNotFoundError(StorageError, FileNotFoundError):
    """The bucket, container or object a URL names does not exist."""


class StoragePermissionError(StorageError, PermissionError):
    """The store refused the credentials (missing, wrong or without access to the object)."""


class ReadOnlyBufferError(ColbridgeError, BufferError):
    """A writable view of read-only (shared) Arrow memory was requested."""
