"""Just enough FlatBuffers to look inside Arrow IPC messages and to craft the ones no writer
produces: a reader that finds a record batch's field nodes and buffers (to corrupt them in
place), and a front-to-back writer for a big-endian schema message (pyarrow reads big-endian
files but cannot write them)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

# Message.header_type and Schema.Type union tags, from Arrow's Message.fbs / Schema.fbs.
SCHEMA, DICTIONARY_BATCH, RECORD_BATCH = 1, 2, 3
TYPE_INT, TYPE_FLOAT, TYPE_BOOL, TYPE_DECIMAL, TYPE_DATE, TYPE_TIMESTAMP = 2, 3, 6, 7, 8, 10
V5 = 4
CONTINUATION = b"\xff\xff\xff\xff"


# --- reading -----------------------------------------------------------------------------------


def _u32(b: bytes | bytearray, at: int) -> int:
    return int(struct.unpack_from("<I", b, at)[0])


def _field(b: bytes | bytearray, table: int, index: int) -> int | None:
    """The absolute position of field ``index`` of the table at ``table``, or None."""
    vtable = table - struct.unpack_from("<i", b, table)[0]
    size = struct.unpack_from("<H", b, vtable)[0]
    if 4 + 2 * index >= size:
        return None
    offset = struct.unpack_from("<H", b, vtable + 4 + 2 * index)[0]
    return table + offset if offset else None


def _ref(b: bytes | bytearray, at: int) -> int:
    return at + _u32(b, at)


@dataclass
class Message:
    """One encapsulated message of a stream: where its parts are in the file."""

    start: int
    meta: int  # first byte of the flatbuffer
    body: int  # first byte of the body
    body_length: int
    header_type: int
    header: int  # absolute position of the header table
    nodes: list[int] = field(default_factory=list)  # positions of FieldNode structs
    buffers: list[int] = field(default_factory=list)  # positions of Buffer structs

    def buffer(self, data: bytes | bytearray, i: int) -> tuple[int, int]:
        """(absolute offset, length) of buffer ``i``."""
        offset, length = struct.unpack_from("<qq", data, self.buffers[i])
        return self.body + offset, length


def messages(data: bytes | bytearray, start: int = 0) -> list[Message]:
    """The messages of an IPC stream (or of a file's embedded stream, from byte 8)."""
    out = []
    at = start
    while at + 8 <= len(data):
        if data[at : at + 4] != CONTINUATION:
            break
        length = struct.unpack_from("<i", data, at + 4)[0]
        if length <= 0:
            break
        meta = at + 8
        root = _ref(data, meta)
        tag_at = _field(data, root, 1)
        header_type = data[tag_at] if tag_at is not None else 0
        header = _ref(data, _field(data, root, 2))  # type: ignore[arg-type]
        body_at = _field(data, root, 3)
        body_length = struct.unpack_from("<q", data, body_at)[0] if body_at else 0
        message = Message(at, meta, meta + length, body_length, header_type, header)
        batch = header
        if header_type == DICTIONARY_BATCH:
            batch = _ref(data, _field(data, header, 1))  # type: ignore[arg-type]
        if header_type in (RECORD_BATCH, DICTIONARY_BATCH):
            for index, into in ((1, message.nodes), (2, message.buffers)):
                vector = _ref(data, _field(data, batch, index))  # type: ignore[arg-type]
                into.extend(vector + 4 + 16 * i for i in range(_u32(data, vector)))
        out.append(message)
        at = meta + length + body_length
    return out


def dictionary_id_position(data: bytes | bytearray, message: Message) -> int:
    """Where a dictionary batch's id (int64) is stored; the id must be written explicitly."""
    at = _field(data, message.header, 0)
    assert at is not None, "the writer omitted the id (0 is its default)"
    return at


# --- writing -----------------------------------------------------------------------------------


class Table:
    """A table to encode: ``fields[i]`` is None (absent), ``(struct format, value)``, a string,
    a nested Table or a list of Tables."""

    def __init__(self, *fields: Any) -> None:
        self.fields = fields


def encode(root: Table) -> bytes:
    """The flatbuffer of ``root``, written front to back: every object after what points at it."""
    out = bytearray(4)
    queue: list[tuple[int, Any]] = [(0, root)]
    while queue:
        slot, obj = queue.pop(0)
        position = _write(out, obj, queue)
        struct.pack_into("<I", out, slot, position - slot)
    return bytes(out)


def _pad(out: bytearray, align: int) -> None:
    out.extend(b"\0" * (-len(out) % align))


def _write(out: bytearray, obj: Any, queue: list[tuple[int, Any]]) -> int:
    if isinstance(obj, str):
        _pad(out, 4)
        position = len(out)
        raw = obj.encode()
        out.extend(struct.pack("<I", len(raw)) + raw + b"\0")
        return position
    if isinstance(obj, list):
        _pad(out, 4)
        position = len(out)
        out.extend(struct.pack("<I", len(obj)))
        for item in obj:
            queue.append((len(out), item))
            out.extend(b"\0\0\0\0")
        return position
    layout = []  # (field index, offset in the object, format, value)
    cursor = 4
    for i, value in enumerate(obj.fields):
        if value is None:
            continue
        fmt = value[0] if isinstance(value, tuple) else "I"
        size = struct.calcsize("<" + fmt)
        cursor += -cursor % size
        layout.append((i, cursor, fmt, value))
        cursor += size
    vtable = [0] * len(obj.fields)
    for i, offset, _, _ in layout:
        vtable[i] = offset
    _pad(out, 2)
    vtable_at = len(out)
    out.extend(struct.pack(f"<HH{len(vtable)}H", 4 + 2 * len(vtable), cursor, *vtable))
    _pad(out, 8)
    table_at = len(out)
    out.extend(b"\0" * cursor)
    struct.pack_into("<i", out, table_at, table_at - vtable_at)
    for _, offset, fmt, value in layout:
        if isinstance(value, tuple):
            struct.pack_into("<" + fmt, out, table_at + offset, value[1])
        else:
            queue.append((table_at + offset, value))
    return table_at


def schema_message(fields: list[Table], big_endian: bool = True) -> bytes:
    """An encapsulated Schema message (continuation marker, length, flatbuffer, padding)."""
    schema = Table(("h", 1 if big_endian else 0), fields)
    message = Table(("h", V5), ("B", SCHEMA), schema, ("q", 0))
    flatbuffer = encode(message)
    flatbuffer += b"\0" * (-len(flatbuffer) % 8)
    return CONTINUATION + struct.pack("<i", len(flatbuffer)) + flatbuffer


def arrow_field(name: str, type_tag: int, type_table: Table) -> Table:
    """A nullable Field of a type without children."""
    return Table(name, ("B", 1), ("B", type_tag), type_table, None, [])
