"""Arrow data from other libraries is validated before colbridge lets anything read it.

pyarrow's cheap validation (and nanoarrow with validation off) lets through arrays whose offsets
decrease, whose string views point past their buffers, whose dictionary keys are out of range,
whose strings are not UTF-8 or whose children are too short. Each is refused *at import*, on
every import path, with ``InvalidInputError`` naming the column and the violation, so no
conversion (``to_pylist``, ``to_numpy``, ``to_pandas``, ``to_polars``, ``write_parquet``, an
export to pyarrow) ever sees it. Malformed capsules (released structs, a NULL format, a schema
and an array that do not match, wrong capsule names) raise ``CapsuleError``.

Every hostile probe runs in one child process, one JSON line per probe: a regression that
crashes the interpreter fails the probes it reached instead of taking the test run down.
"""

from __future__ import annotations

import ctypes
import json
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nanoarrow as na
import numpy as np
import pyarrow as pa
import pytest

import colbridge

# --- hostile arrays: builder, the violation's words in the message, the column path below it ---

Builder = Callable[[], Any]
INVALID: dict[str, tuple[Builder, str, str]] = {}


def invalid(phrase: str, below: str = "") -> Callable[[Builder], Builder]:
    """Register a builder of an invalid array whose error must contain ``phrase`` and name the
    column ``col`` (plus ``below``, e.g. ``item`` for a list's values)."""

    def register(build: Builder) -> Builder:
        INVALID[build.__name__] = (build, phrase, below)
        return build

    return register


def buf(dtype: str, values: list[int]) -> pa.Buffer:
    return pa.py_buffer(np.array(values, dtype=dtype).tobytes())


def view(length: int, data: bytes = b"", buffer_index: int = 0, offset: int = 0) -> bytes:
    """One 16-byte string_view: inline up to 12 bytes, else prefix + buffer index + offset."""
    if length <= 12:
        return struct.pack("<i12s", length, data)
    return struct.pack("<i4sii", length, data[:4], buffer_index, offset)


@invalid("non-monotonic offset")
def string_offsets_decrease() -> Any:
    return pa.Array.from_buffers(
        pa.string(), 3, [None, buf("i4", [0, 3, 1, 4]), pa.py_buffer(b"abcd")]
    )


@invalid("non-monotonic offset")
def large_string_offsets_decrease() -> Any:
    return pa.Array.from_buffers(
        pa.large_string(), 3, [None, buf("i8", [0, 3, 1, 4]), pa.py_buffer(b"abcd")]
    )


@invalid("non-monotonic offset")
def binary_offsets_decrease() -> Any:
    return pa.Array.from_buffers(
        pa.binary(), 3, [None, buf("i4", [0, 3, 1, 4]), pa.py_buffer(b"abcd")]
    )


@invalid("offset -5")
def string_offset_negative() -> Any:
    return pa.Array.from_buffers(
        pa.string(), 2, [None, buf("i4", [0, -5, 4]), pa.py_buffer(b"abcd")]
    )


@invalid("negative or decreasing")
def string_last_offset_negative() -> Any:
    # arrow-rs sizes the data buffer from the last offset: read as unsigned it would be huge.
    offsets = buf("i4", [0, 2, -1])
    return na.c_array_from_buffers(na.string(), 2, [None, offsets, b"ab"], validation_level="none")


@invalid("Invalid UTF8")
def string_not_utf8() -> Any:
    return pa.Array.from_buffers(
        pa.string(), 2, [None, buf("i4", [0, 2, 4]), pa.py_buffer(b"ab\xff\xfe")]
    )


@invalid("non-monotonic offset")
def list_offsets_decrease() -> Any:
    values = pa.array([1, 2, 3, 4])
    offsets = buf("i4", [0, 3, 1, 4])
    return pa.Array.from_buffers(pa.list_(pa.int64()), 3, [None, offsets], children=[values])


