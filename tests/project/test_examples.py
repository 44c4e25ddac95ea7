"""Every example in examples/ runs for real: .py scripts in a subprocess, notebooks in a real
Jupyter kernel (nbclient + ipykernel). Any error fails the test."""

import json
import os
import re
import subprocess
import sys
import tomllib

import pytest

from ..conftest import EXAMPLES, ROOT

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


# Set COLBRIDGE_RENDER_NOTEBOOKS=1 to write the outputs of the run from the repository root
# back into the notebook: the committed outputs are those of a real run, never hand-made.
RENDER = os.environ.get("COLBRIDGE_RENDER_NOTEBOOKS") == "1"


@pytest.mark.parametrize("start", ["repository root", "examples", "tests/core"])
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_in_a_jupyter_kernel_from_any_folder(notebook, start):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cwd = ROOT if start == "repository root" else ROOT / start
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        record_timing=False,  # rendered outputs carry no run-time noise
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the plot was not drawn"
    shown = json.dumps([o for o in outputs if o.output_type != "display_data"])
    assert str(ROOT) not in shown, "an output names an absolute path of this machine"
    if RENDER and start == "repository root":
        nbformat.write(nb, notebook)


def test_the_committed_notebook_has_outputs_to_read_without_running_it():
    nbformat = pytest.importorskip("nbformat")
    for notebook in NOTEBOOKS:
        cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
        assert all(c.outputs for c in cells), f"{notebook.name}: render it (see RENDER above)"
        assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))


def test_the_notebook_extra_installs_what_the_notebook_imports():
    """The README tells readers to install '.[notebook]' to run the notebook."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    wanted = {re.split(r"[<>=\[]", r)[0] for r in extra["notebook"]}
    for notebook in NOTEBOOKS:
        code = "\n".join(
            "".join(c["source"])
            for c in json.loads(notebook.read_text())["cells"]
            if c["cell_type"] == "code"
        )
        modules = {m.split(".")[0] for m in re.findall(r"^\s*(?:import|from) (\w+)", code, re.M)}
        third_party = modules - set(sys.stdlib_module_names) - {"colbridge", "_data"}
        assert third_party <= wanted, f"{notebook.name} imports {third_party - wanted}"
    assert {"ipykernel", "jupyterlab"} <= wanted
