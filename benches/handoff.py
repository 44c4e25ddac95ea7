"""Hand-off cost benchmark: how long each colbridge → consumer hand-off takes at 1e3 and 1e7 rows.

Imports the other way (``colbridge.table(pa_table)``) are measured with and without their full
validation, which is what a producer's data costs to check.

A zero-copy hand-off should cost the same at both sizes (ratio ≈ 1: "O(1)"); a hand-off that
copies or converts grows with the data (ratio up to 1e4). pyarrow's own ``to_pandas()`` and
``pl.from_arrow`` on an equivalent pyarrow table are measured next to colbridge's paths.

Not a test: run it directly and read the Markdown table it prints::

    .venv/bin/python benches/handoff.py            # 1e3 and 1e7 rows
    .venv/bin/python benches/handoff.py --quick    # 1e3 and 1e5 rows, fewer repeats
"""

from __future__ import annotations

import argparse
import gc
import platform
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

import colbridge

KINDS = ("int64", "float64", "int64, 10% nulls", "float64, 10% nulls", "string")


def make_data(n: int, seed: int = 0) -> dict[str, tuple[colbridge.Table, pa.Table]]:
    """One single-column colbridge table and an equivalent pyarrow table per column kind.

    Everything is built here, outside the timed region, from the same NumPy data.

    Example:
        >>> tables = make_data(10)
        >>> tables["int64"][0].num_rows
        10
    """
    rng = np.random.default_rng(seed)
    ints = rng.integers(-(10**9), 10**9, n, dtype=np.int64)
    floats = rng.standard_normal(n)
    nulls = rng.random(n) < 0.10
    strings = np.array([f"row-{i % 9973}-{'x' * (i % 7)}" for i in range(n)], dtype=object)
    sources: dict[str, tuple[Any, pa.Array]] = {
        "int64": (ints, pa.array(ints)),
        "float64": (floats, pa.array(floats)),
        "int64, 10% nulls": (np.ma.masked_array(ints, nulls), pa.array(ints, mask=nulls)),
        "float64, 10% nulls": (np.ma.masked_array(floats, nulls), pa.array(floats, mask=nulls)),
        "string": (strings, pa.array(strings, type=pa.string())),
    }
    return {
        kind: (colbridge.table({"x": src}), pa.table({"x": pa_arr}))
        for kind, (src, pa_arr) in sources.items()
    }


def handoffs(t: colbridge.Table, pt: pa.Table, kind: str) -> list[tuple[str, Callable[[], Any]]]:
    """(label, zero-argument callable) for every hand-off measured on one column kind.

    Example:
        >>> cb, pt = make_data(10)["int64"]
        >>> [label for label, _ in handoffs(cb, pt, "int64")][:2]
        ['colbridge: column.to_numpy()', 'colbridge: Table.to_pandas()']
    """
    col = t.column("x")
    out: list[tuple[str, Callable[[], Any]]] = [
        ("colbridge: column.to_numpy()", col.to_numpy),
        ("colbridge: Table.to_pandas()", t.to_pandas),
        ("colbridge: Table.to_polars()", t.to_polars),
        ("colbridge: pl.DataFrame(table)", lambda: pl.DataFrame(t)),
        ("colbridge: pa.table(table)", lambda: pa.table(t)),
        (
            "colbridge: __dataframe__ get_buffers()",
            lambda: t.__dataframe__().get_column(0).get_buffers(),
        ),
    ]
    if kind != "string":  # pandas' interchange consumer decodes strings in a Python loop
        out.append(
            (
                "colbridge: pandas from_dataframe(__dataframe__)",
                lambda: pd.api.interchange.from_dataframe(t.__dataframe__()),
            )
        )
    out += [
        # Imports validate the producer's data in full (offsets, UTF-8, dictionary keys, null
        # counts); validate=False skips that, which measures what validation costs.
        ("colbridge: colbridge.table(pa_table)", lambda: colbridge.table(pt)),
        (
            "colbridge: colbridge.table(pa_table, validate=False)",
            lambda: colbridge.table(pt, validate=False),
        ),
        ("pyarrow: pa_table.to_pandas()", pt.to_pandas),
        ("pyarrow: pl.from_arrow(pa_table)", lambda: pl.from_arrow(pt)),
    ]
    return out


def measure(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """(min, median) wall time of ``fn()`` in seconds over ``repeats`` runs (after a warm-up).

    Example:
        >>> lo, med = measure(lambda: sum(range(100)), 5)
        >>> 0 < lo <= med
        True
    """
    fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        del result
    return min(times), statistics.median(times)


def fmt_time(seconds: float) -> str:
    """A duration with a readable unit.

    Example:
        >>> fmt_time(0.0000123)
        '12.3 µs'
    """
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> None:
    """Run every hand-off at both sizes and print the Markdown table and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e3 and 1e5 rows, fewer repeats")
    args = parser.parse_args(argv)
    small, large = 1_000, (100_000 if args.quick else 10_000_000)
    repeats = {small: 50, large: 3 if args.quick else 5}
    warnings.simplefilter("ignore")  # pandas 3 deprecates the interchange protocol

    results: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    for n in (small, large):
        data = make_data(n)
        for kind in KINDS:
            t, pt = data[kind]
            for label, fn in handoffs(t, pt, kind):
                reps = repeats[n] if (kind != "string" or n == small) else 3
                results.setdefault((kind, label), {})[n] = measure(fn, reps)
                print(
                    f"  {n:>9} {kind:<20} {label:<50} {fmt_time(results[kind, label][n][0])}",
                    file=sys.stderr,
                )
        del data
        gc.collect()

    versions = ", ".join(f"{m.__name__} {m.__version__}" for m in (colbridge, np, pd, pl, pa))
    print(
        f"Python {platform.python_version()}, {versions}; {platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores\n"
    )
    big = f"{large:.0e}".replace("+0", "").replace("+", "")
    print(
        f"| column kind | hand-off | 1e3 time min (median) | {big} time min (median) "
        f"| ratio {big}/1e3 | note |"
    )
    print("|---|---|---|---|---|---|")
    for (kind, label), by_n in results.items():
        (lo_s, med_s), (lo_l, med_l) = by_n[small], by_n[large]
        ratio = lo_l / lo_s
        note = "O(1)" if ratio <= 2 else ""
        print(
            f"| {kind} | {label} | {fmt_time(lo_s)} ({fmt_time(med_s)}) "
            f"| {fmt_time(lo_l)} ({fmt_time(med_l)}) | {ratio:,.1f} | {note} |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"\nPeak RSS: {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
