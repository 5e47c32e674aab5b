"""Answer a real botocore client's HTTP requests in-process, for what Stubber cannot express.

Stubber replaces parsed responses and cannot hold an event stream of several events (it
validates an event-stream member as a single structure), and it serves canned responses in
call order, which concurrent calls would mix up. Here a handler gets the serialized HTTP request
and returns status, headers and body bytes; botocore then parses them exactly as if they had
come over the wire (error headers, event-stream framing and CRCs included).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from urllib3 import HTTPResponse

Handler = Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes]]


def respond_with(client: Any, operation: str, handler: Handler) -> list[AWSPreparedRequest]:
    """Route `operation` ("InvokeModel", ...) of `client` to `handler`; returns requests seen."""
    seen: list[AWSPreparedRequest] = []

    def before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        seen.append(request)
        status, headers, body = handler(request)
        raw = HTTPResponse(
            body=io.BytesIO(body),
            headers={**headers, "Content-Length": str(len(body))},
            status=status,
            preload_content=False,
        )
        return AWSResponse(request.url, status, raw.headers, raw)

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-send.{service}.{operation}", before_send)
    return seen