@invalid("larger than values length")
def list_offsets_past_the_values() -> Any:
    values = na.c_array([1, 2, 3, 4], na.int64())
    offsets = buf("i4", [0, 2, 100])
    return na.c_array_from_buffers(
        na.list_(na.int64()), 2, [None, offsets], children=[values], validation_level="none"
    )


@invalid("non-monotonic offset")
def map_offsets_decrease() -> Any:
    entries = pa.StructArray.from_arrays(
        [pa.array(["a", "b", "c", "d"]), pa.array([1, 2, 3, 4])],
        fields=[pa.field("key", pa.string(), False), pa.field("value", pa.int64())],
    )
    offsets = buf("i4", [0, 3, 1, 4])
    map_type = pa.map_(pa.string(), pa.int64())
    return pa.Array.from_buffers(map_type, 3, [None, offsets], children=[entries])


@invalid("out of bounds: 100000")
def dictionary_key_out_of_range() -> Any:
    keys = pa.array([0, 1, 100000], pa.int32())
    return pa.DictionaryArray.from_arrays(keys, pa.array(["a", "b"]), safe=False)


@invalid("out of bounds: -1")
def dictionary_key_negative() -> Any:
    keys = pa.array([0, -1], pa.int8())
    return pa.DictionaryArray.from_arrays(keys, pa.array(["a", "b"]), safe=False)


@invalid("Invalid UTF8", below="dictionary")
def dictionary_values_not_utf8() -> Any:
    values = pa.Array.from_buffers(
        pa.string(), 1, [None, buf("i4", [0, 2]), pa.py_buffer(b"\xff\xfe")]
    )
    return pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int32()), values, safe=False)


@invalid("Invalid buffer slice")
def string_view_past_its_buffer() -> Any:
    views = view(20, b"xxxx", 0, 10) + view(2, b"hi")
    return pa.Array.from_buffers(
        pa.string_view(), 2, [None, pa.py_buffer(views), pa.py_buffer(b"x" * 16)]
    )


@invalid("Invalid buffer index")
def string_view_bad_buffer_index() -> Any:
    views = view(13, b"xxxx", 5, 0)
    return pa.Array.from_buffers(
        pa.string_view(), 1, [None, pa.py_buffer(views), pa.py_buffer(b"x" * 16)]
    )


@invalid("UTF-8")
def string_view_not_utf8() -> Any:
    return pa.Array.from_buffers(
        pa.string_view(), 1, [None, pa.py_buffer(view(3, b"\xff\xfe\xfd"))]
    )


@invalid("its field 'a' has 2 values, fewer than the struct's offset 0 plus length 4")
def struct_child_shorter_than_parent() -> Any:
    child = na.c_array([1, 2], na.int64())
    return na.c_array_from_buffers(
        na.struct({"a": na.int64()}), 4, [None], children=[child], validation_level="none"
    )


@invalid("Values length 2 is less than")
def fixed_size_list_child_too_short() -> Any:
    child = na.c_array([1, 2], na.int64())
    return na.c_array_from_buffers(
        na.fixed_size_list(na.int64(), 3), 3, [None], children=[child], validation_level="none"
    )


@invalid("null count 0 but the validity bitmap has 1 nulls")
def null_count_says_none_but_the_bitmap_has_one() -> Any:
    # arrow-rs would drop a bitmap whose count is 0, turning the null into a value.
    validity = pa.py_buffer(bytes([0b101]))
    values = buf("i8", [1, 2, 3])
    return na.c_array_from_buffers(
        na.int64(), 3, [validity, values], null_count=0, validation_level="none"
    )


@invalid("null count 2 but no validity bitmap")
def null_count_without_a_bitmap() -> Any:
    values = buf("i8", [1, 2, 3])
    return na.c_array_from_buffers(
        na.int64(), 3, [None, values], null_count=2, validation_level="none"
    )


