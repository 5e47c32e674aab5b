"""The web page on `kass serve`: the files of web/ at their paths, and a config.json for local use.

In AWS the page sits in S3 behind CloudFront (terraform/modules/frontend), which adds the
security headers, and the deploy writes config.json with the API's URLs and key (docs/web.md).
Locally the page is served by the same server as the API, so its config.json names relative
URLs (same origin) and no key (`kass serve` checks none), and its headers are the frontend
module's, with this server's WebSocket origin allowed.

Only GET and HEAD of the listed files are routes: any other path or method falls through to the
gateway's catch-all 403, as before.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kass.api.routes import FUNCTIONS_DIR
from kass.serve.websocket import STREAM_PATH

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
# File names that are literal Starlette paths (no `{`) and plain URLs (nothing to escape).
_SERVABLE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")
# terraform/modules/frontend/main.tf's policy, less `upgrade-insecure-requests`: that would turn
# the local http/ws URLs into https/wss ones, which `kass serve` does not answer.
_CSP = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "manifest-src 'self'",
    "connect-src {connect}",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
)

Endpoint = Callable[[Request], Awaitable[Response]]


def default_web_dir() -> Path:
    """The repository's web/ (next to lambda_functions/)."""
    return FUNCTIONS_DIR.parent / "web"


def web_routes(
    web_dir: Path | None = None, *, stream_path: str | None = STREAM_PATH
) -> list[Route]:
    """Routes serving the page in `web_dir` at `/`, its files at their paths, and `/config.json`.

    Without `web_dir`, the repository's web/, or no routes when it is absent (an installation
    without the repository). A given `web_dir` without index.html is a ValueError. The files
    are listed now: edits show at once, a new file after a restart. `stream_path` is the
    WebSocket path config.json names (None: the page uses POST /chat only).
    """
    directory = default_web_dir() if web_dir is None else web_dir
    index = directory / "index.html"
    if not index.is_file():
        if web_dir is None:
            return []
        raise ValueError(f"no web page: {index} does not exist")
    routes = [
        Route("/", _file(index), methods=["GET"]),
        Route("/config.json", _local_config(stream_path), methods=["GET"]),
    ]
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if (
            path.is_file()
            and path.suffix in CONTENT_TYPES
            and all(_SERVABLE.match(part) for part in relative.parts)
            and relative.as_posix() != "config.json"  # the deploy's, never served locally
        ):
            routes.append(Route("/" + relative.as_posix(), _file(path), methods=["GET"]))
    return routes


def security_headers(request: Request) -> dict[str, str]:
    """The frontend module's headers, with this server's WebSocket origin in connect-src."""
    connect = ["'self'"]
    host = request.headers.get("host", "")
    if _HOST.match(host):  # the Host header is the client's: never let it add directives
        connect.append(("wss://" if request.url.scheme == "https" else "ws://") + host)
    policy = "; ".join(_CSP).format(connect=" ".join(connect))
    return {
        "content-security-policy": policy,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
        # Revalidate every time: a local edit of web/ shows on the next reload.
        "cache-control": "no-cache",
    }


def _file(path: Path) -> Endpoint:
    media_type = CONTENT_TYPES[path.suffix]

    async def endpoint(request: Request) -> Response:
        return Response(path.read_bytes(), media_type=media_type, headers=security_headers(request))

    return endpoint


def _local_config(stream_path: str | None) -> Endpoint:
    config = {"apiUrl": "", "streamUrl": stream_path, "apiKey": None}

    async def endpoint(request: Request) -> Response:
        return JSONResponse(config, headers=security_headers(request))

    return endpoint
