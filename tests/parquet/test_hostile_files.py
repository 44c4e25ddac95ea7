"""Files whose counts and sizes lie get a clean colbridge error, never a crash, an abort or an
allocation the file cannot justify; the resource limits refuse what is too large, naming the
limit. Memory is measured in a child process under an address-space limit, where an
allocation the file only claims would abort the process."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

from ..conftest import CORPUS
from ._thrift import I32, I64, column_meta, decode_struct, encode_struct, join_file, split_file

READERS = {
    "read_parquet": lambda p, **kw: colbridge.read_parquet(p, **kw),
    "read_pandas": lambda p, **kw: colbridge.read_pandas(p, **kw),
    "iter_batches": lambda p, **kw: colbridge.ParquetFile(p, **kw).iter_batches().read_all(),
}


def parquet_bytes(table: pa.Table, **kwargs) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kwargs)
    return buf.getvalue()


def column(kind: str, n: int = 1000) -> pa.Table:
    values = {
        "int64": pa.array(range(n), pa.int64()),
        "double": pa.array([i / 3 for i in range(n)]),
        "string": pa.array([f"s{i % 17}" for i in range(n)]),
        "dictionary": pa.array([f"s{i % 17}" for i in range(n)]).dictionary_encode(),
        "bool": pa.array([i % 3 == 0 for i in range(n)]),
        "int8": pa.array([i % 100 for i in range(n)], pa.int8()),
    }[kind]
    return pa.table({"v": values})


def claim_rows(data: bytes, rows: int) -> bytes:
    """The file with its row group (and the file) claiming `rows` rows."""
    body, footer = split_file(data)
    footer[3] = (I64, rows)
    footer[4][1][1][0][3] = (I64, rows)
    return join_file(body, footer)


def run_limited(script: str, extra_gib: float = 1.0) -> dict:
    """Run `script` in a child whose address space may grow by only `extra_gib` GiB past what
    its imports take; it prints a JSON line. A claimed allocation aborts such a child."""
    prelude = textwrap.dedent(
        f"""
        import json, resource, sys
        import colbridge, pyarrow
        vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + int({extra_gib} * 2**30),) * 2)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        def report(**kw):
            kw["grew_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            print(json.dumps(kw))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, f"child died ({out.returncode}): {out.stderr[-2000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["int64", "double", "string", "dictionary", "bool", "int8"])
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_file_claiming_a_trillion_rows_is_corrupt_not_an_allocation(tmp_path, kind, reader):
    path = tmp_path / "lie.parquet"
    path.write_bytes(claim_rows(parquet_bytes(column(kind)), 10**12))
    with pytest.raises(colbridge.CorruptFileError, match="row"):
        READERS[reader](path)


@pytest.mark.parametrize("kind", ["int64", "dictionary", "bool"])
def test_row_count_lies_stay_small_under_an_address_space_limit(tmp_path, kind):
    sizes = {}
    for rows in (4 * 10**8, 3 * 10**9, 10**12):
        path = tmp_path / f"lie{rows}.parquet"
        path.write_bytes(claim_rows(parquet_bytes(column(kind)), rows))
        result = run_limited(
            f"""
            try:
                colbridge.read_parquet({str(path)!r})
                report(error=None)
            except colbridge.ParquetError as e:
                report(error=type(e).__name__)
            """
        )
        assert result["error"] == "CorruptFileError", result
        sizes[rows] = result["grew_kib"]
    assert max(sizes.values()) < 64 * 1024, sizes


def test_a_filtered_read_of_a_row_count_lie_stays_small(tmp_path):
    """The page index's row masks are sized by the footer's row counts: a filter on a file whose
    count lies (found by the read fuzz target: an 8.6 GB mask) is refused before any mask."""
    path = tmp_path / "lie.parquet"
    data = parquet_bytes(column("int64"), write_page_index=True)
    path.write_bytes(claim_rows(data, 10**12))
    result = run_limited(
        f"""
        try:
            colbridge.read_parquet({str(path)!r}, filters=[("v", ">", 5)])
            report(error=None)
        except colbridge.ParquetError as e:
            report(error=type(e).__name__)
        """
    )
    assert result["error"] == "CorruptFileError", result
    assert result["grew_kib"] < 64 * 1024, result


def one_page_file(table: pa.Table, **kwargs) -> tuple[bytes, int]:
    """A one-page, one-column file and the offset of its page header."""
    data = parquet_bytes(
        table, use_dictionary=False, data_page_size=1 << 30, write_statistics=False, **kwargs
    )
    _, footer = split_file(data)
    return data, column_meta(footer)[9][1]


def with_page_header(data: bytes, offset: int, change) -> bytes:
    """The file with the page header at `offset` changed by `change(fields)`; the chunk's sizes
    in the footer follow the header's new length."""
    header, end = decode_struct(data, offset)
    old_len = end - offset
    change(header)
    raw = encode_struct(header)
    delta = len(raw) - old_len
    body, footer = split_file(data)
    body = body[:offset] + raw + body[end:]
    meta = column_meta(footer)
    meta[7] = (I64, meta[7][1] + delta)
    meta[6] = (I64, meta[6][1] + delta)
    return join_file(body, footer)


@pytest.mark.parametrize("codec", ["snappy", "zstd", "gzip", "lz4", "brotli", "none"])
def test_a_page_claiming_two_gib_decompressed_is_refused_before_it_is_reserved(tmp_path, codec):
    data, offset = one_page_file(column("double"), compression=codec)
    lie = with_page_header(data, offset, lambda h: h.__setitem__(2, (I32, 2**31 - 1)))
    path = tmp_path / "page.parquet"
    path.write_bytes(lie)
    result = run_limited(
        f"""
        out = {{}}
        p = {str(path)!r}
        for name, read in [
            ("read_parquet", lambda: colbridge.read_parquet(p)),
            ("read_pandas", lambda: colbridge.read_pandas(p)),
            ("iter_batches", lambda: colbridge.ParquetFile(p).iter_batches().read_all()),
        ]:
            try:
                read()
                out[name] = None
            except colbridge.ParquetError as e:
                out[name] = type(e).__name__
        report(**out)
        """
    )
    grew = result.pop("grew_kib")
    assert set(result.values()) <= {"CorruptFileError", "LimitExceededError"}, result
    assert None not in result.values()
    assert grew < 64 * 1024, grew


def test_a_dictionary_page_claiming_two_billion_values_is_corrupt(tmp_path):
    data = parquet_bytes(column("string"), write_statistics=False)
    _, footer = split_file(data)
    offset = column_meta(footer)[11][1]  # the dictionary page

    def lie(header):
        header[7][1][1] = (I32, 2**31 - 1)

    path = tmp_path / "dict.parquet"
    path.write_bytes(with_page_header(data, offset, lie))
    for read in READERS.values():
        with pytest.raises(colbridge.CorruptFileError, match="dictionary"):
            read(path)


def test_a_schema_claiming_two_billion_children_is_corrupt_before_it_is_built(tmp_path):
    body, footer = split_file(parquet_bytes(column("int64")))
    root = footer[2][1][1][0]
    root[5] = (I32, 2**31 - 1)
    path = tmp_path / "schema.parquet"
    path.write_bytes(join_file(body, footer))
    result = run_limited(
        f"""
        try:
            colbridge.ParquetFile({str(path)!r}).schema
            report(error=None)
        except colbridge.ParquetError as e:
            report(error=type(e).__name__, message=str(e))
        """
    )
    assert result["error"] == "CorruptFileError", result
    assert "children" in result["message"]
    assert result["grew_kib"] < 16 * 1024


def test_the_decoded_limit_is_on_by_default_at_the_memory_the_process_may_use(tmp_path):
    """A file whose row group and page headers agree on 2^31 - 1 int64 rows (17 GB decoded) in
    a 10 KB file: no count contradicts another, so only the decoded limit stands between it and
    the allocator. By default that limit is the memory this process may use (here its
    address-space limit), so the read is refused before anything is reserved; with the limit
    lifted (0) the reservation itself fails cleanly."""
    rows = 2**31 - 1
    data, offset = one_page_file(column("int64"))
    data = with_page_header(data, offset, lambda h: h[5][1].__setitem__(1, (I32, rows)))
    body, footer = split_file(claim_rows(data, rows))
    column_meta(footer)[5] = (I64, rows)
    path = tmp_path / "agreeing.parquet"
    path.write_bytes(join_file(body, footer))
    result = run_limited(
        f"""
        out = {{}}
        for limit in (None, 0):
            try:
                colbridge.read_parquet({str(path)!r}, max_decoded_bytes=limit)
                out[str(limit)] = None
            except colbridge.ParquetError as e:
                out[str(limit)] = [type(e).__name__, str(e)]
        report(**out)
        """
    )
    assert result["None"][0] == "LimitExceededError", result
    assert "the memory this process may use" in result["None"][1], result
    assert result["0"] is not None and result["0"][0] in {"LimitExceededError", "CorruptFileError"}
    assert result["grew_kib"] < 64 * 1024, result


def test_limits_refuse_what_is_too_large_and_name_the_keyword(tmp_path):
    path = tmp_path / "big.parquet"
    pq.write_table(column("double", 200_000), path, data_page_size=1 << 20)
    with pytest.raises(colbridge.LimitExceededError, match="max_footer_bytes=100"):
        colbridge.read_parquet(path, max_footer_bytes=100)
    with pytest.raises(colbridge.LimitExceededError, match="max_page_bytes=1000"):
        colbridge.read_parquet(path, max_page_bytes=1000)
    with pytest.raises(colbridge.LimitExceededError, match="max_decoded_bytes=1000"):
        colbridge.read_pandas(path, max_decoded_bytes=1000)
    assert colbridge.read_parquet(path, max_decoded_bytes=200_000 * 8).num_rows == 200_000
    with pytest.raises(colbridge.LimitExceededError, match="max_decoded_bytes"):
        colbridge.read_parquet(path, max_decoded_bytes=200_000 * 8 - 1)


def test_footers_that_point_outside_the_file_are_corrupt(tmp_path):
    data = parquet_bytes(column("int64"))
    cases = {
        "too long": data[:-8] + struct.pack("<I", len(data)) + b"PAR1",
        "truncated": data[: len(data) // 2] + data[-8:],
        "no magic": data[:-4] + b"PARX",
        "tiny": b"PAR1",
    }
    body, footer = split_file(parquet_bytes(column("int64"), use_dictionary=False))
    column_meta(footer)[9] = (I64, len(data) * 10)  # data page far past the end
    cases["page past the end"] = join_file(body, footer)
    for name, bad in cases.items():
        path = tmp_path / "bad.parquet"
        path.write_bytes(bad)
        with pytest.raises(colbridge.ParquetError) as info:
            colbridge.read_parquet(path)
            pytest.fail(f"{name}: read without an error")
        assert not isinstance(info.value, OSError), name
        assert isinstance(info.value, ValueError), name


def test_iter_batches_refuses_row_count_lies_as_read_parquet_does(tmp_path):
    data = parquet_bytes(column("int8"), row_group_size=500)
    body, footer = split_file(data)
    footer[4][1][1][1][3] = (I64, 400)  # the second row group claims fewer rows than it has
    footer[3] = (I64, 900)
    path = tmp_path / "short.parquet"
    path.write_bytes(join_file(body, footer))
    with pytest.raises(colbridge.CorruptFileError):
        colbridge.read_parquet(path)
    with pytest.raises(colbridge.CorruptFileError):
        colbridge.ParquetFile(path).iter_batches().read_all()


def test_the_corpus_files_pyarrow_reads_with_old_writer_quirks_read_the_same(tmp_path):
    corpus = CORPUS / "parquet-testing"
    if not corpus.exists():
        pytest.skip(f"external corpus not found at {corpus}")
    for name in ("dict-page-offset-zero.parquet", "nation.dict-malformed.parquet"):
        path = corpus / "data" / name
        assert pa.table(colbridge.read_parquet(path)).equals(pq.read_table(path)), name


# --------------------------------------------------------------------------------------
# Values as the file holds them


def test_int96_julian_day_zero_is_the_epoch_as_pyarrow_reads_it(tmp_path):
    buf = io.BytesIO()
    table = pa.table({"t": pa.array([0, 10**15], pa.timestamp("ns"))})
    pq.write_table(
        table,
        buf,
        use_deprecated_int96_timestamps=True,
        use_dictionary=False,
        compression="none",
        write_statistics=False,
    )
    data = bytearray(buf.getvalue())
    at = data.find(struct.pack("<I", 2440588))  # the first value's Julian day (1970-01-01)
    data[at - 8 : at + 4] = struct.pack("<qI", 5, 0)  # 5 ns into Julian day 0
    path = tmp_path / "int96.parquet"
    path.write_bytes(bytes(data))
    ours = pa.table(colbridge.read_parquet(path)).column("t").cast(pa.int64()).to_pylist()
    assert ours == pq.read_table(path).column("t").cast(pa.int64()).to_pylist() == [0, 10**15]


def test_decimals_beyond_their_precision_come_back_whole(tmp_path):
    stored = pa.Array.from_buffers(
        pa.decimal128(4, 2), 1, [None, pa.py_buffer((32608).to_bytes(16, "little"))]
    )
    path = tmp_path / "dec.parquet"
    pq.write_table(pa.table({"d": stored}), path)
    assert colbridge.read_parquet(path).column("d").to_pylist() == [Decimal("326.08")]
    assert colbridge.read_pandas(path)["d"].tolist() == pd.read_parquet(path)["d"].tolist()


@pytest.mark.parametrize(
    "converted, bits, signed",
    [(15, 8, True), (16, 16, True), (11, 8, False), (12, 16, False)],
    ids=["INT_8", "INT_16", "UINT_8", "UINT_16"],
)
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_narrow_integers_beyond_their_width_wrap_as_pyarrow_reads_them(
    tmp_path, converted, bits, signed, version
):
    """INT32 values annotated as 8 or 16 bits but holding more (a damaged or hostile writer):
    colbridge keeps the low bits, as pyarrow does, in every reader."""
    values = [1, 300, -200, 70000, None, 2**31 - 1]
    data = parquet_bytes(
        pa.table({"v": pa.array(values, pa.int32())}),
        store_schema=False,
        data_page_version=version,
    )
    body, footer = split_file(data)
    element = footer[2][1][1][1]
    element[6] = (I32, converted)
    element[10] = (12, {10: (12, {1: (3, bits), 2: (1, signed)})})
    path = tmp_path / "narrow.parquet"
    path.write_bytes(join_file(body, footer))
    expected = pq.read_table(path).column("v")
    assert expected.type.bit_width == bits
    assert colbridge.read_parquet(path).column("v").to_pylist() == expected.to_pylist()
    batches = colbridge.ParquetFile(path).iter_batches().read_all()
    assert pa.table(batches).column("v").to_pylist() == expected.to_pylist()
    pd.testing.assert_frame_equal(colbridge.read_pandas(path), pd.read_parquet(path))


def test_dates_pandas_cannot_hold_are_an_error_naming_the_column(tmp_path):
    path = tmp_path / "dates.parquet"
    pq.write_table(pa.table({"when": pa.array([0, 3_000_000], pa.date32())}), path)
    with pytest.raises(colbridge.InvalidInputError, match="column 'when'.*out of range"):
        colbridge.read_pandas(path)
    with pytest.raises(ValueError):  # what pandas raises for the same file
        pd.read_parquet(path)


@pytest.mark.parametrize("total", [0, 7, 10**12])
def test_the_row_groups_count_where_the_files_total_disagrees(total: int) -> None:
    # Old writers stored another total than their row groups hold (parquet-rs 0.3 wrote 0 in
    # the corpus' repeated_no_annotation.parquet). pyarrow reads the row groups; so does
    # colbridge, for flat and nested columns, and reports their rows as the file's.
    table = pa.table(
        {
            "id": pa.array(range(600), pa.int32()),
            "phones": pa.array(
                [[{"number": i, "kind": None if i % 3 else "home"}] * (i % 3) for i in range(600)]
            ),
        }
    )
    body, footer = split_file(parquet_bytes(table, row_group_size=250))
    footer[3] = (I64, total)
    data = join_file(body, footer)
    assert pq.ParquetFile(io.BytesIO(data)).metadata.num_rows == total  # the lie, as stored
    want = pq.read_table(io.BytesIO(data))
    assert want.num_rows == 600
    assert colbridge.ParquetFile(data).num_rows == 600
    for read in READERS.values():
        got = read(data)
        assert pa.table(got).equals(want)
    pd.testing.assert_frame_equal(colbridge.read_pandas(data), pd.read_parquet(io.BytesIO(data)))


@pytest.mark.parametrize("codec", ["snappy", "zstd", "gzip", "lz4", "brotli"])
def test_corrupt_compressed_bytes_are_corrupt_file_errors_never_os_errors(codec):
    # A decompressor's failure is the file's fault, not the system's: CorruptFileError (a
    # ValueError), never an OSError. Where the damaged bytes still decompress, the values are
    # pyarrow's for the same bytes (or, where pyarrow refuses them, a clean colbridge error).
    data, offset = one_page_file(column("double"), compression=codec)
    _, end = decode_struct(data, offset)
    size = column_meta(split_file(data)[1])[7][1] - (end - offset)  # the page's own bytes
    outcomes = set()
    for at in (end + 2, end + size // 3, end + size // 2, end + size - 5):
        for change in (lambda b: b ^ 0xFF, lambda b: 0):
            damaged = bytearray(data)
            damaged[at] = change(damaged[at])
            try:
                want = pq.read_table(io.BytesIO(bytes(damaged)))
            except Exception:
                want = None
            for name, read in READERS.items():
                try:
                    got = read(bytes(damaged))
                except colbridge.ParquetError as e:
                    assert not isinstance(e, OSError), (name, at, e)
                    outcomes.add(type(e).__name__)
                    continue
                assert want is not None, (name, at, "read what pyarrow refuses")
                assert pa.table(got).equals(want), (name, at)
                outcomes.add("read")
    assert outcomes, codec


def test_statistics_that_claim_nulls_the_pages_lack_leave_integers_integers():
    # colbridge decodes a small-integer column whose statistics state nulls straight into
    # float64 (pandas' type for it). Where the pages hold no null after all (a writer's
    # mistake, a damaged footer), pandas keeps the column integer, and so does colbridge.
    data = parquet_bytes(pa.table({"v": pa.array(range(1000), pa.int32())}))
    body, footer = split_file(data)
    column_meta(footer)[12][1][3] = (I64, 5)  # Statistics.null_count
    lie = join_file(body, footer)
    stats = pq.ParquetFile(io.BytesIO(lie)).metadata.row_group(0).column(0).statistics
    assert stats.null_count == 5
    got = colbridge.read_pandas(lie)
    pd.testing.assert_frame_equal(got, pd.read_parquet(io.BytesIO(lie)))
    assert got["v"].dtype == "int32"
