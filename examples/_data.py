"""The bundled example dataset, generated deterministically inside the repo on first use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import colbridge

DATA = Path(__file__).resolve().parent / "data" / "trips.parquet"


def bundled_file() -> Path:
    """Path of ``examples/data/trips.parquet`` (200,000 taxi-like trips), written if missing."""
    if not DATA.exists():
        DATA.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(42)
        n = 200_000
        distance = rng.gamma(2.0, 1.5, n)
        distance[rng.random(n) < 0.05] = np.nan
        table = colbridge.table(
            {
                "trip_id": np.arange(n, dtype=np.int64),
                "distance_km": np.ma.masked_invalid(distance),
                "passengers": rng.integers(1, 5, n).astype(np.int8),
                "pickup": (np.int64(1_700_000_000) + np.arange(n) * 7).view("datetime64[s]"),
                "zone": colbridge.array([f"zone-{i % 12}" for i in range(n)]),
            }
        )
        tmp = DATA.with_suffix(".tmp")
        colbridge.write_parquet(table, tmp, compression="zstd", row_group_size=50_000)
        tmp.replace(DATA)
    return DATA


PARTS = DATA.parent / "trips_parts"


def bundled_dataset() -> Path:
    """A directory of four Parquet files (``examples/data/trips_parts/``), one per row group of
    the bundled file, so ``trip_id`` ascends across them: written if missing."""
    source = bundled_file()
    if not PARTS.exists():
        tmp = PARTS.with_suffix(".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        groups = colbridge.ParquetFile(source).metadata["row_groups"]
        for i in range(len(groups)):
            part = colbridge.read_parquet(source, row_groups=[i])
            colbridge.write_parquet(part, tmp / f"part-{i}.parquet", compression="zstd")
        tmp.replace(PARTS)
    return PARTS
