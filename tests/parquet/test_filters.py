"""read_parquet's DNF filters: every operator on every column type, AND and OR, against a pandas
oracle (and pyarrow where it has the operator); row groups the statistics rule out are never
read; malformed filters raise InvalidInputError."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

from .conftest import same


def _oracle_mask(df: pd.DataFrame, col: str, op: str, value: Any) -> np.ndarray:
    s = df[col]
    valid = s.notna().to_numpy()
    if op == "is null":
        return ~valid
    if op == "is not null":
        return valid
    if op in ("in", "not in"):
        hit = s.isin(list(value)).to_numpy() & valid
        return hit if op == "in" else ~hit  # like pandas' ~isin and pyarrow: nulls are "not in"
    ops = {
        "==": s.__eq__,
        "!=": s.__ne__,
        "<": s.__lt__,
        "<=": s.__le__,
        ">": s.__gt__,
        ">=": s.__ge__,
    }
    res = ops[op](value)
    return np.asarray(res.fillna(False), dtype=bool) & valid


TERMS = [
    ("i", "==", 10),
    ("i", "!=", 10),
    ("i", "<", 0),
    ("i", "<=", 0),
    ("i", ">", 20),
    ("i", ">=", 20),
    ("i", "in", [1, 2, 3, 40]),
    ("i", "not in", [1, 2, 3, 40]),
    ("i", "is null", None),
    ("i", "is not null", None),
    ("f", ">", 0.5),
    ("f", "<=", -0.5),
    ("f", "is null", None),
    ("s", "==", "s03"),
    ("s", "!=", "s03"),
    ("s", ">=", "s10"),
    ("s", "in", ["s01", "s12"]),
    ("s", "not in", ["s01", "s12"]),
    ("s", "is not null", None),
    ("id", "<", 15),
    ("id", ">=", 95),
    ("t", ">=", dt.datetime(2024, 1, 3)),
    ("b", "==", True),
]


def _expected(table: pa.Table, dnf: list[list[tuple[str, str, Any]]]) -> pa.Table:
    df = table.to_pandas()
    mask = np.zeros(len(df), dtype=bool)
    for conj in dnf:
        m = np.ones(len(df), dtype=bool)
        for col, op, value in conj:
            m &= _oracle_mask(df, col, op, value)
        mask |= m
    return table.filter(pa.array(mask))


@pytest.mark.parametrize("term", TERMS, ids=[f"{c} {o} {v}" for c, o, v in TERMS])
def test_every_operator_keeps_the_rows_pandas_keeps(
    path: Path, table: pa.Table, term: tuple
) -> None:
    got = colbridge.read_parquet(path, filters=[term])
    want = _expected(table, [[term]])
    same(got, want)
    # pyarrow agrees with the pandas oracle
    if term[1] not in ("is null", "is not null"):
        assert pq.read_table(path, filters=[term]).to_pylist() == want.to_pylist()


def test_terms_of_a_conjunction_must_all_hold(path: Path, table: pa.Table) -> None:
    conj = [("i", ">", -20), ("f", "is not null", None), ("s", "!=", "s05")]
    same(colbridge.read_parquet(path, filters=conj), _expected(table, [conj]))


def test_a_list_of_conjunctions_keeps_rows_matching_any(path: Path, table: pa.Table) -> None:
    dnf = [
        [("i", "<", -30), ("f", ">", 0.0)],
        [("s", "in", ["s01", "s02"]), ("id", ">=", 50)],
        [("i", "is null", None), ("id", "<", 20)],
    ]
    got = colbridge.read_parquet(path, filters=dnf)
    want = _expected(table, dnf)
    assert want.num_rows > 0
    same(got, want)
    # pyarrow's DNF filters have no "is null": it checks the first two conjunctions
    assert (
        pq.read_table(path, filters=dnf[:2]).to_pylist()
        == _expected(pq.read_table(path), dnf[:2]).to_pylist()
    )


def test_filters_combine_with_columns_and_row_groups(path: Path, table: pa.Table) -> None:
    got = colbridge.read_parquet(path, columns=["s"], row_groups=[0, 1], filters=[("i", ">", 0)])
    first20 = table.slice(0, 20)
    want = _expected(first20, [[("i", ">", 0)]]).select(["s"])
    same(got, want)


def test_filters_apply_to_dictionary_columns(tmp_path: Path) -> None:
    p = tmp_path / "dict.parquet"
    df = pd.DataFrame({"c": pd.Categorical(["x", "y", None, "x", "z"]), "v": range(5)})
    df.to_parquet(p)
    got = pa.table(colbridge.read_parquet(p, filters=[("c", "in", ["x", "z"])]))
    assert got.column("v").to_pylist() == [0, 3, 4]


def test_a_filter_matching_nothing_gives_an_empty_table_with_the_schema(path: Path) -> None:
    t = colbridge.read_parquet(path, filters=[("id", ">", 10_000)])
    assert t.num_rows == 0
    assert pa.table(t).schema.names == pq.read_schema(path).names


def _corrupt_row_groups_except(path: Path, keep: int) -> None:
    """Overwrite every column chunk of every row group but ``keep`` with 0xFF bytes.

    The footer (with the statistics) stays intact, so a reader that prunes by statistics never
    touches the garbage, and one that does not prune fails."""
    md = pq.ParquetFile(path).metadata
    data = bytearray(path.read_bytes())
    for g in range(md.num_row_groups):
        if g == keep:
            continue
        for c in range(md.num_columns):
            cc = md.row_group(g).column(c)
            start = cc.data_page_offset
            if cc.has_dictionary_page and cc.dictionary_page_offset:
                start = min(start, cc.dictionary_page_offset)
            data[start : start + cc.total_compressed_size] = b"\xff" * cc.total_compressed_size
    path.write_bytes(bytes(data))


def test_row_groups_ruled_out_by_statistics_are_never_read(tmp_path: Path) -> None:
    p = tmp_path / "ten.parquet"
    t = pa.table({"k": np.arange(100, dtype=np.int64), "v": np.arange(100, dtype=np.float64) / 2})
    pq.write_table(t, p, row_group_size=10)
    pf = colbridge.ParquetFile(p)
    assert pf.num_row_groups == 10
    stats = [rg["columns"][0]["statistics"] for rg in pf.metadata["row_groups"]]
    assert [(s["min"], s["max"]) for s in stats] == [(10 * g, 10 * g + 9) for g in range(10)]

    _corrupt_row_groups_except(p, keep=4)
    with pytest.raises(colbridge.ParquetError):
        colbridge.read_parquet(p)
    for filters in (
        [("k", ">=", 42), ("k", "<", 47)],
        [("k", "in", [41, 45])],
        [[("k", "==", 40)], [("k", "==", 49)]],
    ):
        got = pa.table(colbridge.read_parquet(p, filters=filters))
        want = _expected(t, filters if isinstance(filters[0], list) else [filters])
        assert got.equals(want), filters


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        ([("nope", "==", 1)], "unknown column"),
        ([("i", "~", 1)], "operator"),
        ([("i", "==", None)], "None"),
        ([("i", "<", None)], "None"),
        ([("i", "in", "abc")], "collection"),
        ([("i", "==")], "column, op, value"),
        ([[("i", "==", 1)], [("zz", ">", 2)]], "unknown column"),
        (5, "list"),
    ],
)
def test_malformed_filters_raise_invalid_input(path: Path, filters: Any, match: str) -> None:
    with pytest.raises(colbridge.InvalidInputError, match=match):
        colbridge.read_parquet(path, filters=filters)


def test_a_filter_value_of_the_wrong_type_raises(path: Path) -> None:
    with pytest.raises(colbridge.ColbridgeError):
        colbridge.read_parquet(path, filters=[("i", "==", "not a number")])
