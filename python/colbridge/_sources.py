"""Where a dataset's files are: the source layer under :mod:`colbridge.dataset`.

:func:`list_files` turns what a user passes (a directory, a glob, a list of paths, a
``file://`` URL) into :class:`FileRef` s: a file's location and the hive partition values its
path carries. Everything above reads a file through ``FileRef.source`` alone. Object storage
slots in here: a remote prefix is listed (one request) into ``FileRef`` s whose ``source`` is
the object opened by :mod:`colbridge._storage` and read by ranges.
"""

from __future__ import annotations

import glob
import os
import re
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

from colbridge import _storage
from colbridge.errors import InvalidInputError, UnsupportedTypeError

#: URL schemes colbridge reads as local paths; object storage is ``_storage.REMOTE_SCHEMES``.
LOCAL_SCHEMES = ("file",)
_SUPPORTED = (
    "local paths, directories, globs, lists of paths, file:// URLs and "
    "s3://, gs://, az://, abfs(s):// and http(s):// URLs"
)

#: The value Hive writes for a null partition.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class FileRef:
    """One Parquet file of a dataset: where it is and the partition values its path carries.

    ``path`` is a local path today; a remote file will carry its URL, and ``source`` then
    returns what the single-file reader takes for it.

    Example:
        >>> ref = colbridge.dataset.FileRef("sales/year=2024/part-0.parquet", (("year", "2024"),))
        >>> ref.source, dict(ref.partitions)
        ('sales/year=2024/part-0.parquet', {'year': '2024'})
    """

    path: str
    partitions: tuple[tuple[str, str | None], ...] = ()
    #: For a remote file: the ``storage_options`` it is opened with (never in the repr: they
    #: may hold credentials).
    storage_options: Any = field(default=None, repr=False, compare=False)

    @property
    def source(self) -> Any:
        """What ``read_parquet`` / ``ParquetFile`` take to read this file (a remote file is
        opened here: one request for its size and footer)."""
        if not _storage.scheme(self.path):
            return self.path
        opened = self.__dict__.get("_opened")
        if opened is None:
            opened = _storage.open_remote(self.path, self.storage_options)
            object.__setattr__(self, "_opened", opened)  # its footer is read once
        return opened

    def __getstate__(self) -> dict[str, Any]:
        # An opened remote file stays in this process; a pickled FileRef opens it again.
        return {k: v for k, v in self.__dict__.items() if k != "_opened"}


def _skipped(name: str) -> bool:
    return name.startswith((".", "_"))


def _hive(segments: Sequence[str]) -> tuple[tuple[str, str | None], ...]:
    out: list[tuple[str, str | None]] = []
    for segment in segments:
        key, sep, value = segment.partition("=")
        if sep and key:
            text = urllib.parse.unquote(value)
            out.append((key, None if text == NULL_PARTITION else text))
    return tuple(out)


def _local(text: str) -> str:
    """A path from a string that may be a ``file://`` URL; other schemes are refused."""
    scheme, sep, _ = text.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return text
    scheme = scheme.lower()
    if scheme in LOCAL_SCHEMES:
        url = urllib.parse.urlparse(text)
        if url.netloc not in ("", "localhost"):
            raise InvalidInputError(f"{text}: a file:// URL names no host (file:///path)")
        return urllib.parse.unquote(url.path)
    raise InvalidInputError(f"{text}: unknown URL scheme {scheme}://; colbridge reads {_SUPPORTED}")


def _walk(root: str, above: Sequence[str] = ()) -> list[FileRef]:
    """The files under ``root``, in path order; ``above`` are the directories between a glob's
    base and ``root``, which carry partition values too."""
    found: list[tuple[str, FileRef]] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not _skipped(d)]
        rel = os.path.relpath(directory, root)
        segments = [] if rel == os.curdir else rel.split(os.sep)
        for name in files:
            if not _skipped(name):
                key = "/".join([*segments, name])
                ref = FileRef(os.path.join(directory, name), _hive([*above, *segments]))
                found.append((key, ref))
    return [ref for _, ref in sorted(found, key=lambda item: item[0])]


