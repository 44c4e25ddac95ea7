"""Optional dependencies, imported when a feature first needs them."""

import importlib
from typing import Any


def require(module: str, feature: str) -> Any:
    """``module`` imported, or an ImportError saying which extra installs it for ``feature``."""
    try:
        return importlib.import_module(module)
    except ImportError as e:  # pragma: no cover - exercised only without the dependency
        raise ImportError(f"{feature} needs {module}: pip install {module}") from e
