"""The ``python -m colbridge`` command line: inspect and preview Parquet files.

Example:
    $ python -m colbridge inspect data.parquet
    $ python -m colbridge inspect data.parquet --json
    $ python -m colbridge head data.parquet -n 5 --columns a,b
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


def _head(path: str, n: int, columns: list[str] | None) -> str:
    from colbridge import ParquetFile

    pf = ParquetFile(path)
    rows: list[dict[str, Any]] = []
    names: list[str] = columns or pf.schema.names
    if n > 0:
        for batch in pf.iter_batches(batch_size=max(n, 1), columns=columns):
            rows.extend(batch.to_pylist())
            if len(rows) >= n:
                break
    rows = rows[:n]
    cells = [[str(r.get(c)) for c in names] for r in rows]
    widths = [min(30, max([len(c)] + [len(row[i]) for row in cells])) for i, c in enumerate(names)]

    def fmt(values: Sequence[str]) -> str:
        return "  ".join(
            (v if len(v) <= w else v[: w - 1] + "…").ljust(w)
            for v, w in zip(values, widths, strict=True)
        ).rstrip()

    lines = [fmt(names), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells]
    lines.append(f"({len(rows)} of {pf.num_rows:,} rows)")
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
            info = _describe(args.file)
            if args.json:
                print(json.dumps(info, indent=2, default=str))
            else:
                _print_inspect(info)
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
