"""Bad input raises a clear exception from colbridge.errors, never a crash or a PanicException.

Every check asserts the exact colbridge class, that it is also the matching builtin, and a piece
of the message a user would need to fix the problem.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import colbridge
from colbridge import errors


def test_every_error_class_also_derives_from_the_matching_builtin() -> None:
    assert issubclass(errors.UnsupportedTypeError, (colbridge.ColbridgeError, TypeError))
    assert issubclass(errors.CapsuleError, TypeError)
    for cls in (errors.InvalidInputError, errors.CastError, errors.ZeroCopyError):
        assert issubclass(cls, colbridge.ColbridgeError)
        assert issubclass(cls, ValueError)
    assert issubclass(errors.ReadOnlyBufferError, BufferError)
    assert colbridge.ZeroCopyError is errors.ZeroCopyError


def raises(cls: type[BaseException], match: str) -> Any:
    """pytest.raises that also rejects any PanicException-like escape."""
    return pytest.raises(cls, match=match)


# --- unsupported Python objects --------------------------------------------------------------


class Opaque:
    pass


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([Opaque()], "type Opaque"),
        ([1, Opaque()], "type Opaque"),
        ([{1, 2}], "type set"),
        ([1 + 2j], "type complex"),
        ([{1: "a"}], "dict keys must be str"),
    ],
)
def test_unsupported_python_objects_are_named_in_the_error(values: list[Any], match: str) -> None:
    with raises(colbridge.UnsupportedTypeError, match):
        colbridge.array(values)


@pytest.mark.parametrize("obj", [5, 3.5, None, Opaque()])
def test_scalars_and_arbitrary_objects_are_not_arrays(obj: Any) -> None:
    with raises(colbridge.UnsupportedTypeError, "cannot convert"):
        colbridge.array(obj)


@pytest.mark.parametrize("obj", ["abc", b"abc", {"a": 1}])
def test_single_str_bytes_or_dict_is_not_a_sequence(obj: Any) -> None:
    with raises(colbridge.UnsupportedTypeError, "expected a sequence"):
        colbridge.array(obj)


def test_table_refuses_what_is_neither_columns_nor_a_producer() -> None:
    with raises(colbridge.UnsupportedTypeError, "colbridge.table takes"):
        colbridge.table([1, 2, 3])


# --- mixed types and ragged nesting ----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kinds"),
    [
        ([1, "a"], ("int", "str")),
        (["a", 1], ("str", "int")),
        ([1.5, "a"], ("float", "str")),
        ([b"a", "b"], ("bytes", "str")),
        ([True, 1], ("bool", "int")),
        ([dt.date(2020, 1, 1), dt.datetime(2020, 1, 1)], ("date", "datetime")),
        ([dt.timedelta(1), 5], ("timedelta", "int")),
        ([{"a": 1}, {"a": "x"}], ("int", "str")),
        ([[1], ["a"]], ("int", "str")),
    ],
)
def test_mixed_types_are_refused_naming_both_kinds(
    values: list[Any], kinds: tuple[str, str]
) -> None:
    with raises(colbridge.InvalidInputError, "mixed types") as info:
        colbridge.array(values)
    for kind in kinds:
        assert kind in str(info.value)


@pytest.mark.parametrize(
    "values", [[[1], 2], [2, [1]], [[1], [[2]]], [[[1]], [2]], [{"a": [1]}, {"a": 1}]]
)
def test_ragged_nesting_is_invalid_input(values: list[Any]) -> None:
    with raises(colbridge.InvalidInputError, "ragged nesting"):
        colbridge.array(values)


@pytest.mark.parametrize(
    ("values", "type_name", "match"),
    [
        (["a"], "int64", "could not convert 'a'"),
        ([300], "int8", "could not convert 300"),
        ([-1], "uint8", "could not convert -1"),
        ([1.5], "int64", "could not convert 1.5"),
        ([float("inf")], "int32", "could not convert inf"),
        ([1], "string", "could not convert 1"),
        (["x"], "timestamp[us]", "could not convert 'x'"),
        ([dt.date(2020, 1, 1)], "timestamp[us]", "could not convert"),
        ([1], "null", "could not convert 1"),
        ([decimal.Decimal("1.234")], "decimal128(3, 1)", "would lose data"),
        ([decimal.Decimal("0.05")], "decimal128(5, 1)", "would lose data"),
        ([decimal.Decimal("123.4")], "decimal128(3, 1)", "could not convert"),
    ],
)
def test_values_that_do_not_fit_the_type(values: list[Any], type_name: str, match: str) -> None:
    with raises(colbridge.InvalidInputError, match):
        colbridge.array(values, type=type_name)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([2**64], "does not fit in 64 bits"),
        ([-(2**63) - 1], "does not fit in 64 bits"),
        ([-1, 2**63], "int64 and uint64"),
        ([decimal.Decimal("nan")], "non-finite Decimal"),
        ([decimal.Decimal("1" * 40)], "more than 38 digits"),
    ],
)
def test_values_that_fit_no_type(values: list[Any], match: str) -> None:
    with raises(colbridge.InvalidInputError, match):
        colbridge.array(values)


@pytest.mark.parametrize(
    "name",
    [
        "foo",
        "int65",
        "timestamp[xs]",
        "time32[us]",
        "time64[s]",
        "decimal128(0, 0)",
        "decimal128(39, 2)",
        "decimal128(x)",
        "fixed_size_binary[-2]",
        "list<item: nope>",
    ],
)
def test_unknown_type_names_are_invalid_input(name: str) -> None:
    with raises(colbridge.InvalidInputError, "unknown data type|unknown time unit"):
        colbridge.DataType(name)
    with raises(colbridge.InvalidInputError, "unknown data type|unknown time unit"):
        colbridge.array([None], type=name)


def test_printed_type_names_parse_back() -> None:
    for arr in [
        colbridge.array([decimal.Decimal("1.5")]),
        colbridge.array([[1]]),
        colbridge.array([[["a"]]], type="large_list<item: list<item: string>>"),
        colbridge.array([b"ab"], type="fixed_size_binary[2]"),
        colbridge.array([dt.time(1)], type="time32[ms]"),
    ]:
        assert colbridge.DataType(str(arr.type)) == arr.type


def test_type_must_be_a_data_type_or_a_name() -> None:
    with raises(colbridge.UnsupportedTypeError, "expected a colbridge.DataType"):
        colbridge.array([1], type=3.5)


def test_a_failing_iterator_becomes_invalid_input_with_its_message() -> None:
    def gen() -> Any:
        yield 1
        raise RuntimeError("producer failed")

    with raises(colbridge.InvalidInputError, "producer failed"):
        colbridge.array(gen())


# --- NumPy input -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [">i2", ">i8", ">u4", ">f8", ">M8[ms]", ">m8[ns]"])
def test_byte_swapped_numpy_input_is_refused(dtype: str) -> None:
    source = np.arange(3).astype(dtype)
    with raises(colbridge.InvalidInputError, "byte-swapped"):
        colbridge.array(source)
    with raises(colbridge.InvalidInputError, "byte-swapped"):
        colbridge.array(np.ma.masked_array(source, mask=[0, 1, 0]))
    with raises(colbridge.InvalidInputError, "byte-swapped"):
        colbridge.table({"x": source})
    # The suggested fix works.
    assert colbridge.array(source.astype(source.dtype.newbyteorder("="))).to_pylist() == (
        colbridge.array(source.astype(source.dtype.newbyteorder("="))).to_pylist()
    )
    assert len(colbridge.array(source.astype(source.dtype.newbyteorder("=")))) == 3


def test_multidimensional_numpy_input_is_refused() -> None:
    with raises(colbridge.InvalidInputError, "one-dimensional"):
        colbridge.array(np.zeros((2, 2)))


def test_complex_numpy_input_is_unsupported() -> None:
    with raises(colbridge.UnsupportedTypeError, "complex"):
        colbridge.array(np.zeros(2, dtype=np.complex128))


def test_buffer_import_checks_mask_length_item_size_and_type() -> None:
    core = colbridge._colbridge
    with raises(colbridge.InvalidInputError, "mask has 2 entries for 3 values"):
        core.array_from_buffer(np.arange(3), "int64", np.zeros(2, dtype=bool))
    with raises(colbridge.InvalidInputError, "item size 8 does not match int32"):
        core.array_from_buffer(np.arange(3), "int32")
    with raises(colbridge.UnsupportedTypeError, "cannot import a"):
        core.array_from_buffer(np.arange(3), "string")
    with raises(colbridge.InvalidInputError, "buffer protocol"):
        core.array_from_buffer([1, 2, 3], "int64")


# --- zero-copy refusals ----------------------------------------------------------------------


def test_zero_copy_only_refuses_arrays_with_nulls() -> None:
    with raises(colbridge.ZeroCopyError, "it has nulls"):
        colbridge.array([1, None, 3]).to_numpy(zero_copy_only=True)
    with raises(colbridge.ZeroCopyError, "it has nulls"):
        colbridge.array([1.5, None]).to_numpy(zero_copy_only=True)
    with raises(colbridge.ZeroCopyError, "it has nulls"):
        colbridge.chunked_array([[1, None]]).to_numpy(zero_copy_only=True)


@pytest.mark.parametrize("values", [["a", "b"], [True, False], [[1], [2]], [dt.date(2020, 1, 1)]])
def test_zero_copy_only_refuses_types_without_a_numpy_form(values: list[Any]) -> None:
    with raises(colbridge.ZeroCopyError, "no zero-copy NumPy form"):
        colbridge.array(values).to_numpy(zero_copy_only=True)


def test_zero_copy_only_refuses_several_chunks() -> None:
    with raises(colbridge.ZeroCopyError, "2 chunks"):
        colbridge.chunked_array([[1], [2]]).to_numpy(zero_copy_only=True)


def test_dunder_array_copy_false_refuses_only_when_a_copy_is_needed() -> None:
    for values in ([1, None], ["a", "b"], [True, False]):
        with raises(ValueError, "without a copy"):
            np.array(colbridge.array(values), copy=False)
        with raises(colbridge.ZeroCopyError, "without a copy"):
            np.asarray(colbridge.array(values), copy=False)
    with raises(ValueError, "without a copy"):
        np.asarray(colbridge.array([1, 2]), dtype=np.float64, copy=False)
    with raises(ValueError, "without a copy"):
        np.asarray(colbridge.chunked_array([[1], [2]]), copy=False)
    # ... but is fine when no copy is needed, and shares.
    arr = colbridge.array(np.arange(3))
    out = np.asarray(arr, copy=False)
    assert np.shares_memory(out, np.asarray(arr.values))
    copied = np.array(arr, copy=True)
    assert not np.shares_memory(copied, np.asarray(arr.values))


def test_writable_buffer_request_raises_read_only_buffer_error() -> None:
    import ctypes

    get = ctypes.pythonapi.PyObject_GetBuffer
    get.argtypes = [ctypes.py_object, ctypes.c_void_p, ctypes.c_int]
    get.restype = ctypes.c_int
    view = ctypes.create_string_buffer(256)  # room for a Py_buffer
    with raises(colbridge.ReadOnlyBufferError, "read-only"):
        get(colbridge.array([1, 2]).values, ctypes.addressof(view), 0x0001)


# --- the Arrow PyCapsule protocol ------------------------------------------------------------


def capsules(requested: Any) -> Any:
    return colbridge.array([1, 2, 3]).__arrow_c_array__(requested)


def test_requested_schema_without_a_cast_raises_cast_error() -> None:
    struct = pa.struct([("a", pa.int64())]).__arrow_c_schema__()
    with raises(
        colbridge.CastError, "cannot honour requested_schema: no cast from int64 to struct"
    ):
        capsules(struct)
    with raises(colbridge.CastError, "cannot honour requested_schema"):
        colbridge.array(["x"]).__arrow_c_array__(pa.list_(pa.int8()).__arrow_c_schema__())
    with raises(colbridge.CastError, "cannot honour requested_schema"):
        colbridge.chunked_array([[1]]).__arrow_c_stream__(struct)


def test_requested_schema_with_values_that_do_not_fit_raises_cast_error() -> None:
    with raises(colbridge.CastError, "casting int64 to int8 failed"):
        colbridge.array([1000]).__arrow_c_array__(pa.int8().__arrow_c_schema__())
    with raises(colbridge.CastError, "casting string to int32 failed"):
        colbridge.array(["x"]).__arrow_c_array__(pa.int32().__arrow_c_schema__())


def test_requested_schema_for_a_table_must_match_its_fields() -> None:
    table = colbridge.table({"a": [1], "b": ["x"]})
    with raises(colbridge.CastError, "must be a struct/schema"):
        table.__arrow_c_stream__(pa.int64().__arrow_c_schema__())
    with raises(colbridge.CastError, "it has 1 fields, the table 2"):
        table.__arrow_c_stream__(pa.schema([("a", pa.int64())]).__arrow_c_schema__())
    bad = pa.schema([("a", pa.int64()), ("b", pa.struct([("z", pa.int8())]))])
    with raises(colbridge.CastError, "no cast from string"):
        table.__arrow_c_stream__(bad.__arrow_c_schema__())


def test_requested_schema_must_be_a_schema_capsule() -> None:
    with raises(colbridge.CapsuleError, "must be an 'arrow_schema' PyCapsule"):
        capsules(5)
    with raises(colbridge.CapsuleError, "incorrect name"):
        capsules(pa.array([1]).__arrow_c_array__()[1])


class SwappedCapsules:
    """Returns (array, schema) instead of (schema, array)."""

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        schema, array = pa.array([1, 2]).__arrow_c_array__()
        return array, schema


class SchemaForStream:
    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return pa.int64().__arrow_c_schema__()


class NotCapsules:
    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return (1, 2)


class WrongArity:
    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return (pa.int64().__arrow_c_schema__(),)


@pytest.mark.parametrize(
    ("producer", "match"),
    [
        (SwappedCapsules(), "incorrect name"),
        (SchemaForStream(), "incorrect name|arrow_array_stream"),
        (NotCapsules(), "PyCapsule"),
        (WrongArity(), "."),
    ],
    ids=lambda p: type(p).__name__ if not isinstance(p, str) else "",
)
def test_malformed_producers_raise_capsule_error(producer: Any, match: str) -> None:
    with raises(colbridge.CapsuleError, match):
        colbridge.array(producer)
    with raises(colbridge.CapsuleError, match):
        colbridge.table(producer)


class ProducerError(Exception):
    pass


class RaisingProducer:
    """Raises its own exception from every PyCapsule dunder."""

    def __init__(self, dunder: str) -> None:
        self.error = ProducerError(f"{dunder} exploded")
        setattr(self, dunder, self.explode)

    def explode(self, requested_schema: Any = None) -> Any:
        raise self.error


@pytest.mark.parametrize("dunder", ["__arrow_c_array__", "__arrow_c_stream__"])
def test_a_producers_own_exception_reaches_the_user_unchanged(dunder: str) -> None:
    producer = RaisingProducer(dunder)
    for build in (colbridge.array, colbridge.table):
        with pytest.raises(ProducerError) as caught:
            build(producer)
        assert caught.value is producer.error


def test_a_schema_producers_own_exception_reaches_the_user_unchanged() -> None:
    producer = RaisingProducer("__arrow_c_schema__")
    with pytest.raises(ProducerError) as caught:
        colbridge.DataType(producer)
    assert caught.value is producer.error


def test_tables_come_only_from_record_batch_producers() -> None:
    for producer in (pa.array([1]), pa.chunked_array([[1]])):
        with raises(colbridge.CapsuleError, "record batches .* got int64"):
            colbridge.table(producer)


def test_struct_arrays_with_null_rows_are_refused_as_tables() -> None:
    # A null row has no place in a table: importing the children alone would show its values.
    structs = pa.array([{"a": 1}, None])
    for producer in (structs, pa.chunked_array([structs])):
        with raises(colbridge.CapsuleError, "struct array with nulls"):
            colbridge.table(producer)


def test_chunks_of_different_types_are_refused() -> None:
    with raises(colbridge.InvalidInputError, "chunk of type"):
        colbridge._colbridge.chunked_from_arrays([colbridge.array([1]), colbridge.array(["a"])])


def test_columns_of_different_lengths_are_refused() -> None:
    with raises(colbridge.InvalidInputError, "column 'b' has 1 rows, expected 2"):
        colbridge.table({"a": [1, 2], "b": [1]})


def test_failed_casts_raise_cast_error() -> None:
    with raises(colbridge.CastError, "Cannot cast string 'a'"):
        colbridge.array(["a"]).cast("int64")
    with raises(colbridge.CastError, "not supported"):
        colbridge.array([1]).cast(pa.struct([("a", pa.int64())]))
    with raises(colbridge.CastError, "Can't cast value 300"):
        colbridge.array([300]).cast("int8")


def test_empty_chunked_array_stepped_slice_and_missing_items_raise() -> None:
    with raises(colbridge.InvalidInputError, "needs a type"):
        colbridge.chunked_array([])
    with raises(colbridge.InvalidInputError, "step 1"):
        colbridge.array([1, 2, 3])[::2]
    with pytest.raises(IndexError):
        colbridge.array([1])[5]
    with pytest.raises(KeyError):
        colbridge.table({"a": [1]}).column("nope")


def test_out_of_range_values_on_the_way_back_to_python() -> None:
    with raises(colbridge.InvalidInputError, "out of range for Python"):
        colbridge.array([2**62]).cast("timestamp[s]").to_pylist()
    with raises(colbridge.InvalidInputError, "out of range for Python"):
        colbridge.array([2**30], type="int32").cast("date32").to_pylist()
