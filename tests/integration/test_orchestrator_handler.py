"""The orchestrator handler on the local profile: real events in, real stores and index behind."""

from __future__ import annotations

import pytest
from lambda_harness import context, ingest_samples, json_body, load_handler, rest_event

from kass.api.http import caller_id_of

QUESTION = "Why did login fail after the 2.3 release?"


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    home = tmp_path_factory.mktemp("orchestrator-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home)
        patch.setenv("KASS_HOME", str(home))
        patch.setenv("KASS_ANSWER_MAX_QUESTION_CHARS", "300")
        patch.setenv("POWERTOOLS_SERVICE_NAME", "orchestrator")
        patch.setenv("POWERTOOLS_METRICS_NAMESPACE", "kass-test")
        ingest_samples()
        module = load_handler("orchestrator")
        yield module
        module.runtime.close()


def invoke(handler, event):
    return handler.lambda_handler(event, context("orchestrator"))


def test_given_sample_workspace_when_posting_chat_then_cited_answer_and_conversation_stored(
    handler,
):
    response = invoke(handler, rest_event("POST", "/chat", body={"message": QUESTION}))

    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    assert body["found"] is True and body["tier"] == "extractive" and body["cached"] is False
    assert body["citations"] and "[1]" in body["text"]
    assert body["citations"][0]["link"].startswith("https://")
    stored = invoke(
        handler,
        rest_event(
            "GET",
            f"/conversations/{body['conversation_id']}",
            resource="/conversations/{conversation_id}",
            path_parameters={"conversation_id": body["conversation_id"]},
        ),
    )
    assert stored["statusCode"] == 200
    messages = json_body(stored)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["text"] == QUESTION and messages[1]["id"] == body["message_id"]


def test_given_same_question_twice_when_posting_then_second_answer_comes_from_cache(handler):
    first = json_body(invoke(handler, rest_event("POST", "/chat", body={"message": "rate limit"})))
    second = json_body(
        invoke(handler, rest_event("POST", "/chat", body={"message": "  Rate   LIMIT? "}))
    )

    assert first["cached"] is False and second["cached"] is True
    assert second["text"] == first["text"] and second["citations"] == first["citations"]


def test_given_a_conversation_when_continuing_it_then_history_grows_in_order(handler):
    started = json_body(invoke(handler, rest_event("POST", "/chat", body={"message": QUESTION})))
    follow_up = {"message": "push notifications", "conversation_id": started["conversation_id"]}
    continued = json_body(invoke(handler, rest_event("POST", "/chat", body=follow_up)))

    assert continued["conversation_id"] == started["conversation_id"]
    path = f"/conversations/{started['conversation_id']}"
    history = json_body(
        invoke(
            handler,
            rest_event(
                "GET",
                path,
                resource="/conversations/{conversation_id}",
                path_parameters={"conversation_id": started["conversation_id"]},
            ),
        )
    )["messages"]
    assert [m["text"] for m in history[::2]] == [QUESTION, "push notifications"]
    listed = json_body(invoke(handler, rest_event("GET", "/conversations")))["conversations"]
    assert listed[0]["conversation_id"] == started["conversation_id"]


def test_given_another_users_conversation_when_reading_or_continuing_then_404(handler):
    mine = json_body(
        invoke(handler, rest_event("POST", "/chat", body={"message": QUESTION}, subject="alice"))
    )
    cid = mine["conversation_id"]
    read = invoke(
        handler,
        rest_event(
            "GET",
            f"/conversations/{cid}",
            resource="/conversations/{conversation_id}",
            path_parameters={"conversation_id": cid},
            subject="mallory",
        ),
    )
    continued = invoke(
        handler,
        rest_event(
            "POST", "/chat", body={"message": "hi", "conversation_id": cid}, subject="mallory"
        ),
    )

    assert read["statusCode"] == 404 and json_body(read)["error"] == "not_found"
    assert continued["statusCode"] == 404
    listed = invoke(handler, rest_event("GET", "/conversations", subject="mallory"))
    assert json_body(listed)["conversations"] == []


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("{not json", 400, "invalid_json"),
        ({}, 422, "invalid_request"),
        ({"message": ""}, 422, "invalid_request"),
        ({"message": "hi", "extra": 1}, 422, "invalid_request"),
        ({"message": "x" * 301}, 400, "invalid_input"),
        ({"message": "hi", "filters": {"colour": "red"}}, 400, "invalid_input"),
        ({"message": "hi", "conversation_id": "does-not-exist"}, 404, "not_found"),
    ],
)
def test_given_bad_input_when_posting_chat_then_4xx_json_and_nothing_stored(
    handler, body, status, error
):
    caller = caller_id_of(rest_event("POST", "/chat")["requestContext"])  # the API key's caller
    before = handler.runtime.conversations.conversations(caller, limit=500)

    response = invoke(handler, rest_event("POST", "/chat", body=body))

    assert response["statusCode"] == status, response["body"]
    payload = json_body(response)
    assert payload["error"] == error and payload["message"] and "\n" not in payload["message"]
    assert handler.runtime.conversations.conversations(caller, limit=500) == before


def test_given_unknown_route_or_conversation_when_requested_then_404_json(handler):
    unknown_route = invoke(handler, rest_event("GET", "/nope"))
    unknown_id = invoke(
        handler,
        rest_event(
            "GET",
            "/conversations/zzz",
            resource="/conversations/{conversation_id}",
            path_parameters={"conversation_id": "zzz"},
        ),
    )

    assert unknown_route["statusCode"] == 404 and json_body(unknown_route)["error"] == "not_found"
    assert unknown_id["statusCode"] == 404 and "zzz" in json_body(unknown_id)["message"]


def test_given_the_function_when_health_checked_then_profile_and_tier_reported(handler):
    response = invoke(handler, rest_event("GET", "/health"))

    assert response["statusCode"] == 200
    assert json_body(response)["profile"] == "local"
    assert json_body(response)["tier"] == "auto"  # KASS_CHAT_TIER: routed per question


def from_page(origin: str) -> dict:
    event = rest_event("GET", "/health")
    event["headers"]["origin"] = origin
    event["multiValueHeaders"]["origin"] = [origin]
    return event


def test_given_the_pages_origin_configured_when_the_page_calls_then_cors_headers_let_it_read(
    handler, monkeypatch
):
    page = "https://d1234abcd.cloudfront.net"
    monkeypatch.setenv("KASS_CORS_ALLOW_ORIGIN", page)
    configured = load_handler("orchestrator")

    allowed = invoke(configured, from_page(page))
    unconfigured = invoke(handler, from_page(page))
    configured.runtime.close()

    headers = allowed.get("multiValueHeaders") or {}
    assert allowed["statusCode"] == 200
    assert headers.get("Access-Control-Allow-Origin") == [page]
    assert "x-api-key" in ",".join(headers.get("Access-Control-Allow-Headers", [])).lower()
    assert "Access-Control-Allow-Origin" not in (unconfigured.get("multiValueHeaders") or {})
    assert "Access-Control-Allow-Origin" not in (unconfigured.get("headers") or {})
