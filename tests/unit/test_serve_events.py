"""The events `kass serve` builds, checked against Powertools' parser models and data classes
(the parser models are strict about required fields, so they catch shape mistakes), and the
pure pieces of the local runtime: context, proxy results, partial batch responses, key filter.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    EventBridgeEvent,
    SQSEvent,
)
from aws_lambda_powertools.utilities.parser import envelopes, parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    EventBridgeModel,
    S3EventNotificationEventBridgeModel,
    SqsModel,
)

from kass.adapters.local.raw_store import is_document_key
from kass.ingest.processor import parse_object_change
from kass.serve.app import proxy_response
from kass.serve.context import LocalLambdaContext
from kass.serve.events import (
    api_gateway_rest_event,
    s3_eventbridge_event,
    scheduled_event,
    sqs_event,
    sqs_record,
)
from kass.serve.watcher import failed_message_ids

MOMENT = datetime(2026, 11, 22, 9, 15, 2, tzinfo=UTC)


def rest_event(**overrides):
    arguments = {
        "resource": "/conversations/{conversation_id}",
        "path_parameters": {"conversation_id": "c-1"},
        "query": {"tag": ["a", "b"], "q": ["x"]},
        "headers": {"content-type": ["application/json"], "x-many": ["1", "2"]},
        "body": b'{"message": "hi"}',
        "request_id": "req-1",
        "stage": "dev",
        "source_ip": "203.0.113.7",
        "now": MOMENT,
    }
    return api_gateway_rest_event("GET", "/conversations/c-1", **{**arguments, **overrides})


# -- API Gateway REST proxy event ---------------------------------------------------------------
def test_given_a_request_when_built_then_the_rest_event_passes_powertools_strict_model():
    model = APIGatewayProxyEventModel.model_validate(rest_event())

    assert model.resource == "/conversations/{conversation_id}"
    assert model.pathParameters == {"conversation_id": "c-1"}
    assert model.requestContext.requestId == "req-1"
    assert model.requestContext.resourcePath == "/conversations/{conversation_id}"
    assert model.requestContext.path == "/dev/conversations/c-1"
    assert str(model.requestContext.identity.sourceIp) == "203.0.113.7/32"
    assert model.requestContext.requestTimeEpoch == MOMENT


def test_given_a_request_when_built_then_the_data_class_reads_it_like_an_aws_event():
    event = APIGatewayProxyEvent(rest_event())

    assert event.http_method == "GET"
    assert event.path == "/conversations/c-1"
    assert event.multi_value_query_string_parameters == {"tag": ["a", "b"], "q": ["x"]}
    assert event.query_string_parameters == {"tag": "b", "q": "x"}  # last value, as AWS
    assert event.headers["Content-Type"] == "application/json"  # case-insensitive
    assert event.multi_value_headers["x-many"] == ["1", "2"]
    assert event.json_body == {"message": "hi"}
    assert event.request_context.stage == "dev"
    assert event.request_context.request_time == "22/Nov/2026:09:15:02 +0000"


def test_given_no_query_path_parameters_or_body_when_built_then_those_fields_are_null():
    raw = rest_event(path_parameters=None, query=None, body=b"")

    assert raw["queryStringParameters"] is None
    assert raw["multiValueQueryStringParameters"] is None
    assert raw["pathParameters"] is None
    assert raw["body"] is None and raw["isBase64Encoded"] is False
    APIGatewayProxyEventModel.model_validate(raw)


def test_given_a_non_utf8_body_when_built_then_it_is_base64_encoded():
    payload = b"\xff\xfe\x00binary"

    raw = rest_event(body=payload)

    assert raw["isBase64Encoded"] is True
    assert base64.b64decode(raw["body"]) == payload
    APIGatewayProxyEventModel.model_validate(raw)


def test_given_a_utf8_body_when_built_then_it_is_text():
    raw = rest_event(body="日本語".encode())

    assert raw["isBase64Encoded"] is False
    assert raw["body"] == "日本語"


# -- S3 events through EventBridge --------------------------------------------------------------
@pytest.mark.parametrize("detail_type", ["Object Created", "Object Deleted"])
def test_given_an_object_change_when_built_then_it_passes_the_s3_eventbridge_model(detail_type):
    raw = s3_eventbridge_event(
        detail_type, "kass-dev-raw", "raw/slack/a.json", size=5, etag="abc", occurred_at=MOMENT
    )

    model = S3EventNotificationEventBridgeModel.model_validate(raw)
    EventBridgeModel.model_validate(raw)
    assert model.source == "aws.s3"
    assert model.detail_type == detail_type
    assert model.detail.bucket.name == "kass-dev-raw"
    assert model.detail.object.key == "raw/slack/a.json"
    assert model.resources == ["arn:aws:s3:::kass-dev-raw"]
    assert raw["time"] == "2026-11-22T09:15:02Z"
    assert EventBridgeEvent(raw).detail_type == detail_type


def test_given_object_created_when_built_then_reason_put_object_with_size_and_etag():
    detail = s3_eventbridge_event("Object Created", "b", "raw/s/a.json", size=7, etag="e")["detail"]

    assert detail["reason"] == "PutObject"
    assert detail["object"]["size"] == 7 and detail["object"]["etag"] == "e"
    assert "deletion-type" not in detail


def test_given_object_deleted_when_built_then_reason_delete_object_without_size():
    detail = s3_eventbridge_event("Object Deleted", "b", "raw/s/a.json")["detail"]

    assert detail["reason"] == "DeleteObject"
    assert detail["deletion-type"] == "Permanently Deleted"
    assert "size" not in detail["object"] and "etag" not in detail["object"]
    assert detail["object"]["sequencer"]


def test_given_an_event_when_the_real_processor_parses_it_then_the_change_is_understood():
    raw = s3_eventbridge_event("Object Deleted", "/home/me/.kass", "raw/slack/a.json")

    change = parse_object_change(json.dumps(raw))

    assert (change.detail_type, change.bucket, change.key) == (
        "Object Deleted",
        "/home/me/.kass",
        "raw/slack/a.json",
    )
    assert change.event_id == raw["id"]


def test_given_an_unknown_detail_type_when_built_then_value_error():
    with pytest.raises(ValueError, match="detail_type"):
        s3_eventbridge_event("Object Restore Completed", "b", "k")  # type: ignore[arg-type]


# -- SQS ----------------------------------------------------------------------------------------
def test_given_eventbridge_events_when_wrapped_in_sqs_then_the_sqs_model_and_envelope_accept():
    bodies = [s3_eventbridge_event("Object Created", "b", f"raw/s/{n}.json") for n in range(3)]

    raw = sqs_event(bodies)

    SqsModel.model_validate(raw)
    parsed = parse(
        event=raw, model=S3EventNotificationEventBridgeModel, envelope=envelopes.SqsEnvelope
    )
    assert [event.detail.object.key for event in parsed] == [f"raw/s/{n}.json" for n in range(3)]
    records = list(SQSEvent(raw).records)
    assert len({record.message_id for record in records}) == 3
    for record in records:
        assert record.md5_of_body == hashlib.md5(record.body.encode()).hexdigest()
        assert record.attributes.approximate_receive_count == "1"
        assert record.event_source == "aws:sqs"
        assert record.event_source_arn.startswith("arn:aws:sqs:")


def test_given_a_redelivered_message_when_built_then_same_id_new_receipt_and_count():
    first = sqs_record("body", message_id="m-1", receive_count=1, sent_at_ms=1_000)
    again = sqs_record("body", message_id="m-1", receive_count=2, sent_at_ms=1_000)

    assert again["messageId"] == first["messageId"] == "m-1"
    assert again["receiptHandle"] != first["receiptHandle"]
    assert again["attributes"]["ApproximateReceiveCount"] == "2"
    assert again["attributes"]["SentTimestamp"] == "1000"
    SqsModel.model_validate({"Records": [first, again]})


def test_given_schedule_input_when_built_then_the_event_is_a_copy_of_the_input():
    constant = {"connector": "gitlab", "full": True}

    event = scheduled_event(constant)
    event["connector"] = "slack"

    assert constant == {"connector": "gitlab", "full": True}
    assert scheduled_event(constant) == constant


# -- the Lambda context -------------------------------------------------------------------------
def test_given_a_deadline_when_time_passes_then_remaining_time_counts_down_to_zero():
    now = [100.0]
    context = LocalLambdaContext("fn", timeout_ms=3_000, clock=lambda: now[0])

    assert context.get_remaining_time_in_millis() == 3_000
    now[0] += 1.25
    assert context.get_remaining_time_in_millis() == 1_750
    now[0] += 10
    assert context.get_remaining_time_in_millis() == 0


def test_given_a_local_context_when_powertools_logger_injects_it_then_fields_are_logged():
    stream = io.StringIO()
    logger = Logger(service="unit", stream=stream)

    @logger.inject_lambda_context
    def handler(event, context):
        logger.info("hello")

    context = LocalLambdaContext("orchestrator", memory_limit_in_mb=512)
    handler({}, context)

    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["function_name"] == "orchestrator"
    assert line["function_memory_size"] == 512
    assert line["function_request_id"] == context.aws_request_id
    assert line["function_arn"].endswith(":function:orchestrator")


def test_given_a_non_positive_timeout_when_creating_a_context_then_value_error():
    with pytest.raises(ValueError, match="timeout_ms"):
        LocalLambdaContext("fn", timeout_ms=0)


# -- proxy results → HTTP responses -------------------------------------------------------------
def test_given_headers_in_both_maps_when_translated_then_merged_like_api_gateway():
    response = proxy_response(
        {
            "statusCode": 200,
            "headers": {"X-A": "1", "X-B": "only-single"},
            "multiValueHeaders": {"X-A": ["1", "2"], "Set-Cookie": ["a=1", "b=2"]},
            "body": "ok",
        },
        "req-1",
    )

    headers = [(k.decode(), v.decode()) for k, v in response.raw_headers]
    assert [v for k, v in headers if k == "x-a"] == ["1", "2"]  # the duplicate appears once
    assert [v for k, v in headers if k == "x-b"] == ["only-single"]
    assert [v for k, v in headers if k == "set-cookie"] == ["a=1", "b=2"]
    assert ("x-amzn-requestid", "req-1") in headers
    assert response.body == b"ok"


def test_given_a_base64_body_when_translated_then_the_client_gets_the_bytes():
    response = proxy_response(
        {
            "statusCode": 200,
            "body": base64.b64encode(b"\x00\xff").decode(),
            "isBase64Encoded": True,
        },
        "r",
    )

    assert response.body == b"\x00\xff"


def test_given_a_handler_content_length_when_translated_then_the_gateway_frames_the_body():
    response = proxy_response(
        {"statusCode": 200, "headers": {"Content-Length": "999"}, "body": "ab"}, "r"
    )

    assert [v for k, v in response.raw_headers if k == b"content-length"] == [b"2"]


@pytest.mark.parametrize(
    "result",
    [
        "not an object",
        {"body": "no status"},
        {"statusCode": "200"},
        {"statusCode": True},
        {"statusCode": 700},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"X-A": 1}},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "not a list"}},
        {"statusCode": 200, "headers": {"X-A": "line\r\nbreak"}},
        {"statusCode": 200, "headers": {"bad name": "v"}},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
        {"statusCode": 200, "isBase64Encoded": "yes"},
    ],
)
def test_given_a_malformed_proxy_result_when_translated_then_value_error(result):
    with pytest.raises(ValueError):
        proxy_response(result, "r")


# -- partial batch responses (Lambda's rules for SQS) -------------------------------------------
@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, {"a", "b"}),
        ({"batchItemFailures": [{"id": "b"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, {"a", "b"}),
        ({"batchItemFailures": "b"}, {"a", "b"}),
        ("ok", {"a", "b"}),
    ],
)
def test_given_a_batch_response_when_read_then_failures_follow_lambdas_rules(response, failed):
    assert failed_message_ids(response, {"a", "b"}) == failed


# -- which files are raw documents --------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("raw/slack/C024.json", True),
        ("raw/gitlab/group%2Fproject%23123.json", True),
        ("raw/slack/.starts-with-dot.json", True),  # document ids may start with a dot
        ("raw/slack/.#C024.json", False),  # emacs lock
        ("raw/slack/.C024.json.swp", False),
        ("raw/slack/.abc123.tmp", False),  # the store's temporary file
        ("raw/slack/C024.json~", False),
        ("raw/slack/#C024.json#", False),
        ("raw/slack/nested/C024.json", False),
        ("raw/C024.json", False),
        ("raw/../C024.json", False),
    ],
)
def test_given_a_key_when_filtered_then_only_documents_pass(key, expected):
    assert is_document_key(key) is expected


# -- API Gateway WebSocket API --------------------------------------------------------------------
def _websocket_event(route_key: str, **fields):
    from kass.serve.events import api_gateway_websocket_event

    return api_gateway_websocket_event(
        route_key,
        connection_id="L0SM9cOFvHcCIhw=",
        connected_at_ms=1_770_660_703_419,
        domain_name="a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        source_ip="192.0.2.10",
        user_agent="test-agent",
        stage="dev",
        **fields,
    )


def test_given_a_connect_when_built_then_powertools_parses_it_with_headers_and_query():
    from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketConnectEventModel

    event = _websocket_event(
        "$connect", headers={"Host": ["h"], "X-Many": ["a", "b"]}, query={"api_key": ["k"]}
    )

    parsed = parse(event=event, model=APIGatewayWebSocketConnectEventModel)
    assert parsed.request_context.event_type == "CONNECT"
    assert parsed.request_context.connection_id == "L0SM9cOFvHcCIhw="
    assert parsed.headers == {"Host": "h", "X-Many": "b"}
    assert event["queryStringParameters"] == {"api_key": "k"}
    assert event["requestContext"]["identity"]["userAgent"] == "test-agent"


def test_given_a_message_when_built_then_powertools_parses_it_and_binary_is_base64():
    from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketMessageEventModel

    text = _websocket_event("$default", body='{"action":"ping"}')
    binary = _websocket_event("$default", body=b"\xff\x00")

    parsed = parse(event=text, model=APIGatewayWebSocketMessageEventModel)
    assert parsed.request_context.event_type == "MESSAGE" and parsed.body == '{"action":"ping"}'
    assert text["isBase64Encoded"] is False and "headers" not in text
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00"
    assert text["requestContext"]["messageId"] != binary["requestContext"]["messageId"]


def test_given_a_disconnect_when_built_then_powertools_parses_the_close_code_and_reason():
    from aws_lambda_powertools.utilities.parser.models import (
        APIGatewayWebSocketDisconnectEventModel,
    )

    event = _websocket_event(
        "$disconnect", headers={}, disconnect_status_code=1001, disconnect_reason="going away"
    )

    parsed = parse(event=event, model=APIGatewayWebSocketDisconnectEventModel)
    assert parsed.request_context.disconnect_status_code == 1001
    assert parsed.request_context.disconnect_reason == "going away"
    assert "queryStringParameters" not in event
