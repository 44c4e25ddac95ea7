"""``colbridge.write_parquet(df)`` writes what ``df.to_parquet(path)`` writes: the index (as
``index=None/True/False`` decide) and the pandas metadata, so pandas, pyarrow and colbridge
rebuild the same frame; every type comes back with the same type in pyarrow, Polars and
DuckDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import colbridge

from .conftest import pa, pd, pq


def _frames() -> dict[str, Any]:
    base = pd.DataFrame(
        {
            "k": ["a", "b", "a"],
            "v": [1.0, 2.0, 3.5],
            "i": np.array([1, 2, 3], dtype=np.int32),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "t": pd.date_range("2020", periods=3, tz="Europe/Paris", unit="s"),
            "ts": pd.date_range("2020", periods=3, unit="s"),
            "c": pd.Categorical(["x", "y", "x"], ordered=True),
            "s": pd.array(["p", None, "q"], dtype="string"),
            "b": [b"a", None, b"c"],
        }
    )
    column_multi = base[["v", "i"]].copy()
    column_multi.columns = pd.MultiIndex.from_tuples([("x", "a"), ("x", "b")], names=["l0", "l1"])
    return {
        "range_index": base,
        "groupby_mean": base.groupby("k")[["v"]].mean(),
        "multiindex": base.set_index(["k", "i"]),
        "unnamed_index": base.set_axis(pd.Index([10, 30, 20])),
        "stepped_range": base.set_axis(pd.RangeIndex(10, 16, 2, name="r")),
        "column_multiindex": column_multi,
        "int_labels": pd.DataFrame({0: [1, 2], 1: [3.5, None]}),
        "columns_name": base.rename_axis(columns="fields"),
    }


FRAMES = _frames()


@pytest.mark.parametrize("index", [None, True, False])
@pytest.mark.parametrize("name", list(FRAMES))
def test_write_parquet_is_to_parquet(tmp_path: Path, name: str, index: bool | None) -> None:
    df = FRAMES[name]
    ours, theirs = tmp_path / "colbridge.parquet", tmp_path / "pandas.parquet"
    colbridge.write_parquet(df, ours, index=index)
    df.to_parquet(theirs, index=index)
    want = pd.read_parquet(theirs)
    pd.testing.assert_frame_equal(pd.read_parquet(ours), want)
    pd.testing.assert_frame_equal(colbridge.read_pandas(ours), want)
    pd.testing.assert_frame_equal(colbridge.read_parquet(ours).to_pandas(), want)
    pd.testing.assert_frame_equal(pq.read_table(ours).to_pandas(), want)
    assert pq.read_schema(ours).names == pq.read_schema(theirs).names


def test_groupby_keys_survive(tmp_path: Path) -> None:
    df = pd.DataFrame({"k": ["a", "b", "a"], "v": [1.0, 2.0, 4.0]}).groupby("k").mean()
    colbridge.write_parquet(df, tmp_path / "g.parquet")
    back = pd.read_parquet(tmp_path / "g.parquet")
    pd.testing.assert_frame_equal(back, df)


def test_pandas_metadata_is_pyarrows(tmp_path: Path) -> None:
    df = FRAMES["multiindex"]
    colbridge.write_parquet(df, tmp_path / "c.parquet")
    df.to_parquet(tmp_path / "p.parquet")
    ours = json.loads(pq.read_schema(tmp_path / "c.parquet").metadata[b"pandas"])
    theirs = json.loads(pq.read_schema(tmp_path / "p.parquet").metadata[b"pandas"])
    assert ours["index_columns"] == theirs["index_columns"]
    assert ours["column_indexes"] == theirs["column_indexes"]
    strip = [
        {k: c[k] for k in ("name", "field_name", "numpy_type", "metadata")}
        for c in theirs["columns"]
    ]
    assert [
        {k: c[k] for k in ("name", "field_name", "numpy_type", "metadata")} for c in ours["columns"]
    ] == strip


def test_seconds_are_stored_as_milliseconds(tmp_path: Path) -> None:
    # Parquet has no seconds unit; like pyarrow, colbridge stores milliseconds with the
    # timestamp logical type, so every reader sees a timestamp (never a bare int64).
    path = tmp_path / "s.parquet"
    t = colbridge.table(
        {
            "ts": np.array(["2020-01-01T00:00:01", "NaT"], dtype="datetime64[s]"),
            "tz": colbridge.array([1, 2], type="int64").cast("timestamp[s, tz=UTC]"),
        }
    )
    colbridge.write_parquet(t, path)
    schema = pq.read_schema(path)
    assert schema.field("ts").type == pa.timestamp("ms")
    assert schema.field("tz").type == pa.timestamp("ms", tz="UTC")
    assert pd.read_parquet(path)["ts"].dtype == np.dtype("datetime64[ms]")
    polars = pytest.importorskip("polars")
    assert polars.read_parquet(path).schema["ts"] == polars.Datetime("ms")
    duckdb = pytest.importorskip("duckdb")
    kinds = dict(duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()[i][:2] for i in range(2))
    assert kinds["ts"] == "TIMESTAMP"
    assert kinds["tz"] == "TIMESTAMP WITH TIME ZONE"


def test_every_type_reads_back_as_written_in_pyarrow(tmp_path: Path) -> None:
    df = FRAMES["range_index"]
    colbridge.write_parquet(df, tmp_path / "c.parquet")
    df.to_parquet(tmp_path / "p.parquet")
    assert (
        pq.read_schema(tmp_path / "c.parquet").types == pq.read_schema(tmp_path / "p.parquet").types
    )


def test_categories_are_the_used_values_in_order_of_appearance(tmp_path: Path) -> None:
    # A documented difference from df.to_parquet: arrow-rs' writer re-encodes dictionaries,
    # so the stored categories are the values that occur, in order of first appearance
    # (pyarrow stores the categories as they are, unused ones included).
    df = pd.DataFrame({"c": pd.Categorical(["b", None, "a"], categories=["a", "b", "z"])})
    colbridge.write_parquet(df, tmp_path / "c.parquet")
    back = pd.read_parquet(tmp_path / "c.parquet")["c"]
    assert list(back.cat.categories) == ["b", "a"]
    assert back.tolist()[::2] == ["b", "a"] and back.isna().tolist() == [False, True, False]


# --- random frames ---------------------------------------------------------------------------

_columns = st.sampled_from(["int", "int_nulls", "float", "str", "bool", "cat", "ts", "Int64"])


def _column(kind: str, n: int, data: st.DataObject) -> Any:
    ints = st.integers(-(2**40), 2**40)
    if kind == "int":
        return np.array(data.draw(st.lists(ints, min_size=n, max_size=n)), dtype=np.int64)
    if kind == "int_nulls":
        values = data.draw(st.lists(st.one_of(st.none(), ints), min_size=n, max_size=n))
        return pd.array(values, dtype="Int64").astype("float64")
    if kind == "Int64":
        values = data.draw(st.lists(st.one_of(st.none(), ints), min_size=n, max_size=n))
        return pd.array(values, dtype="Int64")
    if kind == "float":
        floats = st.floats(allow_nan=True, allow_infinity=False, width=64)
        return np.array(data.draw(st.lists(floats, min_size=n, max_size=n)))
    if kind == "str":
        texts = st.one_of(st.none(), st.text(max_size=5))
        return pd.array(data.draw(st.lists(texts, min_size=n, max_size=n)), dtype="str")
    if kind == "bool":
        return np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    if kind == "cat":
        labels = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
        values = data.draw(st.lists(labels, min_size=n, max_size=n))
        return pd.Categorical(values, categories=["a", "b", "c"])
    seconds = st.integers(0, 2**31)
    return pd.to_datetime(data.draw(st.lists(seconds, min_size=n, max_size=n)), unit="s").as_unit(
        "us"
    )


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(_columns, min_size=1, max_size=4),
    n=st.integers(0, 6),
    indexed=st.booleans(),
    data=st.data(),
)
def test_random_frames_round_trip_both_ways(
    tmp_path_factory: pytest.TempPathFactory, kinds: list[str], n: int, indexed: bool, data: Any
) -> None:
    df = pd.DataFrame({f"c{i}_{k}": _column(k, n, data) for i, k in enumerate(kinds)})
    if indexed:
        df.index = pd.Index(np.arange(n) * 3 + 1, name="id")
    folder = tmp_path_factory.mktemp("random")
    by_pandas, by_colbridge = folder / "pandas.parquet", folder / "colbridge.parquet"
    # pandas writes, colbridge reads.
    df.to_parquet(by_pandas)
    want = pd.read_parquet(by_pandas)
    pd.testing.assert_frame_equal(colbridge.read_pandas(by_pandas), want)
    # colbridge writes, pandas / pyarrow / colbridge read what pandas' own file gives (the
    # categories aside: see test_categories_are_the_used_values_in_order_of_appearance).
    colbridge.write_parquet(df, by_colbridge)
    exact = not any(k == "cat" for k in kinds)
    for back in (pd.read_parquet(by_colbridge), colbridge.read_pandas(by_colbridge)):
        pd.testing.assert_frame_equal(back, want, check_categorical=exact)
    assert pq.read_schema(by_colbridge).types == pq.read_schema(by_pandas).types
