"""Every example in examples/ runs for real: .py scripts in a subprocess, notebooks in a real
Jupyter kernel (nbclient + ipykernel). Any error fails the test."""

import subprocess
import sys

import pytest

from ..conftest import EXAMPLES

SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_there_are_examples_to_run():
    assert {p.name for p in SCRIPTS} >= {"quickstart.py", "stream_batches.py", "plot.py"}
    assert NOTEBOOKS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_script_runs(script):
    out = subprocess.run(
        [sys.executable, str(script)], cwd=EXAMPLES, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "A COPY" not in out.stdout


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_in_a_jupyter_kernel(notebook):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the plot was not drawn"
