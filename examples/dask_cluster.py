"""Scale out with Dask: a directory of Parquet files read by colbridge on a two-worker cluster.

Run: python examples/dask_cluster.py
"""

from __future__ import annotations

from _data import bundled_dataset
from dask.distributed import Client, LocalCluster

import colbridge.dask


def main() -> None:
    root = bundled_dataset()  # four files, trip_id ascending across them
    # Worker processes import this script: the cluster starts under `if __name__ == "__main__"`.
    # (distributed ships no type hints for these two: the ignores are for mypy --strict.)
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        ddf = colbridge.dask.read_parquet(
            root,
            columns=["zone", "distance_km"],
            index="trip_id",  # sorted in the files' statistics: the divisions are known
            filters=[("passengers", ">=", 3)],  # row groups pruned, then rows filtered
        )
        print(f"{ddf.npartitions} partitions, divisions known: {ddf.known_divisions}")
        mean = ddf.groupby("zone")["distance_km"].mean()
        print(client.compute(mean).result().sort_index().head(3))
        print(f"rows with 3+ passengers: {len(ddf):,}")


if __name__ == "__main__":
    main()
