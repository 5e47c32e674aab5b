"""Which function serves which route: the one table API Gateway, `kass serve` and docs share."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# lambda_functions/<name>/handler.py, each exposing `lambda_handler(event, context)`.
FUNCTIONS: tuple[str, ...] = ("orchestrator", "vector_search", "document_processor", "data_fetcher")

FUNCTIONS_DIR = Path(__file__).resolve().parents[2]  # lambda_functions/


class Route(NamedTuple):
    method: str
    path: str  # API Gateway resource path; `{name}` is a path parameter
    function: str


HTTP_ROUTES: tuple[Route, ...] = (
    Route("POST", "/chat", "orchestrator"),
    Route("GET", "/conversations", "orchestrator"),
    Route("GET", "/conversations/{conversation_id}", "orchestrator"),
    Route("POST", "/actions/{action_id}/confirm", "orchestrator"),
    Route("POST", "/actions/{action_id}/cancel", "orchestrator"),
    Route("GET", "/audit", "orchestrator"),
    Route("GET", "/health", "orchestrator"),
    Route("POST", "/search", "vector_search"),
)


def handler_file(function: str) -> Path:
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; known: {', '.join(FUNCTIONS)}")
    return FUNCTIONS_DIR / function / "handler.py"
