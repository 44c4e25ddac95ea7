"""Every example in colbridge's docstrings runs and prints what it shows, as pydantic-core's
``tests/test_docstrings.py`` holds its own: the public API (the Rust classes' ``///`` comments
included) and the private modules alike.

Each example runs with ``doctest`` (ELLIPSIS, NORMALIZE_WHITESPACE) in a temporary working
directory holding the ``data.parquet`` the examples read (1,000 rows, one row group: ``x`` the
int64 values 0..9 repeated, ``y`` a float64 column) and ``data.arrow``, the same columns as an
uncompressed Arrow IPC (Feather v2) file written by colbridge, with ``colbridge``, ``np``,
``pd``, ``pl`` and ``pa`` in its namespace. Files an example writes land in that directory.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import colbridge

from ..conftest import parquet_file

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
OPTIONAL = {"pd": "pandas", "pl": "polars", "pa": "pyarrow"}


SUBMODULES = sorted(m.name for m in pkgutil.walk_packages(colbridge.__path__, "colbridge."))
# Public modules ``import colbridge`` does not load (the CLI, and __main__, which runs it) are
# not imported here: importing one would make it an attribute of the package, which
# tests/core/test_public_api.py holds to its public API. They must have no examples to run.
# colbridge.dask is imported explicitly by its users, and its examples run (with dask).
OPT_IN = ["colbridge.dask"]
UNLOADED = [
    n for n in SUBMODULES if n not in sys.modules and n.split(".")[1][0] != "_" and n not in OPT_IN
]
UNLOADED += ["colbridge.__main__"]


def modules() -> list[Any]:
    """colbridge and every module under it that can be imported without side effects."""
    wanted = [n for n in SUBMODULES if n not in UNLOADED]
    if importlib.util.find_spec("dask") is None:
        wanted = [n for n in wanted if n not in OPT_IN]
    return [colbridge] + [importlib.import_module(n) for n in wanted]


def properties() -> list[tuple[str, Any]]:
    """The public classes' getters defined in Rust: getset descriptors, which the doctest finder
    passes over."""
    return [
        (f"colbridge.{name}.{attr}", value)
        for name in colbridge.__all__
        if inspect.isclass(cls := getattr(colbridge, name))
        for attr, value in vars(cls).items()
        if inspect.isgetsetdescriptor(value)
    ]


def docstring_examples() -> list[doctest.DocTest]:
    found: dict[str, doctest.DocTest] = {}
    finder = doctest.DocTestFinder(exclude_empty=True)
    for module in modules():
        for test in finder.find(module):
            found.setdefault(test.name, test)
    parser = doctest.DocTestParser()
    for name, value in properties():
        found.setdefault(name, parser.get_doctest(value.__doc__ or "", {}, name, None, None))
    return sorted((t for t in found.values() if t.examples), key=lambda t: t.name)


EXAMPLES = docstring_examples()


@pytest.fixture
def example_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    columns = {"x": np.arange(1000, dtype=np.int64) % 10, "y": np.arange(1000) / 4}
    parquet_file(tmp_path / "data.parquet", columns)
    colbridge.write_ipc(colbridge.table(columns), tmp_path / "data.arrow")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def namespace() -> dict[str, Any]:
    names: dict[str, Any] = {"colbridge": colbridge, "np": np}
    for alias, module in OPTIONAL.items():
        try:
            names[alias] = importlib.import_module(module)
        except ImportError:
            pass  # an example that uses it fails with a NameError that says so
    return names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda t: t.name)
def test_docstring_example_prints_what_it_shows(example: doctest.DocTest, example_dir: Path):
    test = doctest.DocTest(
        example.examples,
        {**example.globs, **namespace()},
        example.name,
        example.filename,
        example.lineno,
        example.docstring,
    )
    report: list[str] = []
    result = doctest.DocTestRunner(optionflags=OPTIONS).run(test, out=report.append)
    assert result.attempted == len(example.examples)
    assert result.failed == 0, "".join(report)


def test_every_public_example_is_run():
    """No public docstring's example escapes the runner (the finder skips what another module
    defines, and Rust getters)."""
    run = {t.docstring for t in EXAMPLES}
    public = [(name, getattr(colbridge, name)) for name in colbridge.__all__]
    members = [
        (f"{name}.{attr}", value)
        for name, obj in public
        if inspect.isclass(obj)
        for attr, value in vars(obj).items()
        if not attr.startswith("_")
    ]
    missed = [
        name
        for name, obj in public + members + [("colbridge", colbridge)]
        if ">>>" in (obj.__doc__ or "") and obj.__doc__ not in run
    ]
    assert not missed, f"examples the runner does not find: {missed}"


@pytest.mark.parametrize("module", UNLOADED)
def test_modules_left_unimported_have_no_examples(module: str):
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    assert ">>>" not in Path(spec.origin).read_text(), f"{module}'s examples would never run"
