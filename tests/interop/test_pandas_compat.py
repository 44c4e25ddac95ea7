"""pandas internals live in one module, checked against named pandas releases."""

import re
from pathlib import Path

import pytest

import colbridge
from colbridge import _pandas_compat

from ..conftest import address

pd = pytest.importorskip("pandas")

PACKAGE = Path(colbridge.__file__).parent
INTERNALS = re.compile(
    r"\._mgr\b|_simple_new|make_block|\brefs=|_pa_array|\b_ndarray\b|\"_mask\"|\"_data\"|"
    r"\._mask\b|\._data\b|pd\.__version__|pandas\.__version__|create_dataframe_from_blocks|"
    r"pandas\.api\.internals"
)


def test_installed_pandas_is_a_release_the_compat_module_was_checked_against():
    assert _pandas_compat.version() in _pandas_compat.CHECKED_VERSIONS, (
        f"pandas {pd.__version__} is not among the releases colbridge._pandas_compat was "
        f"checked against {_pandas_compat.CHECKED_VERSIONS}: re-check every internal it uses "
        "(the full test suite, address and Copy-on-Write tests included, must pass), then add "
        "this release to CHECKED_VERSIONS"
    )


def test_no_other_module_touches_pandas_internals():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_pandas_compat.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if INTERNALS.search(line)
    ]
    assert not offenders, "pandas internals outside _pandas_compat.py:\n" + "\n".join(offenders)


def test_frames_have_one_block_per_column_over_the_arrow_memory():
    pa = pytest.importorskip("pyarrow")
    table = colbridge.table(pa.table([pa.array([1, 2]), pa.array([3.0, 4.0])], names=["a", "a"]))
    df = table.to_pandas()
    assert df.shape == (2, 2), "columns with the same name are all kept, as pyarrow keeps them"
    assert len(df._mgr.blocks) == 2
    for i, column in enumerate(table.columns):
        values = df.iloc[:, i].to_numpy()
        assert address(values) == column.chunk(0).values.address
