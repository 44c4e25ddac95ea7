"""Datasets: a directory, a glob, a list of files, local or in object storage (``file://``,
``s3://``, ``gs://``, ``az://``, ``http(s)://``), read as one table.

The source layer has two steps: :func:`list_files` turns what the user passed into
:class:`FileRef` s (where a file is, and the hive partition values its path carries; a remote
prefix is listed in one request), and every file is then read by the single-file reader
through ``FileRef.source`` (for a remote file, a ``RemoteFile`` opened with one request for its
size and footer, then read by ranges).

``pd.read_parquet(directory)`` (pyarrow's dataset discovery) is the reference, checked by the
tests in ``tests/dataset/``:

- a directory is walked recursively; files and directories whose name starts with ``.`` or
  ``_`` (``_SUCCESS``, ``_metadata``, ``.crc``) are skipped; files are read in path order;
- ``key=value`` directories become Categorical columns after the data columns: ``int32``
  categories when every value is an integer fitting in 32 bits, strings otherwise, in order of
  first appearance; values are URL-decoded and ``__HIVE_DEFAULT_PARTITION__`` is null;
- the first file's schema is the dataset's: a column missing from a later file is null there,
  a column only later files have is left out, and a column whose type differs from the first
  file's must convert without loss (integers, floats, strings or binaries of other widths),
  else :class:`~colbridge.SchemaError` names both files;
- ``filters`` on partition keys drop whole files before any of their bytes are read; the rest
  of a filter goes to each file's reader (row groups, pages, rows);
- an empty directory reads as an empty table (an empty DataFrame, as pandas returns).

Files are decoded in parallel (each read releases the GIL), then joined: a :class:`Table` keeps
one chunk per file (no copy); a DataFrame is assembled column by column, each file's part freed
as soon as it is copied into the result, so the peak stays near the output plus one column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict, Unpack

from colbridge import _colbridge as _core
from colbridge import _storage
from colbridge._colbridge import DataType, ParquetFile, Schema, Table
from colbridge._partitioning import Filters, Partitioning, Term, file_filters
from colbridge._sources import FileRef, list_files, single_file
from colbridge.errors import InvalidInputError, SchemaError

__all__ = ["Dataset", "FileRef", "dataset", "list_files"]


class Limits(TypedDict, total=False):
    """``read_parquet``'s resource limits, applied to every file of a dataset."""

    max_footer_bytes: int | None
    max_page_bytes: int | None
    max_decoded_bytes: int | None


def _compatible(first: DataType, other: DataType) -> bool:
    """Whether a column of type ``other`` converts to ``first`` without loss of meaning (the
    values themselves are checked by the cast)."""
    if first == other:
        return True
    if first.is_dictionary and first.value_type is not None:
        inner = other.value_type if other.is_dictionary else other
        return inner is not None and _compatible(first.value_type, inner)
    for kind in ("is_integer", "is_floating", "is_string", "is_binary"):
        if getattr(first, kind) and getattr(other, kind):
            return True
    return first.is_timestamp and other.is_timestamp and first.time_unit == other.time_unit


