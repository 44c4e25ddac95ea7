"""The ``python -m colbridge`` command line: inspect and preview Parquet files and datasets
(a directory, a glob, a ``file://`` URL).

Example:
    $ python -m colbridge inspect data.parquet
    $ python -m colbridge inspect data.parquet --json
    $ python -m colbridge head data.parquet -n 5 --columns a,b
    $ python -m colbridge inspect 'sales/' ; python -m colbridge head 'sales/*/*.parquet'
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from colbridge.errors import ColbridgeError


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


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


def _describe(path: str) -> dict[str, Any]:
    from colbridge import ParquetFile

    pf = ParquetFile(path)
    meta = pf.metadata
    schema = pf.schema
    return {
        "path": path,
        "num_rows": meta["num_rows"],
        "num_row_groups": meta["num_row_groups"],
        "created_by": meta["created_by"],
        "schema": [
            {"name": f.name, "type": str(f.type), "nullable": f.nullable}
            for f in (schema[i] for i in range(len(schema)))
        ],
        "key_value_metadata": {
            k: v for k, v in meta["key_value_metadata"].items() if k not in ("ARROW:schema",)
        },
        "row_groups": meta["row_groups"],
    }


def _print_inspect(info: dict[str, Any]) -> None:
    print(f"file:        {info['path']}")
    print(f"rows:        {info['num_rows']:,}")
    print(f"row groups:  {info['num_row_groups']}")
    print(f"created by:  {info['created_by']}")
    print("\nschema:")
    width = max((len(f["name"]) for f in info["schema"]), default=0)
    for f in info["schema"]:
        null = "" if f["nullable"] else " not null"
        print(f"  {f['name']:<{width}}  {f['type']}{null}")
    print("\nrow groups:")
    for i, rg in enumerate(info["row_groups"]):
        print(
            f"  #{i}: {rg['num_rows']:,} rows, {_human(rg['compressed_size'])} compressed, "
            f"{_human(rg['total_byte_size'])} uncompressed"
        )
        for col in rg["columns"]:
            stats = col["statistics"] or {}
            summary = (
                f"min={stats.get('min')!r} max={stats.get('max')!r} nulls={stats.get('null_count')}"
                if stats
                else "no statistics"
            )
            print(
                f"      {col['path']}: {col['physical_type']} {col['compression']} "
                f"[{', '.join(col['encodings'])}] {_human(col['total_compressed_size'])}; {summary}"
            )
    if info["key_value_metadata"]:
        print("\nkey/value metadata:")
        for k, v in info["key_value_metadata"].items():
            text = v if v is None or len(v) <= 200 else v[:200] + "..."
            print(f"  {k}: {text}")


def _first_rows(path: str, n: int, columns: list[str] | None) -> tuple[list[Any], list[str], int]:
    """The first ``n`` rows of a file or dataset, the column names, and the total row count."""
    from colbridge import ParquetFile
    from colbridge._sources import list_files
    from colbridge.dataset import Dataset

    rows: list[dict[str, Any]] = []
    files = list_files(path)
    if files is None:
        pf = ParquetFile(path)
        if n > 0:
            for batch in pf.iter_batches(batch_size=max(n, 1), columns=columns):
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
    widths = [min(30, max([len(c)] + [len(row[i]) for row in cells])) for i, c in enumerate(names)]

    def fmt(values: Sequence[str]) -> str:
        return "  ".join(
            (v if len(v) <= w else v[: w - 1] + "…").ljust(w)
            for v, w in zip(values, widths, strict=True)
        ).rstrip()

    lines = [fmt(names), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells]
    lines.append(f"({len(rows)} of {total:,} rows)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 bad file, 2 usage error)."""
    parser = argparse.ArgumentParser(prog="python -m colbridge", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    inspect = sub.add_parser("inspect", help="schema, row groups, codecs, encodings, statistics")
    inspect.add_argument("file")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    head = sub.add_parser("head", help="a readable preview of the first rows")
    head.add_argument("file")
    head.add_argument("-n", type=int, default=10, help="number of rows (default 10)")
    head.add_argument("--columns", help="comma-separated column names")
    args = parser.parse_args(argv)
    try:
        if args.command == "inspect":
            from colbridge._sources import list_files

            files = list_files(args.file)
            info = _describe(args.file) if files is None else _describe_dataset(args.file, files)
            if args.json:
                print(json.dumps(info, indent=2, default=str))
            elif files is None:
                _print_inspect(info)
            else:
                _print_dataset(info)
        else:
            columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
            print(_head(args.file, args.n, columns))
    except FileNotFoundError:
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 1
    except IsADirectoryError:
        print(f"error: is a directory: {args.file}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except ColbridgeError as e:  # the message names the file already
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {args.file}: {e}", file=sys.stderr)
        return 1
    return 0
