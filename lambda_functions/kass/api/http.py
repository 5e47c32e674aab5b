"""The REST resolver every HTTP function uses, with errors mapped to JSON once.

Product errors (`KassError`) carry a one-line message meant for people and map to a status by
class; request validation errors become 400 (malformed JSON) or 422 (wrong shape) with the
offending field named; anything else is a bug: logged with its traceback, answered with a plain
500 JSON body that leaks nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from kass.api.schemas import ErrorBody
from kass.errors import InvalidInput, KassError, ModelUnavailable, NotFound, SourceError
from kass.observability import logger

_STATUS: list[tuple[type[KassError], HTTPStatus, str]] = [
    (InvalidInput, HTTPStatus.BAD_REQUEST, "invalid_input"),
    (NotFound, HTTPStatus.NOT_FOUND, "not_found"),
    (ModelUnavailable, HTTPStatus.SERVICE_UNAVAILABLE, "model_unavailable"),
    (SourceError, HTTPStatus.BAD_GATEWAY, "source_error"),
]

# Error responses documented on every route of the OpenAPI document.
ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"model": ErrorBody}},
    }
    for status, description in [
        (400, "Malformed request or invalid input"),
        (404, "Unknown resource"),
        (422, "Request body of the wrong shape"),
        (502, "An outside system (GitLab, Slack, Backlog) refused or failed"),
        (503, "A dependency (model, index) cannot serve now"),
    ]
}


def product_error(error: KassError) -> tuple[HTTPStatus, str, str]:
    """Status, error code and one-line message of a product error (REST and WebSocket alike)."""
    for cls, status, code in _STATUS:
        if isinstance(error, cls):
            return status, code, str(error)
    logger.warning("service unavailable", extra={"error": str(error)})
    return HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", str(error)


def validation_error(first: Mapping[str, Any], root: str = "body") -> tuple[HTTPStatus, str, str]:
    """422 naming the offending field, from the first pydantic error of a request `root`."""
    where = ".".join(str(part) for part in first.get("loc", ()) if part != root)
    message = first.get("msg") or first.get("type", "invalid")
    return HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", f"{where or root}: {message}"


def error_response(status: HTTPStatus | int, error: str, message: str) -> Response:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=error, message=message).model_dump_json(),
    )


def make_resolver(
    title: str, description: str, *, cors_origin: str | None = None
) -> APIGatewayRestResolver:
    """The resolver; with `cors_origin` (the web page's origin) its responses carry the CORS
    headers a browser needs to read them: API Gateway answers the preflight itself, but a
    Lambda proxy response reaches the browser with only the headers the function sets."""
    cors = None
    if cors_origin:
        cors = CORSConfig(allow_origin=cors_origin, allow_headers=["x-api-key"], max_age=600)
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)
    app.configure_openapi(title=title, version="1.0.0", description=description)

    @app.exception_handler(KassError)
    def _product_error(error: KassError) -> Response:
        return error_response(*product_error(error))

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        first = error.errors()[0]
        if first.get("type") == "json_invalid":
            return error_response(HTTPStatus.BAD_REQUEST, "invalid_json", "body is not valid JSON")
        return error_response(*validation_error(first))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _bug(error: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "internal error")

    return app


def caller_id(app: APIGatewayRestResolver) -> str:
    """Who is asking (see `caller_id_of`) in the current REST event."""
    return caller_id_of(app.current_event.raw_event.get("requestContext") or {})


def caller_id_of(request_context: Mapping[str, Any]) -> str:
    """Who is asking: the JWT subject, else the Lambda authorizer's principal, else the API key.

    Conversations are private to this id. Without any authorizer (local runs) everyone is
    "anonymous" and shares one conversation list. `request_context` is an API Gateway proxy
    event's `requestContext` (REST or WebSocket). A key is named by `key_principal`, the
    principal the WebSocket authorizer gives the same key, so one key is one user on both APIs.
    """
    authorizer = request_context.get("authorizer") or {}
    identity = request_context.get("identity") or {}
    claims = authorizer.get("claims") or {}
    key = identity.get("apiKey")
    subject = (
        claims.get("sub")
        or authorizer.get("principalId")
        or (key_principal(key) if key else None)
        or identity.get("apiKeyId")
    )
    return str(subject) if subject else "anonymous"


def key_principal(key: str) -> str:
    """The caller id of an API key: stable, and useless for calling the API."""
    return "apikey-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
