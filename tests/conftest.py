"""What the test groups share: where the repository and the external corpus are, the address a
consumer holds, pyarrow's view of a type, and a small Parquet file written by colbridge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import colbridge

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# The external Parquet corpus (parquet-testing, arrow-testing), beside the checkout.
CORPUS = ROOT.parent / "shared" / "corpus"


def address(a: Any) -> int:
    """The address of the first value NumPy sees in ``a`` (an ndarray, a Buffer, ...)."""
    return int(np.asarray(a).__array_interface__["data"][0])


def pyarrow_type(t: Any) -> Any:
    """The pyarrow type of anything with ``__arrow_c_schema__``; skips the test without pyarrow."""
    pa = pytest.importorskip("pyarrow")
    return pa.DataType._import_from_c_capsule(t.__arrow_c_schema__())


def parquet_file(path: Path, columns: dict[str, Any], **options: Any) -> Path:
    """``columns`` (anything ``colbridge.table`` takes) written to ``path`` by colbridge."""
    colbridge.write_parquet(colbridge.table(columns), path, **options)
    return path
