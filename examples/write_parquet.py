"""Write Parquet from a colbridge Table and from a pandas DataFrame, then read it back.

Run: python examples/write_parquet.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _data import bundled_file

import colbridge


def main() -> None:
    trips = colbridge.read_parquet(bundled_file(), filters=[("zone", "in", ["zone-1", "zone-2"])])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "two_zones.parquet"
        colbridge.write_parquet(trips, out, compression="zstd", row_group_size=10_000)
        back = colbridge.ParquetFile(out)
        print(back)
        assert back.read().to_pydict() == trips.to_pydict()
        try:
            frame = trips.to_pandas()
        except ImportError:
            return
        colbridge.write_parquet(frame, Path(tmp) / "from_pandas.parquet", compression="snappy")
        print(colbridge.read_pandas(Path(tmp) / "from_pandas.parquet").shape)


if __name__ == "__main__":
    main()
