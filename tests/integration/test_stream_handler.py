"""stream_handler on the AWS profile: connections in DynamoDB (moto), frames through boto3's
management API client to a double speaking its wire protocol (410 GoneException included), and
`$default` handed to an asynchronous invocation of the function itself (moto's Lambda), whose
job then runs the turn once per message id (idempotency records in DynamoDB).

The turn here is a response-cache hit (the cache is DynamoDB too), so no index or model is
needed; streamed model turns run in test_stream_serve.py (the local profile, inline).
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
from kass.stream.handoff import JOB_KEY

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
    # use_docker False: moto's Lambda accepts an asynchronous invoke without running anything.
    with mock_aws(config={"lambda": {"use_docker": False}}):
        create_tables(
            boto3.client("dynamodb", region_name=REGION), table_names(load_settings().aws)
        )
        module = load_handler("stream_handler")
        yield module
        module.runtime.close()


@pytest.fixture()
def invoked(handler) -> Iterator[list[dict[str, Any]]]:
    """The Invoke requests the handler's Lambda client sends (to moto)."""
    calls: list[dict[str, Any]] = []
    client = handler._lambda_client()

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    client.meta.events.register("before-call.lambda.Invoke", record)
    yield calls
    client.meta.events.unregister("before-call.lambda.Invoke", record)


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


def hand_off(handler, invoked: list[dict[str, Any]], message: dict[str, Any]) -> dict[str, Any]:
    """`$default` as API Gateway calls it: 200 at once, one asynchronous self-invocation;
    returns the job's payload as Lambda would deliver it."""
    before = len(invoked)
    assert invoke(handler, message) == {"statusCode": 200}
    [call] = invoked[before:]
    assert call["headers"]["X-Amz-Invocation-Type"] == "Event"
    assert call["url_path"].endswith(
        "/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Astream_handler"
        "/invocations"
    )
    return json.loads(call["body"])


def deliver(handler, invoked: list[dict[str, Any]], message: dict[str, Any]) -> dict[str, Any]:
    """A message end to end: the hand-off, then the asynchronous invocation running the job."""
    return invoke(handler, hand_off(handler, invoked, message))


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
    handler, management, invoked
):
    cache_hit(handler)
    connection_id = connected(handler)
    frame = {"action": "chat", "request_id": "c9", "message": QUESTION}

    outcome = deliver(handler, invoked, event("$default", connection_id, body=json.dumps(frame)))

    assert outcome == {"outcome": "chat", "frames": 2, "client_gone": False}

    delta, done = management.frames[connection_id]
    assert delta == {"type": "delta", "request_id": "c9", "text": CACHED.text}
    assert done["type"] == "done" and done["request_id"] == "c9"
    response = done["response"]
    assert response["cached"] is True and response["text"] == CACHED.text
    stored = handler.runtime.conversations.messages(response["conversation_id"])
    assert [(m.role, m.user_id) for m in stored] == [("user", "user-7"), ("assistant", "user-7")]


def test_given_the_client_gone_mid_turn_when_answering_then_stored_once_and_no_more_posts(
    handler, management, invoked
):
    cache_hit(handler)
    connection_id = connected(handler)
    management.leave_after(connection_id, 1)  # the delta arrives, then the client leaves
    frame = {"action": "chat", "message": QUESTION}

    deliver(handler, invoked, event("$default", connection_id, body=json.dumps(frame)))

    assert [f["type"] for f in management.frames[connection_id]] == ["delta"]
    assert management.refused[connection_id] == 1  # `done` was refused; nothing tried after
    [conversation] = handler.runtime.conversations.conversations("user-7")
    messages = handler.runtime.conversations.messages(conversation.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]


def test_given_an_unknown_connection_when_a_frame_arrives_then_a_404_error_frame(
    handler, management, invoked
):
    message = event("$default", "unknown-id=", body='{"action":"chat","message":"hi"}')

    deliver(handler, invoked, message)

    [error] = management.frames["unknown-id="]
    assert (error["type"], error["status"], error["error"]) == ("error", 404, "not_found")


def test_given_an_invalid_filter_when_streamed_then_the_rest_apis_error_code(
    handler, management, invoked
):
    connection_id = connected(handler)
    frame = {"action": "chat", "request_id": "b1", "message": "hi", "filters": {"bogus": "1"}}

    deliver(handler, invoked, event("$default", connection_id, body=json.dumps(frame)))

    [error] = management.frames[connection_id]
    assert (error["type"], error["request_id"], error["status"]) == ("error", "b1", 400)
    assert error["error"] == "invalid_input" and "'bogus'" in error["message"]
    assert handler.runtime.conversations.conversations("user-7") == []


def test_given_ping_and_binary_frames_when_handled_then_pong_and_invalid_json(
    handler, management, invoked
):
    connection_id = connected(handler)

    ping = event("$default", connection_id, body='{"action":"ping","request_id":"p"}')
    deliver(handler, invoked, ping)
    binary = hand_off(handler, invoked, event("$default", connection_id, body=b"\xff\xfe"))
    assert binary[JOB_KEY]["is_base64_encoded"] is True  # the frame travels as API Gateway gave it
    invoke(handler, binary)

    pong, error = management.frames[connection_id]
    assert pong == {"type": "pong", "request_id": "p"}
    assert (error["status"], error["error"], error["request_id"]) == (400, "invalid_json", None)


