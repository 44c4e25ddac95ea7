"""Reads the mutated Parquet files listed in the file named by its argument (one path per line)
and prints one JSON line per file:
what each colbridge reader did with it, and whether its values match pyarrow's where both
read it. Run by test_mutation_sweep.py in a child process, so a crash or a hang costs one
file, not the test run."""

from __future__ import annotations

import json
import sys
import warnings

import pyarrow as pa
import pyarrow.parquet as pq

import colbridge

warnings.simplefilter("ignore")


def outcome(read):
    try:
        return "ok", read()
    except colbridge.ParquetError as e:
        return type(e).__name__, None
    except BaseException as e:  # noqa: BLE001 - the point is to classify everything
        return f"{type(e).__module__}.{type(e).__name__}: {str(e)[:200]}", None


def plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionaries decoded (two readers may order the same values' dictionary differently)."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def same(ours: pa.ChunkedArray, theirs: pa.ChunkedArray) -> bool:
    ours, theirs = plain(ours), plain(theirs)
    try:
        return ours.equals(theirs.cast(ours.type))
    except Exception:  # noqa: BLE001 - types that do not cast: compare the values
        return repr(ours.to_pylist()) == repr(theirs.to_pylist())


def main() -> None:
    with open(sys.argv[1]) as listing:
        lines = listing.read().splitlines()
    for line in lines:
        path = line.strip()
        if not path:
            continue
        result = {"path": path}
        status, table = outcome(lambda p=path: pa.table(colbridge.read_parquet(p)))
        result["read_parquet"] = status
        result["iter_batches"] = outcome(
            lambda p=path: colbridge.ParquetFile(p).iter_batches(batch_size=1000).read_all()
        )[0]
        result["read_pandas"] = outcome(lambda p=path: colbridge.read_pandas(p).shape)[0]
        if table is not None:
            try:
                theirs = pq.read_table(path)
            except Exception:  # noqa: BLE001 - pyarrow refusing is fine
                theirs = None
            if theirs is not None:
                differ = [
                    name
                    for name in theirs.column_names
                    if name in table.column_names
                    and not same(table.column(name), theirs.column(name))
                ]
                if table.num_rows != theirs.num_rows:
                    differ.append(f"rows {table.num_rows} != {theirs.num_rows}")
                result["same_as_pyarrow"] = not differ
                if differ:
                    result["differ"] = differ
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
