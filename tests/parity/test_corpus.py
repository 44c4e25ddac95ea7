"""Parity on the shared corpus (parquet-testing, arrow-testing): for every file pandas reads,
``colbridge.read_pandas(p, dtype_backend=B)`` equals ``pd.read_parquet(p[, dtype_backend=B])``
for the three backends, and ``colbridge.read_parquet(p).to_pandas()`` equals
``pq.read_table(p).to_pandas()`` (``assert_frame_equal``, dtypes included)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import colbridge

from ..conftest import CORPUS
from .conftest import compare_file, compare_to_pandas

CORPORA = ["parquet-testing", "arrow-testing"]

if not all((CORPUS / c / "manifest.json").exists() for c in CORPORA):
    pytest.skip(f"external corpus not found at {CORPUS}", allow_module_level=True)

FUZZ = "arrow-testing/data/parquet/fuzzing/clusterfuzz-testcase-minimized-parquet-arrow-fuzz-"

# Files pyarrow (so pandas) reads and colbridge refuses, each with why: fuzzed files that
# pyarrow's lenient Thrift reader turns into something, which colbridge refuses as corrupt
# rather than guess (see SECURITY.md).
REFUSED: dict[str, str] = {
    f"{FUZZ}4740205688193024": "the footer's schema is a bool (pyarrow: a file of no columns)",
    f"{FUZZ}5665099979423744": "the footer's schema is an i32 (pyarrow: a file of no columns)",
    f"{FUZZ}5697144926502912.fuzz": (
        "the column chunk has no metadata (pyarrow: none of the 24 rows its row group claims)"
    ),
}


def _files() -> list[Any]:
    out = []
    for corpus in CORPORA:
        manifest = json.loads((CORPUS / corpus / "manifest.json").read_text())
        out += [f"{corpus}/{entry['path']}" for entry in manifest["files"]]
    return out


MODES = ["default", "numpy_nullable", "pyarrow", "to_pandas"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rel", _files())
def test_corpus_file_matches_pandas(rel: str, mode: str) -> None:
    path = CORPUS / rel
    if rel in REFUSED:
        # A documented difference, asserted: a clean colbridge error, never a crash.
        with pytest.raises(colbridge.ColbridgeError):
            colbridge.read_pandas(path)
        return
    if mode == "to_pandas":
        compare_to_pandas(path)
    else:
        compare_file(path, None if mode == "default" else mode)
