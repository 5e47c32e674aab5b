"""The events AWS delivers to the functions, built locally with the exact shapes AWS documents.

- API Gateway REST API, Lambda proxy integration (payload format 1.0), to the HTTP functions.
- S3 event notifications as EventBridge delivers them ("Object Created" / "Object Deleted"),
  wrapped one per message in an SQS event, to the document processor (S3 → EventBridge rule →
  SQS queue → Lambda event source mapping).
- API Gateway WebSocket API, Lambda proxy integration (`$connect`, `$default`, `$disconnect`),
  to the stream handler.
- A schedule's constant input, to the data fetcher.

Field names follow the AWS documentation and Powertools' parser models (which the unit tests
validate against). Values AWS would fill with account-specific data use the local constants
below; nothing here reads the environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

LOCAL_ACCOUNT = "000000000000"  # the placeholder account id local AWS emulators use
LOCAL_REGION = "us-east-1"
LOCAL_API_ID = "local"
LOCAL_STAGE = "local"
LOCAL_QUEUE = "kass-local-document-events"
LOCAL_SENDER_ID = "AIDAEVENTBRIDGELOCAL"  # SenderId of messages EventBridge puts on a queue

ObjectEventType = Literal["Object Created", "Object Deleted"]
_DEFAULT_REASON: dict[str, str] = {"Object Created": "PutObject", "Object Deleted": "DeleteObject"}
_EMPTY_ETAG = hashlib.md5(b"", usedforsecurity=False).hexdigest()  # ETag of an empty object
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------------------------------------
# API Gateway REST proxy integration (payload format 1.0)
# ---------------------------------------------------------------------------------------------
def api_gateway_rest_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, Sequence[str]] | None = None,
    body: bytes = b"",
    request_id: str | None = None,
    stage: str = LOCAL_STAGE,
    source_ip: str = "127.0.0.1",
    api_id: str = LOCAL_API_ID,
    account_id: str = LOCAL_ACCOUNT,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends a Lambda proxy integration for one request.

    `query` and `headers` are multi-value; as in AWS, the single-value maps hold the last
    value of each name, and absent query strings and path parameters are null. The body is
    passed as text when it is UTF-8 and base64-encoded (`isBase64Encoded`) otherwise: the
    behaviour of an API whose binary media types include `*/*` for non-text payloads.
    """
    moment = now or datetime.now(UTC)
    header_values = {name: list(values) for name, values in (headers or {}).items()}
    query_values = {name: list(values) for name, values in (query or {}).items()}
    user_agent = _last(header_values, "user-agent")
    host = _last(header_values, "host") or "localhost"
    text, encoded = _encode_body(body)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in header_values.items() if values},
        "multiValueHeaders": header_values,
        "queryStringParameters": (
            {name: values[-1] for name, values in query_values.items() if values} or None
        ),
        "multiValueQueryStringParameters": query_values or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": _resource_id(resource),
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "requestTime": _request_time(moment),
            "path": f"/{stage}{path}",
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "requestTimeEpoch": int(moment.timestamp() * 1000),
            "requestId": request_id or str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "apiKey": None,
                "apiKeyId": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": host,
            "apiId": api_id,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def _last(values: Mapping[str, list[str]], name: str) -> str | None:
    """Last value of a header, matching its name case-insensitively (HTTP header semantics)."""
    for key, found in values.items():
        if key.lower() == name and found:
            return found[-1]
    return None


def _encode_body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _resource_id(resource: str) -> str:
    # API Gateway gives each resource a short stable id; derive one from the path.
    return hashlib.sha1(resource.encode(), usedforsecurity=False).hexdigest()[:6]


def _request_time(moment: datetime) -> str:
    """CLF-like `22/Nov/2026:09:15:02 +0000`, with English month names whatever the locale."""
    utc = moment.astimezone(UTC)
    return f"{utc:%d}/{_MONTHS[utc.month - 1]}/{utc:%Y:%H:%M:%S} +0000"


# ---------------------------------------------------------------------------------------------
# API Gateway WebSocket API, Lambda proxy integration
# ---------------------------------------------------------------------------------------------
_WEBSOCKET_EVENT_TYPES = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}


def new_connection_id() -> str:
    """An id shaped like API Gateway's (`L0SM9cOFvHcCIhw=`): 11 random bytes, URL-safe base64,
    so it travels in the management API's path unescaped."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes[:11]).decode("ascii")


def api_gateway_websocket_event(
    route_key: str,
    *,
    connection_id: str,
    connected_at_ms: int,
    domain_name: str,
    source_ip: str = "127.0.0.1",
    user_agent: str | None = None,
    headers: Mapping[str, Sequence[str]] | None = None,
    query: Mapping[str, Sequence[str]] | None = None,
    body: str | bytes | None = None,
    disconnect_status_code: int = 1005,
    disconnect_reason: str = "",
    request_id: str | None = None,
    stage: str = LOCAL_STAGE,
    api_id: str = LOCAL_API_ID,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends for a WebSocket route (`$connect`, `$disconnect`, or a
    message's route, `$default` here).

    As in AWS: `$connect` carries the handshake's headers and query string (absent when there
    is none), `$disconnect` the headers and the close code and reason, a message its frame as
    `body` (a binary frame, given as bytes, base64-encoded); a message's identity holds only
    the source IP.
    """
    moment = now or datetime.now(UTC)
    event_type = _WEBSOCKET_EVENT_TYPES.get(route_key, "MESSAGE")
    identity: dict[str, Any] = {"sourceIp": source_ip}
    if event_type != "MESSAGE":
        identity["userAgent"] = user_agent
    context: dict[str, Any] = {"routeKey": route_key}
    if event_type == "MESSAGE":
        context["messageId"] = base64.urlsafe_b64encode(uuid.uuid4().bytes[:11]).decode()
    if event_type == "DISCONNECT":
        context["disconnectStatusCode"] = disconnect_status_code
        context["disconnectReason"] = disconnect_reason
    context.update(
        {
            "eventType": event_type,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "requestTime": _request_time(moment),
            "messageDirection": "IN",
            "stage": stage,
            "connectedAt": connected_at_ms,
            "requestTimeEpoch": int(moment.timestamp() * 1000),
            "identity": identity,
            "requestId": request_id or base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "domainName": domain_name,
            "connectionId": connection_id,
            "apiId": api_id,
        }
    )
    event: dict[str, Any] = {}
    if event_type != "MESSAGE":
        header_values = {name: list(values) for name, values in (headers or {}).items()}
        event["headers"] = {name: values[-1] for name, values in header_values.items() if values}
        event["multiValueHeaders"] = header_values
    if event_type == "CONNECT" and query:
        query_values = {name: list(values) for name, values in query.items()}
        event["queryStringParameters"] = {n: v[-1] for n, v in query_values.items() if v}
        event["multiValueQueryStringParameters"] = query_values
    event["requestContext"] = context
    if event_type == "MESSAGE":
        if isinstance(body, bytes):
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
        else:
            event["body"], event["isBase64Encoded"] = body or "", False
    else:
        event["isBase64Encoded"] = False
    return event