class Dataset:
    """Parquet files read as one table: see the module notes for what pyarrow-compatible
    discovery, partitioning and schema rules apply.

    Example:
        >>> ds = colbridge.dataset.dataset(["data.parquet", "data.parquet"])
        >>> len(ds.files), ds.read(columns=["x"]).num_rows
        (2, 2000)
    """

    def __init__(self, files: Sequence[FileRef], **limits: Unpack[Limits]) -> None:
        self.files: list[FileRef] = list(files)
        self.partitioning = Partitioning.of(self.files)
        self._limits: Limits = limits
        self._schemas: dict[int, Schema] = {}
        self._dictionaries: dict[str, Any] = {}

    def __repr__(self) -> str:
        keys = ", ".join(self.partitioning.keys) or "none"
        return f"colbridge.Dataset({len(self.files)} files, partitions: {keys})"

    def file_schema(self, i: int) -> Schema:
        """The Arrow schema of file ``i`` (its footer, read once)."""
        if i not in self._schemas:
            self._schemas[i] = ParquetFile(self.files[i].source, **self._limits).schema
        return self._schemas[i]

    @property
    def schema(self) -> Schema:
        """The dataset's schema: the first file's columns, then the partition keys."""
        if not self.files:
            return Schema([])
        first = self.file_schema(0)
        fields = [first.field(i) for i in range(len(first))]
        names = set(first.names)
        for key in self.partitioning.keys:
            if key not in names:
                fields.append(_core_field(key, self.partitioning.field_type(key)))
        return Schema(fields)

    def check_schema(self, i: int, columns: Sequence[str]) -> None:
        """Raise :class:`SchemaError` when file ``i`` holds one of ``columns`` with a type the
        first file's cannot take."""
        if i == 0:
            return
        first, this = self.file_schema(0), self.file_schema(i)
        names = set(this.names)
        for name in columns:
            if name not in names:
                continue
            a, b = first.field(name).type, this.field(name).type
            if not _compatible(a, b):
                raise SchemaError(
                    f"column '{name}' is {a} in {self.files[0].path} but {b} in "
                    f"{self.files[i].path}"
                )

    def _plan(
        self, columns: Sequence[str] | None, filters: Filters | None
    ) -> tuple[list[str], list[str], list[tuple[int, list[list[Term]] | None]]]:
        """The columns in output order, those of them read from the files, and the files that
        can hold wanted rows with the filter left for each."""
        first = self.file_schema(0).names if self.files else []
        keys = [k for k in self.partitioning.keys if k not in first]
        wanted = list(columns) if columns is not None else first + keys
        unknown = [c for c in wanted if c not in first and c not in keys]
        if unknown:
            raise InvalidInputError(f"no column named '{unknown[0]}' in the dataset")
        picked: list[tuple[int, list[list[Term]] | None]] = []
        for i, ref in enumerate(self.files):
            keep, rest = file_filters(filters, ref, self.partitioning)
            if keep:
                picked.append((i, rest))
        return wanted, [c for c in wanted if c not in keys], picked

    def _read_files(
        self,
        picked: list[tuple[int, list[list[Term]] | None]],
        read_one: Callable[[int, list[list[Term]] | None], Any],
        use_threads: bool,
    ) -> Iterator[Any]:
        workers = min(len(picked), os.cpu_count() or 1) if use_threads else 1
        if workers <= 1:
            for i, rest in picked:
                yield read_one(i, rest)
            return
        with ThreadPoolExecutor(workers) as pool:
            yield from pool.map(lambda item: read_one(*item), picked)

    def read(
        self,
        columns: Sequence[str] | None = None,
        filters: Filters | None = None,
        use_threads: bool = True,
        on_progress: Callable[[int, int], object] | None = None,
        batch_size: int | None = None,
    ) -> Table:
        """Read the dataset into a :class:`Table` with one chunk per file (no concatenation;
        ``batch_size`` splits each file's chunk further).

        Example:
            >>> ds = colbridge.dataset.dataset(["data.parquet"] * 3)
            >>> ds.read(filters=[("x", "<", 2)]).num_rows
            600
        """
        if not self.files:
            return _core.table_from_columns([], [])
        names, data, picked = self._plan(columns, filters)
        for i, _ in picked:
            self.check_schema(i, data)
        first = self.file_schema(0)
        progress = _Aggregate(on_progress)

        def read_one(i: int, rest: list[list[Term]] | None) -> Table:
            present = [c for c in data if c in self.file_schema(i).names]
            return _core.read_parquet(
                self.files[i].source,
                columns=present,
                filters=rest,
                batch_size=batch_size,
                use_threads=use_threads,
                on_progress=progress.of(i),
                **self._limits,
            )

        tables = list(self._read_files(picked, read_one, use_threads))
        columns_out = []
        for name in names:
            if name not in data:
                chunks = [
                    self._partition_array(
                        name, self.partitioning.value(self.files[i], name), len(t)
                    )
                    for (i, _), t in zip(picked, tables, strict=True)
                ]
                target = DataType(self.partitioning.field_type(name))
                columns_out.append(_chunked(chunks, target))
                continue
            target = first.field(name).type
            chunks = []
            for t in tables:
                if name in t.column_names:
                    for chunk in t.column(name).chunks:
                        chunks.append(chunk if chunk.type == target else chunk.cast(target))
                else:
                    chunks.append(_core.array_from_sequence([None] * t.num_rows).cast(target))
            columns_out.append(_chunked(chunks, target))
        return _core.table_from_columns(names, columns_out)

    def _partition_array(self, key: str, value: Any, n: int) -> Any:
        """A file's partition column: ``n`` times its value, dictionary-encoded as pyarrow
        types it (int32 indices into every value of the key, one dictionary shared by all
        files so the chunks concatenate as one Categorical)."""
        import numpy as np

        if key not in self._dictionaries:
            values = self.partitioning.values[key]
            type_ = "int32" if self.partitioning.integer[key] else "string"
            self._dictionaries[key] = _core.array_from_sequence(values, type_)
        categories = self.partitioning.values[key]
        codes = np.full(n, 0 if value is None else categories.index(value), dtype=np.int32)
        mask = np.full(n, value is None)
        indices = _core.array_from_buffer(codes, "int32", mask if value is None else None)
        return _core.dictionary_from_indices(indices, self._dictionaries[key])

    def read_pandas(
        self,
        columns: Sequence[str] | None = None,
        filters: Filters | None = None,
        use_threads: bool = True,
        dtype_backend: str | None = None,
        on_progress: Callable[[int, int], object] | None = None,
    ) -> Any:
        """Read the dataset into a pandas DataFrame, as ``pd.read_parquet(directory)`` does.

        Each file is decoded by :func:`colbridge.read_pandas`, files in parallel; the result is
        assembled column by column, each file's part freed once copied, so the peak stays near
        the output plus one column.

        Example:
            >>> df = colbridge.dataset.dataset(["data.parquet"] * 2).read_pandas(columns=["x"])
            >>> df.shape, df.index[-1]
            ((2000, 1), 1999)
        """
        from colbridge.parquet import read_pandas

        pd = _pandas()
        if not self.files:
            return pd.DataFrame(columns=pd.Index([], dtype=object))
        names, data, picked = self._plan(columns, filters)
        for i, _ in picked:
            self.check_schema(i, data)

        progress = _Aggregate(on_progress)

        def read_one(i: int, rest: list[list[Term]] | None) -> Any:
            present = [c for c in data if c in self.file_schema(i).names]
            return read_pandas(
                self.files[i].source,
                columns=present,
                filters=rest,
                use_threads=use_threads,
                dtype_backend=dtype_backend,
                progress=progress.of(i) or False,
                **self._limits,
            )

        frames = list(self._read_files(picked, read_one, use_threads))
        lengths = [len(f) for f in frames]
        if not frames:  # every file filtered out: the columns of the first, no rows
            frames = [read_pandas(self.files[0].source, columns=data, row_groups=[])]
            lengths = [0]
        keep_index = any(not isinstance(f.index, pd.RangeIndex) for f in frames)
        index = pd.RangeIndex(sum(lengths)) if not keep_index else None
        out: dict[str, Any] = {}
        for name in data:
            out[name] = _concat_column(pd, frames, name, index, self._first_type(name))
        if index is None:
            index = out[data[0]].index if data else _concat_index(pd, frames)
        for key in (n for n in names if n not in data):
            codes = [
                _partition_code(self.partitioning, key, self.files[i])
                for i, _ in (picked or [(0, None)])
            ]
            import numpy as np

            full = np.repeat(np.array(codes, dtype=np.int32), lengths)
            cats = _categories(pd, self.partitioning.values[key], key, self)
            out[key] = pd.Series(pd.Categorical.from_codes(full, categories=cats), index=index)
        df = pd.DataFrame({name: out[name] for name in names}, index=index, copy=False)
        df.columns.name = frames[0].columns.name
        return df

    def _first_type(self, name: str) -> DataType:
        return self.file_schema(0).field(name).type


