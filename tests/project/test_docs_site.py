"""The documentation site (docs/, Sphinx) builds with warnings as errors, its API reference is
generated from the installed package's docstrings (those written in Rust included), and the
guide's examples run (``sphinx-build -b doctest``)."""

import subprocess
import sys
from pathlib import Path

import pytest

import colbridge

from ..conftest import ROOT

pytest.importorskip("sphinx")


def sphinx(builder: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder]
        + ["-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / builder)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_site_builds_without_warnings_with_an_api_reference(tmp_path: Path) -> None:
    built = sphinx("html", tmp_path)
    assert built.returncode == 0, built.stderr
    api = (tmp_path / "html" / "api.html").read_text()
    # Everything the package exports, and the two entry points that live in submodules.
    for name in colbridge.__all__:
        assert f'id="colbridge.{name}"' in api or f'id="colbridge.errors.{name}"' in api, name
    assert 'id="colbridge.dataset.dataset"' in api
    assert 'id="colbridge.dask.read_parquet"' in api
    assert "A table of named columns." in api  # a docstring written in Rust (src/table.rs)
    guide = tmp_path / "html" / "guide"
    assert {p.name for p in guide.glob("*.html")} >= {
        "sharing.html",
        "parquet_pandas.html",
        "notebooks.html",
        "cli.html",
    }
    assert (tmp_path / "html" / "_images" / "parquet_to_pandas.png").exists()


def test_the_guides_examples_run(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    pytest.importorskip("polars")
    pytest.importorskip("duckdb")
    ran = sphinx("doctest", tmp_path)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    summary = (tmp_path / "doctest" / "output.txt").read_text()
    assert "0 failures in tests" in summary and "0 failures in setup code" in summary
