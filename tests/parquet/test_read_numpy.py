"""``read_numpy`` and ``read_pandas(consolidate=True)``: numeric columns decoded into one 2-D block.

The oracle is pandas: ``pd.read_parquet(p).to_numpy(dtype)`` for the values, ``pd.read_parquet``
for the frame. One copy is proven by address: the array NumPy holds starts at the buffer Rust
decoded into, each column a contiguous slice of it, and the consolidated frame's ``to_numpy()``
is a view of that block.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import colbridge

from ..conftest import CORPUS

pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

ROWS = 10_000


def _frame() -> Any:
    rng = np.random.default_rng(7)
    f = rng.random(ROWS)
    f[::17] = np.nan
    return pd.DataFrame(
        {
            "f64": f,
            "g64": rng.normal(size=ROWS),
            "f32": rng.random(ROWS).astype(np.float32),
            "i64": rng.integers(-(10**12), 10**12, ROWS),
            "i32": rng.integers(-1000, 1000, ROWS).astype(np.int32),
            "small": (np.arange(ROWS) % 7).astype(np.int64),  # dictionary-encoded
            "u8": (np.arange(ROWS) % 200).astype(np.uint8),
            "flag": np.arange(ROWS) % 3 == 0,
            "s": [f"v{i % 5}" for i in range(ROWS)],
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("numpy")
    df = _frame()
    out = {}
    out["pandas"] = d / "pandas.parquet"
    df.to_parquet(out["pandas"], row_group_size=3_000)
    table = pa.Table.from_pandas(df, preserve_index=False)
    out["plain_v2"] = d / "plain_v2.parquet"
    pq.write_table(
        table,
        out["plain_v2"],
        use_dictionary=False,
        data_page_version="2.0",
        data_page_size=4096,
        row_group_size=4_096,
        compression="zstd",
    )
    out["nulls"] = d / "nulls.parquet"
    with_nulls = pa.table(
        {
            "a": pa.array([None if i % 9 == 0 else i for i in range(ROWS)], pa.int64()),
            "b": pa.array([None if i % 4 == 0 else i / 3 for i in range(ROWS)], pa.float64()),
            "c": pa.array(np.arange(ROWS, dtype=np.float64)),
        }
    )
    pq.write_table(with_nulls, out["nulls"], row_group_size=2_500)
    out["indexed"] = d / "indexed.parquet"
    df.set_index("i64").to_parquet(out["indexed"])
    return out


NUMERIC = ["f64", "g64", "f32", "i64", "i32", "small", "u8", "flag"]


@pytest.mark.parametrize("name", ["pandas", "plain_v2"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_are_pandas_to_numpy(files: dict[str, Path], name: str, dtype: str) -> None:
    got = colbridge.read_numpy(files[name], columns=NUMERIC, dtype=dtype)
    want = pd.read_parquet(files[name], columns=NUMERIC).to_numpy(dtype=dtype)
    assert got.shape == (ROWS, len(NUMERIC)) and got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, want)


def test_integer_blocks_and_row_major_order(files: dict[str, Path]) -> None:
    cols = ["i64", "i32", "small", "u8", "flag"]
    want = pd.read_parquet(files["pandas"], columns=cols).to_numpy(dtype=np.int64)
    got = colbridge.read_numpy(files["pandas"], columns=cols, dtype="int64")
    np.testing.assert_array_equal(got, want)
    rows = colbridge.read_numpy(files["pandas"], columns=cols, dtype="int64", order="C")
    assert rows.flags.c_contiguous and not rows.flags.f_contiguous
    np.testing.assert_array_equal(rows, want)
    narrow = colbridge.read_numpy(files["pandas"], columns=["i32", "small"], dtype="int32")
    np.testing.assert_array_equal(narrow, want[:, [1, 2]].astype(np.int32))


def test_filters_row_groups_and_no_rows(files: dict[str, Path]) -> None:
    filters = [("i32", ">", 500)]
    got = colbridge.read_numpy(files["pandas"], columns=["f64", "i32"], filters=filters)
    want = pd.read_parquet(files["pandas"], columns=["f64", "i32"], filters=filters)
    np.testing.assert_array_equal(got, want.to_numpy(dtype=np.float64))
    picked = colbridge.read_numpy(files["pandas"], columns=["g64"], row_groups=[1, 3])
    full = pd.read_parquet(files["pandas"], columns=["g64"]).to_numpy()
    np.testing.assert_array_equal(picked, np.concatenate([full[3000:6000], full[9000:]]))
    empty = colbridge.read_numpy(files["pandas"], columns=["f64", "g64"], row_groups=[])
    assert empty.shape == (0, 2)
    none = colbridge.read_numpy(files["pandas"], columns=[])
    assert none.shape == (ROWS, 0)


def test_nulls_become_nan_or_an_error_naming_the_column(files: dict[str, Path]) -> None:
    got = colbridge.read_numpy(files["nulls"])
    want = pd.read_parquet(files["nulls"]).to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(got, want)  # NaN where pandas has NaN
    assert np.isnan(got[0, 0]) and np.isnan(got[0, 1]) and got[0, 2] == 0
    with pytest.raises(colbridge.InvalidInputError, match=r"column '[ab]' has \d+ nulls"):
        colbridge.read_numpy(files["nulls"], nulls="raise")
    with pytest.raises(colbridge.InvalidInputError, match="column 'a' has 1112 nulls"):
        colbridge.read_numpy(files["nulls"], columns=["a"], dtype="int64")


def test_one_copy_each_column_a_slice_of_the_buffer_rust_decoded(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = colbridge._colbridge.read_block

    def observed(*args: Any, **kwargs: Any) -> Any:
        flat, names, rows = real(*args, **kwargs)
        seen.append(flat.values.address)
        return flat, names, rows

    monkeypatch.setattr(colbridge._colbridge, "read_block", observed)
    x = colbridge.read_numpy(files["pandas"], columns=["f64", "g64", "i64"])
    assert x.flags.f_contiguous and x.flags.writeable and x.flags.owndata is False
    start = x.__array_interface__["data"][0]
    assert start == seen[0]
    for j in range(3):
        column = x[:, j]
        assert column.flags.c_contiguous
        assert column.__array_interface__["data"][0] == start + j * ROWS * 8
    # Writable and private: a write lands in the array and nowhere else.
    x[0, 0] = -1.0
    assert x[0, 0] == -1.0
    # The memory outlives every other handle on it.
    part = x[:, 1]
    del x
    np.testing.assert_array_equal(part, pd.read_parquet(files["pandas"])["g64"].to_numpy())


def test_hostile_arguments_and_types_are_clean_errors(
    files: dict[str, Path], tmp_path: Path
) -> None:
    p = files["pandas"]
    unsupported = colbridge.UnsupportedTypeError
    with pytest.raises(unsupported, match=r"column 's' is large_string: a float block"):
        colbridge.read_numpy(p)
    with pytest.raises(unsupported, match=r"column 'f64' is double: an int block"):
        colbridge.read_numpy(p, columns=["f64"], dtype="int64")
    with pytest.raises(colbridge.InvalidInputError, match="dtype='complex128'"):
        colbridge.read_numpy(p, columns=["f64"], dtype="complex128")
    with pytest.raises(colbridge.InvalidInputError, match="order='K'"):
        colbridge.read_numpy(p, order="K")
    with pytest.raises(colbridge.InvalidInputError, match="needs a float dtype"):
        colbridge.read_numpy(p, columns=["i64"], dtype="int64", nulls="nan")
    with pytest.raises(colbridge.InvalidInputError, match="one file"):
        colbridge.read_numpy([p, p])
    big = tmp_path / "big.parquet"
    pq.write_table(pa.table({"u": pa.array([1, 2**63 + 5], pa.uint64())}), big)
    with pytest.raises(colbridge.InvalidInputError, match=r"column 'u' \(uint64\) does not fit"):
        colbridge.read_numpy(big, dtype="int64")
    with pytest.raises(colbridge.LimitExceededError, match="max_decoded_bytes"):
        colbridge.read_numpy(p, columns=["f64"], max_decoded_bytes=1000)


# --- consolidate=True ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pandas", "plain_v2", "nulls", "indexed"])
def test_consolidated_frames_equal_pandas(files: dict[str, Path], name: str) -> None:
    got = colbridge.read_pandas(files[name], consolidate=True)
    pd.testing.assert_frame_equal(got, pd.read_parquet(files[name]))
    cols = ["g64", "s", "f64"] if name != "nulls" else ["c", "a"]
    got = colbridge.read_pandas(files[name], columns=cols, consolidate=True)
    pd.testing.assert_frame_equal(got, pd.read_parquet(files[name], columns=cols))


def test_consolidated_columns_share_one_block(files: dict[str, Path]) -> None:
    df = colbridge.read_pandas(files["pandas"], columns=["f64", "g64", "s"], consolidate=True)
    both = df[["f64", "g64"]].to_numpy()
    assert np.shares_memory(both, df["f64"].to_numpy())
    assert np.shares_memory(both, df["g64"].to_numpy())
    only_floats = colbridge.read_pandas(files["pandas"], columns=["f64", "g64"], consolidate=True)
    assert np.shares_memory(only_floats.to_numpy(), only_floats["g64"].to_numpy())
    # Without consolidate each column is its own block: to_numpy copies.
    plain = colbridge.read_pandas(files["pandas"], columns=["f64", "g64"])
    assert not np.shares_memory(plain.to_numpy(), plain["g64"].to_numpy())
    # A normal frame: writes land in it.
    only_floats.iloc[0, 1] = 42.0
    assert only_floats["g64"].iloc[0] == 42.0


def test_consolidate_with_filters_and_integers_with_nulls(files: dict[str, Path]) -> None:
    filters = [("c", "<", 5000.0)]
    got = colbridge.read_pandas(files["nulls"], filters=filters, consolidate=True)
    pd.testing.assert_frame_equal(got, pd.read_parquet(files["nulls"], filters=filters))
    # 'a' has nulls: float64 as pandas types it, in the float64 block with 'b' and 'c'.
    df = colbridge.read_pandas(files["nulls"], consolidate=True)
    assert np.shares_memory(df[["a", "c"]].to_numpy(), df["a"].to_numpy())


def test_consolidate_refuses_what_it_cannot_do(files: dict[str, Path]) -> None:
    with pytest.raises(colbridge.InvalidInputError, match="dtype_backend=None"):
        colbridge.read_pandas(files["pandas"], consolidate=True, dtype_backend="numpy_nullable")
    with pytest.raises(colbridge.InvalidInputError, match="one file"):
        colbridge.read_pandas([files["pandas"]] * 2, consolidate=True)


# --- the external corpus: never a crash, values as pandas where it reads them --------------------


def _numeric_corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    manifest = json.loads((CORPUS / "parquet-testing" / "manifest.json").read_text())
    entries = manifest if isinstance(manifest, list) else manifest.get("files", [])
    out = []
    for entry in entries:
        path = CORPUS / "parquet-testing" / entry["path"]
        if entry.get("expect") == "values" and path.stat().st_size < 4_000_000:
            out.append(path)
    return out


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"external corpus not found at {CORPUS}")
def test_corpus_numeric_columns_read_as_pandas_or_fail_cleanly() -> None:
    compared = 0
    for path in _numeric_corpus_files():
        try:
            frame = pd.read_parquet(path)
        except Exception:
            continue
        numeric = [
            c
            for c in frame.columns
            if isinstance(c, str)
            and frame[c].dtype.kind in "fiub"
            and not isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype)
        ]
        try:
            got = colbridge.read_numpy(path, columns=numeric)
        except (colbridge.ColbridgeError, OSError):
            continue
        np.testing.assert_array_equal(
            got, frame[numeric].to_numpy(dtype=np.float64), err_msg=str(path)
        )
        compared += 1
    assert compared >= 20