# -- the hand-off: $default returns at once, the asynchronous invocation runs the turn once ------
def test_given_a_chat_frame_when_default_is_invoked_then_200_one_async_invoke_and_nothing_posted(
    handler, management, invoked
):
    cache_hit(handler)
    connection_id = connected(handler)
    frame = json.dumps({"action": "chat", "request_id": "h1", "message": QUESTION})
    message = event("$default", connection_id, body=frame)

    payload = hand_off(handler, invoked, message)

    assert management.frames.get(connection_id) is None, "the turn has not run yet"
    assert handler.runtime.conversations.conversations("user-7") == []
    assert list(payload) == [JOB_KEY]
    context = message["requestContext"]
    assert payload[JOB_KEY] == {
        "connection_id": connection_id,
        "domain_name": DOMAIN,
        "stage": "dev",
        "message_id": context["messageId"],
        "request_id": context["requestId"],
        "body": frame,
        "is_base64_encoded": False,
    }

    invoke(handler, payload)

    assert [f["type"] for f in management.frames[connection_id]] == ["delta", "done"]


def test_given_the_same_job_delivered_twice_when_run_then_one_turn_and_frames_posted_once(
    handler, management, invoked
):
    cache_hit(handler)
    connection_id = connected(handler)
    frame = {"action": "chat", "request_id": "d1", "message": QUESTION}
    payload = hand_off(handler, invoked, event("$default", connection_id, body=json.dumps(frame)))

    first = invoke(handler, payload)
    again = invoke(handler, payload)  # Lambda delivers an asynchronous event at least once

    assert again == first == {"outcome": "chat", "frames": 2, "client_gone": False}
    assert [f["type"] for f in management.frames[connection_id]] == ["delta", "done"]
    [conversation] = handler.runtime.conversations.conversations("user-7")
    messages = handler.runtime.conversations.messages(conversation.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]


def test_given_two_messages_with_the_same_text_when_run_then_two_turns(
    handler, management, invoked
):
    """Idempotency is per message id, not per content: asking twice is answered twice."""
    cache_hit(handler)
    connection_id = connected(handler)
    body = json.dumps({"action": "chat", "message": QUESTION})

    for _ in range(2):
        deliver(handler, invoked, event("$default", connection_id, body=body))

    assert [f["type"] for f in management.frames[connection_id]] == ["delta", "done"] * 2


def test_given_a_job_key_forged_in_a_clients_frame_when_sent_then_just_a_bad_frame(
    handler, management, invoked
):
    connection_id = connected(handler)
    forged = {
        JOB_KEY: {
            "connection_id": "someone-elses=", "domain_name": DOMAIN, "stage": "dev",
            "message_id": "m", "request_id": "r", "body": '{"action":"ping"}',
        },
        "request_id": "f1",
    }  # fmt: skip

    outcome = deliver(handler, invoked, event("$default", connection_id, body=json.dumps(forged)))

    assert outcome["outcome"] == "error"
    [error] = management.frames[connection_id]
    assert (error["type"], error["request_id"], error["status"]) == ("error", "f1", 400)
    assert error["error"] == "invalid_input" and "unknown action None" in error["message"]
    assert management.frames.get("someone-elses=") is None


def test_given_lambda_refuses_the_async_invoke_when_a_frame_arrives_then_a_503_error_frame(
    handler, management
):
    from botocore.stub import Stubber

    connection_id = connected(handler)
    body = json.dumps({"action": "chat", "request_id": "u1", "message": QUESTION})
    with Stubber(handler._lambda_client()) as lambda_api:
        lambda_api.add_client_error(
            "invoke", service_error_code="TooManyRequestsException", http_status_code=429
        )

        response = invoke(handler, event("$default", connection_id, body=body))

    assert response == {"statusCode": 200}
    [error] = management.frames[connection_id]
    assert (error["type"], error["request_id"], error["status"]) == ("error", "u1", 503)
    assert error["error"] == "unavailable"
    assert handler.runtime.conversations.conversations("user-7") == []


def test_given_the_local_profile_when_a_frame_arrives_then_the_turn_runs_inline(
    monkeypatch, tmp_path, management
):
    """kass serve has no 29 s limit and no asynchronous invoke: `$default` answers itself."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KASS_PROFILE", "local")
    monkeypatch.setenv("KASS_STREAM_MANAGEMENT_URL", management.url)
    module = load_handler("stream_handler")
    try:
        connection_id = connected(module)

        invoke(module, event("$default", connection_id, body='{"action":"ping","request_id":"l"}'))

        assert management.frames[connection_id] == [{"type": "pong", "request_id": "l"}]
        assert module._lambda_client.cache_info().currsize == 0, "no Lambda client, no invoke"
    finally:
        module.runtime.close()
