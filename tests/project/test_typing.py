"""The type stubs match the built module (stubtest) and the examples type-check strictly."""

import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import EXAMPLES, ROOT

pytest.importorskip("mypy")


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_stubs_match_the_native_module():
    out = run(
        "mypy.stubtest",
        "colbridge._colbridge",
        "--allowlist",
        str(ROOT / ".ci" / "stubtest-allowlist.txt"),
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_examples_type_check_with_mypy_strict():
    examples = sorted(str(p) for p in EXAMPLES.glob("*.py"))
    out = run("mypy", "--strict", "--no-incremental", *examples)
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_ships_py_typed():
    import colbridge

    assert (Path(colbridge.__file__).parent / "py.typed").exists()
    assert (Path(colbridge.__file__).parent / "_colbridge.pyi").exists()
