"""Every Python function the native classes delegate to (``Array.to_pandas`` ->
``colbridge._pandas.to_series``, ...) exists: a renamed or moved adapter fails here, not when a
user first calls the method."""

import importlib

from colbridge import _colbridge


def test_every_adapter_target_resolves_to_a_callable():
    targets = _colbridge._adapter_targets()
    assert len(targets) == len(set(targets)) > 0
    for module, function in targets:
        assert module.startswith("colbridge._"), f"{module}: adapters live in private modules"
        target = getattr(importlib.import_module(module), function, None)
        assert callable(target), f"{module}.{function} does not exist"
