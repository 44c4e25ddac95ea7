"""Memory colbridge borrowed from NumPy may outlive the interpreter's teardown: a consumer that
frees it during finalization must not crash the process."""

import subprocess
import sys

import pytest

CONSUMERS = {
    "polars": "import polars as pl; keep = pl.DataFrame(t)",
    "pyarrow": "import pyarrow as pa; keep = pa.table(t)",
    "numpy view": "keep = t.column('x').chunk(0).to_numpy()",
}


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_borrowed_numpy_memory_held_at_exit_does_not_crash(consumer):
    pytest.importorskip(consumer.split()[0])
    code = (
        "import numpy as np, colbridge\n"
        "t = colbridge.table({'x': np.arange(1000), 's': ['a'] * 1000})\n"
        f"{CONSUMERS[consumer]}\n"
        "cycle = [keep]; cycle.append(cycle)  # freed only by the final garbage collection\n"
        "del t\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "panicked" not in out.stderr
