"""``import colbridge`` exposes its public API (``__all__``), its public modules and nothing
else: no helper or ``from __future__`` name leaks into the namespace."""

import types

import colbridge
from colbridge import errors

PUBLIC_MODULES = {"errors", "ipc", "parquet", "dataset"}
# Modules imported explicitly (``import colbridge.dask``, ``python -m colbridge``): attributes
# once something imports them.
OPT_IN_MODULES = {"dask", "cli"}


def test_the_namespace_is_the_public_api():
    public = {name for name in dir(colbridge) if not name.startswith("_")} - OPT_IN_MODULES
    assert public == set(colbridge.__all__) | PUBLIC_MODULES
    for name in PUBLIC_MODULES:
        assert isinstance(getattr(colbridge, name), types.ModuleType)


def test_the_errors_module_holds_only_the_exception_classes():
    public = {name for name in dir(errors) if not name.startswith("_")}
    assert public == set(errors.__all__)
