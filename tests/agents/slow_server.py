"""A real HTTP server on loopback that answers too slowly: exercises client timeouts."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from tests.waiting import wait_until


class SlowServer:
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.hits = 0
        self.accepted = 0
        """Connections accepted, counted by the serving thread in the order they arrived."""
        self.parsed = 0
        """Requests whose request line was read (counted before ``do_*`` runs)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def parse_request(self) -> bool:
                ok = super().parse_request()
                with outer._lock:
                    outer.parsed += 1
                return ok

            def do_GET(self) -> None:  # the barrier of :meth:`hits_settled`
                self.send_response(204)
                self.end_headers()

            def do_POST(self) -> None:
                with outer._lock:
                    outer.hits += 1
                length = int(self.headers.get("content-length", 0))
                self.rfile.read(length)
                outer._stop.wait(outer.delay_s)
                try:
                    self.send_response(500)
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def process_request(self, request: Any, client_address: Any) -> None:
                with outer._lock:  # the serving thread: connections in accept (arrival) order
                    outer.accepted += 1
                super().process_request(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def hits_settled(self, expected: int, within_s: float = 30.0) -> int:
        """The number of requests the client sent, once all have reached the server (call it
        after the client has returned). A barrier, not a pause: this connects once more after
        the client's connections, which the kernel queued before it and the server accepts in
        that order; once the barrier's request is answered, every earlier connection was
        accepted, and this waits until each one's request was read. ``expected`` is only
        for the message."""
        with socket.create_connection(self._server.server_address[:2], timeout=within_s) as barrier:
            barrier.sendall(b"GET /barrier HTTP/1.0\r\n\r\n")
            answer = barrier.makefile("rb").readline()
        assert answer.split()[1:2] == [b"204"], answer
        with self._lock:
            before = self.accepted - 1  # the client's connections: accepted before the barrier
        wait_until(lambda: self.parsed - 1 >= before, timeout_s=within_s,
                   what=f"reading the requests of {before} connections (expected {expected})")
        return self.hits

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
