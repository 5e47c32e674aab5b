"""stream_handler on the AWS profile: connections in DynamoDB (moto), frames through boto3's
management API client to a double speaking its wire protocol (410 GoneException included).

The turn here is a response-cache hit (the cache is DynamoDB too), so no index or model is
needed; streamed model turns run in test_stream_serve.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_fixtures import REGION, create_tables, set_moto_env, table_names
from lambda_harness import context, load_event, load_handler
from moto import mock_aws
from tests.doubles.apigw_management import ManagementApiDouble

from kass.chat.cache import INDEX_VERSION, cache_key
from kass.models import Answer, Citation
from kass.serve.events import api_gateway_websocket_event, new_connection_id
from kass.settings import load_settings

DOMAIN = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
QUESTION = "How do I deploy the web app?"
CACHED = Answer(
    question=QUESTION,
    text="Run make deploy [1].",
    citations=[
        Citation(
            n=1,
            chunk_id="k1",
            doc_id="gitlab:1",
            title="Deploy",
            source="gitlab",
            location="https://gitlab.example/1",
            link="https://gitlab.example/1#note_2",
            snippet="make deploy",
        )
    ],
    found=True,
    tier="extractive",
    route=["extractive"],
)


@pytest.fixture()
def management() -> Iterator[ManagementApiDouble]:
    with ManagementApiDouble() as double:
        yield double


@pytest.fixture()
def handler(monkeypatch, tmp_path, management):
    set_moto_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "KASS_PROFILE": "aws",
        "KASS_CHAT_TIER": "extractive",
        "KASS_STREAM_MANAGEMENT_URL": management.url,
        "POWERTOOLS_SERVICE_NAME": "stream_handler",
        "POWERTOOLS_METRICS_NAMESPACE": "kass-test",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        create_tables(
            boto3.client("dynamodb", region_name=REGION), table_names(load_settings().aws)
        )
        module = load_handler("stream_handler")
        yield module
        module.runtime.close()


def event(route_key: str, connection_id: str, **fields: Any) -> dict[str, Any]:
    return api_gateway_websocket_event(
        route_key,
        connection_id=connection_id,
        connected_at_ms=int(time.time() * 1000),
        domain_name=DOMAIN,
        stage="dev",
        **fields,
    )


def invoke(handler, payload: dict[str, Any]) -> Any:
    return handler.lambda_handler(json.loads(json.dumps(payload)), context("stream_handler"))


def connected(handler, principal: str | None = "user-7") -> str:
    connection_id = new_connection_id()
    connect = event("$connect", connection_id, headers={"Host": [DOMAIN]})
    if principal:
        connect["requestContext"]["authorizer"] = {"principalId": principal}
    assert invoke(handler, connect) == {"statusCode": 200}
    return connection_id


def connection_item(connection_id: str) -> dict[str, Any] | None:
    table = load_settings().aws.connections_table
    client = boto3.client("dynamodb", region_name=REGION)
    return client.get_item(TableName=table, Key={"connection_id": {"S": connection_id}}).get("Item")


def cache_hit(handler) -> None:
    runtime = handler.runtime
    key = cache_key(
        QUESTION, {}, runtime.checkpoints.counter(INDEX_VERSION), runtime.router.plan(QUESTION).key
    )
    runtime.cache.put(key, CACHED, 3600)


def test_given_an_api_key_when_authorizing_connect_then_allow_with_the_usage_identifier(handler):
    policy = invoke(handler, load_event("apigw_websocket_connect_authorizer.json"))

    assert policy["usageIdentifierKey"] == "k3y-0f-the-usage-plan"
    assert policy["principalId"].startswith("apikey-")
    assert "k3y" not in policy["principalId"]
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"][0].startswith("arn:aws:execute-api:us-east-1:123456789012:")


def test_given_no_api_key_when_authorizing_connect_then_deny(handler):
    request = load_event("apigw_websocket_connect_authorizer.json")
    request["queryStringParameters"] = request["multiValueQueryStringParameters"] = None

    policy = invoke(handler, request)

    assert "usageIdentifierKey" not in policy
    assert [s["Effect"] for s in policy["policyDocument"]["Statement"]] == ["Deny"]


def test_given_connect_when_handled_then_the_owner_is_stored_with_a_two_hour_ttl(handler):
    before = int(time.time())
    connection_id = connected(handler, principal="user-7")

    item = connection_item(connection_id)
    assert item is not None and item["user_id"]["S"] == "user-7"
    assert before + 7200 <= int(item["expires_at"]["N"]) <= int(time.time()) + 7200

    assert invoke(handler, event("$disconnect", connection_id)) == {"statusCode": 200}
    assert connection_item(connection_id) is None


def test_given_a_cached_answer_when_streamed_then_one_delta_then_done_and_the_turn_stored(
    handler, management
):
    cache_hit(handler)
    connection_id = connected(handler)
    frame = {"action": "chat", "request_id": "c9", "message": QUESTION}

    invoke(handler, event("$default", connection_id, body=json.dumps(frame)))

    delta, done = management.frames[connection_id]
    assert delta == {"type": "delta", "request_id": "c9", "text": CACHED.text}
    assert done["type"] == "done" and done["request_id"] == "c9"
    response = done["response"]
    assert response["cached"] is True and response["text"] == CACHED.text
    stored = handler.runtime.conversations.messages(response["conversation_id"])
    assert [(m.role, m.user_id) for m in stored] == [("user", "user-7"), ("assistant", "user-7")]


def test_given_the_client_gone_mid_turn_when_answering_then_stored_once_and_no_more_posts(
    handler, management
):
    cache_hit(handler)
    connection_id = connected(handler)
    management.leave_after(connection_id, 1)  # the delta arrives, then the client leaves

    invoke(
        handler,
        event("$default", connection_id, body=json.dumps({"action": "chat", "message": QUESTION})),
    )

    assert [f["type"] for f in management.frames[connection_id]] == ["delta"]
    assert management.refused[connection_id] == 1  # `done` was refused; nothing tried after
    [conversation] = handler.runtime.conversations.conversations("user-7")
    messages = handler.runtime.conversations.messages(conversation.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]


def test_given_an_unknown_connection_when_a_frame_arrives_then_a_404_error_frame(
    handler, management
):
    invoke(handler, event("$default", "unknown-id=", body='{"action":"chat","message":"hi"}'))

    [error] = management.frames["unknown-id="]
    assert (error["type"], error["status"], error["error"]) == ("error", 404, "not_found")


def test_given_an_invalid_filter_when_streamed_then_the_rest_apis_error_code(handler, management):
    connection_id = connected(handler)
    frame = {"action": "chat", "request_id": "b1", "message": "hi", "filters": {"bogus": "1"}}

    invoke(handler, event("$default", connection_id, body=json.dumps(frame)))

    [error] = management.frames[connection_id]
    assert (error["type"], error["request_id"], error["status"]) == ("error", "b1", 400)
    assert error["error"] == "invalid_input" and "'bogus'" in error["message"]
    assert handler.runtime.conversations.conversations("user-7") == []


def test_given_ping_and_binary_frames_when_handled_then_pong_and_invalid_json(handler, management):
    connection_id = connected(handler)

    invoke(handler, event("$default", connection_id, body='{"action":"ping","request_id":"p"}'))
    invoke(handler, event("$default", connection_id, body=b"\xff\xfe"))

    pong, error = management.frames[connection_id]
    assert pong == {"type": "pong", "request_id": "p"}
    assert (error["status"], error["error"], error["request_id"]) == (400, "invalid_json", None)