def _core_field(name: str, type_: str) -> Any:
    from colbridge._colbridge import Field

    return Field(name, DataType(type_))


def _chunked(chunks: list[Any], type_: DataType) -> Any:
    if chunks:
        return _core.chunked_from_arrays(chunks)
    return _core.chunked_from_arrays([_core.array_from_sequence([]).cast(type_)])


def _pandas() -> Any:
    from colbridge._optional import require

    return require("pandas", "reading a dataset into pandas")


def _categories(pd: Any, values: list[Any], key: str, ds: Dataset) -> Any:
    import numpy as np

    if ds.partitioning.integer[key]:
        return pd.Index(np.array(values, dtype=np.int32))
    return pd.Index(values, dtype="str")


def _partition_code(p: Partitioning, key: str, ref: FileRef) -> int:
    value = p.value(ref, key)
    return -1 if value is None else p.values[key].index(value)


def _concat_index(pd: Any, frames: list[Any]) -> Any:
    return pd.concat([f.index.to_series() for f in frames]).index


def _concat_column(pd: Any, frames: list[Any], name: str, index: Any, first: DataType) -> Any:
    """One column of the result, from each file's part (freed as soon as it is copied)."""
    parts = []
    for f in frames:
        if name in f.columns:
            parts.append(f[name])
        else:
            parts.append(None)
    like = next((p for p in parts if p is not None), None)
    assert like is not None
    filled = [
        p if p is not None else like.iloc[:0].reindex(range(len(f)))
        for p, f in zip(parts, frames, strict=True)
    ]
    if all(isinstance(p.dtype, pd.CategoricalDtype) for p in filled) and len(filled) > 1:
        from pandas.api.types import union_categoricals

        cat = union_categoricals([p.array for p in filled], ignore_order=True)
        column = pd.Series(cat, index=_concat_index(pd, frames) if index is None else index)
    else:
        column = pd.concat(filled, ignore_index=index is not None)
        if index is not None:
            column.index = index
        dtype = filled[0].dtype
        if column.dtype != dtype and first.is_integer and column.dtype.kind in "iu":
            # (an integer column with nulls is a masked Int64 here, as colbridge reads one file)
            column = column.astype(str(dtype).capitalize() if column.hasnans else dtype)
    for f in frames:
        if name in f.columns:
            del f[name]  # the file's part is copied: free it before the next column
    return column.rename(name)


class _Aggregate:
    """One progress callback over the reads of many files."""

    def __init__(self, callback: Callable[[int, int], object] | None) -> None:
        self.callback = callback
        self.parts: dict[int, tuple[int, int]] = {}

    def of(self, i: int) -> Callable[[int, int], None] | None:
        if self.callback is None:
            return None

        def update(done: int, total: int) -> None:
            self.parts[i] = (done, total)
            assert self.callback is not None
            self.callback(
                sum(d for d, _ in self.parts.values()), sum(t for _, t in self.parts.values())
            )

        return update


def dataset(
    source: Any, storage_options: Mapping[str, Any] | None = None, **limits: Unpack[Limits]
) -> Dataset:
    """A :class:`Dataset` over a directory, a glob, a list of paths or one file, local or in
    object storage (``storage_options`` as :func:`colbridge.read_parquet` takes them).

    ``limits`` are ``read_parquet``'s resource limits (``max_footer_bytes``,
    ``max_page_bytes``, ``max_decoded_bytes``), applied to every file.

    Example:
        >>> ds = colbridge.dataset.dataset("data.parquet")
        >>> ds.files, ds.schema.names
        ([FileRef(path='data.parquet', partitions=())], ['x', 'y'])
    """
    files = list_files(source, storage_options)
    if files is None:
        if not isinstance(source, str | os.PathLike):
            raise InvalidInputError(
                f"a dataset is made of paths; got {type(source).__name__} (read it with "
                "read_parquet)"
            )
        if isinstance(source, str) and _storage.scheme(source):
            return Dataset([FileRef(source, (), storage_options)], **limits)
        path = single_file(source)
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", os.fspath(source))
        files = [FileRef(path)]
    return Dataset(files, **limits)
