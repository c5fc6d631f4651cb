"""A real HTTP server on loopback that answers too slowly: exercises client timeouts."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class SlowServer:
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.hits = 0
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def hits_settled(self, expected: int, within_s: float = 5.0) -> int:
        """The number of requests received, once it reaches ``expected`` or ``within_s`` has
        passed: a client that timed out may return before a loaded server has read its last
        request; more than ``expected`` still shows."""
        deadline = time.monotonic() + within_s
        while self.hits < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # a request beyond ``expected`` would have arrived by now
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
        time.sleep(0)