@invalid("Type id", below="")
def union_type_id_unknown() -> Any:
    union = pa.dense_union([pa.field("i", pa.int64())])
    type_ids, offsets = buf("i1", [0, 7]), buf("i4", [0, 1])
    return pa.Array.from_buffers(union, 2, [None, type_ids, offsets], children=[pa.array([1, 2])])


@invalid("Invalid UTF8", below="item")
def list_of_strings_not_utf8() -> Any:
    values = pa.Array.from_buffers(
        pa.string(), 2, [None, buf("i4", [0, 2, 4]), pa.py_buffer(b"ab\xff\xfe")]
    )
    return pa.ListArray.from_arrays(pa.array([0, 1, 2], pa.int32()), values)


@invalid("326.08 is too large to store in a Decimal128 of precision 4")
def decimal_beyond_its_precision() -> Any:
    # Converting it would print 32.60: pyarrow's ValidateFull refuses it, and so does colbridge.
    values = buf("i8", [32608, 0])
    return pa.Array.from_buffers(pa.decimal128(4, 2), 1, [None, values])


@invalid("non-monotonic offset", below="s")
def struct_field_offsets_decrease() -> Any:
    values = pa.Array.from_buffers(
        pa.string(), 3, [None, buf("i4", [0, 3, 1, 4]), pa.py_buffer(b"abcd")]
    )
    return pa.StructArray.from_arrays([values], names=["s"])


# --- entry points: each imports the hostile array one way, and some then convert it ---------


def as_column(bad: Any) -> Any:
    """A one-batch producer with ``bad`` as its column ``col``: a pyarrow record batch, or for
    nanoarrow arrays a struct array built without validation."""
    if isinstance(bad, pa.Array):
        return pa.RecordBatch.from_arrays([bad], names=["col"])
    struct_type = na.struct({"col": bad.schema})
    return na.c_array_from_buffers(
        struct_type, bad.length, [None], children=[bad], validation_level="none"
    )


def as_stream(bad: Any) -> Any:
    """The array as a one-chunk ``__arrow_c_stream__`` producer (pyarrow arrays only)."""
    return pa.chunked_array([bad]) if isinstance(bad, pa.Array) else bad


ENTRIES: dict[str, tuple[Callable[[Any, Path], Any], bool]] = {
    # name: (what to do, whether the column is named "col")
    "array": (lambda bad, _: colbridge.array(bad), False),
    "stream": (lambda bad, _: colbridge.array(as_stream(bad)), False),
    "chunked_array": (lambda bad, _: colbridge.chunked_array([bad]), False),
    "table": (lambda bad, _: colbridge.table(as_column(bad)), True),
    "write_parquet": (lambda bad, out: colbridge.write_parquet(as_column(bad), out), True),
    "to_pylist": (lambda bad, _: colbridge.array(bad).to_pylist(), False),
    "to_numpy": (lambda bad, _: colbridge.array(bad).to_numpy(), False),
    "to_pandas": (lambda bad, _: colbridge.array(bad).to_pandas(), False),
    "to_polars": (lambda bad, _: colbridge.array(bad).to_polars(), False),
    "pa.array": (lambda bad, _: pa.array(colbridge.array(bad)).to_pylist(), False),
}


# --- malformed capsules, built by hand with ctypes where no library builds them -------------


class CSchema(ctypes.Structure):
    _fields_ = [
        ("format", ctypes.c_char_p),
        ("name", ctypes.c_char_p),
        ("metadata", ctypes.c_char_p),
        ("flags", ctypes.c_int64),
        ("n_children", ctypes.c_int64),
        ("children", ctypes.c_void_p),
        ("dictionary", ctypes.c_void_p),
        ("release", ctypes.c_void_p),
        ("private_data", ctypes.c_void_p),
    ]