def _glob(pattern: str) -> list[FileRef]:
    parts = pattern.split(os.sep)
    fixed = next(i for i, p in enumerate(parts) if _GLOB.search(p))
    base = os.sep.join(parts[:fixed]) or (os.sep if pattern.startswith(os.sep) else os.curdir)
    refs: list[FileRef] = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        segments = os.path.relpath(path, base).split(os.sep)
        if any(_skipped(s) for s in segments):
            continue
        if os.path.isdir(path):
            refs.extend(_walk(path, segments))
        else:
            refs.append(FileRef(path, _hive(segments[:-1])))
    if not refs:
        raise FileNotFoundError(2, "no file matches the pattern", pattern)
    return refs


def _is_path(source: Any) -> bool:
    return isinstance(source, str | os.PathLike)


def _remote_files(url: str, storage_options: Any) -> list[FileRef] | None:
    """The objects a remote URL names as a dataset, or ``None`` for one object: a URL ending in
    ``/``, or whose last segment has no ``.`` (``s3://bucket/sales``), is a prefix listed in one
    request; a glob is matched against that listing."""
    import fnmatch

    base = url
    pattern = None
    if _GLOB.search(url):
        fixed = url[: _GLOB.search(url).start()]  # type: ignore[union-attr]
        base = fixed[: fixed.rfind("/") + 1]
        pattern = url
    else:
        last = url.rstrip("/").rsplit("/", 1)[-1]
        if not url.endswith("/") and "." in last:
            return None
    from colbridge import _colbridge

    pairs, secrets, own = _storage.translate(url, storage_options)
    retries = own.get("retries")
    listed = _colbridge.list_objects(base.rstrip("/") + "/", pairs, secrets, retries)
    root = base.rstrip("/") + "/"
    refs = []
    for found, _size in listed:
        segments = found[len(root) :].split("/")
        if any(_skipped(s) for s in segments):
            continue
        if pattern is not None and not fnmatch.fnmatchcase(found, pattern):
            continue
        refs.append(FileRef(found, _hive(segments[:-1]), storage_options))
    if not refs:
        raise FileNotFoundError(2, "no object under this prefix", _storage.redact(url))
    return refs


def list_files(source: Any, storage_options: Any = None) -> list[FileRef] | None:
    """The files ``source`` names, or ``None`` when it is one file (a path, bytes or a file
    object) for the single-file reader.

    A directory is walked recursively, a glob (``*``, ``?``, ``[...]``, ``**``) expanded, a
    list's paths taken in its order (directories walked); ``file://`` URLs are local paths.
    Partition values come from ``key=value`` directories below the directory or glob base (for
    a list, from every such directory in each path, as pyarrow does). A missing path or a glob
    matching nothing is ``FileNotFoundError``; an unsupported URL scheme ``InvalidInputError``.

    Example:
        >>> [ref.path for ref in colbridge.dataset.list_files(".") if ref.path.endswith(".parquet")]
        ['./data.parquet']
    """
    if isinstance(source, list | tuple):
        refs: list[FileRef] = []
        for item in source:
            if not _is_path(item):
                raise InvalidInputError(
                    f"a list of sources must hold paths, not {type(item).__name__}"
                )
            text = os.fspath(item)
            if isinstance(text, str) and _storage.scheme(text):
                found = _remote_files(text, storage_options)
                parent = text.rsplit("/", 1)[0].split("/")
                refs.extend(found or [FileRef(text, _hive(parent), storage_options)])
                continue
            _no_options(text, storage_options)
            path = _local(text)
            if os.path.isdir(path):
                refs.extend(_walk(path))
            elif _GLOB.search(path) and not os.path.exists(path):
                refs.extend(_glob(path))
            else:
                refs.append(FileRef(path, _hive(os.path.dirname(path).split(os.sep))))
        return refs
    if not _is_path(source):
        return None
    text = os.fspath(source)
    if isinstance(text, bytes):
        return None
    if _storage.scheme(text):
        return _remote_files(text, storage_options)
    _no_options(text, storage_options)
    path = _local(text)
    if os.path.isdir(path):
        return _walk(path)
    if _GLOB.search(path) and not os.path.exists(path):
        return _glob(path)
    return None


