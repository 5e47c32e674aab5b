"""An HTTP double of API Gateway's WebSocket management API (what boto3's
`apigatewaymanagementapi` client calls at `https://{api}.execute-api.{region}.amazonaws.com/{stage}`).

- `POST /@connections/{id}`: the raw body is one frame to the client; recorded per connection
  (JSON frames decoded), 200 with no body;
- `GET /@connections/{id}`: `connectedAt`, `identity`, `lastActiveAt`;
- `DELETE /@connections/{id}`: 204, the connection is gone afterwards;
- a connection marked `leave(id)` (the client closed) is answered 410 with
  `x-amzn-ErrorType: GoneException`, as AWS answers; `leave_after(id, n)` lets n posts through
  first (a client that leaves mid-stream). Any connection id is open until then.

Moto 5.2.5 implements the API but concatenates the posted data and never answers Gone.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from tests.doubles.served import ServedDouble

PREFIX = "/@connections/"


class ManagementApiDouble(ServedDouble):
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.frames: dict[str, list[Any]] = defaultdict(list)
        self.refused: dict[str, int] = defaultdict(int)  # posts answered 410, per connection
        self._gone: set[str] = set()
        self._allowance: dict[str, int] = {}
        self._lock = threading.Lock()
        double = self

        class Handler(_Handler):
            owner = double

        self._serve(host, port, Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def leave(self, connection_id: str) -> None:
        with self._lock:
            self._gone.add(connection_id)

    def leave_after(self, connection_id: str, posts: int) -> None:
        with self._lock:
            self._allowance[connection_id] = posts

    def _post(self, connection_id: str, data: bytes) -> bool:
        with self._lock:
            left = self._allowance.get(connection_id)
            if left is not None:
                if left <= 0:
                    self._gone.add(connection_id)
                self._allowance[connection_id] = left - 1
            if connection_id in self._gone:
                self.refused[connection_id] += 1
                return False
            try:
                frame: Any = json.loads(data)
            except ValueError:
                frame = data
            self.frames[connection_id].append(frame)
            return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: ManagementApiDouble

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _connection_id(self) -> str | None:
        path = self.path.split("?", 1)[0]
        return unquote(path[len(PREFIX) :]) if path.startswith(PREFIX) else None

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        connection_id = self._connection_id()
        if connection_id is None:
            self._send(404, {"message": "Not Found"}, "NotFoundException")
        elif self.owner._post(connection_id, data):
            self._send(200)
        else:
            self._send(410, {"message": None}, "GoneException")

    def do_GET(self) -> None:
        connection_id = self._connection_id()
        if connection_id is None or connection_id in self.owner._gone:
            self._send(410, {"message": None}, "GoneException")
            return
        stamp = "2026-01-01T00:00:00.000Z"
        identity = {"sourceIp": "192.0.2.1", "userAgent": "double"}
        self._send(200, {"connectedAt": stamp, "identity": identity, "lastActiveAt": stamp})

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        if connection_id is None or connection_id in self.owner._gone:
            self._send(410, {"message": None}, "GoneException")
            return
        self.owner.leave(connection_id)
        self._send(204)

    def _send(self, status: int, body: Any = None, error_type: str | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(payload)
