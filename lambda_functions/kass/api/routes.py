"""Which function serves which route: the one table API Gateway, `kass serve` and docs share."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# lambda_functions/<name>/handler.py, each exposing `lambda_handler(event, context)`.
FUNCTIONS: tuple[str, ...] = (
    "orchestrator",
    "vector_search",
    "document_processor",
    "data_fetcher",
    "discord_handler",
    "stream_handler",
)

FUNCTIONS_DIR = Path(__file__).resolve().parents[2]  # lambda_functions/


class Route(NamedTuple):
    method: str
    path: str  # API Gateway resource path; `{name}` is a path parameter
    function: str
    # False only where the caller cannot send our x-api-key and the function authenticates the
    # request itself (Discord's Ed25519-signed interactions). Such routes are not part of the
    # key-protected JSON API that docs/api/openapi.json describes.
    api_key_required: bool = True


HTTP_ROUTES: tuple[Route, ...] = (
    Route("POST", "/chat", "orchestrator"),
    Route("GET", "/conversations", "orchestrator"),
    Route("GET", "/conversations/{conversation_id}", "orchestrator"),
    Route("POST", "/actions/{action_id}/confirm", "orchestrator"),
    Route("POST", "/actions/{action_id}/cancel", "orchestrator"),
    Route("GET", "/audit", "orchestrator"),
    Route("GET", "/health", "orchestrator"),
    Route("POST", "/search", "vector_search"),
    Route("POST", "/discord", "discord_handler", api_key_required=False),
)


def handler_file(function: str) -> Path:
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; known: {', '.join(FUNCTIONS)}")
    return FUNCTIONS_DIR / function / "handler.py"
