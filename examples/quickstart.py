"""colbridge quickstart: load Parquet once, hand the same memory to every consumer.

1. Writes a small bundled Parquet file (examples/data/trips.parquet) if it is not there yet.
2. Reads it with colbridge: each column is decoded once, in Rust, into one buffer.
3. Hands that buffer to NumPy, pandas, Polars and (when installed) pyarrow, printing the
   address each consumer holds: they are all the same.
4. Loads it straight into a writable pandas DataFrame with ``read_pandas``.

Run: python examples/quickstart.py
"""

from __future__ import annotations

from _data import bundled_file

import colbridge


def main() -> None:
    path = bundled_file()
    pf = colbridge.ParquetFile(path)
    print(pf)
    print(pf.schema)

    table = colbridge.read_parquet(path)
    column = table.column("trip_id").chunk(0)
    values = column.values
    assert values is not None  # int64 columns always have a values buffer
    rust_address = values.address
    print(f"\ntrip_id decoded in Rust into one buffer at 0x{rust_address:x}")

    holders: dict[str, int] = {"NumPy": column.to_numpy().__array_interface__["data"][0]}
    try:
        df = table.to_pandas()
        holders["pandas"] = df["trip_id"].to_numpy().__array_interface__["data"][0]
    except ImportError:
        print("pandas not installed: skipping")
    try:
        import polars as pl

        series = pl.DataFrame(table)["trip_id"]
        holders["Polars"] = series.to_numpy(allow_copy=False).__array_interface__["data"][0]
    except ImportError:
        print("polars not installed: skipping")
    try:
        import pyarrow as pa

        holders["pyarrow"] = pa.table(table).column("trip_id").chunk(0).buffers()[1].address
    except ImportError:
        print("pyarrow not installed: skipping")

    for consumer, address in holders.items():
        same = "same memory" if address == rust_address else "A COPY"
        print(f"{consumer:>8}: 0x{address:x}  {same}")
    if any(address != rust_address for address in holders.values()):
        raise SystemExit("a consumer holds a copy")

    try:
        frame = colbridge.read_pandas(path, filters=[("passengers", ">=", 3)])
    except ImportError:
        return
    frame.loc[frame.index[0], "distance_km"] = 0.0  # a normal, writable pandas frame
    print(f"\nread_pandas with a filter: {len(frame)} rows")
    print(frame.dtypes.to_string())
    print(frame.groupby("zone")["distance_km"].mean().round(2).head())


if __name__ == "__main__":
    main()
