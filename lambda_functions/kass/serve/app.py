"""The HTTP side of `kass serve`: API Gateway (REST API, Lambda proxy integration) in front of
the real handlers.

Each request of a route in `kass.api.routes.HTTP_ROUTES` becomes the proxy event API Gateway
would send; the handler's proxy result becomes the HTTP response. Where the request never
reaches a function, the answers are API Gateway's own (JSON `{"message": ...}` bodies):

- a path that matches no resource, or a method the resource does not define:
  403 `Missing Authentication Token` (API Gateway's answer to both; it does not say 404/405);
- a body over the 10 MB payload limit: 413 `Request Too Long`;
- a function error (exception, failed init, result that is not JSON) or a malformed proxy
  result: 502 `Internal server error`, the details only in the server log.

A trailing slash reaches the same resource, as in API Gateway. Differences that remain: header
names reach the handler lower-cased (the HTTP server normalises them), there is no authorizer
(handlers see no claims), every non-UTF-8 body is base64-encoded (as with binary media type
`*/*`), and the 29 s integration timeout is not enforced.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from kass.api.routes import HTTP_ROUTES, Route
from kass.serve.events import LOCAL_STAGE, api_gateway_rest_event
from kass.serve.functions import FunctionError, LocalFunctions

if TYPE_CHECKING:
    from kass.serve.watcher import RawFolderWatcher

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway REST API payload limit
_GREEDY = re.compile(r"\{(\w+)\+\}")  # API Gateway `{proxy+}` → Starlette `{proxy:path}`
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field name
_FIELD_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\U0010ffff]*$")  # no CR, LF, NUL or controls
# Framing headers are the gateway's to set (it re-frames the body it returns).
_DROPPED = frozenset({"content-length", "transfer-encoding", "connection"})

Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(
    functions: LocalFunctions,
    *,
    routes: Sequence[Route] = HTTP_ROUTES,
    watcher: RawFolderWatcher | None = None,
    stage: str = LOCAL_STAGE,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The server app: `routes` served by `functions`; `watcher` runs while the app does.

    `extra_routes` (the web page, the WebSocket stream) are matched after the API's resources
    and before the catch-all that answers API Gateway's 403.
    """
    resources: dict[str, dict[str, str]] = defaultdict(dict)
    for route in routes:
        if route.function not in functions:
            raise ValueError(f"route {route.method} {route.path} names unknown {route.function!r}")
        resources[route.path][route.method.upper()] = route.function
    table: list[BaseRoute] = []
    for resource, methods in resources.items():
        endpoint = _endpoint(resource, methods, functions, stage)
        template = _GREEDY.sub(r"{\1:path}", resource)
        table.append(StarletteRoute(template, _AnyMethod(endpoint)))
        if template != "/":
            table.append(StarletteRoute(template + "/", _AnyMethod(endpoint)))
    table.extend(extra_routes)
    table.append(StarletteRoute("/{anything:path}", _AnyMethod(_unknown_resource)))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if watcher is not None:
            watcher.start()
        try:
            yield
        finally:
            if watcher is not None:
                await run_in_threadpool(watcher.stop)

    return Starlette(routes=table, lifespan=lifespan)


def _endpoint(
    resource: str, methods: Mapping[str, str], functions: LocalFunctions, stage: str
) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        function = methods.get(request.method)
        if function is None:
            return _missing_token(request_id)
        body = await _read_body(request)
        if body is None:
            return gateway_response(413, "Request Too Long", request_id)
        event = api_gateway_rest_event(
            request.method,
            request.scope["path"],
            resource=resource,
            path_parameters={name: str(value) for name, value in request.path_params.items()},
            query=_multi(request.query_params.multi_items()),
            headers=_multi(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in request.headers.raw
            ),
            body=body,
            request_id=request_id,
            stage=stage,
            source_ip=request.client.host if request.client else "127.0.0.1",
        )
        try:
            # Handlers are synchronous: keep them off the event loop.
            result = await run_in_threadpool(functions.invoke, function, event)
        except FunctionError:
            return _internal_error(request_id)
        try:
            return proxy_response(result, request_id)
        except ValueError as error:
            logger.error("malformed Lambda proxy response from %s: %s", function, error)
            return _internal_error(request_id)

    return endpoint


class _AnyMethod:
    """An endpoint that takes every method (Starlette routes a plain function for GET only);
    the endpoint answers unknown methods itself, as API Gateway does."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint(Request(scope, receive))
        await response(scope, receive, send)


async def _unknown_resource(_: Request) -> Response:
    return _missing_token(str(uuid.uuid4()))


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None when it exceeds the payload limit (read no further then)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:  # chunked bodies declare no length
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def proxy_response(result: Any, request_id: str) -> Response:
    """The HTTP response of a Lambda proxy result; ValueError when it is malformed.

    `headers` and `multiValueHeaders` merge as API Gateway merges them: a value present in
    both appears once, from `multiValueHeaders`.
    """
    if not isinstance(result, dict):
        raise ValueError(f"result is a {type(result).__name__}, not an object")
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"statusCode {status!r} is not an HTTP status")
    single = _string_map(result.get("headers"), "headers")
    multi = _string_list_map(result.get("multiValueHeaders"), "multiValueHeaders")
    merged: list[tuple[str, str]] = [(name, v) for name, values in multi.items() for v in values]
    multi_lower = {name.lower(): values for name, values in multi.items()}
    for name, value in single.items():
        if value not in multi_lower.get(name.lower(), []):
            merged.append((name, value))
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError("body is not a string")
    encoded = result.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise ValueError("isBase64Encoded is not a boolean")
    if encoded and body:
        try:
            content = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise ValueError(f"body is not base64: {error}") from None
    else:
        content = (body or "").encode("utf-8")
    response = Response(content=content, status_code=status)
    for name, value in merged:
        if not _TOKEN.match(name) or not _FIELD_VALUE.match(value):
            raise ValueError(f"invalid header {name!r}")
        if name.lower() not in _DROPPED:
            response.raw_headers.append((name.lower().encode("latin-1"), value.encode("utf-8")))
    response.raw_headers.append((b"x-amzn-requestid", request_id.encode()))
    return response


def _string_map(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"{field} is not an object of strings")
    return value


def _string_list_map(value: Any, field: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
        for k, v in value.items()
    ):
        raise ValueError(f"{field} is not an object of string lists")
    return value


def gateway_response(
    status: int, message: str, request_id: str, error_type: str | None = None
) -> Response:
    """One of API Gateway's own responses (a "gateway response"): `{"message": ...}`."""
    headers = {"x-amzn-RequestId": request_id}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def _missing_token(request_id: str) -> Response:
    return gateway_response(
        403, "Missing Authentication Token", request_id, "MissingAuthenticationTokenException"
    )


def _internal_error(request_id: str) -> Response:
    return gateway_response(
        502, "Internal server error", request_id, "InternalServerErrorException"
    )