class CArray(ctypes.Structure):
    _fields_ = [
        ("length", ctypes.c_int64),
        ("null_count", ctypes.c_int64),
        ("offset", ctypes.c_int64),
        ("n_buffers", ctypes.c_int64),
        ("n_children", ctypes.c_int64),
        ("buffers", ctypes.c_void_p),
        ("children", ctypes.c_void_p),
        ("dictionary", ctypes.c_void_p),
        ("release", ctypes.c_void_p),
        ("private_data", ctypes.c_void_p),
    ]


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _release(_: int) -> None:
    """A release callback that owns nothing (the structs live in Python)."""


_KEEP: list[Any] = []  # the hand-built structs must outlive their capsules


def capsule(struct_: ctypes.Structure, name: bytes) -> Any:
    _KEEP.append(struct_)
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return new(ctypes.addressof(struct_), name, None)


def c_schema(fmt: bytes | None, release: bool = True) -> Any:
    schema = CSchema(format=fmt, name=b"", flags=2)
    if release:
        schema.release = ctypes.cast(_release, ctypes.c_void_p).value
    return capsule(schema, b"arrow_schema")


def c_dictionary_schema(index_format: bytes, values_format: bytes) -> Any:
    """A schema of dictionary-encoded values: ``index_format`` names the indices' type."""
    values = CSchema(format=values_format, name=b"", flags=2)
    values.release = ctypes.cast(_release, ctypes.c_void_p).value
    _KEEP.append(values)
    schema = CSchema(format=index_format, name=b"", flags=2)
    schema.dictionary = ctypes.addressof(values)
    schema.release = ctypes.cast(_release, ctypes.c_void_p).value
    return capsule(schema, b"arrow_schema")


def c_array(length: int, buffers: list[bytes | None], n_buffers: int | None = None) -> Any:
    """An ArrowArray capsule over copies of ``buffers`` (None for a NULL pointer)."""
    blobs = [None if b is None else ctypes.create_string_buffer(b, len(b)) for b in buffers]
    pointers = (ctypes.c_void_p * len(blobs))(
        *(None if b is None else ctypes.addressof(b) for b in blobs)
    )
    _KEEP.extend([blobs, pointers])
    array = CArray(
        length=length, null_count=0, n_buffers=len(blobs) if n_buffers is None else n_buffers
    )
    array.buffers = ctypes.addressof(pointers)
    array.release = ctypes.cast(_release, ctypes.c_void_p).value
    return capsule(array, b"arrow_array")


INT64S = np.arange(4, dtype="i8").tobytes()


def schema_of(schema: Any) -> Any:
    return type("SchemaProducer", (), {"__arrow_c_schema__": lambda self: schema})()


def pair_of(schema: Any, array: Any) -> Any:
    return type("ArrayProducer", (), {"__arrow_c_array__": lambda self, r=None: (schema, array)})()


def stream_of(stream: Any) -> Any:
    return type("StreamProducer", (), {"__arrow_c_stream__": lambda self, r=None: stream})()


def consumed_schema() -> Any:
    cap = pa.int64().__arrow_c_schema__()
    pa.DataType._import_from_c_capsule(cap)  # moves the schema out, leaving it released
    return cap


def consumed_array() -> Any:
    schema, array = pa.array([1, 2]).__arrow_c_array__()
    pa.Array._import_from_c_capsule(schema, array)
    return pair_of(pa.int64().__arrow_c_schema__(), array)


def consumed_stream() -> Any:
    stream = pa.table({"a": [1]}).__arrow_c_stream__()
    pa.RecordBatchReader._import_from_c_capsule(stream)
    return stream_of(stream)


def nested(depth: int) -> pa.DataType:
    t = pa.int64()
    for _ in range(depth):
        t = pa.list_(t)
    return t


def mismatched(schema_type: pa.DataType, array: pa.Array) -> Any:
    return pair_of(schema_type.__arrow_c_schema__(), array.__arrow_c_array__()[1])


