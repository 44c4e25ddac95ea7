"""Reads the mutated Parquet files listed in the file named by its argument (one path per line)
and prints one JSON line per file: what each colbridge reader did with it, and whether its
values match pyarrow's (pandas' for ``read_pandas``) where both read it. Run by
test_mutation_sweep.py in a child process, so a crash or a hang costs one file, not the test
run."""

from __future__ import annotations

import json
import sys
import warnings

import pandas as pd
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


def frame_differs(frame: pd.DataFrame, path: str) -> list[str]:
    """Where colbridge's frame differs from pandas' own read of the same file (nothing when
    pandas refuses it)."""
    try:
        want = pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - pandas refusing is fine
        return []
    try:
        pd.testing.assert_frame_equal(frame, want)
    except AssertionError as e:
        return [f"read_pandas: {str(e).splitlines()[0][:120]}"]
    return []


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
        status, batches = outcome(
            lambda p=path: pa.table(
                colbridge.ParquetFile(p).iter_batches(batch_size=1000).read_all()
            )
        )
        result["iter_batches"] = status
        status, frame = outcome(lambda p=path: colbridge.read_pandas(p))
        result["read_pandas"] = status
        try:
            theirs = pq.read_table(path)
        except Exception:  # noqa: BLE001 - pyarrow refusing is fine
            theirs = None
        differ = []
        if theirs is not None:
            for reader, got in (("read_parquet", table), ("iter_batches", batches)):
                if got is None:
                    continue
                differ += [
                    f"{reader}: {name}"
                    for name in theirs.column_names
                    if name in got.column_names and not same(got.column(name), theirs.column(name))
                ]
                if got.num_rows != theirs.num_rows:
                    differ.append(f"{reader}: rows {got.num_rows} != {theirs.num_rows}")
            if frame is not None:
                differ += frame_differs(frame, path)
            result["same_as_pyarrow"] = not differ
            if differ:
                result["differ"] = differ
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
