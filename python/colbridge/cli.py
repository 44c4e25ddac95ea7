"""The ``python -m colbridge`` command line: inspect, preview and convert Parquet files.

Subcommands, as users of ``parquet-tools`` expect them: ``inspect`` (the whole footer),
``schema``, ``stats`` (per column, over all row groups), ``head`` and ``convert`` (between Parquet,
Arrow IPC / Feather and CSV). Statistics of date, time and timestamp columns are shown as
such, in the unit the file stores them in and the column's time zone. Bad files and bad
arguments give a one-line ``error:`` and exit status 1 (2 for usage errors, from argparse).
``inspect``, ``head`` and ``convert`` also take a dataset: a directory, a glob or a ``file://``
URL (``inspect`` then shows its files, partitions and unified schema).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from colbridge.errors import ColbridgeError

DESCRIPTION = "Inspect, preview and convert Parquet files with colbridge."
EPILOG = """examples:
  python -m colbridge inspect trips.parquet          schema, row groups, codecs, statistics
  python -m colbridge schema trips.parquet           the Arrow schema
  python -m colbridge stats trips.parquet            per-column statistics over the file
  python -m colbridge head trips.parquet -n 5 --columns trip_id,zone
  python -m colbridge convert trips.parquet trips.csv
  python -m colbridge convert trips.csv trips.parquet --compression snappy
  python -m colbridge -o anon=true head s3://bucket/trips.parquet
                                                     object storage (s3://, gs://, az://,
                                                     http(s)://); -o takes storage options,
                                                     the AWS_*/GOOGLE_*/AZURE_* variables work
"""

#: ``-o KEY=VALUE`` storage options for URLs, set by ``main``.
_STORAGE: dict[str, Any] = {}


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# --------------------------------------------------------------------------------------------
# Statistics as values of the column's type
# --------------------------------------------------------------------------------------------

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_EPOCH = dt.datetime(1970, 1, 1)


def _digits(value: int, stored: str, shown: str) -> tuple[int, str]:
    """``value`` ``stored`` units as whole seconds and the fraction in ``shown`` units' digits."""
    seconds, fraction = divmod(value, _PER_SECOND[stored])
    digits = len(str(_PER_SECOND[shown])) - 1
    fraction = fraction * _PER_SECOND[shown] // _PER_SECOND[stored]
    return seconds, f".{fraction:0{digits}d}" if digits else ""


def _timestamp_text(value: int, stored: str, shown: str, tz: str | None) -> str:
    """``value`` ``stored`` units since the epoch as ISO 8601 to the ``shown`` unit (the
    column's), in zone ``tz`` (with its offset) or naive."""
    from colbridge._filters import _zone

    seconds, fraction = _digits(value, stored, shown)
    when = _EPOCH + dt.timedelta(seconds=seconds)
    offset = ""
    if tz is not None:
        local = when.replace(tzinfo=dt.UTC).astimezone(_zone(tz))
        when, offset = local.replace(tzinfo=None), local.isoformat()[19:]
    return when.isoformat(sep=" ") + fraction + offset


def _time_text(value: int, stored: str, shown: str) -> str:
    seconds, fraction = _digits(value, stored, shown)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{fraction}"


def _stat_text(value: Any, arrow_type: Any, column: dict[str, Any]) -> Any:
    """A statistic of ``column`` (a column chunk's metadata) as a value of ``arrow_type``:
    dates, times and timestamps as text, read in the unit the file stores (which a writer may
    have coerced) and shown in the column's unit and zone; anything else unchanged."""
    if not isinstance(value, int) or isinstance(value, bool) or arrow_type is None:
        return value
    if arrow_type.is_dictionary:
        arrow_type = arrow_type.value_type
    shown = arrow_type.time_unit
    stored = column.get("time_unit") or shown  # a bare INT64 holds the Arrow type's unit
    try:
        if arrow_type.is_timestamp and stored and shown:
            return _timestamp_text(value, stored, shown, arrow_type.tz)
        if arrow_type.is_date and column["physical_type"] == "INT32":
            return (_EPOCH + dt.timedelta(days=value)).date().isoformat()
        if arrow_type.is_time and stored and shown:
            return _time_text(value, stored, shown)
    except (OverflowError, ValueError):  # beyond what datetime holds: the raw count
        return value
    return value


def _types_by_path(pf: Any) -> dict[str, Any]:
    """The Arrow type of each top-level column, by its Parquet column path (flat columns only:
    a nested column's leaves have dotted paths and keep raw statistics)."""
    schema = pf.schema
    return {f.name: f.type for f in (schema[i] for i in range(len(schema)))}


def _statistics(column: dict[str, Any], arrow_type: Any) -> dict[str, Any] | None:
    stats = column["statistics"]
    if not stats:
        return None
    return {
        **stats,
        "min": _stat_text(stats.get("min"), arrow_type, column),
        "max": _stat_text(stats.get("max"), arrow_type, column),
    }


# --------------------------------------------------------------------------------------------
# inspect, schema, stats, head
# --------------------------------------------------------------------------------------------


def _options(path: str) -> dict[str, Any] | None:
    """The ``-o`` storage options for a URL of object storage, else ``None``."""
    from colbridge._storage import scheme

    return dict(_STORAGE) if scheme(path) else None


def _open(path: str) -> Any:
    from colbridge import ParquetFile

    return ParquetFile(path, storage_options=_options(path))


def _dataset_files(path: str) -> list[Any] | None:
    """The files of a dataset (a directory, a glob, a URL prefix), or ``None`` for a file."""
    from colbridge._sources import list_files

    return list_files(path, _options(path))


def _describe_dataset(path: str, files: list[Any]) -> dict[str, Any]:
    from colbridge import ParquetFile
    from colbridge.dataset import Dataset

    ds = Dataset(files)
    return {
        "path": path,
        "num_files": len(files),
        "num_rows": sum(ParquetFile(f.source).num_rows for f in files),
        "partitions": {k: ds.partitioning.values[k] for k in ds.partitioning.keys},
        "schema": [
            {"name": f.name, "type": str(f.type), "nullable": f.nullable}
            for f in (ds.schema[i] for i in range(len(ds.schema)))
        ],
        "files": [f.path for f in files],
    }


def _print_dataset(info: dict[str, Any]) -> None:
    print(f"dataset:     {info['path']}")
    print(f"files:       {info['num_files']:,}")
    print(f"rows:        {info['num_rows']:,}")
    for key, values in info["partitions"].items():
        shown = ", ".join(map(str, values[:10])) + (", ..." if len(values) > 10 else "")
        print(f"partition:   {key} ({len(values)} values: {shown})")
    print("\nschema:")
    width = max((len(f["name"]) for f in info["schema"]), default=0)
    for f in info["schema"]:
        null = "" if f["nullable"] else " not null"
        print(f"  {f['name']:<{width}}  {f['type']}{null}")


def _schema(pf: Any) -> list[dict[str, Any]]:
    schema = pf.schema
    return [
        {"name": f.name, "type": str(f.type), "nullable": f.nullable}
        for f in (schema[i] for i in range(len(schema)))
    ]


def _describe(path: str) -> dict[str, Any]:
    pf = _open(path)
    meta = pf.metadata
    types = _types_by_path(pf)
    for rg in meta["row_groups"]:
        for col in rg["columns"]:
            col["statistics"] = _statistics(col, types.get(col["path"]))
    return {
        "path": path,
        "num_rows": meta["num_rows"],
        "num_row_groups": meta["num_row_groups"],
        "created_by": meta["created_by"],
        "schema": _schema(pf),
        "key_value_metadata": {
            k: v for k, v in meta["key_value_metadata"].items() if k not in ("ARROW:schema",)
        },
        "row_groups": meta["row_groups"],
    }


def _summary(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "no statistics"
    return f"min={stats.get('min')!r} max={stats.get('max')!r} nulls={stats.get('null_count')}"


def _print_inspect(info: dict[str, Any]) -> None:
    print(f"file:        {info['path']}")
    print(f"rows:        {info['num_rows']:,}")
    print(f"row groups:  {info['num_row_groups']}")
    print(f"created by:  {info['created_by']}")
    print("\nschema:")
    _print_schema(info["schema"], indent="  ")
    print("\nrow groups:")
    for i, rg in enumerate(info["row_groups"]):
        print(
            f"  #{i}: {rg['num_rows']:,} rows, {_human(rg['compressed_size'])} compressed, "
            f"{_human(rg['total_byte_size'])} uncompressed"
        )
        for col in rg["columns"]:
            logical = f" {col['logical_type']}" if col["logical_type"] else ""
            stored = col["physical_type"] + logical
            print(
                f"      {col['path']}: {stored} {col['compression']} "
                f"[{', '.join(col['encodings'])}] {_human(col['total_compressed_size'])}; "
                f"{_summary(col['statistics'])}"
            )
    if info["key_value_metadata"]:
        print("\nkey/value metadata:")
        for k, v in info["key_value_metadata"].items():
            text = v if v is None or len(v) <= 200 else v[:200] + "..."
            print(f"  {k}: {text}")


def _print_schema(fields: list[dict[str, Any]], indent: str = "") -> None:
    width = max((len(f["name"]) for f in fields), default=0)
    for f in fields:
        null = "" if f["nullable"] else " not null"
        print(f"{indent}{f['name']:<{width}}  {f['type']}{null}")


def _column_stats(path: str) -> list[dict[str, Any]]:
    """Per column chunk path, over all row groups: the stored types, codecs, encodings, sizes,
    null count and the smallest min / largest max (``None`` where a row group has none)."""
    pf = _open(path)
    types = _types_by_path(pf)
    out: dict[str, dict[str, Any]] = {}
    for rg in pf.metadata["row_groups"]:
        for col in rg["columns"]:
            entry = out.setdefault(
                col["path"],
                {
                    "column": col["path"],
                    "type": str(types[col["path"]]) if col["path"] in types else None,
                    "physical_type": col["physical_type"],
                    "logical_type": col["logical_type"],
                    "compression": set(),
                    "encodings": set(),
                    "compressed": 0,
                    "uncompressed": 0,
                    "nulls": 0,
                    "min": [],
                    "max": [],
                },
            )
            entry["compression"].add(col["compression"])
            entry["encodings"].update(col["encodings"])
            entry["compressed"] += col["total_compressed_size"] or 0
            entry["uncompressed"] += col["total_uncompressed_size"] or 0
            stats = col["statistics"] or {}
            nulls = stats.get("null_count")
            counted = nulls is not None and entry["nulls"] is not None
            entry["nulls"] = entry["nulls"] + nulls if counted else None
            entry["min"].append((stats.get("min"), col))
            entry["max"].append((stats.get("max"), col))
    result = []
    for entry in out.values():
        arrow_type = types.get(entry["column"])
        for key, pick in (("min", min), ("max", max)):
            values = entry[key]
            known = [(v, c) for v, c in values if v is not None]
            if len(known) < len(values) or not known:
                entry[key] = None
                continue
            try:
                value, col = pick(known, key=lambda vc: vc[0])
            except TypeError:  # values of mixed kinds: no order
                entry[key] = None
                continue
            entry[key] = _stat_text(value, arrow_type, col)
        entry["compression"] = sorted(entry["compression"])
        entry["encodings"] = sorted(entry["encodings"])
        result.append(entry)
    return result


def _table(header: list[str], rows: list[list[str]], limit: int = 30) -> str:
    widths = [min(limit, max([len(h)] + [len(r[i]) for r in rows])) for i, h in enumerate(header)]

    def fmt(values: Sequence[str]) -> str:
        return "  ".join(
            (v if len(v) <= w else v[: w - 1] + "…").ljust(w)
            for v, w in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def _print_stats(columns: list[dict[str, Any]]) -> None:
    header = ["column", "type", "nulls", "min", "max", "compressed", "codec", "encodings"]
    rows = [
        [
            c["column"],
            c["type"] or c["physical_type"],
            "?" if c["nulls"] is None else f"{c['nulls']:,}",
            "?" if c["min"] is None else str(c["min"]),
            "?" if c["max"] is None else str(c["max"]),
            _human(c["compressed"]),
            ",".join(c["compression"]),
            ",".join(c["encodings"]),
        ]
        for c in columns
    ]
    print(_table(header, rows, limit=32))


def _first_rows(path: str, n: int, columns: list[str] | None) -> tuple[list[Any], list[str], int]:
    """The first ``n`` rows of a file or dataset, the column names, and the total row count."""
    from colbridge import ParquetFile
    from colbridge.dataset import Dataset

    rows: list[dict[str, Any]] = []
    files = _dataset_files(path)
    if files is None:
        pf = _open(path)
        if n > 0:
            for batch in pf.iter_batches(batch_size=n, columns=columns):
                rows.extend(batch.to_pylist())
                if len(rows) >= n:
                    break
        return rows[:n], columns or pf.schema.names, pf.num_rows
    ds = Dataset(files)
    total = sum(ParquetFile(f.source).num_rows for f in files)
    for ref in files:  # file by file, until n rows
        if len(rows) >= n:
            break
        rows.extend(Dataset([ref]).read(columns).to_pylist())
    return rows[:n], columns or ds.schema.names, total


def _head(path: str, n: int, columns: list[str] | None) -> str:
    rows, names, total = _first_rows(path, n, columns)
    cells = [[str(r.get(c)) for c in names] for r in rows]
    return _table(names, cells) + f"\n({len(rows)} of {total:,} rows)"


# --------------------------------------------------------------------------------------------
# convert
# --------------------------------------------------------------------------------------------

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".parq": "parquet",
    ".csv": "csv",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
    ".arrows": "ipc-stream",
}
COMPRESSIONS = {
    "parquet": ["zstd", "snappy", "gzip", "lz4", "brotli", "none"],
    "csv": ["none"],
    "ipc": ["none", "lz4", "zstd"],
    "ipc-stream": ["none", "lz4", "zstd"],
}


def _pyarrow(what: str) -> Any:
    from colbridge._optional import require

    return require("pyarrow", what)


def _read_parquet(path: str, columns: list[str] | None) -> Any:
    import colbridge

    return colbridge.read_parquet(path, columns=columns, storage_options=_options(path))


def _read_csv(path: str, columns: list[str] | None) -> Any:
    _pyarrow("reading CSV")
    from pyarrow import csv

    table = csv.read_csv(path)
    return table if columns is None else table.select(columns)


def _write_parquet(data: Any, path: str, compression: str | None) -> None:
    import colbridge

    colbridge.write_parquet(data, path, compression=compression or "zstd")


def _write_csv(data: Any, path: str, compression: str | None) -> None:
    pa = _pyarrow("writing CSV")
    from pyarrow import csv

    _replace(path, lambda tmp: csv.write_csv(pa.table(data), tmp))


def _read_ipc(path: str, columns: list[str] | None) -> Any:
    import colbridge

    return colbridge.read_ipc(path, columns=columns)


def _ipc_writer(form: Literal["file", "stream"]) -> Callable[[Any, str, str | None], None]:
    def write(data: Any, path: str, compression: str | None) -> None:
        import colbridge

        codec = None if compression in (None, "none") else compression
        colbridge.write_ipc(data, path, compression=codec, format=form)  # type: ignore[arg-type]

    return write


# One reader and one writer per format (IPC files are Feather v2; .arrows is the stream format).
READERS: dict[str, Callable[[str, list[str] | None], Any]] = {
    "parquet": _read_parquet,
    "csv": _read_csv,
    "ipc": _read_ipc,
    "ipc-stream": _read_ipc,
}
WRITERS: dict[str, Callable[[Any, str, str | None], None]] = {
    "parquet": _write_parquet,
    "csv": _write_csv,
    "ipc": _ipc_writer("file"),
    "ipc-stream": _ipc_writer("stream"),
}


def _replace(path: str, write: Callable[[str], object]) -> None:
    """``write`` into a temporary file beside ``path``, then renamed over it: an error leaves
    no partial output (``write_parquet`` does the same for Parquet)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.colbridge-tmp")
    try:
        write(str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _format(path: str, given: str | None, role: str) -> str:
    if given:
        return given
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise _UsageError(
            f"cannot tell the format of {role} {path!r} from its extension (known: {known}): "
            f"give --{'from' if role == 'input' else 'to'}"
        )
    return FORMATS[suffix]


class _UsageError(Exception):
    """Arguments that do not fit together: a one-line error, exit status 1."""


def _convert(args: argparse.Namespace, columns: list[str] | None) -> str:
    source = _format(args.input, args.source_format, "input")
    target = _format(args.output, args.target_format, "output")
    compression = args.compression
    if compression is not None and compression not in COMPRESSIONS[target]:
        raise _UsageError(
            f"--compression {compression}: {target} output takes " + ", ".join(COMPRESSIONS[target])
        )
    folder = Path(args.output).parent
    if not folder.is_dir():
        raise _UsageError(f"cannot write {args.output}: no such directory: {folder}")
    if os.path.abspath(args.input) == os.path.abspath(args.output) and source != "parquet":
        raise _UsageError("the output would replace the input: give another output path")
    data = READERS[source](args.input, columns)
    WRITERS[target](data, args.output, compression)
    rows = getattr(data, "num_rows", None)
    return f"wrote {args.output} ({target}{'' if rows is None else f', {rows:,} rows'})"


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of rows, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"the number of rows cannot be negative, got {n}")
    return n


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m colbridge",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-o",
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a storage option for s3://, gs://, az:// and http(s):// URLs, as pandas' "
        "storage_options (e.g. -o endpoint_url=http://127.0.0.1:9000 -o anon=true)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    inspect = sub.add_parser("inspect", help="schema, row groups, codecs, encodings, statistics")
    inspect.add_argument("file")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    schema = sub.add_parser("schema", help="the Arrow schema (names, types, nullability)")
    schema.add_argument("file")
    schema.add_argument("--json", action="store_true", help="machine-readable output")
    stats = sub.add_parser("stats", help="per-column statistics, sizes and codecs over the file")
    stats.add_argument("file")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    head = sub.add_parser("head", help="a readable preview of the first rows")
    head.add_argument("file")
    head.add_argument("-n", type=_count, default=10, help="number of rows (default 10)")
    head.add_argument("--columns", help="comma-separated column names")
    convert = sub.add_parser(
        "convert",
        help="between Parquet, Arrow IPC / Feather and CSV, or to another codec",
        description=(
            "Convert between Parquet (.parquet, .pq, .parq), Arrow IPC / Feather v2 files "
            "(.arrow, .ipc, .feather), the Arrow IPC stream format (.arrows) and CSV (.csv), by "
            "extension or --from / --to. Parquet and IPC are read and written by colbridge; CSV "
            "needs pyarrow for now. The input is read whole into memory (an IPC file is "
            "memory-mapped); the output is replaced only once complete."
        ),
    )
    convert.add_argument("input")
    convert.add_argument("output")
    convert.add_argument("--from", dest="source_format", choices=sorted(COMPRESSIONS))
    convert.add_argument("--to", dest="target_format", choices=sorted(COMPRESSIONS))
    convert.add_argument(
        "--compression",
        help="Parquet output: zstd (default), snappy, gzip, lz4, brotli or none",
    )
    convert.add_argument("--columns", help="comma-separated column names to keep")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 bad file or arguments, 2 usage error)."""
    args = _parser().parse_args(argv)
    _STORAGE.clear()
    for item in args.storage_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: -o takes KEY=VALUE, not {item!r}", file=sys.stderr)
            return 2
        _STORAGE[key] = int(value) if value.isdigit() else value
    listed = getattr(args, "columns", None)
    columns = [c.strip() for c in listed.split(",")] if listed else None
    path = args.input if args.command == "convert" else args.file
    try:
        if args.command == "inspect":
            files = _dataset_files(path)
            info = _describe(path) if files is None else _describe_dataset(path, files)
            if args.json:
                print(json.dumps(info, indent=2, default=str))
            elif files is None:
                _print_inspect(info)
            else:
                _print_dataset(info)
        elif args.command == "schema":
            fields = _schema(_open(path))
            if args.json:
                print(json.dumps(fields, indent=2))
            else:
                _print_schema(fields)
        elif args.command == "stats":
            column_stats = _column_stats(path)
            if args.json:
                print(json.dumps(column_stats, indent=2, default=str))
            else:
                _print_stats(column_stats)
        elif args.command == "head":
            print(_head(path, args.n, columns))
        else:
            print(_convert(args, columns))
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except FileNotFoundError as e:
        print(f"error: no such file: {e.filename or path}", file=sys.stderr)
        return 1
    except (ColbridgeError, _UsageError, ImportError, IsADirectoryError) as e:
        print(f"error: {e}", file=sys.stderr)  # the message names the file already
        return 1
    except OSError as e:
        print(f"error: {path}: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # pyarrow's errors on CSV input
        if type(e).__module__.startswith("pyarrow"):
            print(f"error: {path}: {e}", file=sys.stderr)
            return 1
        raise
    return 0
