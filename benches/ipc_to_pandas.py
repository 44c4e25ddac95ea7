"""Feather (Arrow IPC file) into pandas: wall time and peak RSS growth of each reader.

The file holds float64 and int64 columns without nulls, uncompressed (written by
``colbridge.write_feather``, 64-byte aligned), at two sizes so that the time of a reader that
maps the file can be seen not to grow with it. Every reader runs in a fresh child process, once
per repeat. The child imports everything and runs the same read once on a 1 MB file of the
same schema (so that no reader's first-call work counts), resets its peak RSS, then measures
the wall time of the read and how far its peak RSS rose (``benches/_child.py``). The file is
in the page cache (it was just written and is read repeatedly), so the times are not disk
times; a mapped reader's RSS grows only with the pages it touches.

Readers:
- ``colbridge.read_feather(path)`` (memory-mapped, columns stay in the mapping)
- ``pd.read_feather(path)``
- ``pyarrow.feather.read_table(path, memory_map=True).to_pandas(split_blocks=True,
  self_destruct=True)``
- ``pl.read_ipc(path).to_pandas()`` (Polars 2 has no ``memory_map`` keyword any more: its IPC
  memory mapping is off, pola-rs/polars#28218)

Not a test: run it directly and read the Markdown table it prints::

    .venv/bin/python benches/ipc_to_pandas.py                    # 20 MB and 200 MB
    .venv/bin/python benches/ipc_to_pandas.py --sizes-mb 20 2000 # the issue's 2 GB
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import colbridge

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import run, versions  # noqa: E402  (the benchmarks' shared child process)

COLUMNS = 4  # two float64, two int64

READERS = {
    "colbridge.read_feather": "colbridge.read_feather(path)",
    "pd.read_feather": "pd.read_feather(path)",
    "pyarrow mmap + to_pandas(split_blocks, self_destruct)": (
        "feather.read_table(path, memory_map=True).to_pandas(split_blocks=True, self_destruct=True)"
    ),
    "pl.read_ipc(path).to_pandas()": "pl.read_ipc(path).to_pandas()",
}

IMPORTS = "import colbridge, pandas as pd, polars as pl, pyarrow as pa, pyarrow.feather as feather"


def write_file(path: Path, megabytes: int) -> int:
    """An uncompressed Feather file of about ``megabytes`` MB; returns its size in bytes."""
    rows = megabytes * 1_000_000 // (8 * COLUMNS)
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "f0": rng.standard_normal(rows),
            "f1": rng.standard_normal(rows),
            "i0": rng.integers(0, 1 << 40, rows),
            "i1": np.arange(rows, dtype=np.int64),
        }
    )
    colbridge.write_feather(df, path)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(versions(args.repeats))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.feather"
        write_file(warm, 1)
        for megabytes in args.sizes_mb:
            path = Path(tmp) / f"bench_{megabytes}.feather"
            size = write_file(path, megabytes)
            for name, expression in READERS.items():
                results = [run(IMPORTS, expression, path, warm) for _ in range(args.repeats)]
                times = [r["seconds"] for r in results]
                rss = [r["rss_kib"] * 1024 for r in results]
                rows.append(
                    (
                        f"{size / 1e6:.0f} MB",
                        name,
                        f"{min(times) * 1e3:.1f} ms ({statistics.median(times) * 1e3:.1f} ms)",
                        f"{statistics.median(rss) / 1e6:.1f} MB",
                        f"{statistics.median(rss) / size:.1%}",
                    )
                )
            path.unlink()
    print("| file | reader | wall time min (median) | peak RSS growth | RSS / file |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
