"""Stream a Parquet file in batches: iterate it, or hand the stream to Polars / DuckDB.

Run: python examples/stream_batches.py
"""

from __future__ import annotations

from _data import bundled_file

import colbridge


def main() -> None:
    path = bundled_file()
    pf = colbridge.ParquetFile(path)

    total = 0.0
    for batch in pf.iter_batches(batch_size=40_000, columns=["distance_km"]):
        values = batch.column("distance_km").to_numpy()  # NaN where null
        total += float(values[values == values].sum())
    print(f"total distance, streamed in batches: {total:,.1f} km")

    try:
        import polars as pl
    except ImportError:
        return
    # Any Arrow consumer can pull the batches through __arrow_c_stream__, one at a time.
    frame = pl.DataFrame(pf.iter_batches(batch_size=40_000, columns=["zone", "passengers"]))
    print(frame.group_by("zone").agg(pl.col("passengers").mean()).sort("zone").head(3))


if __name__ == "__main__":
    main()
