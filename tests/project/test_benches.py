"""The benchmark scripts say what their numbers mean: a ``--quick`` run's files are too small
for the memory target, so its verdict is "n/a" with the reason, never a "MISSED"."""

import importlib.util
import sys

import pytest

from ..conftest import ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "parquet_to_pandas", ROOT / "benches" / "parquet_to_pandas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def result(seconds: float, peak_ratio: float, out_mb: float) -> dict:
    return {"median": seconds, "peak_ratio": peak_ratio, "out_mb": out_mb}


def test_a_quick_runs_memory_is_not_applicable_and_says_why(bench):
    table = bench.targets_markdown(
        {"numeric_plain": {"colbridge": result(0.01, 3.5, 4.8), "pyarrow": result(0.02, 9, 4.8)}}
    )
    assert "MISSED" not in table
    assert "| n/a (output 4.8 MB) |" in table
    assert "the memory target is judged at full scale" in table


def test_at_full_scale_the_memory_target_is_judged(bench):
    table = bench.targets_markdown(
        {
            "numeric_plain": {
                "colbridge": result(0.1, 1.02, 480),
                "colbridge_table": result(0.12, 1.05, 480),
                "pyarrow": result(0.2, 2, 480),
            },
            "wide": {
                "colbridge": result(0.1, 1.5, 320),
                "colbridge_table": result(0.12, 1.6, 320),
                "pyarrow": result(0.2, 2, 320),
            },
        }
    )
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if "|" in line}
    # read_pandas, then read_parquet().to_pandas(); colbridge_table is no peer.
    assert rows["numeric_plain"].rstrip().endswith("| 1.02 | met | 1.05 | met |")
    assert "| pyarrow |" in rows["numeric_plain"]
    assert rows["wide"].rstrip().endswith("| 1.50 | MISSED | 1.60 | MISSED |")
    assert "n/a" not in table


def test_quick_writes_no_result_files(bench, monkeypatch, tmp_path):
    """A smoke run never replaces the committed full-scale results."""
    monkeypatch.setattr(bench, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(bench, "datasets", lambda scale: [])
    monkeypatch.setattr(bench, "versions", lambda: {})
    assert bench.main(["--quick", "--readers", "colbridge"]) == 0
    assert not (tmp_path / "results").exists()
