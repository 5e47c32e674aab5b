"""The API's OpenAPI document, generated from the HTTP handlers' code (Powertools OpenAPIMerge).

`python -m kass.api.openapi > docs/api/openapi.json` (`make openapi`) regenerates the committed
copy; a test fails when the committed copy and the code disagree. It covers the key-protected
JSON API only: a route without the API key (POST /discord) speaks Discord's interactions
protocol, not ours, and is described in docs/discord.md.
"""

from __future__ import annotations

import json
import sys
import warnings

from kass.api.routes import HTTP_ROUTES, handler_file

TITLE = "kass API"
DESCRIPTION = (
    "Cited answers from a team's GitLab, Slack and Backlog data. "
    "Every request needs an API key in the `x-api-key` header (API Gateway usage plan)."
)


def build_openapi() -> dict[str, object]:
    """The merged document; a handler that fails to import is an error, not a warning."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    api_key = APIKey.model_validate({"name": "x-api-key", "in": APIKeyIn.header})
    merge = OpenAPIMerge(
        title=TITLE,
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes={"apiKey": api_key},
        security=[{"apiKey": []}],
        on_conflict="error",
    )
    for function in sorted({route.function for route in HTTP_ROUTES if route.api_key_required}):
        merge.add_file(handler_file(function))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document: dict[str, object] = json.loads(merge.get_openapi_json_schema())
    return document


def render() -> str:
    return json.dumps(build_openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
