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


def test_a_filter_string_is_refused_with_the_dnf_form(path: Path) -> None:
    with pytest.raises(colbridge.InvalidInputError) as info:
        colbridge.read_parquet(path, filters="i > 3")
    message = str(info.value)
    assert "'i > 3'" in message and "disjunctive normal form" in message
    assert '[("passengers", ">", 3)]' in message  # shows the form to write instead


@pytest.mark.parametrize("term", [("i", ">", 3), ("s", "in", ["s01", "s02"]), ("f", "is null")])
def test_a_single_bare_term_reads_as_a_list_of_one(path: Path, term: tuple) -> None:
    same(
        colbridge.read_parquet(path, filters=term),
        pa.table(colbridge.read_parquet(path, filters=[term])),
    )
    assert (
        colbridge.ParquetFile(path).read(filters=term).num_rows
        == colbridge.read_parquet(path, filters=[term]).num_rows
    )


def test_a_malformed_term_is_shown_with_the_dnf_form(path: Path) -> None:
    with pytest.raises(colbridge.InvalidInputError, match=r"got 'i'.*disjunctive normal form"):
        colbridge.read_parquet(path, filters=["i", ">", 3])


TEMPORAL = pa.table(
    {
        "ts_s": pa.array([dt.datetime(2023, 11, d, 8) for d in (14, 15, 16)], pa.timestamp("s")),
        "ts_ms": pa.array([dt.datetime(2023, 11, d, 8) for d in (14, 15, 16)], pa.timestamp("ms")),
        "ts_us": pa.array([dt.datetime(2023, 11, d, 8) for d in (14, 15, 16)], pa.timestamp("us")),
        "ts_ns": pa.array([dt.datetime(2023, 11, d, 8) for d in (14, 15, 16)], pa.timestamp("ns")),
        # 07:00, 08:00 and 09:00 UTC: 08:00, 09:00 and 10:00 in Berlin
        "berlin": pa.array(
            [dt.datetime(2023, 11, 15, h, tzinfo=dt.UTC) for h in (7, 8, 9)],
            pa.timestamp("us", tz="Europe/Berlin"),
        ),
        "day": pa.array([dt.date(2023, 11, d) for d in (14, 15, 16)]),
        "clock": pa.array([dt.time(h, 30) for h in (7, 8, 9)]),
    }
)


@pytest.fixture
def temporal_path(tmp_path: Path) -> Path:
    p = tmp_path / "temporal.parquet"
    pq.write_table(TEMPORAL, p)
    return p


@pytest.mark.parametrize(
    ("term", "as_object", "rows"),
    [
        (("ts_s", ">=", "2023-11-15"), dt.datetime(2023, 11, 15), [1, 2]),
        (("ts_ms", ">", "2023-11-15T08:00:00"), dt.datetime(2023, 11, 15, 8), [2]),
        (
            ("ts_us", "<", "2023-11-15 08:00:00.000001"),
            dt.datetime(2023, 11, 15, 8, 0, 0, 1),
            [0, 1],
        ),
        (("ts_ns", "==", "2023-11-16T08:00"), dt.datetime(2023, 11, 16, 8), [2]),
        (("ts_us", "in", ["2023-11-14T08:00", "2023-11-16T08:00"]), None, [0, 2]),
        # without an offset: a wall-clock time in the column's zone, as pandas reads it
        (("berlin", ">", "2023-11-15T09:00"), dt.datetime(2023, 11, 15, 8, tzinfo=dt.UTC), [2]),
        (
            ("berlin", ">", "2023-11-15T09:00+01:00"),
            dt.datetime(2023, 11, 15, 8, tzinfo=dt.UTC),
            [2],
        ),
        (
            ("berlin", "<=", "2023-11-15T08:00:00Z"),
            dt.datetime(2023, 11, 15, 8, tzinfo=dt.UTC),
            [0, 1],
        ),
        (("day", ">=", "2023-11-15"), dt.date(2023, 11, 15), [1, 2]),
        (("clock", "<", "08:30"), dt.time(8, 30), [0]),
    ],
    ids=lambda v: " ".join(map(str, v)) if isinstance(v, tuple) else "",
)
def test_iso_strings_compare_with_temporal_columns_as_the_values_they_spell(
    temporal_path: Path, term: tuple, as_object: Any, rows: list[int]
) -> None:
    got = pa.table(colbridge.read_parquet(temporal_path, filters=[term]))
    assert got.to_pylist() == TEMPORAL.take(rows).to_pylist()
    if as_object is not None:
        same(got, pa.table(colbridge.read_parquet(temporal_path, filters=[(*term[:2], as_object)])))
    column, op, value = term
    if column.startswith(("ts", "berlin")) and op != "in":  # pandas reads the string the same way
        series = TEMPORAL.column(column).to_pandas()
        compare = getattr(series, {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "==": "eq"}[op])
        assert series[compare(value)].index.tolist() == rows


@pytest.mark.parametrize(
    ("term", "match"),
    [
        (
            ("ts_us", ">", "last tuesday"),
            r"'ts_us' \(timestamp\[us\]\): could not read 'last tuesday' as a timestamp: use an",
        ),
        (
            ("day", "==", "2023-11-15T08:00"),
            r"filter on 'day' \(date32\[day\]\): could not read .* as a date",
        ),
        (
            ("ts_us", ">", "2023-11-15T08:00+01:00"),
            r"'ts_us' \(timestamp\[us\]\): .* has a UTC offset but the column has no time zone",
        ),
        (
            ("ts_ns", ">", 5),
            r"filter on 'ts_ns' \(timestamp\[ns\]\): could not convert 5 \(type int\)",
        ),
    ],
)
def test_a_value_that_does_not_fit_names_the_column_and_its_type(
    temporal_path: Path, term: tuple, match: str
) -> None:
    with pytest.raises(colbridge.InvalidInputError, match=match):
        colbridge.read_parquet(temporal_path, filters=[term])


def test_a_string_for_a_number_column_names_the_column_and_its_type(path: Path) -> None:
    with pytest.raises(
        colbridge.InvalidInputError, match=r"filter on 'i' \(int64\): could not convert 'x'"
    ):
        colbridge.read_parquet(path, filters=[("i", "==", "x")])
