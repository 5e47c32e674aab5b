"""A small WebSocket function for the `kass serve` gateway tests: it refuses `$connect` with
`?refuse=1`, and answers a message through the management API (boto3, the real client):
`get` posts the GetConnection result, `delete` closes the connection, `boom` raises (a function
error), anything else is posted back with the route key it arrived on."""

from __future__ import annotations

import json
from typing import Any

import boto3

events: list[dict[str, Any]] = []  # module state survives between invocations


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    events.append(event)
    request = event["requestContext"]
    if request["routeKey"] == "$connect":
        refused = (event.get("queryStringParameters") or {}).get("refuse")
        return {"statusCode": 401 if refused else 200}
    if request["routeKey"] != "$default":
        return {"statusCode": 200}
    import os

    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=os.environ["KASS_STREAM_MANAGEMENT_URL"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    connection_id = request["connectionId"]
    body = event["body"]
    if body == "boom":
        raise RuntimeError("boom")
    if body == "delete":
        client.delete_connection(ConnectionId=connection_id)
        return {"statusCode": 200}
    if body == "get":
        found = client.get_connection(ConnectionId=connection_id)
        reply = {"sourceIp": found["Identity"]["SourceIp"], "since": str(found["ConnectedAt"])}
    else:
        reply = {"routeKey": request["routeKey"], "body": body, "connected": request["connectedAt"]}
    client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(reply).encode())
    return {"statusCode": 200}
