"""Real servers on loopback for the object-storage tests, each recording every request it
answers: S3 served by moto (the WSGI app of ``moto[server]``'s ``ThreadedMotoServer``, wrapped to
log requests) and a small HTTP server that honours ``Range`` as object stores do."""

from __future__ import annotations

import http.server
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    status: int
    sent: int


@dataclass
class Log:
    """The requests a server answered, in order."""

    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def gets(self, path_end: str) -> list[Request]:
        """The GETs of the object whose path ends with ``path_end``."""
        with self.lock:
            return [r for r in self.requests if r.method == "GET" and r.path.endswith(path_end)]


class S3Server:
    """moto's S3 on ``127.0.0.1`` at a free port, every request logged; ``latency`` seconds are
    added before each reply (the benchmark's stand-in for a real store's round trip)."""

    def __init__(self, latency: float = 0.0) -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        self.log = Log()
        self.latency = latency
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, self._logged(app), threaded=True)
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _logged(self, app: Any) -> Any:
        log = self.log

        def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
            if self.latency:
                time.sleep(self.latency)
            status: list[int] = []

            def start(s: str, headers: Any, *exc: Any) -> Any:
                status.append(int(s.split()[0]))
                return start_response(s, headers, *exc)

            body = b"".join(app(environ, start))
            log.add(
                Request(
                    environ["REQUEST_METHOD"],
                    environ.get("PATH_INFO", ""),
                    environ.get("HTTP_RANGE"),
                    status[0] if status else 0,
                    len(body),
                )
            )
            return [body]

        return wsgi

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def options(self, **more: Any) -> dict[str, Any]:
        """``storage_options`` as a pandas user writes them for this server."""
        return {
            "key": "testing",
            "secret": "testing",
            "endpoint_url": self.endpoint,
            "region": "us-east-1",
            **more,
        }

    def require_auth(self, on: bool) -> None:
        """Make moto check every request's signature and credentials (or stop checking)."""
        import urllib.request

        count = b"0" if on else b"1000000000"
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth",
            data=count,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request) as reply:
            reply.read()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class RangeServer:
    """Files served over HTTP from memory, honouring ``Range`` (``a-b``, ``a-``, ``-n``) with
    ``206`` and ``Content-Range``; ``fail_next`` makes the next requests answer ``503``,
    ``slow`` seconds pass before each answer to a ranged GET that is not a suffix request, and
    ``cut_next`` makes the next such answers stop after half their body and close the
    connection (a connection lost mid-transfer)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.log = Log()
        self.fail_next = 0
        self.slow = 0.0
        self.cut_next = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, head: bool) -> None:
                wanted = self.headers.get("Range")
                if server.slow and wanted and not wanted.startswith("bytes=-"):
                    time.sleep(server.slow)
                if server.fail_next > 0:
                    server.fail_next -= 1
                    self._send(503, b"busy", {}, head, wanted)
                    return
                data = server.files.get(urllib.parse.unquote(self.path.split("?")[0]))
                if data is None:
                    self._send(404, b"not found", {}, head, wanted)
                    return
                size = len(data)
                match = _RANGE.match(wanted or "")
                if not match:
                    self._send(200, data, {}, head, wanted)
                    return
                first, last = match.groups()
                if first == "":
                    start, end = max(0, size - int(last)), size
                else:
                    start = int(first)
                    end = size if last == "" else min(size, int(last) + 1)
                if start >= size:
                    self._send(416, b"", {"Content-Range": f"bytes */{size}"}, head, wanted)
                    return
                headers = {"Content-Range": f"bytes {start}-{end - 1}/{size}"}
                cut = server.cut_next > 0 and not head and first != ""
                if cut:
                    server.cut_next -= 1
                self._send(206, data[start:end], headers, head, wanted, cut)

            def _send(
                self,
                code: int,
                body: bytes,
                headers: dict[str, str],
                head: bool,
                wanted: Any,
                cut: bool = False,
            ) -> None:
                # Logged before the reply: the client may send its next request before this
                # thread would get to it afterwards.
                server.log.add(
                    Request(self.command, self.path, wanted, code, 0 if head else len(body))
                )
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                # What object stores send with every object (GCS and Azure clients need them).
                self.send_header("Last-Modified", "Tue, 01 Dec 2026 00:00:00 GMT")
                self.send_header("ETag", '"v1"')
                self.end_headers()
                if cut:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif not head:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (the http.server convention)
                self._answer(head=False)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(head=True)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
