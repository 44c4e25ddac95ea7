"""Datasets the dataset tests share: hive-partitioned directories written by pandas/pyarrow,
as users' datasets are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


def write(path: Path, frame: Any) -> Path:
    """``frame`` written by pandas (pyarrow) to ``path``, its directories created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


@pytest.fixture
def hive(tmp_path: Path) -> Path:
    """``year=`` (integers, not in sorted order on disk) / ``city=`` (strings) directories with
    two files each, plus the files writers leave that readers skip."""
    root = tmp_path / "sales"
    for year in (2024, 9, 10):
        for city in ("oslo", "lima"):
            for part in range(2):
                n = 3 + part
                frame = pd.DataFrame(
                    {
                        "amount": [float(year + i) for i in range(n)],
                        "units": list(range(n)),
                        "note": [f"{city}-{i}" for i in range(n)],
                    }
                )
                write(root / f"year={year}" / f"city={city}" / f"part-{part}.parquet", frame)
    (root / "_SUCCESS").write_text("")
    (root / ".crc").write_text("not parquet")
    write(root / "_tmp" / "partial.parquet", pd.DataFrame({"amount": [0.0]}))
    write(root / "year=9" / ".hidden" / "x.parquet", pd.DataFrame({"amount": [0.0]}))
    return root