def _no_options(text: str, storage_options: Any) -> None:
    if storage_options is not None:
        raise InvalidInputError(f"{text}: storage_options is only for URLs (s3://, gs://, ...)")


def single_file(source: Any, storage_options: Any = None) -> Any:
    """``source`` as the single-file reader takes it: a ``file://`` URL as its path, a remote
    URL opened (``_colbridge.RemoteFile``: one request for its size and footer); a directory is
    ``IsADirectoryError`` pointing at datasets (``ParquetFile`` reads one file)."""
    if not isinstance(source, str | os.PathLike):
        if storage_options is not None:
            raise InvalidInputError("storage_options is only for URLs (s3://, gs://, ...)")
        return source
    text = os.fspath(source)
    if not isinstance(text, str):
        return source
    if _storage.scheme(text):
        return _storage.open_remote(text, storage_options)
    _no_options(text, storage_options)
    path = _local(text)
    if os.path.isdir(path):
        raise IsADirectoryError(
            21,
            "is a directory: ParquetFile reads one file; read a dataset with "
            "colbridge.read_parquet(path) or colbridge.dataset.dataset(path)",
            text,
        )
    if _GLOB.search(path) and not os.path.exists(path):
        raise InvalidInputError(
            f"{text}: ParquetFile reads one file, not a glob pattern; read the files it matches "
            "with colbridge.read_parquet(pattern)"
        )
    return path


#: obstore's store classes colbridge reads through its own object_store client: the URL scheme
#: and the config key naming the bucket or container.
_OBSTORE_URLS = {
    "S3Store": ("s3", "bucket"),
    "GCSStore": ("gs", "bucket"),
    "AzureStore": ("az", "container_name"),
}


@contextmanager
def in_filesystem(
    filesystem: Any, source: Any, storage_options: Any = None
) -> Iterator[tuple[Any, dict[str, Any] | None]]:
    """The file at path ``source`` inside ``filesystem``, as ``read_parquet`` reads it: an obstore
    store becomes the URL and ``storage_options`` of colbridge's own object-storage reader (its
    config and client options are object_store's keys; a local store is a path), so the read
    plan is the one of a URL (one request for the footer, the selected chunks coalesced and
    fetched concurrently); a pyarrow ``FileSystem`` or an fsspec filesystem, as
    ``pandas.read_parquet(filesystem=)`` takes them, opens a file object read by ranges, closed
    when the block ends.

    Example:
        >>> import obstore.store
        >>> with in_filesystem(obstore.store.S3Store("data", region="eu-west-1"), "f.parquet") as (
        ...     url, options):
        ...     url, options
        ('s3://data/f.parquet', {'region': 'eu-west-1'})
    """
    if storage_options is not None:
        raise InvalidInputError("give storage_options or filesystem, not both")
    if not _is_path(source) or not isinstance(os.fspath(source), str):
        raise InvalidInputError(
            f"with filesystem=, the source is the path of one file in it, "
            f"not {type(source).__name__}"
        )
    path = os.fspath(source).lstrip("/")
    kind = type(filesystem)
    if kind.__module__.split(".")[0] == "obstore":
        yield _obstore_source(filesystem, kind.__name__, path)
        return
    if callable(getattr(filesystem, "open_input_file", None)):  # pyarrow.fs.FileSystem
        opened = filesystem.open_input_file(os.fspath(source))
    elif callable(getattr(filesystem, "open", None)) and hasattr(filesystem, "protocol"):
        opened = filesystem.open(os.fspath(source), "rb")  # fsspec
    else:
        raise InvalidInputError(
            "filesystem= takes an obstore store, a pyarrow FileSystem or an fsspec filesystem, "
            f"not {kind.__name__}"
        )
    with closing(opened):
        yield opened, None


