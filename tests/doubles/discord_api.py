"""An HTTP-level double of the Discord REST endpoints kass calls (stdlib server on 127.0.0.1).

- Interaction webhook (no auth: the token in the path is the credential):
  `PATCH /api/v10/webhooks/{application_id}/{token}/messages/@original` edits the original
  response, `POST /api/v10/webhooks/{application_id}/{token}[?wait=true]` creates a follow-up.
  Bodies are checked as Discord does: content at most 2000 characters (UTF-16 units), at most 5
  action rows of at most 5 components, custom_id at most 100, a message with something in it;
  a violation is 400 with Discord's error body (`code` 50035, "Invalid Form Body").
- Command registration (`Authorization: Bot <token>`): `PUT /api/v10/applications/{id}/commands`
  and `.../guilds/{guild_id}/commands` replace the set and answer it with ids; 401 otherwise.
- `fail_next(status, ...)` scripts failures (a 429 carries `Retry-After` and `retry_after`).
- Inspection: `requests` (every request: method, path, query, JSON body), `originals`
  (token -> the original message's latest body), `followups` (token -> bodies in order),
  `commands` (scope -> the registered set).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.served import ServedDouble

API = "/api/v10"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _invalid(field: str, message: str) -> dict[str, Any]:
    return {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {field: {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": message}]}},
    }


class DiscordDouble(ServedDouble):
    def __init__(self, *, bot_token: str = "test-bot-token", host: str = "127.0.0.1") -> None:
        self.bot_token = bot_token
        self.requests: list[Recorded] = []
        self.originals: dict[str, dict[str, Any]] = {}
        self.followups: dict[str, list[dict[str, Any]]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self._failures: list[tuple[int, str, dict[str, str], dict[str, Any]]] = []
        self._ids = 1_200_000_000_000_000_000
        self._lock = threading.RLock()
        self._serve(host, 0, self._handler_class())

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    def fail_next(
        self, status: int, path_contains: str = "", *, retry_after: float = 0.25, times: int = 1
    ) -> None:
        headers: dict[str, str] = {}
        body: dict[str, Any] = {"message": f"injected {status}", "code": 0}
        if status == 429:
            headers = {"Retry-After": str(retry_after), "X-RateLimit-Scope": "user"}
            body = {"message": "You are being rate limited.", "retry_after": retry_after,
                    "global": False}  # fmt: skip
        elif status == 404:
            body = {"message": "Unknown Webhook", "code": 10015}
        with self._lock:
            self._failures.extend((status, path_contains, headers, body) for _ in range(times))

    def calls(self, method: str, token: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and token in r.path]

    # -- HTTP -------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                record = Recorded(
                    self.command,
                    url.path,
                    parse_qs(url.query),
                    body,
                    self.headers.get("Authorization"),
                )
                with double._lock:
                    double.requests.append(record)
                    status, payload, headers = double._respond(record)
                data = b"" if status == 204 else json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler

    def _respond(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        for i, (status, contains, headers, body) in enumerate(self._failures):
            if contains in request.path:
                del self._failures[i]
                return status, body, headers
        if not request.path.startswith(API + "/"):
            return 404, {"message": "404: Not Found", "code": 0}, {}
        parts = request.path[len(API) + 1 :].split("/")
        if parts[0] == "webhooks" and len(parts) >= 3:
            return self._webhook(request, parts[1], parts[2], parts[3:])
        if parts[0] == "applications" and request.method == "PUT" and parts[-1] == "commands":
            return self._register(request, parts)
        return 404, {"message": "404: Not Found", "code": 0}, {}

    def _webhook(
        self, request: Recorded, application_id: str, token: str, rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(request.body, dict):
            return 400, {"message": "Cannot send an empty message", "code": 50006}, {}
        problem = _check_message(request.body)
        if problem:
            return 400, problem, {}
        if request.method == "PATCH" and rest == ["messages", "@original"]:
            merged = {**self.originals.get(token, {}), **request.body}
            self.originals[token] = merged
            return 200, self._message(application_id, merged), {}
        if request.method == "POST" and not rest:
            self.followups.setdefault(token, []).append(request.body)
            return 200, self._message(application_id, request.body), {}
        return 405, {"message": "405: Method Not Allowed", "code": 0}, {}

    def _register(self, request: Recorded, parts: list[str]) -> tuple[int, Any, dict[str, str]]:
        if request.authorization != f"Bot {self.bot_token}":
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        if not isinstance(request.body, list):
            return 400, {"message": "Invalid Form Body", "code": 50035}, {}
        scope = "/".join(parts[1:-1])  # "<app>" or "<app>/guilds/<guild>"
        registered = [
            {**command, "id": str(self._next_id()), "application_id": parts[1], "version": "1"}
            for command in request.body
        ]
        self.commands[scope] = registered
        return 200, registered, {}

    def _message(self, application_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(self._next_id()),
            "type": 20,
            "content": body.get("content", ""),
            "components": body.get("components", []),
            "flags": body.get("flags", 0),
            "webhook_id": application_id,
        }

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids


def _check_message(body: dict[str, Any]) -> dict[str, Any] | None:
    content = body.get("content")
    if content is not None and _units(content) > 2000:
        return _invalid("content", "Must be 2000 or fewer in length.")
    rows = body.get("components") or []
    if len(rows) > 5:
        return _invalid("components", "Must be 5 or fewer in length.")
    for row in rows:
        if row.get("type") != 1 or len(row.get("components", [])) > 5:
            return _invalid("components", "Invalid action row.")
        for component in row["components"]:
            if len(component.get("custom_id", "")) > 100:
                return _invalid("custom_id", "Must be 100 or fewer in length.")
    if "content" in body and not content and not body.get("embeds") and not rows:
        return {"message": "Cannot send an empty message", "code": 50006}
    return None
