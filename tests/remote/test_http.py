"""Reading over HTTP(S) from a server that honours ``Range`` (started here on loopback): the
same data as a local read, one suffix request for size and footer, retries of transient
failures; and from one that ignores ``Range`` (Python's own ``http.server``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import colbridge
from colbridge.errors import ObjectNotFoundError
from tests.remote.conftest import GROUPS, ROWS
from tests.remote.servers import RangeServer


def test_read_over_http_equals_local(http_files: RangeServer, wide: bytes) -> None:
    got = colbridge.read_parquet(f"{http_files.url}/wide.parquet")
    assert got.num_rows == ROWS
    assert got.to_pandas().equals(colbridge.read_parquet(wide).to_pandas())
    gets = http_files.log.gets("/wide.parquet")
    assert [r.method for r in http_files.log.requests] == ["GET"] * len(gets)  # no HEAD
    assert gets[0].range is not None and gets[0].range.startswith("bytes=-")
    assert sum(r.sent for r in gets) <= 1.05 * len(wide)


def test_one_column_over_http(http_files: RangeServer, wide: bytes) -> None:
    got = colbridge.read_parquet(f"{http_files.url}/wide.parquet", columns=["c7"])
    want = colbridge.read_parquet(wide, columns=["c7"])
    assert np.array_equal(got.column("c7").to_numpy(), want.column("c7").to_numpy())
    assert len(http_files.log.gets("/wide.parquet")) <= 1 + GROUPS


def test_transient_failures_are_retried(http_files: RangeServer, wide: bytes) -> None:
    http_files.fail_next = 2  # the first two requests answer 503
    got = colbridge.read_parquet(f"{http_files.url}/wide.parquet", columns=["k"])
    assert got.column("k").to_numpy()[-1] == ROWS - 1
    statuses = [r.status for r in http_files.log.requests]
    assert statuses[:2] == [503, 503] and set(statuses[2:]) <= {200, 206}


def test_missing_url_is_file_not_found(http_files: RangeServer) -> None:
    with pytest.raises(ObjectNotFoundError, match="/missing.parquet"):
        colbridge.read_parquet(f"{http_files.url}/missing.parquet")


def test_progress_and_concurrency_options(http_files: RangeServer, wide: bytes) -> None:
    seen: list[tuple[int, int]] = []
    got = colbridge.read_parquet(
        f"{http_files.url}/wide.parquet",
        progress=lambda done, total: seen.append((done, total)),
        storage_options={"concurrency": 1, "metadata_size_hint": 1024},
    )
    assert got.num_rows == ROWS
    assert seen and seen[-1][0] == seen[-1][1]


def test_a_footer_larger_than_the_hint_costs_one_more_request(
    http_files: RangeServer, wide: bytes
) -> None:
    url = f"{http_files.url}/wide.parquet"
    got = colbridge.read_parquet(url, columns=["c2"], storage_options={"metadata_size_hint": 64})
    assert np.array_equal(
        got.column("c2").to_numpy(),
        colbridge.read_parquet(wide, columns=["c2"]).column("c2").to_numpy(),
    )
    gets = http_files.log.gets("/wide.parquet")
    assert gets[0].range == "bytes=-64"
    footer = int.from_bytes(wide[-8:-4], "little")
    # The second request holds the rest of the footer (and the page index before it).
    start, end = (int(x) for x in gets[1].range.removeprefix("bytes=").split("-"))
    assert end == len(wide) - 64 - 1 and start <= len(wide) - 8 - footer
    assert len(gets) <= 2 + GROUPS + 1  # + the page index, when it lies before that range


@pytest.mark.parametrize("body", [b"", b"PAR1", b"not parquet at all, but long enough"])
def test_tiny_or_foreign_objects_are_clean_errors(body: bytes) -> None:
    server = RangeServer({"/x.parquet": body})
    try:
        with pytest.raises((colbridge.ParquetError, colbridge.StorageError)) as e:
            colbridge.read_parquet(f"{server.url}/x.parquet", storage_options={"retries": 0})
        assert f"{server.url}/x.parquet" in str(e.value)
    finally:
        server.stop()


def test_ctrl_c_cancels_a_read_waiting_for_the_store(http_files: RangeServer) -> None:
    import signal
    import threading
    import time

    http_files.slow = 10.0  # every data request would take 10 s
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, signal.raise_signal, (signal.SIGINT,))  # what Ctrl-C does
    timer.start()
    start = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            colbridge.read_parquet(f"{http_files.url}/wide.parquet")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.perf_counter() - start < 8.0  # not after the requests in flight
    http_files.slow = 0.0
    assert colbridge.read_parquet(f"{http_files.url}/wide.parquet", columns=["k"]).num_rows == ROWS


def test_iter_batches_streams_a_remote_file(http_files: RangeServer, wide: bytes) -> None:
    pf = colbridge.ParquetFile(f"{http_files.url}/wide.parquet")
    rows = 0
    for batch in pf.iter_batches(batch_size=7_000, columns=["k", "c9"]):
        k = np.asarray(batch.column("k"))
        assert np.array_equal(k, np.arange(rows, rows + len(k)))
        rows += len(k)
    assert rows == ROWS
    # Fetched on demand with a read-ahead: about the two columns' bytes, not the file's.
    assert sum(r.sent for r in http_files.log.gets("/wide.parquet")) < 0.5 * len(wide)


def test_a_server_without_ranges_serves_the_whole_file(tmp_path: Path, wide: bytes) -> None:
    # Python's own `python -m http.server` ignores Range and answers every GET with the whole
    # file: colbridge then reads the object once (as pandas reads such a URL) and decodes it
    # from memory, where it used to stop at "Range request not supported". A missing file is
    # an ObjectNotFoundError without the server's HTML error page.
    import functools
    import http.server
    import threading

    (tmp_path / "wide.parquet").write_bytes(wide)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        got = colbridge.read_parquet(f"{url}/wide.parquet", columns=["k", "c3"])
        want = colbridge.read_parquet(wide, columns=["k", "c3"])
        assert got.to_pandas().equals(want.to_pandas())
        with pytest.raises(ObjectNotFoundError) as e:
            colbridge.read_parquet(f"{url}/missing.parquet")
        assert "missing.parquet" in str(e.value) and "<" not in str(e.value)
    finally:
        server.shutdown()
        server.server_close()


def test_a_connection_lost_mid_transfer_is_taken_up_again(
    http_files: RangeServer, wide: bytes
) -> None:
    # The whole file is one request streamed into pieces; the server closes it halfway. The
    # pieces that arrived are kept, the rest is asked for again from where the body stopped.
    http_files.cut_next = 1
    got = colbridge.read_parquet(f"{http_files.url}/wide.parquet")
    assert got.to_pandas().equals(colbridge.read_parquet(wide).to_pandas())
    gets = http_files.log.gets("/wide.parquet")
    assert len(gets) == 3  # the footer, the cut request, the rest
    ranges = [r.range for r in gets]
    assert ranges[0].startswith("bytes=-")
    first, again = (int(r.split("=")[1].split("-")[0]) for r in ranges[1:])
    assert first < again  # resumed past what had arrived, not from the start


def test_a_connection_lost_every_time_is_a_clean_error(http_files: RangeServer) -> None:
    import subprocess
    import sys

    http_files.cut_next = 1_000
    code = (
        "import sys, colbridge\n"
        "from colbridge.errors import StorageError\n"
        "try:\n"
        "    colbridge.read_parquet(sys.argv[1], storage_options={'retries': 2})\n"
        "except StorageError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    url = f"{http_files.url}/wide.parquet"
    done = subprocess.run(
        [sys.executable, "-c", code, url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("StorageError") and url in done.stdout
    assert "panick" not in done.stderr.lower()
