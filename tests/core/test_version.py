"""One version, Cargo's: the native module reports it and the package metadata carries it."""

import importlib.metadata
import tomllib

import colbridge

from ..conftest import ROOT


def cargo_version() -> str:
    with open(ROOT / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


def test_version_comes_from_cargo_toml():
    assert colbridge.__version__ == cargo_version()
    assert colbridge.__version__ == colbridge._colbridge.__version__


def test_package_metadata_has_the_same_version():
    assert importlib.metadata.version("colbridge") == cargo_version()
