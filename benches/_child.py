"""Measure one read in a fresh child process: wall time and how far peak RSS rose.

The child imports everything, runs the same read once on a small warm-up file (so that no
reader's first-call work counts), resets its peak RSS (``/proc/self/clear_refs``, Linux), then
times the read and reads ``VmHWM``. Shared by the benchmarks that compare whole reads.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

CHILD = r"""
import json, sys, time
{imports}
path = sys.argv[2]
# Warm up: the same read of a small file of the same schema, so that first-call work (lazy
# imports, code paged in) is not counted for any reader.
out = {expression}
del out
path = sys.argv[1]
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))
# Reset the peak RSS (VmHWM) to the current RSS, so the imports' peak does not count.
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS:")
start = time.perf_counter()
out = {expression}
seconds = time.perf_counter() - start
after = status("VmHWM:")
if hasattr(out, "memory_usage"):  # what the read returned, in bytes
    nbytes = int(out.memory_usage(deep=True).sum())
else:
    nbytes = int(out.estimated_size() if hasattr(out, "estimated_size") else out.nbytes)
print(json.dumps({{"seconds": seconds, "rss_kib": after - before, "shape": list(out.shape),
                  "out_bytes": nbytes}}))
"""


def run(
    imports: str, expression: str, path: Path | str, warm: Path | str, *extra: str
) -> dict[str, Any]:
    """``expression`` (which reads ``path``) timed in a fresh process that ran ``imports``;
    ``extra`` arguments follow in ``sys.argv[3:]``."""
    child = CHILD.format(imports=imports, expression=expression)
    out = subprocess.run(
        [sys.executable, "-c", child, str(path), str(warm), *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def versions(repeats: int) -> str:
    """The line a benchmark prints first: what ran, on how many CPUs, how often."""
    import numpy
    import pandas
    import polars
    import pyarrow

    import colbridge

    return (
        f"Python {platform.python_version()}, colbridge {colbridge.__version__}, "
        f"numpy {numpy.__version__}, pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, "
        f"polars {polars.__version__}, {os.cpu_count()} CPUs; min (median) of "
        f"{repeats} fresh processes\n"
    )