def _obstore_source(store: Any, kind: str, path: str) -> tuple[str, dict[str, Any] | None]:
    if any(part in ("", ".", "..") for part in path.rstrip("/").split("/")):
        # obstore refuses these too: a path never leaves its store (nor its prefix).
        raise InvalidInputError(
            f"{path!r}: a path in an obstore store has no empty, '.' or '..' segments"
        )
    raw = getattr(store, "prefix", None)
    if kind == "LocalStore":
        return (os.path.join(os.fspath(raw), path) if raw is not None else path), None
    prefix = str(raw).strip("/") if raw is not None else ""
    key = f"{prefix}/{path}" if prefix else path
    if getattr(store, "credential_provider", None) is not None:
        raise InvalidInputError(
            f"an obstore {kind} with a credential_provider: give its credentials as "
            "storage_options with the URL instead (colbridge's reader cannot call it)"
        )
    options = {str(k): v for k, v in (getattr(store, "client_options", None) or {}).items()}
    if kind == "HTTPStore":
        return f"{store.url.rstrip('/')}/{key}", options or None
    if kind not in _OBSTORE_URLS:
        raise InvalidInputError(
            f"an obstore {kind}: colbridge reads obstore's LocalStore, S3Store, GCSStore, "
            "AzureStore and HTTPStore"
        )
    scheme, bucket_key = _OBSTORE_URLS[kind]
    config = {str(k): v for k, v in store.config.items()}
    bucket = config.pop(bucket_key)
    return f"{scheme}://{bucket}/{key}", {**config, **options} or None


def local_file(source: Any, reader: str) -> Any:
    """``source`` for a reader of one local file (``read_ipc``, ``read_feather``): a ``file://``
    URL as its path; any other URL, a directory or a glob is refused saying what the reader
    takes (bytes and file objects pass through)."""
    if not _is_path(source):
        return source
    text = os.fspath(source)
    if not isinstance(text, str):
        return source
    takes = f"{reader} reads one local file, bytes or a binary file object"
    if _storage.scheme(text):
        raise InvalidInputError(
            f"{_storage.redact(text)}: {takes}; URLs (object storage) are read by "
            "read_parquet and read_pandas"
        )
    path = _local(text)
    if os.path.isdir(path):
        raise IsADirectoryError(21, f"is a directory: {takes}", text)
    if _GLOB.search(path) and not os.path.exists(path):
        raise InvalidInputError(f"{text}: {takes}, not a glob pattern")
    return path


def local_destination(where: Any, writer: str) -> Any:
    """``where`` for a writer: a path (a ``file://`` URL as its path) or a file object; a URL of
    object storage is refused, as writing there is not supported."""
    if not _is_path(where):
        return where
    text = os.fspath(where)
    if not isinstance(text, str):
        return where
    if _storage.scheme(text):
        raise InvalidInputError(
            f"{_storage.redact(text)}: {writer} writes to a local path or a binary file object; "
            "writing to object storage is not supported"
        )
    return _local(text)


class RangedFile:
    """A seekable binary file object read by ranges at absolute offsets, wherever it stands (as
    pyarrow reads one, so the same object can be read again): the Rust reader calls
    :meth:`read_at` from its decoding threads, one seek + read at a time.

    Example:
        >>> import io
        >>> r = RangedFile(io.BytesIO(b"PAR1..PAR1"))
        >>> r.size, r.read_at(6, 4)
        (10, b'PAR1')
    """

    def __init__(self, file: Any) -> None:
        self._file = file
        self._lock = threading.Lock()
        self.size: int = file.seek(0, os.SEEK_END)

    def read_at(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``; a short read is an ``OSError``."""
        with self._lock:
            self._file.seek(offset)
            data = self._file.read(length)
        try:
            # bytes, or any object with the buffer protocol (obstore's ``Bytes``); not text
            view = memoryview(data)
        except TypeError:
            raise UnsupportedTypeError(
                f"file object's read() must return bytes (open it in 'rb' mode), "
                f"not {type(data).__name__}"
            ) from None
        if view.nbytes != length:
            raise OSError(
                f"the file object returned {view.nbytes} of the {length} bytes at offset "
                f"{offset} (its size was {self.size} bytes when the read began)"
            )
        return data if isinstance(data, bytes) else view.tobytes()


def ranged_file(file: Any) -> RangedFile | None:
    """``file`` read by ranges when it can seek, else ``None`` (the reader reads it whole)."""
    seekable = getattr(file, "seekable", None)
    try:
        if not (callable(seekable) and seekable()):
            return None
        return RangedFile(file)
    except (OSError, ValueError, AttributeError):
        # io.UnsupportedOperation (an OSError and a ValueError) from an unseekable stream
        return None
