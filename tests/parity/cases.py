"""The generated type matrix: small Arrow arrays covering every Arrow type pandas converts, with
and without nulls, nested. ``CASES`` maps a case name to ``make(nulls: bool) -> pa.Array``.

Conventions: 4 rows (unless stated); in the ``nulls`` variant row 1 is null and, for nested
types, row 2 holds a null *inside* the value (inner null).  Float cases also store a NaN
value (row 3) in both variants so that "NaN stored as a value" vs "null" can be told apart.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")

D = decimal.Decimal


def _arr(values, typ, nulls, null_at=(1,)):
    vals = list(values)
    if nulls:
        for i in null_at:
            vals[i] = None
    return pa.array(vals, type=typ)


def _simple(values, typ, null_at=(1,)):
    return lambda nulls: _arr(values, typ, nulls, null_at)


def _dict(index_type, n_categories=3, ordered=False, n_rows=4):
    def make(nulls):
        cats = pa.array([f"c{i:05d}" for i in range(n_categories)], pa.string())
        idx = [i % n_categories for i in range(n_rows)] if n_categories else [None] * n_rows
        if n_categories > 4:  # use the last categories too (beyond 127 / 32767)
            idx = [0, n_categories - 1, n_categories // 2, 1] + idx[4:]
        if nulls:
            idx[1] = None
        ind = pa.array(idx, type=index_type)
        return pa.DictionaryArray.from_arrays(ind, cats, ordered=ordered)

    return make


def _dict_allnull(index_type: Any = None) -> Callable[[bool], Any]:
    index_type = index_type or pa.int32()

    def make(nulls):
        # nulls: all rows null over a non-empty dictionary; else empty dictionary, all null
        cats = pa.array(["a", "b"] if nulls else [], pa.string())
        return pa.DictionaryArray.from_arrays(pa.array([None] * 4, index_type), cats)

    return make


def _dict_int(nulls):
    return pa.DictionaryArray.from_arrays(
        pa.array([0, None if nulls else 1, 1, 0], pa.int8()), pa.array([10, 20], pa.int64())
    )


def _list(factory, child, vals_nonull, inner_null_row=2):
    """vals_nonull: 4 python values (lists); nulls variant: row 1 null, an inner None in row 2."""

    def make(nulls):
        vals = [None if v is None else list(v) for v in vals_nonull]
        if nulls:
            vals[1] = None
            vals[inner_null_row] = list(vals[inner_null_row])
            vals[inner_null_row][0] = None
        return pa.array(vals, type=factory(child))

    return make


def _fixed_list(child, vals, size=2):
    def make(nulls):
        v = [list(x) for x in vals]
        if nulls:
            v[1] = None
            v[2][0] = None
        return pa.array(v, type=pa.list_(child, size))

    return make


def _list_view(child, vals):
    def make(nulls):
        v = [list(x) for x in vals]
        if nulls:
            v[1] = None
            v[2][0] = None
        return pa.array(v, type=pa.list_view(child))

    return make


ST = pa.struct([("a", pa.int64()), ("b", pa.string())])
ST_NESTED = pa.struct(
    [("a", pa.int64()), ("s", pa.struct([("x", pa.float64()), ("y", pa.string())]))]
)


def _struct(nulls):
    vals = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}, {"a": 4, "b": "w"}]
    if nulls:
        vals[1] = None
        vals[2] = {"a": None, "b": "z"}
    return pa.array(vals, type=ST)


def _struct_nested(nulls):
    vals = [{"a": i, "s": {"x": i + 0.5, "y": str(i)}} for i in range(4)]
    if nulls:
        vals[1] = None
        vals[2] = {"a": None, "s": None}
        vals[3] = {"a": 3, "s": {"x": None, "y": None}}
    return pa.array(vals, type=ST_NESTED)


def _map(nulls):
    vals = [[("k1", 1), ("k2", 2)], [("k3", 3)], [], [("k4", 4)]]
    if nulls:
        vals[1] = None
        vals[3] = [("k4", None)]
    return pa.array(vals, type=pa.map_(pa.string(), pa.int64()))


def _uuid(nulls):
    raw = [uuid.UUID(int=i + 1).bytes for i in range(4)]
    if nulls:
        raw[1] = None
    storage = pa.array(raw, pa.binary(16))
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def _json(nulls):
    vals = ['{"a": 1}', "[1, 2]", "null", '"s"']
    if nulls:
        vals[1] = None
    return pa.ExtensionArray.from_storage(pa.json_(), pa.array(vals, pa.string()))


TS = [
    dt.datetime(2020, 1, 1, 12, 0, 0),
    dt.datetime(2021, 6, 30, 23, 59, 59),
    dt.datetime(1969, 7, 20, 20, 17, 40),
    dt.datetime(2262, 4, 11, 0, 0, 0),
]
TS_NS = [
    dt.datetime(2020, 1, 1, 12, 0, 0),
    dt.datetime(2021, 6, 30, 23, 59, 59),
    dt.datetime(1969, 7, 20, 20, 17, 40),
    dt.datetime(2000, 1, 1, 0, 0, 0, 1),
]

CASES: dict[str, Callable[[bool], Any]] = {
    "null": lambda nulls: pa.nulls(4),
    "bool": _simple([True, False, True, False], pa.bool_()),
    **{
        f"{t}": _simple([1, 2, 3, 100], getattr(pa, t)())
        for t in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    },
    "uint64_big": _simple([1, 2, 2**63 + 5, 2**64 - 1], pa.uint64()),
    "float16": lambda nulls: pa.array(
        np.array([1.5, 2.0, float("nan"), -0.25], "float16"),
        mask=np.array([False, nulls, False, False]),
    ),
    "float32": _simple([1.5, 2.0, float("nan"), -0.25], pa.float32()),
    "float64": _simple([1.5, 2.0, float("nan"), -0.25], pa.float64()),
    "decimal32": _simple([D("1.25"), D("-2.50"), D("0.01"), D("99999.99")], pa.decimal32(7, 2)),
    "decimal64": _simple([D("1.250"), D("-2.500"), D("0.001"), D("9.999")], pa.decimal64(15, 3)),
    "decimal128": _simple(
        [D("1.25"), D("-2.50"), D("0.01"), D("12345678.90")], pa.decimal128(10, 2)
    ),
    "decimal256": _simple(
        [D("1.25000"), D("-2.5"), D("0.00001"), D("1" * 35)], pa.decimal256(40, 5)
    ),
    "date32": _simple(
        [dt.date(2020, 1, 1), dt.date(1970, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31)],
        pa.date32(),
    ),
    "date64": _simple(
        [dt.date(2020, 1, 1), dt.date(1970, 1, 1), dt.date(1900, 1, 1), dt.date(2100, 12, 31)],
        pa.date64(),
    ),
    "time32[s]": _simple(
        [dt.time(1, 2, 3), dt.time(0), dt.time(23, 59, 59), dt.time(12)], pa.time32("s")
    ),
    "time32[ms]": _simple(
        [dt.time(1, 2, 3, 4000), dt.time(0), dt.time(23, 59, 59), dt.time(12)], pa.time32("ms")
    ),
    "time64[us]": _simple(
        [dt.time(1, 2, 3, 4), dt.time(0), dt.time(23, 59, 59), dt.time(12)], pa.time64("us")
    ),
    "time64[ns]": lambda nulls: pa.array(
        [3_723_000_001_000, None if nulls else 0, 1000, 86_399_999_999_000], pa.time64("ns")
    ),
    "time64[ns] sub-us": lambda nulls: pa.array(
        [3_723_000_000_001, None if nulls else 0, 1, 86_399_999_999_999], pa.time64("ns")
    ),
    **{
        f"timestamp[{u}]": _simple(TS if u != "ns" else TS_NS, pa.timestamp(u))
        for u in ["s", "ms", "us", "ns"]
    },
    **{
        f"timestamp[{u}, UTC]": _simple(TS, pa.timestamp(u, "UTC")) for u in ["s", "ms", "us", "ns"]
    },
    "timestamp[ns, America/New_York]": _simple(TS_NS, pa.timestamp("ns", "America/New_York")),
    "timestamp[ms, Europe/Paris]": _simple(TS, pa.timestamp("ms", "Europe/Paris")),
    "timestamp[us, +05:30]": _simple(TS_NS, pa.timestamp("us", "+05:30")),
    "timestamp[s, +05:30]": _simple(TS, pa.timestamp("s", "+05:30")),
    **{
        f"duration[{u}]": _simple([1, -2, 3, 10**9], pa.duration(u))
        for u in ["s", "ms", "us", "ns"]
    },
    "interval[month_day_nano]": _simple(
        [
            pa.MonthDayNano([1, 2, 3]),
            pa.MonthDayNano([0, 0, 0]),
            pa.MonthDayNano([-1, 5, 10**9]),
            pa.MonthDayNano([12, 0, 1]),
        ],
        pa.month_day_nano_interval(),
    ),
    "string": _simple(["a", "bé", "", "long string"], pa.string()),
    "large_string": _simple(["a", "bé", "", "long string"], pa.large_string()),
    "string_view": _simple(["a", "bé", "", "a string longer than 12"], pa.string_view()),
    "binary": _simple([b"a", b"\x00\xff", b"", b"xyz"], pa.binary()),
    "large_binary": _simple([b"a", b"\x00\xff", b"", b"xyz"], pa.large_binary()),
    "binary_view": _simple([b"a", b"\x00\xff", b"", b"a binary longer than 12"], pa.binary_view()),
    "fixed_size_binary[3]": _simple([b"abc", b"\x00\x01\x02", b"xyz", b"   "], pa.binary(3)),
    **{
        f"dictionary<string,{t}>": _dict(getattr(pa, t)())
        for t in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    },
    "dictionary<string,int32> all-null (2 cats)": _dict_allnull(),
    "dictionary<string,int32> 200 cats": _dict(pa.int32(), 200),
    "dictionary<string,int16> 200 cats": _dict(pa.int16(), 200),
    "dictionary<string,int32> 40000 cats": _dict(pa.int32(), 40000),
    "dictionary<string,int32> ordered": _dict(pa.int32(), ordered=True),
    "dictionary<int64,int8>": _dict_int,
    "list<int64>": _list(pa.list_, pa.int64(), [[1, 2], [3], [4, 5, 6], []]),
    "list<int32>": _list(pa.list_, pa.int32(), [[1, 2], [3], [4, 5, 6], []]),
    "list<bool>": _list(pa.list_, pa.bool_(), [[True], [False], [True, False], []]),
    "list<float64>": _list(pa.list_, pa.float64(), [[1.5, float("nan")], [3.0], [4.0, 5.0], []]),
    "list<string>": _list(pa.list_, pa.string(), [["a", "b"], ["c"], ["d", "e"], []]),
    "list<timestamp[us]>": _list(
        pa.list_, pa.timestamp("us"), [[TS[0]], [TS[1]], [TS[2], TS[0]], []]
    ),
    "list<date32>": _list(
        pa.list_,
        pa.date32(),
        [
            [dt.date(2020, 1, 1)],
            [dt.date(2020, 1, 2)],
            [dt.date(2020, 1, 3), dt.date(2020, 1, 4)],
            [],
        ],
    ),
    "list<struct>": _list(
        pa.list_,
        ST,
        [[{"a": 1, "b": "x"}], [{"a": 2, "b": "y"}], [{"a": 3, "b": "z"}, {"a": 4, "b": "w"}], []],
    ),
    "list<list<int64>>": _list(
        pa.list_, pa.list_(pa.int64()), [[[1, 2], [3]], [[4]], [[5], [6, 7]], []]
    ),
    "list<dictionary<string,int8>>": lambda nulls: pa.array(
        [["a", "b"], None if nulls else ["c"], [None if nulls else "a", "b"], []],
        pa.list_(pa.string()),
    ).cast(pa.list_(pa.dictionary(pa.int8(), pa.string()))),
    "large_list<int64>": _list(pa.large_list, pa.int64(), [[1, 2], [3], [4, 5, 6], []]),
    "large_list<string>": _list(pa.large_list, pa.string(), [["a", "b"], ["c"], ["d", "e"], []]),
    "fixed_size_list<int64,2>": _fixed_list(pa.int64(), [[1, 2], [3, 4], [5, 6], [7, 8]]),
    "fixed_size_list<float32,2>": _fixed_list(pa.float32(), [[1.5, 2], [3, 4], [5, 6], [7, 8]]),
    "list_view<int64>": _list_view(pa.int64(), [[1, 2], [3], [4, 5, 6], []]),
    "struct<a:int64,b:string>": _struct,
    "struct<a,s:struct<x,y>>": _struct_nested,
    "map<string,int64>": _map,
    "extension<arrow.uuid>": _uuid,
    "extension<arrow.json>": _json,
}
