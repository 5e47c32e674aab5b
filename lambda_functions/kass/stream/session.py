"""The connection's use cases behind stream_handler: `$connect`, `$disconnect`, and a message.

A message is a chat turn (or a ping): its frames go to the connection through a `FrameSender`.
Every chat turn ends with exactly one `done` or `error` frame. A client that left mid-turn stops
the sending, not the turn: the answer is still stored, once, by the chat use case.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from kass.api.http import caller_id_of
from kass.errors import KassError
from kass.observability import logger
from kass.ports import FrameSender, StreamConnection
from kass.stream.coalesce import CoalescingStream
from kass.stream.protocol import (
    ChatFrame,
    FrameError,
    done_frame,
    error_frame,
    internal_error_frame,
    parse_client_frame,
    pong_frame,
    product_error_frame,
)

if TYPE_CHECKING:
    from kass.api.schemas import ChatResponse
    from kass.wiring import Runtime

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def connect(
    request_context: Mapping[str, Any], *, runtime: Runtime, clock: Clock = _utcnow
) -> StreamConnection:
    """Remember who opened the connection (the REST API's caller rule, decided once here)."""
    connection = StreamConnection(
        connection_id=request_context["connectionId"],
        user_id=caller_id_of(request_context),
        connected_at=clock(),
    )
    runtime.connections.put(connection)
    return connection


def disconnect(connection_id: str, *, runtime: Runtime) -> None:
    runtime.connections.delete(connection_id)


@dataclass(frozen=True)
class MessageOutcome:
    """What one message came to, for the handler's metrics."""

    kind: str  # "chat", "ping" or "error"
    frames: int = 0  # frames sent for it
    response: ChatResponse | None = None


def message_body(event: Mapping[str, Any]) -> str | bytes | None:
    """The frame a `$default` event carries (a binary frame arrives base64-encoded)."""
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body


def handle_message(
    body: str | bytes | None,
    *,
    connection_id: str,
    sender: FrameSender,
    runtime: Runtime,
    interval_seconds: float,
) -> MessageOutcome:
    """Read a client frame and answer it through `sender`; never raises for the client's
    mistakes or product errors (they are error frames), and logs bugs as a 500 frame."""
    try:
        frame = parse_client_frame(body)
    except FrameError as error:
        sender.send(error.frame)
        return MessageOutcome("error", 1)
    if not isinstance(frame, ChatFrame):
        sender.send(pong_frame(frame.request_id))
        return MessageOutcome("ping", 1)

    request_id = frame.request_id
    stream = CoalescingStream(sender, request_id, interval_seconds=interval_seconds)
    try:
        connection = runtime.connections.get(connection_id)
        if connection is None:
            sender.send(
                error_frame(
                    request_id,
                    HTTPStatus.NOT_FOUND,
                    "not_found",
                    f"unknown connection {connection_id!r}; connect again",
                )
            )
            return MessageOutcome("error", 1)
        from kass.chat import service  # the chat path's imports, only for chat frames

        response = service.chat(
            frame.chat_request(), user_id=connection.user_id, runtime=runtime, stream=stream
        )
    except KassError as error:
        stream.flush()
        sender.send(product_error_frame(request_id, error))
        return MessageOutcome("error", stream.frames + 1)
    except Exception:
        logger.exception("unhandled error in a streamed chat turn")
        sender.send(internal_error_frame(request_id))
        return MessageOutcome("error", stream.frames + 1)
    stream.flush()
    sender.send(done_frame(request_id, response))
    return MessageOutcome("chat", stream.frames + 1, response)
