"""Write the fuzz targets' starting corpora into fuzz/corpus/<target>/.

    python fuzz/seeds.py [--corpus ../shared/corpus]

Seeds are small files written here with pyarrow (every codec, v1 and v2 data pages, with and
without dictionaries, nulls, nesting) and, where the external corpus is present, its Parquet
files under 64 KiB. The `read` target takes one byte of reader settings before the file, so each
file is seeded under several settings; the `footer` target takes a footer or a page header; the
`ipc` target takes IPC files and streams written here with pyarrow (every codec); the
`c_structs` target takes a few schemas and arrays spelled in its own input format (flat, string,
struct, list, dictionary, fixed-size list).
"""

from __future__ import annotations

import argparse
import io
import re
import struct
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
CODECS = ["none", "snappy", "gzip", "brotli", "zstd", "lz4"]


def tables() -> list[pa.Table]:
    n = 40
    return [
        pa.table(
            {
                "i": pa.array([i if i % 7 else None for i in range(n)], pa.int64()),
                "s": pa.array([f"v{i % 5}" if i % 3 else None for i in range(n)]),
            }
        ),
        pa.table(
            {
                "b": pa.array([i % 3 == 0 for i in range(n)]),
                "d": pa.array([i / 4 for i in range(n)], pa.float64()),
                "t": pa.array(list(range(n)), pa.timestamp("us")),
            }
        ),
        pa.table(
            {
                "l": pa.array([[i, i + 1] if i % 4 else None for i in range(n)]),
                "c": pa.array([f"k{i % 3}" for i in range(n)]).dictionary_encode(),
                "m": pa.array([i * 3 for i in range(n)], pa.int32()),
            }
        ),
    ]


def parquet_files() -> list[bytes]:
    out = []
    for t, table in enumerate(tables()):
        for c, codec in enumerate(CODECS):
            buf = io.BytesIO()
            pq.write_table(
                table,
                buf,
                compression=codec,
                data_page_version="2.0" if (t + c) % 2 else "1.0",
                use_dictionary=(t + c) % 3 != 0,
                row_group_size=17,
                data_page_size=64,
                write_page_index=c % 2 == 0,
            )
            out.append(buf.getvalue())
    return out


def ipc_files() -> list[bytes]:
    """Each table as an IPC file and stream, uncompressed and with each codec, in 2 batches."""
    out = []
    for table in tables():
        for codec in (None, "lz4", "zstd"):
            options = ipc.IpcWriteOptions(compression=codec)
            for new in (ipc.new_file, ipc.new_stream):
                sink = io.BytesIO()
                with new(sink, table.schema, options=options) as writer:
                    for batch in table.to_batches(max_chunksize=25):
                        writer.write_batch(batch)
                out.append(sink.getvalue())
    return out


def footer_and_header(data: bytes) -> list[bytes]:
    length = struct.unpack("<i", data[-8:-4])[0]
    return [data[-8 - length : -8], data[4:68]]


# --- c_structs: ArrowSchema/ArrowArray structures in the target's own spelling ---------------
# (src/fuzzing/c_structs.rs: a schema is its format's index in FORMATS, a name byte, flags, a
# child count, the children, a shape byte and maybe a dictionary; an array is its length,
# offset, null count and shape, then each buffer as a mode byte and 80 word bytes, then the
# children and the dictionary.)

C_STRUCTS_SOURCE = HERE.parent / "src" / "fuzzing" / "c_structs.rs"
WORDS = 80  # the words of a buffer the target fills from the input (FILLED_WORDS)


def c_formats() -> list[str]:
    source = C_STRUCTS_SOURCE.read_text()
    start = source.index("const FORMATS")
    table = source[start : source.index("];", start)]
    return re.findall(r'"([^"]*)"', table.split("=", 1)[1])


def c_schema(fmt: str, children: tuple[bytes, ...] = (), dictionary: bytes | None = None) -> bytes:
    head = bytes([c_formats().index(fmt), 2, 2, len(children)])
    shape = 0x34 if dictionary is not None else 4
    return head + b"".join(children) + bytes([shape]) + (dictionary or b"")


def c_buffer(words: list[int] | None) -> bytes:
    """A NULL buffer (None), or one of 32-bit words with these low bytes."""
    if words is None:
        return bytes([8])
    return bytes([2]) + bytes(words).ljust(WORDS, b"\0")


def c_array(
    length: int,
    buffers: list[list[int] | None],
    children: tuple[bytes, ...] = (),
    dictionary: bytes = b"",
) -> bytes:
    head = bytes([length, 0, 0, 1])
    return head + b"".join(c_buffer(b) for b in buffers) + b"".join(children) + dictionary


def c_structs_seeds() -> list[bytes]:
    ints = c_array(4, [None, [1, 2, 3, 4]])
    strings = c_array(3, [None, [0, 1, 3, 6], [97, 98, 99, 100, 101, 102]])
    return [
        c_schema("i") + ints,
        c_schema("u") + strings,
        c_schema("+s", (c_schema("i"), c_schema("u"))) + c_array(3, [None], (ints, strings)),
        c_schema("+l", (c_schema("i"),)) + c_array(2, [None, [0, 1, 4]], (ints,)),
        c_schema("i", dictionary=c_schema("u")) + c_array(4, [None, [0, 2, 1, 0]]) + strings,
        c_schema("+w:2", (c_schema("i"),)) + c_array(2, [None], (ints,)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    args = parser.parse_args()
    files = parquet_files()
    if args.corpus.is_dir():
        for path in sorted(args.corpus.rglob("*.parquet")):
            if path.stat().st_size <= 64 << 10:
                files.append(path.read_bytes())
    seeds: dict[str, list[bytes]] = {
        "read": [],
        "footer": [],
        "import": [],
        "ipc": ipc_files(),
        "c_structs": c_structs_seeds(),
    }
    for i, data in enumerate(files):
        seeds["read"] += [bytes([(i + k) % 32]) + data for k in (0, 5, 10, 21)]
        if len(data) > 12 and data[-4:] == b"PAR1":
            seeds["footer"] += footer_and_header(data)
    seeds["import"] = [bytes(range(k, k + 96)) for k in range(0, 160, 16)]
    for target, items in seeds.items():
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(items):
            (folder / f"seed-{i:04d}").write_bytes(data)
        print(f"{target}: {len(items)} seeds in {folder}")


if __name__ == "__main__":
    main()
