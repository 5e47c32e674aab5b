"""A small HTTP function for the `kass serve` tests: Powertools REST resolver, like the real ones.

It answers with what it received, so tests can check the proxy event the server built.
"""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

logger = Logger(service="echo")
app = APIGatewayRestResolver(enable_validation=True)
invocations = 0  # module state survives between invocations, as in one Lambda container


class Item(BaseModel):
    name: str


def _received() -> dict[str, Any]:
    event = app.current_event
    return {
        "method": event.http_method,
        "path": event.path,
        "resource": event.resource,
        "pathParameters": event.path_parameters,
        "query": event.multi_value_query_string_parameters,
        "singleQuery": event.query_string_parameters,
        "headers": event.multi_value_headers,
        "body": event.body,
        "isBase64Encoded": event.is_base64_encoded,
        "requestId": event.request_context.request_id,
        "stage": event.request_context.stage,
        "sourceIp": event.request_context.identity.source_ip,
        "function": app.lambda_context.function_name,
        "remainingMs": app.lambda_context.get_remaining_time_in_millis(),
        "invocations": invocations,
    }


@app.get("/items/<item_id>")
def get_item(item_id: str) -> dict[str, Any]:
    return {"item_id": item_id, **_received()}


@app.post("/echo")
def echo():  # no return annotation: the validator would model it
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=_received(),
        headers={"X-Echo": "yes", "X-Multi": ["one", "two"]},
    )


@app.post("/binary")
def binary():
    return Response(
        status_code=200,
        content_type="application/octet-stream",
        body=base64.b64decode(app.current_event.body or ""),  # bytes: Powertools re-encodes
    )


@app.post("/items")
def create_item(item: Item) -> dict[str, str]:
    return {"created": item.name}


@app.get("/boom")
def boom() -> dict[str, str]:
    raise RuntimeError("secret detail that must not reach the client")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    global invocations
    invocations += 1
    if event["path"] == "/malformed":  # what API Gateway calls a malformed proxy response
        return {"statusCode": "two hundred", "body": 42}
    if event["path"] == "/crash":  # an error Powertools does not catch: the function fails
        raise ValueError("unhandled")
    return app.resolve(event, context)
