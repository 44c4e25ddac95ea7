"""read_ipc: Arrow IPC files and streams, read as pyarrow reads them, memory-mapped without a copy.

pyarrow writes the files and is the oracle for their values. Zero copy is proven by address:
every buffer of an uncompressed, little-endian file lies inside the file's mapping as
``/proc/self/maps`` lists it, and NumPy, pandas and pyarrow hold those same addresses. The
mapping outlives the table and the file object and is released after the last view.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gc
import io
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pytest

import colbridge

from ..conftest import address

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/maps"
)


def mappings(path: Path) -> list[tuple[int, int]]:
    """The address ranges at which ``path`` is mapped into this process."""
    target = os.path.realpath(path)
    out = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].strip() == target:
                start, end = (int(x, 16) for x in parts[0].split("-"))
                out.append((start, end))
    return out


def inside(addr: int, size: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= addr and addr + size <= end for start, end in ranges)


def sample_table() -> pa.Table:
    n = 1000
    rng = np.random.default_rng(0)
    return pa.table(
        {
            "i64": pa.array(np.arange(n, dtype=np.int64)),
            "f64": pa.array(rng.standard_normal(n)),
            "f32": pa.array(rng.standard_normal(n).astype(np.float32)),
            "u8": pa.array((np.arange(n) % 256).astype(np.uint8)),
            "nullable": pa.array([None if i % 7 == 0 else i for i in range(n)], pa.int32()),
            "b": pa.array([i % 3 == 0 for i in range(n)]),
            "s": pa.array([f"row {i}" if i % 5 else None for i in range(n)]),
            "ts": pa.array(np.arange(n, dtype=np.int64) * 1_000_000, pa.timestamp("us", tz="UTC")),
            "d": pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(n)]),
            "dec": pa.array([decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(10, 2)),
            "cat": pa.array([["a", "b", "c"][i % 3] for i in range(n)]).dictionary_encode(),
            "lst": pa.array([[i, i + 1] if i % 4 else None for i in range(n)]),
            "st": pa.array([{"x": i, "y": str(i)} for i in range(n)]),
        }
    )


def write_file(table: pa.Table, path: Path, **options: Any) -> Path:
    with ipc.new_file(path, table.schema, options=ipc.IpcWriteOptions(**options)) as w:
        w.write_table(table, max_chunksize=options.pop("max_chunksize", None))
    return path


def write_stream(table: pa.Table, path: Path, **options: Any) -> Path:
    with ipc.new_stream(path, table.schema, options=ipc.IpcWriteOptions(**options)) as w:
        w.write_table(table)
    return path


def to_pyarrow(table: colbridge.Table) -> pa.Table:
    return pa.table(table)


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", [write_file, write_stream], ids=["file", "stream"])
@pytest.mark.parametrize("memory_map", [True, False])
def test_reads_every_column_as_pyarrow_wrote_it(
    tmp_path: Path, writer: Any, memory_map: bool
) -> None:
    expected = sample_table()
    path = writer(expected, tmp_path / "data.arrow")
    table = colbridge.read_ipc(path, memory_map=memory_map)
    assert to_pyarrow(table).equals(expected)


@pytest.mark.parametrize("writer", [write_file, write_stream], ids=["file", "stream"])
def test_bytes_and_file_objects_are_read_too(tmp_path: Path, writer: Any) -> None:
    expected = sample_table()
    path = writer(expected, tmp_path / "data.arrow")
    assert to_pyarrow(colbridge.read_ipc(path.read_bytes())).equals(expected)
    with open(path, "rb") as f:
        assert to_pyarrow(colbridge.read_ipc(f)).equals(expected)
    assert to_pyarrow(colbridge.read_ipc(io.BytesIO(path.read_bytes()))).equals(expected)
    assert to_pyarrow(colbridge.read_ipc(str(path))).equals(expected)


def test_several_record_batches_become_chunks(tmp_path: Path) -> None:
    expected = sample_table()
    path = tmp_path / "data.arrow"
    with ipc.new_file(path, expected.schema) as w:
        w.write_table(expected, max_chunksize=300)
    table = colbridge.read_ipc(path)
    assert table.column("i64").num_chunks == 4
    assert to_pyarrow(table).equals(expected)


def test_columns_select_by_name_and_position_in_the_order_asked(tmp_path: Path) -> None:
    expected = sample_table()
    path = write_file(expected, tmp_path / "data.arrow")
    table = colbridge.read_ipc(path, columns=["s", 0, -1])
    assert table.column_names == ["s", "i64", "st"]
    got = to_pyarrow(table)
    assert got.column("s").equals(expected.column("s"))
    assert got.column("st").equals(expected.column("st"))
    with pytest.raises(colbridge.InvalidInputError, match="no column named 'nope'"):
        colbridge.read_ipc(path, columns=["nope"])
    with pytest.raises(colbridge.InvalidInputError, match="out of range"):
        colbridge.read_ipc(path, columns=[99])


def test_an_empty_table_and_a_schema_without_batches(tmp_path: Path) -> None:
    schema = pa.schema([("a", pa.int64()), ("b", pa.string())])
    path = tmp_path / "empty.arrow"
    with ipc.new_file(path, schema):
        pass
    table = colbridge.read_ipc(path)
    assert table.num_rows == 0
    assert table.column_names == ["a", "b"]


def test_schema_metadata_survives(tmp_path: Path) -> None:
    expected = pa.table({"a": [1, 2]}).replace_schema_metadata({"k": "v"})
    path = write_file(expected, tmp_path / "m.arrow")
    assert colbridge.read_ipc(path).schema.metadata == {"k": "v"}


def test_a_stream_with_replaced_dictionaries(tmp_path: Path) -> None:
    schema = pa.schema([("c", pa.dictionary(pa.int8(), pa.string()))])
    path = tmp_path / "s.arrows"
    batches = [
        pa.record_batch([pa.array(["a", "b", "a"]).dictionary_encode()], schema=schema),
        pa.record_batch([pa.array(["x", "y"]).dictionary_encode()], schema=schema),
    ]
    with ipc.new_stream(path, schema) as w:
        for b in batches:
            w.write_batch(b)
    got = to_pyarrow(colbridge.read_ipc(path))
    assert got.column("c").to_pylist() == ["a", "b", "a", "x", "y"]


def test_delta_dictionaries_in_a_file(tmp_path: Path) -> None:
    schema = pa.schema([("c", pa.dictionary(pa.int32(), pa.string()))])
    path = tmp_path / "delta.arrow"
    dictionary = pa.array(["a", "b", "c"])
    first = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), dictionary[:2])
    second = pa.DictionaryArray.from_arrays(pa.array([2, 0], pa.int32()), dictionary)
    options = ipc.IpcWriteOptions(emit_dictionary_deltas=True)
    with ipc.new_stream(path, schema, options=options) as w:
        w.write_batch(pa.record_batch([first], schema=schema))
        w.write_batch(pa.record_batch([second], schema=schema))
    got = to_pyarrow(colbridge.read_ipc(path))
    assert got.column("c").to_pylist() == ["a", "b", "c", "a"]


# --- zero copy ---------------------------------------------------------------------------------


# date32 is shared with pyarrow but widened by NumPy (datetime64[D] is 8 bytes).
NUMERIC = ["i64", "f64", "f32", "u8", "ts", "d"]


@linux_only
@pytest.mark.parametrize("writer", ["pyarrow", "colbridge"])
def test_every_buffer_points_into_the_mapping(tmp_path: Path, writer: str) -> None:
    path = tmp_path / "data.arrow"
    if writer == "pyarrow":
        # pyarrow aligns buffers to 8 bytes, which a 16-byte decimal may need more than: such
        # a column would be copied (and is refused under require_zero_copy), so leave it out.
        write_file(sample_table().drop_columns(["dec"]), path)
    else:
        colbridge.write_ipc(colbridge.table(sample_table()), path)
    table = colbridge.read_ipc(path, require_zero_copy=True)
    ranges = mappings(path)
    assert ranges, "the file is mapped"
    for name in table.column_names:
        for chunk in table.column(name).chunks:
            stack = [chunk]
            while stack:
                array = stack.pop()
                for buffer in array.buffers():
                    if buffer is not None and buffer.size:
                        assert inside(buffer.address, buffer.size, ranges), name
                stack.extend(array.flatten() if array.type.is_nested else [])
                if array.dictionary is not None:
                    stack.append(array.dictionary)


@linux_only
def test_numpy_pandas_and_pyarrow_hold_the_mapping(tmp_path: Path) -> None:
    path = write_file(sample_table(), tmp_path / "data.arrow")
    table = colbridge.read_ipc(path)
    ranges = mappings(path)
    df = colbridge.read_feather(path)
    mapped_df_ranges = mappings(path)
    pa_table = pa.table(table)
    for name in NUMERIC:
        values = table.column(name).chunk(0).values
        assert values is not None
        assert inside(values.address, values.size, ranges)
        if name != "d":
            assert address(table.column(name).to_numpy()) == values.address
        assert pa_table.column(name).chunk(0).buffers()[1].address == values.address
    for name in ["i64", "f64", "f32", "u8"]:
        column = df[name].to_numpy()
        assert inside(address(column), column.nbytes, mapped_df_ranges), name
        assert not column.flags.writeable
    ts = df["ts"].array.asi8
    assert inside(address(ts), ts.nbytes, mapped_df_ranges)


def test_memory_map_false_reads_into_memory(tmp_path: Path) -> None:
    path = write_file(sample_table(), tmp_path / "data.arrow")
    table = colbridge.read_ipc(path, memory_map=False)
    if sys.platform.startswith("linux"):
        assert mappings(path) == [] or not inside(
            table.column("i64").chunk(0).values.address, 8, mappings(path)
        )
    assert table.column("i64").to_pylist()[:3] == [0, 1, 2]


def test_views_are_read_only(tmp_path: Path) -> None:
    path = write_file(sample_table(), tmp_path / "data.arrow")
    table = colbridge.read_ipc(path)
    values = table.column("f64").to_numpy()
    assert not values.flags.writeable
    with pytest.raises(ValueError):
        values[0] = 1.0
    with pytest.raises((TypeError, BufferError)):
        memoryview(table.column("f64").chunk(0).values).cast("B")[0] = 1  # type: ignore[index]


@linux_only
def test_a_view_outlives_the_table_and_the_file_object_and_releases_the_mapping(
    tmp_path: Path,
) -> None:
    expected = np.arange(100_000, dtype=np.float64)
    path = write_file(pa.table({"x": expected}), tmp_path / "data.arrow")
    table = colbridge.read_ipc(path)
    view = table.column("x").to_numpy()
    del table
    gc.collect()
    assert mappings(path), "the view keeps the mapping"
    assert inside(address(view), view.nbytes, mappings(path))
    np.testing.assert_array_equal(view, expected)
    del view
    gc.collect()
    assert mappings(path) == [], "the last view released the mapping"


@linux_only
def test_the_file_can_be_deleted_while_mapped(tmp_path: Path) -> None:
    path = write_file(pa.table({"x": np.arange(1000)}), tmp_path / "data.arrow")
    view = colbridge.read_ipc(path).column("x").to_numpy()
    path.unlink()
    assert int(view.sum()) == sum(range(1000))


# --- copies, and require_zero_copy ---------------------------------------------------------------


@pytest.mark.parametrize("codec", ["lz4", "zstd"])
def test_compressed_files_are_decompressed_and_refused_under_require_zero_copy(
    tmp_path: Path, codec: str
) -> None:
    expected = sample_table()
    path = write_file(expected, tmp_path / "c.arrow", compression=codec)
    assert to_pyarrow(colbridge.read_ipc(path)).equals(expected)
    with pytest.raises(colbridge.ZeroCopyError, match=rf"column 'i64'.*compressed \({codec}\)"):
        colbridge.read_ipc(path, require_zero_copy=True)


@linux_only
def test_only_the_compressed_columns_are_copied(tmp_path: Path) -> None:
    # Buffers too short to gain from compression are stored raw in a compressed batch; pyarrow
    # writes them with the -1 prefix. A long random column compresses poorly but is still
    # written compressed; check each column against the mapping.
    table = pa.table({"x": np.arange(100_000, dtype=np.int64)})
    path = write_file(table, tmp_path / "c.arrow", compression="zstd")
    got = colbridge.read_ipc(path)
    values = got.column("x").chunk(0).values
    assert not inside(values.address, values.size, mappings(path))
    assert got.column("x").to_pylist() == table.column("x").to_pylist()


def test_feather_v2_written_by_pyarrow_with_its_default_lz4(tmp_path: Path) -> None:
    expected = sample_table()
    path = tmp_path / "data.feather"
    feather.write_feather(expected, path)
    assert to_pyarrow(colbridge.read_ipc(path)).equals(expected)


def test_a_view_outlives_a_closed_file_object(tmp_path: Path) -> None:
    path = write_file(pa.table({"x": np.arange(10, dtype=np.int64)}), tmp_path / "data.arrow")
    with open(path, "rb") as f:
        view = colbridge.read_ipc(f).column("x").to_numpy()
    assert f.closed
    np.testing.assert_array_equal(view, np.arange(10))


def test_a_buffer_protocol_object_at_an_odd_offset_is_read(tmp_path: Path) -> None:
    # Its memory could change after validation, so it is copied (and aligned) first.
    path = write_stream(pa.table({"x": np.arange(10, dtype=np.int64)}), tmp_path / "s.arrows")
    shifted = memoryview(b"\0" + path.read_bytes())[1:]
    assert colbridge.read_ipc(shifted).column("x").to_pylist() == list(range(10))


def test_a_misaligned_decimal_is_copied_or_refused_naming_it(tmp_path: Path) -> None:
    # pyarrow aligns buffers to 8 bytes; a decimal128 needs 16. Add one-value int8 columns
    # (8 bytes of body each) in front until the decimal's values lie at an odd multiple of 8.
    from . import _flatbuffers as fb

    values = pa.array([decimal.Decimal("1.25"), decimal.Decimal("-3.50")], pa.decimal128(10, 2))
    for prefix in range(4):
        columns = {f"p{i}": pa.array([1, 2], pa.int8()) for i in range(prefix)}
        table = pa.table({**columns, "dec": values})
        path = write_stream(table, tmp_path / f"d{prefix}.arrows")
        data = path.read_bytes()
        batch = next(m for m in fb.messages(data) if m.header_type == fb.RECORD_BATCH)
        at, _ = batch.buffer(data, 2 * prefix + 1)  # each column: validity, values
        if at % 16 == 8:
            break
    else:
        pytest.fail("could not place the decimal at an odd multiple of 8")
    got = colbridge.read_ipc(path)
    assert pa.table(got).equals(table)
    with pytest.raises(colbridge.ZeroCopyError, match="column 'dec'.*not aligned"):
        colbridge.read_ipc(path, require_zero_copy=True)
    if prefix:
        # The other columns of the same batch are still read without a copy.
        colbridge.read_ipc(path, columns=["p0"], require_zero_copy=True)
