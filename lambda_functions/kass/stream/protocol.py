"""The WebSocket frame protocol (docs/api/streaming.md): client frames read, server frames built.

One JSON object per text frame each way. A client frame that cannot be used is answered with an
error frame carrying the REST API's status and error code (kass.api.http), so clients handle
both APIs' errors alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kass.api.http import product_error, validation_error
from kass.api.schemas import ChatRequest, ChatResponse
from kass.errors import KassError

MAX_FRAME_BYTES = 32_768  # API Gateway's WebSocket frame size limit
MAX_REQUEST_ID_CHARS = 64
Frame = dict[str, Any]


class ChatFrame(ChatRequest):
    """`POST /chat`'s body plus the action and the client's id for the turn's replies."""

    action: Literal["chat"]
    request_id: str | None = Field(default=None, max_length=MAX_REQUEST_ID_CHARS)

    def chat_request(self) -> ChatRequest:
        return ChatRequest.model_validate(self.model_dump(exclude={"action", "request_id"}))


class PingFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["ping"]
    request_id: str | None = Field(default=None, max_length=MAX_REQUEST_ID_CHARS)


ClientFrame = ChatFrame | PingFrame
_ACTIONS: dict[str, type[ChatFrame] | type[PingFrame]] = {"chat": ChatFrame, "ping": PingFrame}


class FrameError(Exception):
    """A client frame that cannot be used; `frame` is the error frame answering it."""

    def __init__(
        self, status: HTTPStatus, error: str, message: str, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.frame = error_frame(request_id, status, error, message)


def parse_client_frame(body: str | bytes | None) -> ClientFrame:
    """The frame's action; FrameError (not JSON: 400, too large: 413, unknown action: 400,
    wrong shape: 422 naming the field) otherwise."""
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_large",
            f"frame of {len(raw)} bytes; at most {MAX_FRAME_BYTES} are accepted",
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise FrameError(
            HTTPStatus.BAD_REQUEST, "invalid_json", "frame is not valid JSON"
        ) from None
    if not isinstance(data, dict):
        raise FrameError(
            HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", "frame: must be a JSON object"
        )
    request_id = _readable_request_id(data.get("request_id"))
    action = data.get("action")
    model = _ACTIONS.get(action) if isinstance(action, str) else None
    if model is None:
        raise FrameError(
            HTTPStatus.BAD_REQUEST,
            "invalid_input",
            f"unknown action {action!r}; expected one of {', '.join(_ACTIONS)}",
            request_id,
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FrameError(*validation_error(error.errors()[0], "frame"), request_id) from None


def request_id_of(body: str | bytes | None) -> str | None:
    """The frame's request id, best effort and without validating the frame (for answering a
    message kass could not take at all)."""
    try:
        data = json.loads(body or b"")
    except ValueError:
        return None
    return _readable_request_id(data.get("request_id")) if isinstance(data, dict) else None


def _readable_request_id(value: Any) -> str | None:
    """The client's request id when it is one we may echo (a short string), else None."""
    if isinstance(value, str) and len(value) <= MAX_REQUEST_ID_CHARS:
        return value
    return None


# -- server frames ------------------------------------------------------------------------------
def delta_frame(request_id: str | None, text: str) -> Frame:
    return {"type": "delta", "request_id": request_id, "text": text}


def restart_frame(request_id: str | None, tier: str) -> Frame:
    return {"type": "restart", "request_id": request_id, "tier": tier}


def done_frame(request_id: str | None, response: ChatResponse) -> Frame:
    """The turn's end: exactly the JSON `POST /chat` returns for it."""
    return {"type": "done", "request_id": request_id, "response": response.model_dump(mode="json")}


def pong_frame(request_id: str | None) -> Frame:
    return {"type": "pong", "request_id": request_id}


def error_frame(
    request_id: str | None, status: HTTPStatus | int, error: str, message: str
) -> Frame:
    return {
        "type": "error",
        "request_id": request_id,
        "status": int(status),
        "error": error,
        "message": message,
    }


def product_error_frame(request_id: str | None, error: KassError) -> Frame:
    """A product error as the REST API reports it (same status and code)."""
    return error_frame(request_id, *product_error(error))


def internal_error_frame(request_id: str | None) -> Frame:
    return error_frame(request_id, HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "internal error")


def encode(frame: Mapping[str, Any]) -> bytes:
    """A frame as sent: compact UTF-8 JSON (Japanese text stays readable and short)."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
