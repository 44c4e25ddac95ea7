"""``maturin build --release`` makes an abi3 wheel that installs into a clean venv and works
there, away from the checkout: "pip install a wheel" is a real path.

A release build takes minutes from scratch (seconds when ``target/release`` is warm, as after
``pip install .``), so the test is opt-in: ``COLBRIDGE_TEST_WHEEL=1``. Installing the wheel fetches
NumPy from the package index (or pip's cache)."""

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


def test_the_release_wheel_installs_into_a_clean_venv_and_works(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [maturin(), "build", "--release", "--out", str(wheels)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"PYTHONNOUSERSITE": "1"},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = wheels.glob("*.whl")
    name, version, python, abi, platform = wheel.stem.split("-")
    assert (name, python, abi) == ("colbridge", "cp311", "abi3"), wheel.name

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python_exe = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    installed = subprocess.run(
        [str(python_exe), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    work = tmp_path / "elsewhere"  # not the checkout, so python/colbridge cannot be picked up
    work.mkdir()
    run = subprocess.run(
        [str(python_exe), "-c", SMOKE], cwd=work, capture_output=True, text=True, env={}
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == version
