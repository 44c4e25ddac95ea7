"""``maturin build --release`` makes an abi3 wheel that installs into a clean venv and works
there, away from the checkout: "pip install a wheel" is a real path.

A release build takes minutes from scratch (seconds when ``target/release`` is warm, as after
``pip install .``), so the tests are opt-in: ``COLBRIDGE_TEST_WHEEL=1``. Installing the wheel
fetches NumPy from the package index (or pip's cache); with the ``notebook`` extra, JupyterLab
too, and the quickstart notebook is run by that venv's own Jupyter."""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from ..conftest import ROOT

pytestmark = pytest.mark.skipif(
    os.environ.get("COLBRIDGE_TEST_WHEEL") != "1",
    reason="a release build: set COLBRIDGE_TEST_WHEEL=1 to build and install the wheel",
)

SMOKE = """
import sys, colbridge
assert colbridge.__file__.startswith(sys.prefix), colbridge.__file__
t = colbridge.table({"a": [1, 2, None], "s": ["x", "y", "z"]})
colbridge.write_parquet(t, "t.parquet")
back = colbridge.read_parquet("t.parquet")
assert back.to_pydict() == t.to_pydict(), back.to_pydict()
print(colbridge.__version__)
"""


def maturin() -> str:
    found = shutil.which("maturin", path=str(Path(sys.executable).parent)) or shutil.which(
        "maturin"
    )
    if found is None:
        pytest.fail("maturin is not installed: it comes with the test extra ('.[test]')")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release wheel, built once for the tests below."""
    wheels = tmp_path_factory.mktemp("wheels")
    built = subprocess.run(
        [maturin(), "build", "--release", "--out", str(wheels)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"PYTHONNOUSERSITE": "1"},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [found] = wheels.glob("*.whl")
    return found


def fresh_venv(where: Path, *requirements: str) -> Path:
    """A new venv at ``where`` with ``requirements`` pip-installed; its Python."""
    venv.EnvBuilder(with_pip=True).create(where)
    python_exe = where / ("Scripts" if os.name == "nt" else "bin") / "python"
    installed = subprocess.run(
        [str(python_exe), "-m", "pip", "install", "-q", *requirements],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return python_exe


def test_the_release_wheel_installs_into_a_clean_venv_and_works(
    wheel: Path, tmp_path: Path
) -> None:
    name, version, python, abi, platform = wheel.stem.split("-")
    assert (name, python, abi) == ("colbridge", "cp311", "abi3"), wheel.name
    python_exe = fresh_venv(tmp_path / "venv", str(wheel))
    work = tmp_path / "elsewhere"  # not the checkout, so python/colbridge cannot be picked up
    work.mkdir()
    run = subprocess.run(
        [str(python_exe), "-c", SMOKE], cwd=work, capture_output=True, text=True, env={}
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == version


def test_the_notebook_runs_in_a_venv_with_the_notebook_extra(wheel: Path, tmp_path: Path) -> None:
    # What the README tells a reader: colbridge with the `notebook` extra, then Jupyter on
    # examples/quickstart.ipynb from the repository root. Executed headless by that venv's own
    # Jupyter (nbconvert), so the extra really holds everything the notebook needs.
    python_exe = fresh_venv(tmp_path / "venv", f"{wheel}[notebook]")
    out = tmp_path / "ran.ipynb"
    run = subprocess.run(
        [
            str(python_exe),
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=300",
            "--output",
            str(out),
            str(ROOT / "examples" / "quickstart.ipynb"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert '"output_type": "error"' not in out.read_text()
