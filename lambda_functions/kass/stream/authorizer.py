"""The `$connect` REQUEST authorizer of the WebSocket API (answered by stream_handler).

Browsers cannot set headers on a WebSocket, so the REST API key comes as the `api_key` query
parameter; the authorizer hands it to API Gateway as `usageIdentifierKey`, and API Gateway checks
it against the usage plan (the API's key source is AUTHORIZER). The principal is a digest of
the key, never the key itself (it reaches logs and the handlers' request context), and the
same id the REST API gives that key's caller (kass.api.http.caller_id_of).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponseWebSocket,
)

from kass.api.http import key_principal

API_KEY_PARAMETER = "api_key"


def is_authorizer_event(event: Mapping[str, Any]) -> bool:
    return event.get("type") == "REQUEST" and "methodArn" in event


def authorize(event: Mapping[str, Any]) -> dict[str, Any]:
    """Allow `$connect` with the key as the usage identifier; Deny (403) without a key."""
    key = (event.get("queryStringParameters") or {}).get(API_KEY_PARAMETER) or ""
    if not key:
        policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
            event["methodArn"], principal_id="anonymous"
        )
        policy.deny_all_routes()
        return policy.asdict()
    policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        event["methodArn"], principal_id=key_principal(key), usage_identifier_key=key
    )
    policy.allow_all_routes()
    return policy.asdict()
