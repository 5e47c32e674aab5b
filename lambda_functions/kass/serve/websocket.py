"""The WebSocket side of `kass serve`: API Gateway's WebSocket API in front of stream_handler.

- `/stream` takes connections: the handshake becomes a `$connect` event (refused, HTTP 403,
  unless the function answers 200), each message a `$default` event, the close `$disconnect`.
  Messages are dispatched as they arrive, without waiting for the previous one's invocation,
  as API Gateway does; a message over 128 KB (API Gateway's message limit) closes the
  connection with 1009. A function error sends the client API Gateway's
  `{"message": "Internal server error", ...}`.
- `/@connections/{connectionId}` is the management API the handler's boto3 client calls
  (`KASS_STREAM_MANAGEMENT_URL` points it here): POST sends the raw body to the client as one
  frame, GET describes the connection, DELETE closes it; a closed or unknown connection is 410
  GoneException, as in AWS. Signatures are not checked.

Differences that remain: no authorizer and no API keys (as on the REST side), no idle (10 min)
or maximum (2 h) connection time, and one invocation of the function at a time (one execution
environment), so a second connection's frames wait while a turn streams.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from kass.serve.app import gateway_response
from kass.serve.events import LOCAL_STAGE, api_gateway_websocket_event, new_connection_id
from kass.serve.functions import FunctionError, LocalFunctions

logger = logging.getLogger(__name__)

STREAM_FUNCTION = "stream_handler"
STREAM_PATH = "/stream"
MANAGEMENT_PATH = "/@connections/{connection_id}"
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway WebSocket message limit (frames of 32 KB each)
MESSAGE_TOO_BIG = 1009  # WebSocket close code


@dataclass
class _Connection:
    id: str
    websocket: WebSocket
    connected_at: datetime
    domain_name: str
    source_ip: str
    user_agent: str | None
    last_active_at: datetime
    open: bool = True
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def connected_at_ms(self) -> int:
        return int(self.connected_at.timestamp() * 1000)


class WebSocketGateway:
    """The WebSocket API and its management API, for `create_app(extra_routes=...)`."""

    def __init__(
        self,
        functions: LocalFunctions,
        *,
        function: str = STREAM_FUNCTION,
        stage: str = LOCAL_STAGE,
    ) -> None:
        if function not in functions:
            raise ValueError(f"the WebSocket API names unknown function {function!r}")
        self._functions = functions
        self._function = function
        self._stage = stage
        self._connections: dict[str, _Connection] = {}

    @property
    def routes(self) -> list[BaseRoute]:
        return [
            WebSocketRoute(STREAM_PATH, self._session),
            Route(MANAGEMENT_PATH, self._manage, methods=["GET", "POST", "DELETE"]),
        ]

    # -- the WebSocket API ------------------------------------------------------------------
    async def _session(self, websocket: WebSocket) -> None:
        now = datetime.now(UTC)
        connection = _Connection(
            id=new_connection_id(),
            websocket=websocket,
            connected_at=now,
            domain_name=websocket.headers.get("host", "localhost"),
            source_ip=websocket.client.host if websocket.client else "127.0.0.1",
            user_agent=websocket.headers.get("user-agent"),
            last_active_at=now,
        )
        headers: dict[str, list[str]] = {}
        for raw_name, raw_value in websocket.headers.raw:
            headers.setdefault(raw_name.decode("latin-1"), []).append(raw_value.decode("latin-1"))
        query: dict[str, list[str]] = {}
        for name, value in websocket.query_params.multi_items():
            query.setdefault(name, []).append(value)
        accepted = await self._invoke(
            self._event("$connect", connection, headers=headers, query=query)
        )
        if not (isinstance(accepted, dict) and accepted.get("statusCode") == 200):
            await websocket.close()  # before accept: the handshake is answered 403
            return
        await websocket.accept()
        self._connections[connection.id] = connection
        pending: set[asyncio.Task[None]] = set()
        code, reason = 1005, "Client-side close frame status not set"
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    code = message.get("code", 1005)
                    reason = message.get("reason") or reason
                    break
                data: str | bytes = message.get("text") or message.get("bytes") or ""
                size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
                connection.last_active_at = datetime.now(UTC)
                if size > MAX_MESSAGE_BYTES:
                    code, reason = MESSAGE_TOO_BIG, "Message too big"
                    await websocket.close(code, reason)
                    break
                task = asyncio.create_task(self._message(connection, data))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except WebSocketDisconnect as closed:
            code = closed.code
        finally:
            connection.open = False
            self._connections.pop(connection.id, None)
            await self._invoke(
                self._event(
                    "$disconnect",
                    connection,
                    headers=headers,
                    disconnect_status_code=code,
                    disconnect_reason=reason,
                )
            )
            await asyncio.gather(*pending, return_exceptions=True)

    async def _message(self, connection: _Connection, data: str | bytes) -> None:
        event = self._event("$default", connection, body=data)
        result = await self._invoke(event)
        if result is None and connection.open:  # what API Gateway tells the client
            failure = {
                "message": "Internal server error",
                "connectionId": connection.id,
                "requestId": event["requestContext"]["requestId"],
            }
            await self._send(connection, json.dumps(failure).encode("utf-8"))

    def _event(self, route_key: str, connection: _Connection, **fields: Any) -> dict[str, Any]:
        return api_gateway_websocket_event(
            route_key,
            connection_id=connection.id,
            connected_at_ms=connection.connected_at_ms,
            domain_name=connection.domain_name,
            source_ip=connection.source_ip,
            user_agent=connection.user_agent,
            stage=self._stage,
            **fields,
        )

    async def _invoke(self, event: dict[str, Any]) -> Any:
        """The function's result, or None when the invocation failed (logged by LocalFunction)."""
        try:
            # Handlers are synchronous (and a turn streams for seconds): off the event loop.
            return await run_in_threadpool(self._functions.invoke, self._function, event)
        except FunctionError:
            return None

    async def _send(self, connection: _Connection, data: bytes) -> bool:
        """One frame to the client (text when it is UTF-8); False when the client is gone."""
        async with connection.sending:
            if not connection.open:
                return False
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            try:
                if text is None:
                    await connection.websocket.send_bytes(data)
                else:
                    await connection.websocket.send_text(text)
            except Exception:  # the socket closed under us (uvicorn raises several kinds)
                connection.open = False
                return False
            connection.last_active_at = datetime.now(UTC)
            return True

    # -- the management API -----------------------------------------------------------------
    async def _manage(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        connection = self._connections.get(request.path_params["connection_id"])
        if connection is None or not connection.open:
            return gateway_response(410, "Gone", request_id, "GoneException")
        if request.method == "GET":
            return JSONResponse(
                {
                    "connectedAt": _iso(connection.connected_at),
                    "identity": {
                        "sourceIp": connection.source_ip,
                        "userAgent": connection.user_agent,
                    },
                    "lastActiveAt": _iso(connection.last_active_at),
                },
                headers={"x-amzn-RequestId": request_id},
            )
        if request.method == "DELETE":
            async with connection.sending:
                connection.open = False
                await connection.websocket.close(1000)
            return Response(status_code=204, headers={"x-amzn-RequestId": request_id})
        data = await request.body()
        if len(data) > MAX_MESSAGE_BYTES:
            return gateway_response(413, "Request Too Long", request_id, "PayloadTooLargeException")
        if not await self._send(connection, data):
            return gateway_response(410, "Gone", request_id, "GoneException")
        return Response(status_code=200, headers={"x-amzn-RequestId": request_id})


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