# ---------------------------------------------------------------------------------------------
# S3 event notifications delivered by EventBridge
# ---------------------------------------------------------------------------------------------
def s3_eventbridge_event(
    detail_type: ObjectEventType,
    bucket: str,
    key: str,
    *,
    size: int | None = None,
    etag: str | None = None,
    sequencer: str | None = None,
    version_id: str | None = None,
    reason: str | None = None,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
    region: str = LOCAL_REGION,
    account_id: str = LOCAL_ACCOUNT,
    requester: str | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An "Object Created" / "Object Deleted" event as S3 sends it to EventBridge.

    Created events carry the object's size and ETag; Deleted events carry neither, and say
    `deletion-type: Permanently Deleted` (an unversioned bucket). `version-id` appears only
    when given (versioned buckets). `sequencer` orders events of one key; by default it grows
    with the clock, as S3's does.
    """
    if detail_type not in _DEFAULT_REASON:
        raise ValueError(f"detail_type must be one of {sorted(_DEFAULT_REASON)}: {detail_type!r}")
    created = detail_type == "Object Created"
    obj: dict[str, Any] = {"key": key}
    if created:
        obj["size"] = size if size is not None else 0
        obj["etag"] = etag if etag is not None else _EMPTY_ETAG
    else:
        if size is not None:
            obj["size"] = size
        if etag is not None:
            obj["etag"] = etag
    if version_id is not None:
        obj["version-id"] = version_id
    obj["sequencer"] = sequencer or f"{time.time_ns():018X}"
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": obj,
        "request-id": request_id or uuid.uuid4().hex[:16].upper(),
        "requester": requester or account_id,
        "source-ip-address": source_ip,
        "reason": reason or _DEFAULT_REASON[detail_type],
    }
    if not created:
        detail["deletion-type"] = "Permanently Deleted"
    moment = (occurred_at or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": f"{moment:%Y-%m-%dT%H:%M:%SZ}",
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": detail,
    }


# ---------------------------------------------------------------------------------------------
# SQS (Lambda event source mapping)
# ---------------------------------------------------------------------------------------------
def queue_arn(
    queue: str = LOCAL_QUEUE, *, region: str = LOCAL_REGION, account_id: str = LOCAL_ACCOUNT
) -> str:
    return f"arn:aws:sqs:{region}:{account_id}:{queue}"


def sqs_record(
    body: str | Mapping[str, Any],
    *,
    message_id: str | None = None,
    receive_count: int = 1,
    sent_at_ms: int | None = None,
    first_received_at_ms: int | None = None,
    source_arn: str | None = None,
    region: str = LOCAL_REGION,
) -> dict[str, Any]:
    """One record of an SQS event. A redelivered message keeps its `messageId` and body, gets
    a new receipt handle and a higher `ApproximateReceiveCount`."""
    text = body if isinstance(body, str) else json.dumps(body)
    now_ms = int(time.time() * 1000)
    sent = sent_at_ms if sent_at_ms is not None else now_ms
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode(),
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(sent),
            "SenderId": LOCAL_SENDER_ID,
            "ApproximateFirstReceiveTimestamp": str(
                first_received_at_ms if first_received_at_ms is not None else now_ms
            ),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn or queue_arn(region=region),
        "awsRegion": region,
    }


def sqs_event(
    bodies: Iterable[str | Mapping[str, Any]],
    *,
    source_arn: str | None = None,
    region: str = LOCAL_REGION,
) -> dict[str, Any]:
    """An SQS event holding one first-time-received record per body (dicts are JSON-encoded)."""
    return {"Records": [sqs_record(body, source_arn=source_arn, region=region) for body in bodies]}


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------
def scheduled_event(constant_input: Mapping[str, Any]) -> dict[str, Any]:
    """What the data fetcher receives from its schedule: the rule target's constant input.

    An EventBridge rule whose target sets `Input` delivers that JSON verbatim as the event,
    not the "Scheduled Event" envelope (source aws.events); so the event *is* the input,
    e.g. `{"connector": "gitlab"}`. It goes through JSON as Lambda's payload would.
    """
    loaded: dict[str, Any] = json.loads(json.dumps(constant_input))
    return loaded
