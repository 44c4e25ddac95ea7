"""Dask on a two-worker LocalCluster: colbridge.dask.read_parquet against Dask's own
``dask.dataframe.read_parquet`` (pyarrow), a sum and a groupby over a directory of 40+ files.

For each engine a fresh cluster (2 worker processes, 1 thread each) is started; every worker
samples its own resident memory (psutil, every 10 ms, in a thread of the worker process) so the
per-worker peak is the worker's own; RSS is read before the first task, and after the run once
both allocators have been asked to return free memory (colbridge's ``release_memory`` and
glibc's ``malloc_trim``, as Dask's docs suggest, in both clusters). A warm-up sum and groupby of
two files runs first, so "before" includes the code each engine loads. Wall times are the best
of ``--repeat`` runs.

Not a test: run it with a release build and read the Markdown table it prints::

    .venv/bin/python benches/dask_cluster.py                 # 2 GiB in 40 files
    .venv/bin/python benches/dask_cluster.py --gib 0.2       # a quick look
"""

from __future__ import annotations

import argparse
import ctypes
import json
import platform
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "dask"
COLUMNS = 8  # float64 / int64 columns, plus the int32 groupby key


def make_dataset(gib: float, files: int) -> Path:
    """``files`` Parquet files (snappy, 4 row groups each) of ``gib`` GiB decoded in all."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = int(gib * 2**30 / (COLUMNS * 8 + 4) / files)
    root = DATA / f"{gib:g}gib-{files}files"
    if (root / "_done").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(files):
        cols: dict[str, Any] = {"key": rng.integers(0, 100, rows).astype(np.int32)}
        for c in range(COLUMNS):
            cols[f"f{c}"] = rng.random(rows) if c % 2 else rng.integers(0, 10**6, rows)
        pq.write_table(pa.table(cols), root / f"part-{i:03}.parquet", row_group_size=rows // 4)
    (root / "_done").write_text("")
    return root


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def start_sampler(dask_worker: Any) -> int:
    """In a worker: start sampling this process's RSS (state kept on the worker object, as
    these functions reach the worker pickled by value); returns the RSS now."""
    state: dict[str, Any] = {"peak": _rss(), "stop": threading.Event()}
    dask_worker.colbridge_bench_sampler = state

    def run() -> None:
        while not state["stop"].wait(0.01):
            state["peak"] = max(state["peak"], _rss())

    threading.Thread(target=run, daemon=True).start()
    return _rss()


def stop_sampler(dask_worker: Any) -> tuple[int, int]:
    """In a worker: stop sampling, return free memory to the OS; (peak RSS, RSS now)."""
    state = dask_worker.colbridge_bench_sampler
    state["stop"].set()
    import colbridge.dask

    colbridge.dask.release_memory()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    return int(state["peak"]), _rss()


def warm_up() -> None:
    """In a worker: import what both engines use, so RSS before excludes imports."""
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import colbridge.dask  # noqa: F401


def run_engine(engine: str, root: Path, repeat: int) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import colbridge.dask

    def frame(path: Any = root) -> Any:
        if engine == "colbridge":
            return colbridge.dask.read_parquet(path)
        return dd.read_parquet(path)  # Dask's default engine: pyarrow

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(warm_up)
        first = sorted(str(p) for p in root.glob("*.parquet"))[:2]
        client.compute(frame(first).sum()).result()  # code paths loaded before "before"
        client.compute(frame(first).groupby("key").mean()).result()
        before = client.run(start_sampler)
        times: dict[str, float] = {"sum": float("inf"), "groupby": float("inf")}
        partitions = 0
        for _ in range(repeat):
            ddf = frame()
            t = time.perf_counter()
            client.compute(ddf.sum()).result()
            times["sum"] = min(times["sum"], time.perf_counter() - t)
            t = time.perf_counter()
            client.compute(ddf.groupby("key").mean()).result()
            times["groupby"] = min(times["groupby"], time.perf_counter() - t)
            partitions += 2 * ddf.npartitions
        samples = client.run(stop_sampler)
    return {
        "engine": engine,
        "partitions": partitions,
        "sum_s": times["sum"],
        "groupby_s": times["groupby"],
        "workers": [
            {"before": before[w], "peak": samples[w][0], "after": samples[w][1]} for w in before
        ],
    }


def markdown(results: list[dict[str, Any]], root: Path, gib: float, files: int) -> str:
    mib = 2**20
    lines = [
        f"{files} files, {gib:g} GiB decoded (`{root.name}`), 2 workers x 1 thread, "
        f"{platform.python_version()}, best of the runs",
        "",
        "| engine | sum s | groupby s | partitions read | per-worker peak RSS MiB "
        "(above start) | RSS after / before |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        peaks = ", ".join(
            f"{w['peak'] / mib:.0f} ({(w['peak'] - w['before']) / mib:.0f})" for w in r["workers"]
        )
        after = ", ".join(f"{w['after'] / w['before']:.2f}" for w in r["workers"])
        lines.append(
            f"| {r['engine']} | {r['sum_s']:.2f} | {r['groupby_s']:.2f} | {r['partitions']} "
            f"| {peaks} | {after} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    root = make_dataset(args.gib, args.files)
    results = [run_engine(e, root, args.repeat) for e in ("colbridge", "dask-pyarrow")]
    print(markdown(results, root, args.gib, args.files))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
