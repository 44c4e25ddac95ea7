"""Where a dataset's files are: the source layer under :mod:`colbridge.dataset`.

:func:`list_files` turns what a user passes (a directory, a glob, a list of paths, a
``file://`` URL) into :class:`FileRef` s: a file's location and the hive partition values its
path carries. Everything above reads a file through ``FileRef.source`` alone, so object storage
slots in here: a remote scheme lists its keys into ``FileRef`` s whose ``source`` is a ranged
reader of the object. Until then those schemes raise an error listing what works.
"""

from __future__ import annotations

import glob
import os
import re
import threading
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from colbridge.errors import InvalidInputError, UnsupportedTypeError

#: URL schemes colbridge reads; object stores are listed in ``REMOTE_SCHEMES`` until they work.
LOCAL_SCHEMES = ("file",)
REMOTE_SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss", "http", "https")
_SUPPORTED = "local paths, directories, globs, lists of paths and file:// URLs"

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

    @property
    def source(self) -> Any:
        """What ``read_parquet`` / ``ParquetFile`` take to read this file."""
        return self.path


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
    if scheme in REMOTE_SCHEMES:
        raise InvalidInputError(
            f"{text}: {scheme}:// (object storage) is not supported yet; colbridge reads "
            f"{_SUPPORTED}"
        )
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


def list_files(source: Any) -> list[FileRef] | None:
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
            path = _local(os.fspath(item))
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
    path = _local(text)
    if os.path.isdir(path):
        return _walk(path)
    if _GLOB.search(path) and not os.path.exists(path):
        return _glob(path)
    return None


def single_file(source: Any) -> Any:
    """``source`` as the single-file reader takes it: a ``file://`` URL as its path; a
    directory is ``IsADirectoryError`` pointing at datasets (``ParquetFile`` reads one file)."""
    if not isinstance(source, str | os.PathLike):
        return source
    text = os.fspath(source)
    if not isinstance(text, str):
        return source
    path = _local(text)
    if os.path.isdir(path):
        raise IsADirectoryError(
            21,
            "is a directory: ParquetFile reads one file; read a dataset with "
            "colbridge.read_parquet(path) or colbridge.dataset.dataset(path)",
            text,
        )
    return path


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
        if not isinstance(data, bytes | bytearray | memoryview):
            raise UnsupportedTypeError(
                f"file object's read() must return bytes (open it in 'rb' mode), "
                f"not {type(data).__name__}"
            )
        if len(data) != length:
            raise OSError(
                f"the file object returned {len(data)} of the {length} bytes at offset {offset} "
                f"(its size was {self.size} bytes when the read began)"
            )
        return bytes(data)


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