MALFORMED: dict[str, tuple[Callable[[], Any], str]] = {
    "released_schema": (lambda: colbridge.DataType(schema_of(consumed_schema())), "released"),
    "zeroed_schema": (lambda: colbridge.DataType(schema_of(c_schema(None, False))), "released"),
    "null_format": (lambda: colbridge.DataType(schema_of(c_schema(None))), "NULL format"),
    "format_not_utf8": (lambda: colbridge.DataType(schema_of(c_schema(b"\xff"))), "UTF-8"),
    "negative_fixed_size": (
        lambda: colbridge.DataType(schema_of(c_schema(b"w:-1"))),
        "negative fixed size",
    ),
    "decimal_precision_zero": (
        lambda: colbridge.DataType(schema_of(c_schema(b"d:0,0"))),
        "precision cannot be 0",
    ),
    "decimal_precision_too_large": (
        lambda: colbridge.DataType(schema_of(c_schema(b"d:40,2"))),
        "precision 40 is greater than max 38",
    ),
    "nested_too_deep": (lambda: colbridge.DataType(nested(70)), "deeper than 64"),
    "list_without_a_child": (
        lambda: colbridge.DataType(schema_of(c_schema(b"+l"))),
        'the format "+l" has 1 child type(s), the schema 0',
    ),
    "run_ends_without_children": (
        lambda: colbridge.DataType(schema_of(c_schema(b"+r"))),
        'the format "+r" has 2 child type(s), the schema 0',
    ),
    "dictionary_indexed_by_strings": (
        lambda: colbridge.DataType(schema_of(c_dictionary_schema(b"vu", b"n"))),
        "a dictionary index of type string_view",
    ),
    "requested_schema_null_format": (
        lambda: colbridge.array([1]).__arrow_c_array__(requested_schema=c_schema(None)),
        "NULL format",
    ),
    "released_array": (lambda: colbridge.array(consumed_array()), "released"),
    "released_stream": (lambda: colbridge.table(consumed_stream()), "released"),
    "capsules_swapped": (
        lambda: colbridge.array(pair_of(*reversed(pa.array([1]).__arrow_c_array__()))),
        "name",
    ),
    "stream_returns_a_schema": (
        lambda: colbridge.table(stream_of(pa.int64().__arrow_c_schema__())),
        "name",
    ),
    "fewer_buffers_than_the_type": (
        lambda: colbridge.array(mismatched(pa.string(), pa.array([1, 2]))),
        "2 buffers where the type has 3",
    ),
    "fewer_children_than_the_type": (
        lambda: colbridge.array(
            mismatched(pa.struct({"a": pa.int64(), "b": pa.int64()}), pa.array([{"a": 1}]))
        ),
        "1 children where the type has 2",
    ),
    "no_dictionary": (
        lambda: colbridge.array(
            mismatched(pa.dictionary(pa.int32(), pa.string()), pa.array([0], pa.int32()))
        ),
        "no dictionary array",
    ),
    "negative_length": (
        lambda: colbridge.array(pair_of(c_schema(b"l"), c_array(-1, [None, INT64S]))),
        "negative length",
    ),
    "buffer_count": (
        lambda: colbridge.array(pair_of(c_schema(b"l"), c_array(2, [None, INT64S], n_buffers=1))),
        "1 buffers where the type has 2",
    ),
}


# Invalid data no library exports (nanoarrow's own export crashes on it), built by hand.
HAND_BUILT: dict[str, tuple[Callable[[], Any], str]] = {
    "string_view_negative_buffer_length": (
        lambda: colbridge.array(
            pair_of(
                c_schema(b"vu"),
                c_array(1, [None, view(13, b"xxxx"), b"x" * 16, struct.pack("<q", -16)]),
            )
        ),
        "data buffer 0 has a negative length (-16)",
    ),
    "string_offsets_of_an_empty_buffer": (
        lambda: colbridge.array(
            pair_of(c_schema(b"u"), c_array(1, [None, struct.pack("<ii", 0, -1), b""]))
        ),
        "offsets run from 0 to -1",
    ),
}


# --- the child process ---------------------------------------------------------------------


