"""Just enough of the Thrift compact protocol to take a Parquet footer or page header apart,
change a field and put it back together: how the tests build files whose counts and sizes lie.

A struct decodes to ``{field_id: (type, value)}``; a list to ``(element_type, [values])``.
"""

from __future__ import annotations

import struct
from typing import Any

STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _value(buf: bytes, pos: int, ty: int) -> tuple[Any, int]:
    if ty in (TRUE, FALSE):  # inside a list: one byte
        return buf[pos] == TRUE, pos + 1
    if ty == BYTE:
        return buf[pos], pos + 1
    if ty in (I16, I32, I64):
        n, pos = _varint(buf, pos)
        return _zigzag(n), pos
    if ty == DOUBLE:
        return struct.unpack_from("<d", buf, pos)[0], pos + 8
    if ty == BINARY:
        n, pos = _varint(buf, pos)
        return bytes(buf[pos : pos + n]), pos + n
    if ty in (LIST, SET):
        head = buf[pos]
        pos += 1
        count, element = head >> 4, head & 0x0F
        if count == 15:
            count, pos = _varint(buf, pos)
        items = []
        for _ in range(count):
            item, pos = _value(buf, pos, element)
            items.append(item)
        return (element, items), pos
    if ty == STRUCT:
        return decode_struct(buf, pos)
    raise ValueError(f"type {ty} not supported here")


def decode_struct(buf: bytes, pos: int = 0) -> tuple[dict[int, tuple[int, Any]], int]:
    """The struct starting at ``pos``: its fields and the position after it."""
    fields: dict[int, tuple[int, Any]] = {}
    last = 0
    while True:
        b = buf[pos]
        pos += 1
        if b & 0x0F == STOP:
            return fields, pos
        delta, ty = b >> 4, b & 0x0F
        if delta:
            fid = last + delta
        else:
            n, pos = _varint(buf, pos)
            fid = _zigzag(n)
        last = fid
        if ty in (TRUE, FALSE):
            fields[fid] = (ty, ty == TRUE)
        else:
            fields[fid] = (ty, None)
            value, pos = _value(buf, pos, ty)
            fields[fid] = (ty, value)


def _put_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _encode_value(ty: int, value: Any) -> bytes:
    if ty in (TRUE, FALSE):
        return bytes([TRUE if value else FALSE])
    if ty == BYTE:
        return bytes([value & 0xFF])
    if ty in (I16, I32, I64):
        return _put_varint((value << 1) ^ (value >> 63))
    if ty == DOUBLE:
        return struct.pack("<d", value)
    if ty == BINARY:
        return _put_varint(len(value)) + value
    if ty in (LIST, SET):
        element, items = value
        head = (
            bytes([(len(items) << 4) | element])
            if len(items) < 15
            else bytes([0xF0 | element]) + _put_varint(len(items))
        )
        return head + b"".join(_encode_value(element, i) for i in items)
    if ty == STRUCT:
        return encode_struct(value)
    raise ValueError(f"type {ty} not supported here")


def encode_struct(fields: dict[int, tuple[int, Any]]) -> bytes:
    out = bytearray()
    last = 0
    for fid in sorted(fields):
        ty, value = fields[fid]
        wire = (TRUE if value else FALSE) if ty in (TRUE, FALSE) else ty
        if 0 < fid - last <= 15:
            out.append(((fid - last) << 4) | wire)
        else:
            out.append(wire)
            out += _put_varint((fid << 1) ^ (fid >> 63))
        last = fid
        if ty not in (TRUE, FALSE):
            out += _encode_value(ty, value)
    out.append(STOP)
    return bytes(out)


def split_file(data: bytes) -> tuple[bytes, dict[int, tuple[int, Any]]]:
    """A Parquet file's bytes before the footer, and the decoded footer."""
    (n,) = struct.unpack_from("<I", data, len(data) - 8)
    footer, _ = decode_struct(data[len(data) - 8 - n : len(data) - 8])
    return data[: len(data) - 8 - n], footer


def join_file(body: bytes, footer: dict[int, tuple[int, Any]]) -> bytes:
    raw = encode_struct(footer)
    return body + raw + struct.pack("<I", len(raw)) + b"PAR1"


def column_meta(footer: dict[int, tuple[int, Any]], rg: int = 0, col: int = 0) -> dict:
    """The ``ColumnMetaData`` of one column chunk (to read or change in place)."""
    group = footer[4][1][1][rg]
    chunk = group[1][1][1][col]
    return chunk[3][1]
