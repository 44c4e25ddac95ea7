"""Dask on a two-worker LocalCluster: colbridge.dask.read_parquet against Dask's own
``dask.dataframe.read_parquet`` (pyarrow): reading alone, a sum and a groupby over a directory
of 40+ files.

For each engine a fresh cluster (2 worker processes, 1 thread each) is started; every worker
samples its own resident memory (psutil, every 10 ms, in a thread of the worker process) so the
per-worker peak is the worker's own; RSS is read before the first task, and after the run once
both allocators have been asked to return free memory (colbridge's ``release_memory`` and
glibc's ``malloc_trim``, as Dask's docs suggest, in both clusters). A warm-up sum and groupby of
two files runs first, so "before" includes the code each engine loads. Each phase has its own
per-worker peak: "read" decodes every partition and keeps only its length (the reader's own
memory), "sum" and "groupby" add pandas' working memory for the computation, the same for both
engines. Wall times are the best of ``--repeat`` runs.

``--worker-saturation`` sets the scheduler's ``distributed.scheduler.worker-saturation`` for
both clusters. Dask's default, 1.1, hands a 1-thread worker two reading tasks at a time
(``ceil(1.1 * threads)``), so a worker holds a partition another task is still to consume while
it decodes the next: two partitions at its peak, whichever engine reads them. 1.0 hands it one.

Not a test: run it with a release build and read the Markdown table it prints::

    .venv/bin/python benches/dask_cluster.py                 # 2 GiB in 40 files
    .venv/bin/python benches/dask_cluster.py --gib 0.2       # a quick look
    .venv/bin/python benches/dask_cluster.py --gib 4 --worker-saturation 1.0
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


def phase_peak(dask_worker: Any) -> int:
    """In a worker: the peak RSS since the last call (or the start), then start a new phase."""
    state = dask_worker.colbridge_bench_sampler
    peak = max(int(state["peak"]), _rss())
    state["peak"] = _rss()
    return peak


def stop_sampler(dask_worker: Any) -> int:
    """In a worker: stop sampling and return free memory to the OS; the RSS after."""
    state = dask_worker.colbridge_bench_sampler
    state["stop"].set()
    import colbridge.dask

    colbridge.dask.release_memory()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    return _rss()


def warm_up() -> None:
    """In a worker: import what both engines use, so RSS before excludes imports."""
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import colbridge.dask  # noqa: F401


def run_engine(
    engine: str, root: Path, repeat: int, saturation: float | None = None
) -> dict[str, Any]:
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import colbridge.dask

    def frame(path: Any = root) -> Any:
        if engine == "colbridge":
            return colbridge.dask.read_parquet(path)
        return dd.read_parquet(path)  # Dask's default engine: pyarrow

    config = {} if saturation is None else {"distributed.scheduler.worker-saturation": saturation}
    with (
        dask.config.set(config),
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
        phases = {
            # Reading alone: each partition decoded, then only its length kept.
            "read": lambda ddf: ddf.map_partitions(len).sum(),
            "sum": lambda ddf: ddf.sum(),
            "groupby": lambda ddf: ddf.groupby("key").mean(),
        }
        times = {name: float("inf") for name in phases}
        peaks: dict[str, dict[str, int]] = {name: {} for name in phases}
        partitions = 0
        for _ in range(repeat):
            ddf = frame()
            for name, job in phases.items():
                client.run(phase_peak)  # the phase's peak starts here
                t = time.perf_counter()
                client.compute(job(ddf)).result()
                times[name] = min(times[name], time.perf_counter() - t)
                for w, peak in client.run(phase_peak).items():
                    peaks[name][w] = max(peaks[name].get(w, 0), peak)
                partitions += ddf.npartitions
        after = client.run(stop_sampler)
    return {
        "engine": engine,
        "partitions": partitions,
        "seconds": times,
        "workers": [
            {
                "before": before[w],
                "peaks": {name: peaks[name][w] for name in phases},
                "after": after[w],
            }
            for w in before
        ],
    }


def markdown(
    results: list[dict[str, Any]],
    root: Path,
    gib: float,
    files: int,
    saturation: float | None = None,
) -> str:
    mib = 2**20
    lines = [
        f"{files} files, {gib:g} GiB decoded (`{root.name}`), 2 workers x 1 thread, "
        f"worker-saturation {'1.1 (default)' if saturation is None else f'{saturation:g}'}, "
        f"{platform.python_version()}, best of the runs",
        "",
        "| engine | phase | wall s | per-worker peak RSS MiB (above start) |",
        "|---|---|---|---|",
    ]
    for r in results:
        for phase, seconds in r["seconds"].items():
            peaks = ", ".join(
                f"{w['peaks'][phase] / mib:.0f} ({(w['peaks'][phase] - w['before']) / mib:.0f})"
                for w in r["workers"]
            )
            lines.append(f"| {r['engine']} | {phase} | {seconds:.2f} | {peaks} |")
    lines += [
        "",
        "| engine | partitions read | RSS before MiB | RSS after / before |",
        "|---|---|---|---|",
    ]
    for r in results:
        before = ", ".join(f"{w['before'] / mib:.0f}" for w in r["workers"])
        after = ", ".join(f"{w['after'] / w['before']:.2f}" for w in r["workers"])
        lines.append(f"| {r['engine']} | {r['partitions']} | {before} | {after} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--worker-saturation",
        type=float,
        help="distributed.scheduler.worker-saturation for both clusters (Dask's default: 1.1)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    root = make_dataset(args.gib, args.files)
    saturation = args.worker_saturation
    results = [run_engine(e, root, args.repeat, saturation) for e in ("colbridge", "dask-pyarrow")]
    print(markdown(results, root, args.gib, args.files, saturation))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
