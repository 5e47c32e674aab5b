"""Invoking the real Lambda handlers in tests: fresh module per test module, real event shapes.

Events start from the JSON fixtures in tests/events (copied from the shapes AWS documents) and
change only the fields a test is about.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from kass.api.routes import handler_file
from kass.serve.context import LocalLambdaContext

EVENTS = Path(__file__).resolve().parents[1] / "events"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "workspace"
_loaded = itertools.count()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def load_handler(function: str) -> ModuleType:
    """Import lambda_functions/<function>/handler.py afresh (its init reads the current env)."""
    spec = importlib.util.spec_from_file_location(
        f"handler_{function}_{next(_loaded)}", handler_file(function)
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as the Lambda runtime imports it
    spec.loader.exec_module(module)
    return module


def context(function: str = "test", timeout_ms: int = 30_000) -> LocalLambdaContext:
    return LocalLambdaContext(function, timeout_ms=timeout_ms)


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    subject: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event; `body` is JSON-encoded unless it is already a string."""
    event = load_event("apigw_rest_post_chat.json")
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["resource"] = event["requestContext"]["resourcePath"] = resource or path
    event["pathParameters"] = path_parameters
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    if body is None:
        event["body"] = None
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if subject is not None:  # as a JWT (Cognito) authorizer passes the verified claims
        event["requestContext"]["authorizer"] = {"claims": {"sub": subject}}
    return event


def s3_change(detail_type: str, bucket: str, key: str, event_id: str | None = None) -> dict:
    name = "eventbridge_s3_object_created.json"
    if detail_type == "Object Deleted":
        name = "eventbridge_s3_object_deleted.json"
    event = load_event(name)
    event["id"] = event_id or str(uuid.uuid4())
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = key
    return event


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    template = load_event("sqs_batch.json")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(record)
    return {"Records": records}


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def ingest_samples() -> None:
    """Index the bundled sample workspace into the workspace the current environment names."""
    from kass.ingest.loaders import load_path
    from kass.ingest.pipeline import ingest
    from kass.settings import load_settings
    from kass.wiring import Runtime

    runtime = Runtime(load_settings())
    try:
        ingest(
            load_path(SAMPLES),
            index=runtime.index,
            embedder=runtime.embedder,
            chunker=runtime.chunker,
            origin=str(SAMPLES),
        )
    finally:
        runtime.close()
