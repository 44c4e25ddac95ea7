"""Benchmark: Parquet file -> pandas DataFrame, colbridge against its peers.

Generates deterministic datasets with pyarrow into ``benches/data/`` (gitignored), then loads
each into a pandas DataFrame with every reader, each load in a fresh subprocess, and reports
the wall time of the load alone and the peak memory it needed relative to what it produced.

Readers: ``colbridge.read_pandas`` and ``colbridge.read_parquet().to_pandas(self_destruct=True)``,
pyarrow (``pq.read_table().to_pandas()``),
``pd.read_parquet``, Polars (``pl.read_parquet().to_pandas()``), fastparquet
(``ParquetFile(p).to_pandas()``) and DuckDB (``con.read_parquet(p).df()``).

Per (dataset, reader, run) a child process imports pandas and the reader's modules, records
``VmRSS`` as its baseline, resets the RSS high-water mark (``/proc/self/clear_refs``), times the
load, then reads ``VmHWM``. "peak / output" is ``(VmHWM - baseline)`` divided by the decoded
output: ``df.memory_usage(index=False, deep=True).sum()`` (equal to the sum of the columns'
``nbytes`` except for object columns, where the Python objects are counted too). Values near
1.0 mean the reader allocated the result and little else.

Results go to stdout, ``benches/results/parquet_to_pandas.md`` (+ ``.json``) and a plot of
the time ratio against pyarrow to ``docs/img/parquet_to_pandas.png``.

Usage, in a venv with a *release* build of colbridge (``pip install '.[all]'`` from the
repository root builds one; ``maturin develop`` builds a debug one)::

    python benches/parquet_to_pandas.py                # scale 1.0, 3 runs
    python benches/parquet_to_pandas.py --scale 0.25   # smaller datasets
    python benches/parquet_to_pandas.py --quick        # smoke run (scale 0.01, 1 run, no files)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "benches" / "data"
RESULTS_DIR = ROOT / "benches" / "results"
PLOT_PATH = ROOT / "docs" / "img" / "parquet_to_pandas.png"

# "colbridge" is read_pandas; "colbridge_table" the pyarrow idiom
# read_parquet(p).to_pandas(self_destruct=True).
READERS = ["colbridge", "colbridge_table", "pyarrow", "pandas", "polars", "fastparquet", "duckdb"]
BASELINE_READER = "pyarrow"
SEED = 20261126
MARK = "@@RESULT@@"


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    rows: int
    build: Callable[[int], Any]  # rows -> pyarrow.Table
    write_kwargs: dict[str, Any]

    def path(self) -> Path:
        return DATA_DIR / f"{self.name}-{self.rows}.parquet"


def _rng(salt: int) -> Any:
    import numpy as np

    return np.random.default_rng([SEED, salt])


def _numeric_table(rows: int, null_fraction: float) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = _rng(1)
    columns = {
        "i64": rng.integers(-(10**9), 10**9, rows, dtype=np.int64),
        "f64": np.round(rng.normal(0.0, 1000.0, rows), 3),
        "i32": rng.integers(-100_000, 100_000, rows, dtype=np.int32),
        "f32": rng.random(rows, dtype=np.float32),
    }
    arrays = {}
    for name, values in columns.items():
        mask = rng.random(rows) < null_fraction if null_fraction else None
        arrays[name] = pa.array(values, mask=mask)
    return pa.table(arrays)


def _strings_table(rows: int) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = _rng(2)
    words = [
        "red", "green", "blue", "cyan", "magenta", "yellow", "black", "white", "orange",
        "purple", "brown", "grey", "pink", "olive", "navy", "teal", "maroon", "lime",
        "silver", "gold",
    ]  # fmt: skip
    low = pa.array(words).take(pa.array(rng.integers(0, len(words), rows)))
    # ~20-40 characters, almost all distinct: "<prefix>-<12 digits>-<word>".
    ids = pa.array(rng.integers(0, 10**12, rows, dtype=np.int64))
    digits = pc.utf8_lpad(pc.cast(ids, pa.string()), width=12, padding="0")
    prefixes = pa.array(["customer", "account", "order", "session-id"]).take(
        pa.array(rng.integers(0, 4, rows))
    )
    medium = pc.binary_join_element_wise(
        prefixes, digits, low.take(pa.array(rng.permutation(rows))), "-"
    )
    return pa.table({"low_card": low, "high_card": medium})


def _wide_table(rows: int) -> Any:
    import pyarrow as pa

    rng = _rng(3)
    data = rng.normal(size=(200, rows))
    return pa.table({f"c{i:03d}": data[i] for i in range(200)})


def _ts_dict_table(rows: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = _rng(4)
    start = np.datetime64("2020-01-01T00:00:00", "ns").astype(np.int64)
    steps = rng.integers(1, 10**9, rows, dtype=np.int64)  # up to 1 s apart, increasing
    ts = pa.array(start + np.cumsum(steps), type=pa.timestamp("ns", tz="Europe/Berlin"))
    labels = pa.array([f"product-{i:04d}" for i in range(1000)])
    codes = pa.array(rng.integers(0, 1000, rows, dtype=np.int32), mask=rng.random(rows) < 0.05)
    return pa.table({"ts": ts, "product": pa.DictionaryArray.from_arrays(codes, labels)})


def _nullable_ints_table(rows: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = _rng(5)
    mask = rng.random(rows) < 0.1
    return pa.table(
        {
            "i64": pa.array(rng.integers(-(10**9), 10**9, rows, dtype=np.int64), mask=mask),
            "u64": pa.array(rng.integers(0, 10**12, rows, dtype=np.uint64), mask=mask[::-1]),
        }
    )


def _categorical_few_table(rows: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = _rng(6)
    labels = pa.array(["north", "south", "east", "west", "centre"])
    codes = pa.array(rng.integers(0, 5, rows, dtype=np.int32), mask=rng.random(rows) < 0.05)
    return pa.table({"region": pa.DictionaryArray.from_arrays(codes, labels)})


def datasets(scale: float) -> list[Dataset]:
    def n(rows: int) -> int:
        return max(1000, int(rows * scale))

    out = []
    for nulls in (False, True):
        frac = 0.1 if nulls else 0.0
        suffix = "_nulls" if nulls else ""
        what = "4 numeric cols (i64/f64/i32/f32)" + (", 10% nulls" if nulls else "")
        for codec, kwargs in (
            ("plain", {"compression": "none", "use_dictionary": False}),
            ("snappy", {"compression": "snappy"}),
            ("zstd", {"compression": "zstd"}),
        ):
            out.append(
                Dataset(
                    f"numeric{suffix}_{codec}",
                    f"{what}, {codec}",
                    n(20_000_000),
                    lambda r, f=frac: _numeric_table(r, f),
                    kwargs,
                )
            )
    out.append(
        Dataset(
            "strings",
            "2 string cols: short low-cardinality (20 values), ~25-char high-cardinality; snappy",
            n(5_000_000),
            _strings_table,
            {"compression": "snappy"},
        )
    )
    out.append(Dataset("wide", "200 float64 cols; snappy", n(200_000), _wide_table, {}))
    out.append(
        Dataset(
            "ts_dict",
            "timestamp[ns, tz=Europe/Berlin] + dictionary<int32, string> (1000 values, 5% nulls);"
            " snappy",
            n(20_000_000),
            _ts_dict_table,
            {"compression": "snappy"},
        )
    )
    out.append(
        Dataset(
            "nullable_ints",
            "int64 + uint64 with 10% nulls (pandas: float64 with NaN); snappy",
            n(20_000_000),
            _nullable_ints_table,
            {"compression": "snappy"},
        )
    )
    out.append(
        Dataset(
            "categorical_few",
            "dictionary<int32, string> with 5 values, 5% nulls (pandas: int8 codes); snappy",
            n(20_000_000),
            _categorical_few_table,
            {"compression": "snappy"},
        )
    )
    return out


def ensure_dataset(ds: Dataset) -> Path:
    import pyarrow.parquet as pq

    path = ds.path()
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    table = ds.build(ds.rows)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, **ds.write_kwargs)
    tmp.replace(path)
    size = path.stat().st_size / 1e6
    print(f"  generated {path.name} ({size:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    return path


def warm_page_cache(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


# --------------------------------------------------------------------------------------------
# Child process: one load
# --------------------------------------------------------------------------------------------


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _prepare(reader: str) -> Callable[[str], Any]:
    """Import everything the reader needs; return the load function (nothing timed here)."""
    import pandas as pd

    if reader == "colbridge":
        import colbridge

        return colbridge.read_pandas
    if reader == "colbridge_table":
        import colbridge

        return lambda p: colbridge.read_parquet(p).to_pandas(self_destruct=True)
    if reader == "pyarrow":
        import pyarrow.parquet as pq

        return lambda p: pq.read_table(p).to_pandas()
    if reader == "pandas":
        import pyarrow.parquet  # noqa: F401  (the default engine)

        return pd.read_parquet
    if reader == "polars":
        import polars as pl
        import pyarrow  # noqa: F401  (to_pandas goes through pyarrow)

        return lambda p: pl.read_parquet(p).to_pandas()
    if reader == "fastparquet":
        from fastparquet import ParquetFile

        return lambda p: ParquetFile(p).to_pandas()
    if reader == "duckdb":
        import duckdb

        con = duckdb.connect()
        return lambda p: con.read_parquet(p).df()
    raise ValueError(f"unknown reader {reader!r}")


def worker(reader: str, path: str) -> None:
    import gc

    load = _prepare(reader)
    gc.collect()
    baseline = _status("VmRSS")
    try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    t0 = time.perf_counter()
    df = load(path)
    seconds = time.perf_counter() - t0
    peak = _status("VmHWM")
    out_bytes = int(df.memory_usage(index=False, deep=True).sum())
    dtypes = sorted({str(t) for t in df.dtypes})
    result = {
        "seconds": seconds,
        "baseline": baseline,
        "peak": peak,
        "hwm_reset": hwm_reset,
        "out_bytes": out_bytes,
        "shape": list(df.shape),
        "dtypes": dtypes,
    }
    print(MARK + json.dumps(result), flush=True)


def run_one(reader: str, path: Path, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", reader, str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else f"exit code {proc.returncode}"
    if proc.returncode < 0:
        last = f"killed by signal {-proc.returncode}; {last}"
    return {"error": last[:300], "stderr": proc.stderr[-4000:]}


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def summarize(runs: list[dict[str, Any]], expected_rows: int) -> dict[str, Any]:
    errors = [r["error"] for r in runs if "error" in r]
    good = [r for r in runs if "error" not in r]
    if errors and not good:
        return {"error": errors[0]}
    bad_shape = [r for r in good if r["shape"][0] != expected_rows]
    if bad_shape:
        return {"error": f"wrong row count {bad_shape[0]['shape'][0]} != {expected_rows}"}
    times = [r["seconds"] for r in good]
    mems = [(r["peak"] - r["baseline"]) / max(r["out_bytes"], 1) for r in good]
    return {
        "median": statistics.median(times),
        "min": min(times),
        "peak_ratio": statistics.median(mems),
        "out_mb": good[0]["out_bytes"] / 1e6,
        "dtypes": good[0]["dtypes"],
        "runs": len(good),
        "failed_runs": len(errors),
        "error_sample": errors[0] if errors else None,
    }


def _is_peer(reader: str) -> bool:
    return not reader.startswith("colbridge")


def table_markdown(ds: Dataset, summary: dict[str, dict[str, Any]]) -> str:
    base = summary.get(BASELINE_READER, {}).get("median")
    peers = [s["median"] for r, s in summary.items() if _is_peer(r) and "median" in s]
    fastest_peer = min(peers) if peers else None
    lines = [
        f"### {ds.name}",
        "",
        f"{ds.description}; {ds.rows:,} rows; file {ds.path().stat().st_size / 1e6:,.0f} MB",
        "",
        "| reader | median s | min s | ratio vs pyarrow | vs fastest peer | peak RSS / output "
        "| output MB | dtypes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for reader, s in summary.items():
        if "error" in s:
            lines.append(f"| {reader} | error: {s['error'].replace('|', '/')} | | | | | | |")
            continue
        ratio = f"{s['median'] / base:.2f}" if base else "n/a"
        vs_peer = f"{s['median'] / fastest_peer:.2f}" if fastest_peer else "n/a"
        note = f" ({s['failed_runs']} runs failed)" if s["failed_runs"] else ""
        lines.append(
            f"| {reader}{note} | {s['median']:.3f} | {s['min']:.3f} | {ratio} | {vs_peer} "
            f"| {s['peak_ratio']:.2f} | {s['out_mb']:,.0f} | {', '.join(s['dtypes'])} |"
        )
    return "\n".join(lines) + "\n"


# Targets from the issue: colbridge's median time <= 0.8x the fastest peer's (all peers return
# NumPy-backed numeric columns), and peak RSS <= 1.1x the output on numeric data (1.3x with
# strings).
TIME_TARGET = 0.8
MEM_TARGET = {"strings": 1.3, "ts_dict": 1.3}
MEM_TARGET_DEFAULT = 1.1
# Below this output size the memory ratio says nothing about the reader: the fixed costs of a
# load (thread stacks, allocator arenas, one page of scratch per column, RSS counted in pages)
# are a few MB, as large as a --quick file's whole DataFrame, so every reader "misses".
MEM_MIN_OUTPUT_MB = 100.0


def targets_markdown(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [
        "### Targets: colbridge vs the fastest peer",
        "",
        f"time target: colbridge median <= {TIME_TARGET}x the fastest peer's median; memory "
        f"target: peak RSS / output <= {MEM_TARGET_DEFAULT} (numeric) or "
        f"{MEM_TARGET['strings']} (strings / dictionary)",
        "",
        "| dataset | colbridge s | fastest peer | peer s | time ratio | time | peak / output "
        "| memory | read_parquet().to_pandas(self_destruct=True) peak / output | memory |",
        "|---|---:|---|---:|---:|---|---:|---|---:|---|",
    ]
    for name, summary in results.items():
        cb = summary.get("colbridge", {})
        peers = {r: s for r, s in summary.items() if _is_peer(r) and "median" in s}
        if "median" not in cb or not peers:
            err = cb.get("error", "no peer result")
            lines.append(f"| {name} | error: {err} | | | | | | | | |")
            continue
        table = summary.get("colbridge_table", {})
        table_cells = (
            f"{table['peak_ratio']:.2f} | {memory_verdict(name, table)}"
            if "peak_ratio" in table
            else "n/a | n/a"
        )
        best = min(peers, key=lambda r: peers[r]["median"])
        ratio = cb["median"] / peers[best]["median"]
        lines.append(
            f"| {name} | {cb['median']:.3f} | {best} | {peers[best]['median']:.3f} | {ratio:.2f} "
            f"| {'met' if ratio <= TIME_TARGET else 'MISSED'} | {cb['peak_ratio']:.2f} "
            f"| {memory_verdict(name, cb)} | {table_cells} |"
        )
    if any(s.get("colbridge", {}).get("out_mb", 0) < MEM_MIN_OUTPUT_MB for s in results.values()):
        lines += [
            "",
            f"n/a: the DataFrame is under {MEM_MIN_OUTPUT_MB:g} MB, where the fixed cost of a load "
            "(a few MB of thread stacks, allocator arenas and page scratch) outweighs the data; "
            "the memory target is judged at full scale (the default, --scale 1).",
        ]
    return "\n".join(lines) + "\n"


def memory_verdict(name: str, summary: dict[str, Any]) -> str:
    """``met`` / ``MISSED`` against the dataset's memory target, or ``n/a`` for outputs too small
    for the ratio to mean anything (``--quick``)."""
    if summary["out_mb"] < MEM_MIN_OUTPUT_MB:
        return f"n/a (output {summary['out_mb']:.1f} MB)"
    return "met" if summary["peak_ratio"] <= MEM_TARGET.get(name, MEM_TARGET_DEFAULT) else "MISSED"


def versions() -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        "for p in ['colbridge','pandas','numpy','pyarrow','polars','fastparquet','duckdb']:\n"
        "    try: out[p] = m.version(p)\n"
        "    except Exception: out[p] = 'missing'\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(res.stdout)


def colbridge_build() -> str:
    code = "import colbridge._colbridge as c; print(c.__file__)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    so = res.stdout.strip()
    if "site-packages" not in so:
        # relative to the repository, so that committed results name no path of the machine
        where = os.path.relpath(so, ROOT)
        return f"<repo>/{where} (editable/develop install: make sure it is a --release build)"
    # relative to the venv, so that committed results name no path of the machine
    return "<venv>/" + os.path.relpath(so, sys.prefix)


def plot(results: dict[str, dict[str, dict[str, Any]]], title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return False
    names = list(results)
    readers = [r for r in READERS if any(r in results[d] for d in names)]
    width = 0.8 / max(len(readers), 1)
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(names)), 5))
    for k, reader in enumerate(readers):
        xs, ys = [], []
        for i, d in enumerate(names):
            s = results[d].get(reader, {})
            base = results[d].get(BASELINE_READER, {}).get("median")
            if "median" in s and base:
                xs.append(i + (k - (len(readers) - 1) / 2) * width)
                ys.append(s["median"] / base)
        ax.bar(xs, ys, width=width, label=reader)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("median load time / pyarrow's (log; lower is faster)")
    ax.set_title(title)
    ax.legend(ncol=3, fontsize=8)
    fig.tight_layout()
    PLOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT_PATH, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every row count")
    ap.add_argument("--runs", type=int, default=3, help="fresh-process loads per reader")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: scale 0.01, 1 run, nothing written (the memory verdict is n/a there)",
    )
    ap.add_argument("--datasets", help="comma-separated subset of dataset names")
    ap.add_argument("--readers", help="comma-separated subset of " + ",".join(READERS))
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per load")
    ap.add_argument("--no-write", action="store_true", help="print only; write no result files")
    ap.add_argument("--worker", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        worker(*args.worker)
        return 0
    if args.quick:  # a smoke run never replaces the committed full-scale results
        args.scale, args.runs, args.no_write = 0.01, 1, True

    chosen = datasets(args.scale)
    if args.datasets:
        wanted = args.datasets.split(",")
        unknown = set(wanted) - {d.name for d in chosen}
        if unknown:
            ap.error(f"unknown datasets: {sorted(unknown)}")
        chosen = [d for d in chosen if d.name in wanted]
    readers = args.readers.split(",") if args.readers else list(READERS)
    if BASELINE_READER not in readers:
        readers.insert(1, BASELINE_READER)

    started = time.time()
    load_start = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    vers = versions()
    header = [
        "# Parquet -> pandas DataFrame",
        "",
        f"- date: {_dt.date.today().isoformat()}; scale {args.scale:g}; {args.runs} runs "
        "(fresh process each) per reader and dataset",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        f"- colbridge extension: {colbridge_build()}",
        "- time: wall time of the load call only (imports excluded); ratio = median / "
        "pyarrow's median; vs fastest peer = median / the fastest non-colbridge median",
        "- peak RSS / output: (VmHWM - VmRSS after imports) / "
        "df.memory_usage(index=False, deep=True).sum()",
        "",
    ]
    print("\n".join(header))

    results: dict[str, dict[str, dict[str, Any]]] = {}
    sections = []
    for ds in chosen:
        print(f"== {ds.name}: {ds.description}, {ds.rows:,} rows", flush=True)
        path = ensure_dataset(ds)
        warm_page_cache(path)
        raw: dict[str, list[dict[str, Any]]] = {r: [] for r in readers}
        for run in range(args.runs):
            order = readers[run % len(readers) :] + readers[: run % len(readers)]
            for reader in order:
                r = run_one(reader, path, args.timeout)
                raw[reader].append(r)
                shown = r.get("error") or f"{r['seconds']:.3f} s"
                print(f"  run {run + 1} {reader:<12} {shown}", flush=True)
                if "stderr" in r and reader == "colbridge":
                    print(r["stderr"], file=sys.stderr)
        summary = {r: summarize(raw[r], ds.rows) for r in readers}
        results[ds.name] = summary
        md = table_markdown(ds, summary)
        sections.append(md)
        print()
        print(md, flush=True)

    if "colbridge" in readers:
        sections.append(targets_markdown(results))
        print(sections[-1])
    elapsed = time.time() - started
    load_end = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    footer = (
        f"\nTotal benchmark wall time: {elapsed / 60:.1f} min. Load average (1/5/15 min) at "
        f"start {load_start}, at end {load_end} (other jobs share this machine).\n"
    )
    print(footer)
    if not args.no_write:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        md_path = RESULTS_DIR / "parquet_to_pandas.md"
        md_path.write_text("\n".join(header) + "\n" + "\n".join(sections) + footer)
        json_path = RESULTS_DIR / "parquet_to_pandas.json"
        payload = {
            "scale": args.scale,
            "runs": args.runs,
            "versions": vers,
            "datasets": {d.name: {"rows": d.rows, "description": d.description} for d in chosen},
            "results": results,
        }
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
        title = f"Parquet -> pandas, time vs pyarrow (scale {args.scale:g}, {os.cpu_count()} cores)"
        if plot(results, title):
            print(f"wrote {md_path}, {json_path} and {PLOT_PATH}")
        else:
            print(f"wrote {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
