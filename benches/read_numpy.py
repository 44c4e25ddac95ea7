"""Parquet into one 2-D float64 array for a model: wall time and peak RSS of each reader.

The file is the numeric dataset of ``benches/parquet_to_pandas.py`` (int64, float64, int32 and
float32 columns without nulls, snappy, pyarrow's defaults), so the array is rows × 4 float64.
Every reader runs in a fresh child process per repeat (``benches/_child.py``: a warm-up read of
a small file of the same schema, then the timed read with the peak RSS reset before it).

Readers:
- ``colbridge.read_numpy(path)`` (each column decoded into its slice of the array)
- ``pd.read_parquet(path).to_numpy()``
- ``pl.read_parquet(path).to_numpy()``
- ``np.column_stack`` of ``pq.read_table(path)``'s columns (pyarrow has no 2-D export)

Goal (issue 13): peak RSS growth <= 1.1x the array, time <= 0.7x pandas'.

Not a test: run it directly and read the Markdown table it prints::

    .venv/bin/python benches/read_numpy.py                 # 20 million rows (640 MB array)
    .venv/bin/python benches/read_numpy.py --rows 2000000  # smaller
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import run, versions  # noqa: E402  (the benchmarks' shared child process)
from parquet_to_pandas import _numeric_table  # noqa: E402  (the same numeric dataset)

IMPORTS = (
    "import colbridge, numpy as np, pandas as pd, polars as pl, pyarrow.parquet as pq, "
    "pyarrow as pa"
)
READERS = {
    "colbridge.read_numpy": "colbridge.read_numpy(path)",
    "pd.read_parquet().to_numpy()": "pd.read_parquet(path).to_numpy()",
    "pl.read_parquet().to_numpy()": "pl.read_parquet(path).to_numpy()",
    "np.column_stack(pq.read_table())": (
        "np.column_stack([c.to_numpy().astype(np.float64) for c in pq.read_table(path).columns])"
    ),
}
BASELINE = "pd.read_parquet().to_numpy()"


def write_file(path: Path, rows: int) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_numeric_table(rows, 0.0), path, compression="snappy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(versions(args.repeats))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        warm, path = Path(tmp) / "warm.parquet", Path(tmp) / "numeric.parquet"
        write_file(warm, 10_000)
        write_file(path, args.rows)
        array_bytes = args.rows * 4 * 8
        for name, expression in READERS.items():
            runs = [run(IMPORTS, expression, path, warm) for _ in range(args.repeats)]
            assert all(r["shape"] == [args.rows, 4] for r in runs), runs
            results[name] = runs
    base = statistics.median(r["seconds"] for r in results[BASELINE])
    print(f"{args.rows:,} rows × 4 columns: a {array_bytes / 1e6:.0f} MB float64 array\n")
    print("| reader | wall time min (median) | time / pandas | peak RSS growth | peak / array |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        times = [r["seconds"] for r in runs]
        rss = statistics.median(r["rss_kib"] * 1024 for r in runs)
        print(
            f"| {name} | {min(times):.3f} s ({statistics.median(times):.3f} s) | "
            f"{statistics.median(times) / base:.2f} | {rss / 1e6:.0f} MB | "
            f"{rss / array_bytes:.2f} |"
        )


if __name__ == "__main__":
    main()
