"""Encoder of the AWS event-stream wire format (`application/vnd.amazon.eventstream`).

botocore only decodes it, and awscrt is not a dependency, so the doubles encode it themselves:
each message is a prelude (total length, headers length, CRC32 of both), string headers, the
payload and a CRC32 of everything before it, all big-endian.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

_STRING = 7  # header value type: UTF-8 string with a 2-byte length


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def encode_event(event_type: str, payload: bytes, content_type: str) -> bytes:
    """An event of the operation's output stream (a member of its event-stream union)."""
    headers = {
        ":message-type": "event",
        ":event-type": event_type,
        ":content-type": content_type,
    }
    return encode_message(headers, payload)


def encode_json_event(event_type: str, body: dict[str, Any]) -> bytes:
    return encode_event(event_type, json.dumps(body).encode(), "application/json")


def encode_exception(exception_type: str, body: dict[str, Any]) -> bytes:
    """A modeled error event (botocore raises it as an EventStreamError while iterating).

    `body` uses the exception shape's member names: `message` (Bedrock), `Message` (SageMaker).
    """
    headers = {
        ":message-type": "exception",
        ":exception-type": exception_type,
        ":content-type": "application/json",
    }
    return encode_message(headers, json.dumps(body).encode())


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )
