"""colbridge quickstart: one copy of the data, many consumers.

Builds a table in Rust, hands the same column to NumPy, pandas, Polars and (when installed)
pyarrow, and prints the address each consumer holds: they are all the same.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import numpy as np

import colbridge


def main() -> None:
    n = 1_000_000
    table = colbridge.table(
        {
            "id": np.arange(n, dtype=np.int64),
            "value": np.linspace(0.0, 1.0, n),
            "when": np.arange(n, dtype=np.int64).view("datetime64[s]"),
        }
    )
    print(table)
    column = table.column("value").chunk(0)
    rust_address = column.values.address
    print(f"\nvalues buffer built in Rust at 0x{rust_address:x} ({column.values.size} bytes)")

    holders: dict[str, int] = {"NumPy": column.to_numpy().__array_interface__["data"][0]}
    try:
        df = table.to_pandas()
        holders["pandas"] = df["value"].to_numpy().__array_interface__["data"][0]
    except ImportError:
        print("pandas not installed: skipping")
    try:
        import polars as pl

        series = pl.DataFrame(table)["value"]
        holders["Polars"] = series.to_numpy(allow_copy=False).__array_interface__["data"][0]
    except ImportError:
        print("polars not installed: skipping")
    try:
        import pyarrow as pa

        holders["pyarrow"] = pa.table(table).column("value").chunk(0).buffers()[1].address
    except ImportError:
        print("pyarrow not installed: skipping")

    for consumer, address in holders.items():
        same = "same memory" if address == rust_address else "A COPY"
        print(f"{consumer:>8}: 0x{address:x}  {same}")
    if any(address != rust_address for address in holders.values()):
        raise SystemExit("a consumer holds a copy")


if __name__ == "__main__":
    main()
