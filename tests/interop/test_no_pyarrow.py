"""colbridge without pyarrow: NumPy, pandas and Polars hand-offs all work.

Each scenario runs in a fresh interpreter where ``import pyarrow`` fails
(``sys.modules['pyarrow'] = None`` before colbridge is imported), and checks that pyarrow was
never loaded.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

PRELUDE = """
import sys
sys.modules["pyarrow"] = None
import datetime as dt
import numpy as np
import colbridge

def address(a):
    return np.asarray(a).__array_interface__["data"][0]

try:
    import pyarrow
except ImportError:
    pass
else:
    raise AssertionError("pyarrow should be blocked")
"""

EPILOGUE = """
assert sys.modules["pyarrow"] is None, "pyarrow got imported"
print("OK")
"""


def run(body: str) -> None:
    code = PRELUDE + textwrap.dedent(body) + EPILOGUE
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("OK"), proc.stdout


def test_build_arrays_and_tables() -> None:
    run(
        """
        arr = colbridge.array([1, None, 3])
        assert arr.to_pylist() == [1, None, 3]
        assert str(arr.type) == "int64"
        days = [dt.date(2020, 1, 1)] * 3
        t = colbridge.table({"a": np.arange(3), "s": ["x", None, "z"], "d": days})
        assert t.to_pydict()["s"] == ["x", None, "z"]
        assert t.schema.names == ["a", "s", "d"]
        assert colbridge.chunked_array([[1], [2]]).to_pylist() == [1, 2]
        assert colbridge.array([{"k": [1.5]}]).to_pylist() == [{"k": [1.5]}]
        """
    )


def test_to_numpy() -> None:
    run(
        """
        source = np.arange(10, dtype=np.float32)
        arr = colbridge.array(source)
        out = arr.to_numpy()
        assert address(out) == address(source) == arr.values.address
        assert np.asarray(arr).tolist() == source.tolist()
        assert colbridge.array([1, None]).to_numpy().tolist()[0] == 1.0
        assert colbridge.array(["a", None]).to_numpy().tolist() == ["a", None]
        validity = colbridge.array([1, None]).validity
        assert colbridge.bitmap_to_mask(validity).tolist() == [True, False]
        """
    )


def test_to_pandas_including_strings() -> None:
    run(
        """
        import pandas as pd
        t = colbridge.table(
            {
                "i": np.arange(3, dtype=np.int64),
                "n": [1, None, 3],
                "s": ["x", None, "z"],
                "ls": colbridge.array(["p", None, "q"], type="large_string"),
                "sv": colbridge.array(["p", None, "q"], type="string_view"),
                "tz": [dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)] * 3,
            }
        )
        df = t.to_pandas()
        assert df["i"].dtype == np.int64
        assert np.shares_memory(df["i"].to_numpy(), np.asarray(t.column("i").chunk(0).values))
        assert df["n"].dtype == np.float64  # ints with nulls: float64 NaN, as pandas
        for name in ("s", "ls", "sv"):
            assert df[name].dtype == "str", df[name].dtype
            assert df[name].isna().tolist() == [False, True, False]
        assert df["s"].iloc[0] == "x" and df["s"].iloc[2] == "z"
        assert isinstance(df["tz"].dtype, pd.DatetimeTZDtype)

        nullable = t.to_pandas(dtype_backend="numpy_nullable")
        assert nullable["s"].tolist() == ["x", pd.NA, "z"]

        series = colbridge.array(["a", None]).to_pandas()
        assert series.dtype == "str"

        # Writes still copy.
        df.loc[0, "i"] = 7
        df.loc[0, "s"] = "w"
        assert t.to_pydict()["i"] == [0, 1, 2]
        assert t.to_pydict()["s"] == ["x", None, "z"]
        """
    )


def test_pandas_input() -> None:
    run(
        """
        import pandas as pd
        frame = pd.DataFrame(
            {
                "i": np.arange(3),
                "s": pd.array(["x", None, "z"], dtype="str"),
                "n": pd.array([1, None, 3], dtype="Int32"),
                "t": pd.date_range("2020", periods=3, tz="Europe/Paris"),
                "o": ["p", None, "q"],
            }
        )
        t = colbridge.table(frame)
        assert t.to_pydict()["s"] == ["x", None, "z"]
        assert t.to_pydict()["n"] == [1, None, 3]
        assert t.to_pydict()["o"] == ["p", None, "q"]
        assert str(t.schema.field("t").type).endswith("tz=Europe/Paris]")
        assert t.column("t").chunk(0).values.address == address(frame["t"].array.asi8)
        assert t.column("i").chunk(0).values.address == address(frame["i"].to_numpy())
        back = t.to_pandas()
        assert back["t"].tolist() == frame["t"].tolist()
        """
    )


def test_polars_hand_off() -> None:
    run(
        """
        import polars as pl
        t = colbridge.table({"a": np.arange(4, dtype=np.int32), "s": ["x", None, "y", "z"]})
        frame = t.to_polars()
        assert frame.shape == (4, 2)
        assert frame["s"].to_list() == ["x", None, "y", "z"]
        shared = frame["a"].to_numpy(allow_copy=False)
        assert address(shared) == t.column("a").chunk(0).values.address
        assert pl.DataFrame(t).equals(frame)
        series = colbridge.array([1.5, None]).to_polars()
        assert series.to_list() == [1.5, None]
        back = colbridge.table(frame)
        assert back.to_pydict() == t.to_pydict()
        assert colbridge.array(pl.Series([1, 2])).to_pylist() == [1, 2]
        """
    )


def test_the_pyarrow_backend_says_how_to_install_pyarrow() -> None:
    run(
        """
        import os, tempfile
        path = os.path.join(tempfile.mkdtemp(), "t.parquet")
        table = colbridge.table({"a": [1, 2]})
        colbridge.write_parquet(table, path)
        message = "dtype_backend='pyarrow' needs pyarrow: pip install pyarrow"
        for convert in (
            lambda: colbridge.read_pandas(path, dtype_backend="pyarrow"),
            lambda: table.to_pandas(dtype_backend="pyarrow"),
            lambda: table.column("a").to_pandas(dtype_backend="pyarrow"),
        ):
            try:
                convert()
            except ImportError as e:
                assert str(e) == message, str(e)
            else:
                raise AssertionError("no ImportError")
        """
    )


def test_list_columns_are_arrays_per_row_as_pyarrow_gives_them() -> None:
    # What pyarrow's to_pandas gives (checked against pyarrow in this process, below).
    run(
        """
        import pickle
        t = colbridge.table({
            "ints": colbridge.array([[1, 2], None, [3, 4], []]),
            "ints_nulls": colbridge.array([[1, 2], None, [3, None], []]),
            "floats": colbridge.array([[1.5], None, [None, 2.5], [0.0]]),
            "strs": colbridge.array([["a"], None, ["b", None], []]),
            "nested": colbridge.array([[[1], [2, 3]], None, [[]], [None, [4]]]),
        })
        df = t.to_pandas()
        assert isinstance(df["ints"].iloc[0], np.ndarray) and df["ints"].iloc[1] is None
        assert df["ints"].iloc[0].dtype == np.int64
        assert df["ints_nulls"].iloc[0].dtype == np.float64
        assert np.isnan(df["floats"].iloc[2][0]) and df["strs"].iloc[2][1] is None
        print(pickle.dumps({c: list(df[c]) for c in df.columns}).hex())
        """
    )


def test_list_columns_without_pyarrow_equal_pyarrows() -> None:
    import pickle

    import numpy as np
    import pytest

    pa = pytest.importorskip("pyarrow")
    data = {
        "ints": [[1, 2], None, [3, 4], []],
        "ints_nulls": [[1, 2], None, [3, None], []],
        "floats": [[1.5], None, [None, 2.5], [0.0]],
        "strs": [["a"], None, ["b", None], []],
        "nested": [[[1], [2, 3]], None, [[]], [None, [4]]],
    }
    code = (
        PRELUDE
        + "import pickle\n"
        + f"t = colbridge.table({{k: colbridge.array(v) for k, v in {data!r}.items()}})\n"
        + "df = t.to_pandas()\n"
        + "print(pickle.dumps({c: list(df[c]) for c in df.columns}).hex())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    got = pickle.loads(bytes.fromhex(proc.stdout.strip().splitlines()[-1]))
    want = pa.table({k: pa.array(v) for k, v in data.items()}).to_pandas()

    def same(a: object, b: object) -> bool:
        if a is None or b is None:
            return a is b
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype == object:
            return all(
                same(x, y) if isinstance(x, np.ndarray) else x == y
                for x, y in zip(a, b, strict=True)
            )
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))

    for name in data:
        rows = list(want[name])
        assert len(got[name]) == len(rows)
        for mine, theirs in zip(got[name], rows, strict=True):
            assert same(mine, theirs), (name, mine, theirs)
