"""colbridge.read_parquet against the external corpora: parquet-testing and arrow-testing.

Each corpus folder holds a ``manifest.json`` with a per-file oracle made by pyarrow (see
``make_manifest.py`` there). For every file:

- ``expect: values``: colbridge returns the oracle's row count, column names, Arrow types and
  per-column digests (the digest recipe is imported from ``make_manifest.py`` itself);
- ``expect: error`` (including every encrypted file, read without keys): a clean colbridge
  exception (``ColbridgeError`` or ``OSError``), never a ``PanicException`` or a crash;
- ``expect: any`` (hostile or non-compliant input, e.g. the arrow-testing fuzz files): a clean
  exception, or values that match the oracle where pyarrow has values.

Reads run in-process: every file of both corpora is known to fail cleanly (the whole corpus takes
well under a minute). Files colbridge legitimately cannot match are strict xfails listed in
``KNOWN`` with the reason, so a fix upstream is noticed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import colbridge

from ..conftest import CORPUS

pa = pytest.importorskip("pyarrow")

if not CORPUS.is_dir():
    pytest.skip(f"external corpus not found at {CORPUS}", allow_module_level=True)

sys.path.insert(0, str(CORPUS))
import make_manifest as mm  # noqa: E402  (the corpus' own oracle recipe: test-data tooling)

CORPORA = ("parquet-testing", "arrow-testing")
CLEAN_ERRORS = (colbridge.ColbridgeError, OSError)

# (corpus, path) -> why colbridge (arrow-rs parquet 59) cannot give pyarrow's answer.
KNOWN: dict[tuple[str, str], str] = {}


def _entries() -> list[Any]:
    params = []
    for corpus in CORPORA:
        manifest = json.loads((CORPUS / corpus / "manifest.json").read_text())
        for entry in manifest["files"]:
            key = (corpus, entry["path"])
            marks = ()
            if key in KNOWN:
                # a PanicException (BaseException) or a crash still fails the test
                marks = pytest.mark.xfail(
                    strict=True, reason=KNOWN[key], raises=(AssertionError, *CLEAN_ERRORS)
                )
            params.append(pytest.param(corpus, entry, id=f"{corpus}/{entry['path']}", marks=marks))
    return params


def _describe(result: Any) -> dict:
    return mm.describe_table(pa.table(result))


def _assert_matches(got: dict, oracle: dict) -> None:
    assert got["num_rows"] == oracle["num_rows"]
    assert list(got["columns"]) == list(oracle["columns"])
    for name, want in oracle["columns"].items():
        have = got["columns"][name]
        assert have["type"] == want["type"], name
        assert have["digest"] == want["digest"], f"{name}: values differ"


@pytest.mark.parametrize(("corpus", "entry"), _entries())
def test_corpus_file(corpus: str, entry: dict) -> None:
    path = CORPUS / corpus / entry["path"]
    expect, oracle = entry["expect"], entry["oracle"]
    if expect == "values":
        _assert_matches(_describe(colbridge.read_parquet(path)), oracle)
    elif expect == "error":
        with pytest.raises(CLEAN_ERRORS):
            colbridge.read_parquet(path)
    else:  # "any": a clean error, or the oracle's values where pyarrow has them
        try:
            result = colbridge.read_parquet(path)
        except CLEAN_ERRORS:
            return
        got = _describe(result)
        if oracle["ok"]:
            _assert_matches(got, oracle)
        else:
            # pyarrow sees corrupt data here; colbridge reading it is only acceptable
            # outside the fuzz regression files, which must fail cleanly.
            assert "fuzzing" not in Path(entry["path"]).parts, (
                f"read {got['num_rows']} rows of a fuzz file pyarrow rejects: {oracle['error']}"
            )


def test_encrypted_files_fail_cleanly_from_memory() -> None:
    """Encrypted files (no keys given) also fail cleanly from bytes and via ParquetFile."""
    files = sorted((CORPUS / "parquet-testing").rglob("*.parquet.encrypted"))
    assert files
    for path in files:
        with pytest.raises(CLEAN_ERRORS):
            colbridge.read_parquet(path.read_bytes())
        with pytest.raises(CLEAN_ERRORS):
            colbridge.ParquetFile(path).read()


def test_int96_reads_as_pyarrow_does() -> None:
    """int96_from_spark: every row equals pyarrow's, row 5 too (year 290000 overflows int64
    nanoseconds; its Julian day has the top bit set, read unsigned as pyarrow does, where
    arrow-rs reads it signed), and nulls stay nulls."""
    import pyarrow.parquet as pq

    path = CORPUS / "parquet-testing" / "data" / "int96_from_spark.parquet"
    got = pa.table(colbridge.read_parquet(path))
    want = pq.read_table(path)
    assert got.schema.types == want.schema.types
    assert got.equals(want)
    assert got.column(0).null_count == 1
