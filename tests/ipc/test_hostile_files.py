"""Hostile and damaged IPC files: every one is a clean ArrowIpcError naming the file, never a
crash, a hang, an out-of-bounds read or a PanicException.

The files are written by pyarrow and then damaged in place, at the positions the small
FlatBuffers reader in ``_flatbuffers`` finds: field node lengths and null counts, buffer offsets
and lengths, values of offsets and dictionary indices in the body, dictionary ids, the footer,
truncation at every length, and a sweep flipping every byte of a small file. Big-endian files,
which pyarrow reads but cannot write, are crafted from a little-endian stream.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import colbridge

from . import _flatbuffers as fb


def stream_bytes(table: pa.Table) -> bytearray:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return bytearray(sink.getvalue().to_pybytes())


def file_bytes(table: pa.Table) -> bytearray:
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return bytearray(sink.getvalue().to_pybytes())


def refused(data: bytes | bytearray, match: str | None = None) -> str:
    with pytest.raises(colbridge.ArrowIpcError, match=match) as info:
        colbridge.read_ipc(bytes(data))
    return str(info.value)


def batch(data: bytes | bytearray) -> fb.Message:
    return next(m for m in fb.messages(data) if m.header_type == fb.RECORD_BATCH)


SMALL = pa.table(
    {
        "i": pa.array([1, 2, None, 4], pa.int64()),
        "s": pa.array(["a", "bb", None, "dddd"]),
        "c": pa.array(["x", "y", "x", "x"]).dictionary_encode(),
    }
)


def test_the_undamaged_stream_reads() -> None:
    assert pa.table(colbridge.read_ipc(bytes(stream_bytes(SMALL)))).equals(SMALL)


def test_a_buffer_outside_the_body() -> None:
    data = stream_bytes(SMALL)
    message = batch(data)
    struct.pack_into("<q", data, message.buffers[1], 1 << 40)
    refused(data, "lies outside the body")


def test_a_buffer_longer_than_the_body() -> None:
    data = stream_bytes(SMALL)
    message = batch(data)
    struct.pack_into("<q", data, message.buffers[1] + 8, 1 << 40)
    refused(data, "lies outside the body")


def test_a_negative_buffer_offset() -> None:
    data = stream_bytes(SMALL)
    struct.pack_into("<q", data, batch(data).buffers[1], -8)
    refused(data, "lies outside the body")


def test_a_node_longer_than_its_buffers() -> None:
    data = stream_bytes(SMALL)
    struct.pack_into("<q", data, batch(data).nodes[0], 1 << 30)
    refused(data)


def test_more_nulls_than_values() -> None:
    data = stream_bytes(SMALL)
    struct.pack_into("<q", data, batch(data).nodes[0] + 8, 99)
    refused(data, "nulls")


def test_string_offsets_past_the_data() -> None:
    data = stream_bytes(SMALL)
    message = batch(data)
    # Buffers: i validity, values (0, 1); s validity, offsets, data (2-4); c validity,
    # indices (5, 6).
    offsets_at, _ = message.buffer(data, 3)
    struct.pack_into("<i", data, offsets_at + 4 * 4, 1 << 20)
    refused(data, "column 's'")


def test_decreasing_string_offsets() -> None:
    data = stream_bytes(SMALL)
    offsets_at, _ = batch(data).buffer(data, 3)
    struct.pack_into("<i", data, offsets_at + 4, 3)
    struct.pack_into("<i", data, offsets_at + 8, 1)
    refused(data, "column 's'")


def test_invalid_utf8() -> None:
    data = stream_bytes(SMALL)
    values_at, _ = batch(data).buffer(data, 4)
    data[values_at] = 0xFF
    refused(data, "column 's'")


def test_a_dictionary_index_out_of_range() -> None:
    data = stream_bytes(SMALL)
    indices_at, _ = batch(data).buffer(data, 6)
    struct.pack_into("<i", data, indices_at, 5)
    refused(data, "column 'c'")


def test_an_unknown_dictionary_id() -> None:
    # The second dictionary (id 1) is stored with its id; the first (id 0) may leave it out.
    table = pa.table(
        {
            "c": pa.array(["x", "y"]).dictionary_encode(),
            "d": pa.array(["p", "q"]).dictionary_encode(),
        }
    )
    data = stream_bytes(table)
    dictionaries = [m for m in fb.messages(data) if m.header_type == fb.DICTIONARY_BATCH]
    struct.pack_into("<q", data, fb.dictionary_id_position(data, dictionaries[1]), 77)
    refused(data, "dictionary 77")


def test_a_footer_length_beyond_the_file() -> None:
    data = file_bytes(SMALL)
    struct.pack_into("<i", data, len(data) - 10, 1 << 30)
    refused(data, "footer length")


def test_a_footer_block_outside_the_file() -> None:
    data = file_bytes(SMALL)
    # The last record batch block's offset is the largest int64 the footer holds that points
    # at a message; overwrite every such offset found in the footer.
    footer_len = struct.unpack_from("<i", data, len(data) - 10)[0]
    footer = len(data) - 10 - footer_len
    stream = fb.messages(data, 8)
    starts = {m.start for m in stream}
    hits = 0
    for at in range(footer, len(data) - 10 - 8):
        if struct.unpack_from("<q", data, at)[0] in starts - {8}:
            struct.pack_into("<q", data, at, 1 << 40)
            hits += 1
    assert hits
    refused(data)


@pytest.mark.parametrize("kind", ["file", "stream"])
def test_every_truncation_is_an_error_or_a_shorter_stream(kind: str) -> None:
    data = file_bytes(SMALL) if kind == "file" else stream_bytes(SMALL)
    for cut in range(0, len(data) - 1):
        try:
            table = colbridge.read_ipc(bytes(data[:cut]))
        except colbridge.ArrowIpcError:
            continue
        # A stream cut exactly after a message is a valid, shorter stream.
        assert kind == "stream", cut
        assert table.num_rows in (0, SMALL.num_rows)


def test_an_empty_file() -> None:
    refused(b"", None)


def test_the_empty_file_on_disk_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "empty.arrow"
    path.write_bytes(b"")
    with pytest.raises(colbridge.ArrowIpcError, match="empty.arrow"):
        colbridge.read_ipc(path)


def test_a_parquet_file_is_not_an_ipc_file(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    colbridge.write_parquet(colbridge.table({"a": [1]}), path)
    with pytest.raises(colbridge.ArrowIpcError, match=r"x\.parquet"):
        colbridge.read_ipc(path)


@pytest.mark.parametrize("kind", ["file", "stream"])
def test_flipping_any_byte_never_crashes(kind: str) -> None:
    data = file_bytes(SMALL) if kind == "file" else stream_bytes(SMALL)
    for at in range(len(data)):
        for value in (0x00, 0xFF, data[at] ^ 0x01):
            damaged = bytearray(data)
            damaged[at] = value
            try:
                table = colbridge.read_ipc(bytes(damaged))
            except (colbridge.ArrowIpcError, colbridge.ZeroCopyError):
                continue
            # What reads must be usable: every value converts.
            for name in table.column_names:
                table.column(name).to_pylist()


# --- big-endian ----------------------------------------------------------------------------------


def big_endian_stream(table: pa.Table) -> bytes:
    """``table`` (int32 ``x``, float64 ``y``, no nulls) as a big-endian stream."""
    data = stream_bytes(table)
    message = batch(data)
    for i, width in ((1, 4), (3, 8)):
        at, length = message.buffer(data, i)
        values = np.frombuffer(bytes(data[at : at + length]), dtype=f"<i{width}")
        data[at : at + length] = values.astype(f">i{width}").tobytes()
    schema = fb.schema_message(
        [
            fb.arrow_field("x", fb.TYPE_INT, fb.Table(("i", 32), ("B", 1))),
            fb.arrow_field("y", fb.TYPE_FLOAT, fb.Table(("h", 2))),
        ]
    )
    end = message.body + message.body_length
    return schema + bytes(data[message.start : end]) + fb.CONTINUATION + b"\0\0\0\0"


BIG = pa.table({"x": pa.array([1, -2, 3], pa.int32()), "y": pa.array([0.5, -1.25, 1e300])})


def test_a_big_endian_stream_is_swapped_as_pyarrow_swaps_it() -> None:
    data = big_endian_stream(BIG)
    oracle = ipc.open_stream(data).read_all()
    assert oracle.equals(BIG)
    assert pa.table(colbridge.read_ipc(data)).equals(BIG)


def test_a_big_endian_stream_is_refused_under_require_zero_copy() -> None:
    with pytest.raises(colbridge.ZeroCopyError, match="column 'x'.*big-endian"):
        colbridge.read_ipc(big_endian_stream(BIG), require_zero_copy=True)


def test_validate_false_still_checks_the_layout() -> None:
    # validate=False skips the per-value checks only: buffers must still lie in the body.
    assert pa.table(colbridge.read_ipc(bytes(stream_bytes(SMALL)), validate=False)).equals(SMALL)
    data = stream_bytes(SMALL)
    struct.pack_into("<q", data, batch(data).buffers[1], 1 << 40)
    with pytest.raises(colbridge.ArrowIpcError, match="lies outside the body"):
        colbridge.read_ipc(bytes(data), validate=False)