def outcome(action: Callable[[], Any]) -> dict[str, str]:
    try:
        action()
    except BaseException as e:  # noqa: BLE001 - a PanicException is a BaseException
        return {"cls": f"{type(e).__module__}.{type(e).__qualname__}", "msg": str(e)}
    return {"cls": "", "msg": "no error"}


def probe_all(tmp: str) -> None:
    """Run every probe, printing one JSON line each (run in the child process)."""
    for case, (build, _, _) in INVALID.items():
        for entry, (run, _) in ENTRIES.items():
            out = Path(tmp) / f"{case}-{entry}.parquet"
            result = outcome(lambda run=run, build=build, out=out: run(build(), out))
            result["file_written"] = str(out.exists())
            print(json.dumps({"probe": f"{case}/{entry}", **result}), flush=True)
    for case, (action, _) in MALFORMED.items():
        print(json.dumps({"probe": f"malformed/{case}", **outcome(action)}), flush=True)
    for case, (action, _) in HAND_BUILT.items():
        print(json.dumps({"probe": f"hand_built/{case}", **outcome(action)}), flush=True)


@pytest.fixture(scope="module")
def probes() -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        script = f"import runpy, sys; runpy.run_path({str(Path(__file__))!r})['probe_all']({tmp!r})"
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
        )
        results = {}
        for line in proc.stdout.splitlines():
            entry = json.loads(line)
            results[entry.pop("probe")] = entry
        results["__child__"] = {"rc": proc.returncode, "stderr": proc.stderr[-2000:]}
        yield results


def result_of(probes: dict[str, Any], probe: str) -> dict[str, str]:
    child = probes["__child__"]
    assert probe in probes, (
        f"the child process died before probe {probe} "
        f"(exit status {child['rc']}): {child['stderr']}"
    )
    result: dict[str, str] = probes[probe]
    return result


@pytest.mark.parametrize("entry", list(ENTRIES))
@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_arrays_are_refused_at_import_naming_the_column(
    probes: dict[str, Any], case: str, entry: str
) -> None:
    _, phrase, below = INVALID[case]
    result = result_of(probes, f"{case}/{entry}")
    assert result["cls"] == "colbridge.errors.InvalidInputError", result
    assert phrase in result["msg"]
    named = ENTRIES[entry][1]
    path = ".".join(p for p in ("col" if named else "", below) if p)
    where = f"column '{path}'" if path else "the imported array"
    assert f"invalid Arrow data in {where}" in result["msg"]
    assert result["file_written"] == "False"  # write_parquet refuses before touching the disk


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_capsules_are_capsule_errors(probes: dict[str, Any], case: str) -> None:
    result = result_of(probes, f"malformed/{case}")
    assert result["cls"] == "colbridge.errors.CapsuleError", result
    assert MALFORMED[case][1] in result["msg"]


@pytest.mark.parametrize("case", list(HAND_BUILT))
def test_hand_built_invalid_arrays_are_refused(probes: dict[str, Any], case: str) -> None:
    result = result_of(probes, f"hand_built/{case}")
    assert result["cls"] == "colbridge.errors.InvalidInputError", result
    assert HAND_BUILT[case][1] in result["msg"]
    assert "invalid Arrow data in the imported array" in result["msg"]


def test_the_child_process_exits_cleanly(probes: dict[str, Any]) -> None:
    assert probes["__child__"]["rc"] == 0, probes["__child__"]["stderr"]
    # Not even a panic caught inside and reported as an error prints its text.
    assert "panicked" not in probes["__child__"]["stderr"], probes["__child__"]["stderr"]


# --- in this process: what validation leaves alone ----------------------------------------


def test_valid_producers_still_import_without_a_copy() -> None:
    source = pa.array(["a", None, "ccc"] * 100)
    arr = colbridge.array(source)
    assert arr.to_pylist() == source.to_pylist()
    assert arr.data is not None
    assert arr.data.address == source.buffers()[2].address


