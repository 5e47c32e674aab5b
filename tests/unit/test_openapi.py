"""The committed OpenAPI document is the one the handlers' code generates."""

from __future__ import annotations

import json
from pathlib import Path

from kass.api.openapi import render
from kass.api.routes import HTTP_ROUTES

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"


def test_given_the_handlers_when_generating_openapi_then_it_equals_the_committed_document(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # no stray .env
    generated = render()

    assert generated == COMMITTED.read_text(encoding="utf-8"), (
        "docs/api/openapi.json is stale: run `make openapi`"
    )


def test_given_the_route_table_when_reading_openapi_then_every_keyed_route_is_documented():
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]

    for route in HTTP_ROUTES:
        if route.api_key_required:
            assert route.method.lower() in paths[route.path], route
        else:  # Discord's protocol, not our JSON API (docs/discord.md)
            assert route.path not in paths, route


def test_given_the_document_when_reading_chat_then_errors_are_documented_with_one_body():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    responses = document["paths"]["/chat"]["post"]["responses"]

    for status in ("400", "404", "422", "503"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
