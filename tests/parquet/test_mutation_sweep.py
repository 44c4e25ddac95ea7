"""A sweep of mutated Parquet files (random byte flips, truncations, lying lengths and zeroed
ranges of real files from several writers, codecs and page versions): every colbridge reader
either reads a file or raises a colbridge ParquetError. None crashes, hangs, panics or raises
another class, and where colbridge and pyarrow both read a mutant they agree on its values."""

from __future__ import annotations

import io
import json
import os
import random
import selectors
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..conftest import CORPUS

WORKER = Path(__file__).with_name("_mutation_worker.py")
# About 3,000 mutants in all; COLBRIDGE_MUTANTS_PER_SEED runs a longer sweep.
MUTANTS_PER_SEED = int(os.environ.get("COLBRIDGE_MUTANTS_PER_SEED", "250"))
SEEDS = CORPUS / "parquet-testing" / "data"
CORPUS_SEEDS = [
    "alltypes_plain.parquet",
    "datapage_v2.snappy.parquet",
    "delta_length_byte_array.parquet",
    "nested_lists.snappy.parquet",
    "byte_stream_split.zstd.parquet",
    "dict-page-offset-zero.parquet",
]
PER_FILE_TIMEOUT = 20  # seconds for all three readers of one mutant


def seeds() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    n = 3000
    ints = pa.array(rng.integers(-1000, 1000, n))
    with_nulls = pa.array([None if i % 7 == 0 else float(i) / 3 for i in range(n)])
    strings = pa.array([None if i % 11 == 0 else f"v{i % 37}" * (i % 4) for i in range(n)])
    table = pa.table(
        {
            "i": ints,
            "f": with_nulls,
            "s": strings,
            "d": strings.dictionary_encode(),
            "b": pa.array([i % 3 == 0 for i in range(n)]),
            "t": pa.array(np.arange(n).astype("datetime64[ms]")),
            "l": pa.array([[i, None, i + 1] if i % 5 else None for i in range(n)]),
            "dec": pa.array([Decimal(i) / 100 for i in range(n)], pa.decimal128(10, 2)),
        }
    )
    out = {}
    for name, kwargs in {
        "v1-snappy": {"compression": "snappy", "data_page_version": "1.0"},
        "v2-zstd": {"compression": "zstd", "data_page_version": "2.0"},
        "plain-gzip": {"compression": "gzip", "use_dictionary": False},
        "none-small-pages": {"compression": "none", "data_page_size": 2048},
        "lz4-index": {"compression": "lz4", "write_page_index": True, "data_page_size": 4096},
        "brotli": {"compression": "brotli", "use_deprecated_int96_timestamps": True},
    }.items():
        buf = io.BytesIO()
        pq.write_table(table, buf, row_group_size=1000, **kwargs)
        out[name] = buf.getvalue()
    # Real files from other writers, where the external corpus is present.
    for name in CORPUS_SEEDS:
        if (SEEDS / name).exists():
            out[name.removesuffix(".parquet")] = (SEEDS / name).read_bytes()
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    kind = rng.choice(["flip", "flip", "flips", "truncate", "length", "zero", "footer"])
    if kind == "flip":
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    elif kind == "flips":
        for _ in range(rng.randint(2, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == "truncate":
        cut = rng.randrange(len(b))
        b = b[:cut] + (b[-8:] if rng.random() < 0.5 else b"")
    elif kind == "length":  # the footer's length field lies
        b[-8:-4] = rng.choice([0, 1, len(b) - 9, len(b), 2**31 - 1, 2**32 - 1]).to_bytes(
            4, "little"
        )
    elif kind == "zero":
        start = rng.randrange(len(b))
        b[start : start + rng.randint(1, 64)] = bytes(min(64, len(b) - start))[: rng.randint(1, 64)]
    else:  # a flip inside the footer, where the lengths and counts are
        footer = int.from_bytes(b[-8:-4], "little")
        start = max(0, len(b) - 8 - footer)
        i = rng.randrange(start, len(b) - 8)
        b[i] = rng.randrange(256)
    return bytes(b)


def test_no_mutant_crashes_hangs_panics_or_disagrees_with_pyarrow(tmp_path):
    rng = random.Random(20261201)
    paths = []
    for name, data in seeds().items():
        for k in range(MUTANTS_PER_SEED):
            path = tmp_path / f"{name}-{k}.parquet"
            path.write_bytes(mutate(data, rng))
            paths.append(path)
    results, failures = [], []
    pending = list(paths)
    while pending:
        listing = tmp_path / "pending.txt"
        listing.write_text("".join(f"{p}\n" for p in pending))
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(listing)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        done = 0
        with selectors.DefaultSelector() as wait:
            wait.register(proc.stdout, selectors.EVENT_READ)
            while done < len(pending):
                if not wait.select(timeout=PER_FILE_TIMEOUT):
                    proc.kill()
                    failures.append(f"{pending[done]}: no answer in {PER_FILE_TIMEOUT} s (a hang)")
                    break
                line = proc.stdout.readline()
                if not line:
                    failures.append(f"{pending[done]}: the worker died ({proc.wait()})")
                    break
                results.append(json.loads(line))
                done += 1
        proc.kill()
        proc.wait()
        pending = pending[done + 1 :]
    counts: Counter[str] = Counter()
    for r in results:
        for reader in ("read_parquet", "iter_batches", "read_pandas"):
            status = r[reader]
            counts[f"{reader}: {status.split(':')[0]}"] += 1
            if status != "ok" and not status.endswith("Error") or ":" in status:
                failures.append(f"{r['path']}: {reader} raised {status}")
        if r.get("same_as_pyarrow") is False:
            failures.append(f"{r['path']}: values differ from pyarrow's in {r['differ']}")
    print(dict(sorted(counts.items())))
    assert not failures, "\n".join(failures[:20])