def test_empty_slices_of_strings_import() -> None:
    # pyarrow exports arr[1:1] with offset 1 and length 0: it holds nothing, and is valid.
    assert colbridge.array(pa.array(["x", "y"])[1:1]).to_pylist() == []
    assert colbridge.table(pa.table({"s": ["x"]}).slice(1, 0)).num_rows == 0


def test_validate_false_skips_the_value_checks() -> None:
    # Importing does not read the keys, so this is safe to do here; converting it would not be.
    bad = dictionary_key_out_of_range()
    assert len(colbridge.array(bad, validate=False)) == 3
    assert colbridge.table(as_column(bad), validate=False).num_rows == 3
    with pytest.raises(colbridge.InvalidInputError, match="out of bounds"):
        colbridge.array(bad)


def test_validate_false_still_checks_the_structure() -> None:
    with pytest.raises(colbridge.CapsuleError, match="2 buffers where the type has 3"):
        colbridge.array(mismatched(pa.string(), pa.array([1, 2])), validate=False)


def test_a_column_of_mixed_values_is_invalid_input_naming_it() -> None:
    import pandas as pd

    frame = pd.DataFrame({"ok": [1, 2], "mixed": pd.Series([1, "x"], dtype=object)})
    with pytest.raises(colbridge.InvalidInputError, match="column 'mixed'"):
        colbridge.table(frame)
    with pytest.raises(colbridge.InvalidInputError, match="column 'm': mixed types"):
        colbridge.table({"m": [1, "x"]})
    with pytest.raises(colbridge.InvalidInputError, match="mixed types"):
        colbridge.array(np.array([1, "x"], dtype=object))


def _fixed_size_list_of_structs(rows: int) -> pa.Array:
    kind = pa.list_(pa.struct([("a", pa.int64()), ("s", pa.string())]), 2)
    return pa.array(
        [[{"a": 2 * i, "s": str(i)}, {"a": 2 * i + 1, "s": None}] for i in range(rows)], kind
    )


def _sparse_union_with_a_struct() -> pa.Array:
    ids = pa.array([0, 1, 0, 1, 0], pa.int8())
    structs = pa.StructArray.from_arrays([pa.array([1, 2, 3, 4, 5])], ["x"])
    return pa.UnionArray.from_sparse(ids, [structs, pa.array([6.0, 7.0, 8.0, 9.0, 10.0])])


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: _fixed_size_list_of_structs(4)[1:3], id="fixed_size_list<struct>"),
        pytest.param(
            lambda: pa.StructArray.from_arrays([_fixed_size_list_of_structs(5)], ["f"])[2:4],
            id="struct<fixed_size_list<struct>>",
        ),
        pytest.param(lambda: _sparse_union_with_a_struct()[2:], id="sparse_union<struct>"),
        pytest.param(
            lambda: pa.array([[r] for r in _fixed_size_list_of_structs(3).to_pylist()])[1:],
            id="list<fixed_size_list<struct>>",
        ),
    ],
)
def test_sliced_parents_of_structs_import_their_own_rows(build: Callable[[], pa.Array]) -> None:
    # arrow-rs slices a struct below a fixed-size list or a sparse union twice (once in
    # ArrayData::slice, again in StructArray::from): such slices from pyarrow were refused, as
    # the import fuzz target found. They import with the rows pyarrow shows, over its memory.
    source = build()
    back = pa.array(colbridge.array(source))
    assert back.to_pylist() == source.to_pylist()
    # The first leaf's values are a view of pyarrow's own buffer.
    leaf, back_leaf = source, back
    while leaf.type.num_fields:
        leaf, back_leaf = (
            (leaf.values, back_leaf.values)
            if hasattr(leaf, "values")
            else (leaf.field(0), back_leaf.field(0))
        )
    ours, theirs = back_leaf.buffers()[-1], leaf.buffers()[-1]
    assert theirs.address <= ours.address < theirs.address + theirs.size
