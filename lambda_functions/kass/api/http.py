"""The REST resolver every HTTP function uses, with errors mapped to JSON once.

Product errors (`KassError`) carry a one-line message meant for people and map to a status by
class; request validation errors become 400 (malformed JSON) or 422 (wrong shape) with the
offending field named; anything else is a bug: logged with its traceback, answered with a plain
500 JSON body that leaks nothing.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
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


def error_response(status: HTTPStatus | int, error: str, message: str) -> Response:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=error, message=message).model_dump_json(),
    )


def make_resolver(title: str, description: str) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    app.configure_openapi(title=title, version="1.0.0", description=description)

    @app.exception_handler(KassError)
    def _product_error(error: KassError) -> Response:
        for cls, status, code in _STATUS:
            if isinstance(error, cls):
                return error_response(status, code, str(error))
        logger.warning("service unavailable", extra={"error": str(error)})
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", str(error))

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        first = error.errors()[0]
        if first.get("type") == "json_invalid":
            return error_response(HTTPStatus.BAD_REQUEST, "invalid_json", "body is not valid JSON")
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = first.get("msg") or first.get("type", "invalid")
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", f"{where or 'body'}: {message}"
        )

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _bug(error: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "internal error")

    return app


def caller_id(app: APIGatewayRestResolver) -> str:
    """Who is asking: the JWT subject, else the Lambda authorizer's principal, else the API key.

    Conversations are private to this id. Without any authorizer (local runs) everyone is
    "anonymous" and shares one conversation list.
    """
    context = app.current_event.request_context
    authorizer = context.authorizer
    claims = authorizer.claims or {}
    subject = claims.get("sub") or authorizer.principal_id or context.identity.api_key_id
    return str(subject) if subject else "anonymous"
