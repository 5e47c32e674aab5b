"""The lifecycle every HTTP double of an outside API shares: a stdlib server on a thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any, Self


class ServedDouble:
    """Subclasses call `_serve(host, port, handler)` in `__init__`; `start()` returns self."""

    _server: ThreadingHTTPServer
    _thread: threading.Thread

    def _serve(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = serving_thread(self._server, type(self).__name__)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serving_thread(server: HTTPServer, name: str) -> threading.Thread:
    """A daemon thread that serves `server` once started. The short poll interval: `shutdown()`
    waits for the serving loop to notice, once per interval."""
    return threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
