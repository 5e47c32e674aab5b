"""The `aws` profile end to end, offline: the real handlers against a moto server (S3, DynamoDB,
KMS), the OpenSearch HTTP double and the Bedrock runtime double, all reached through the same
endpoint configuration a deployment uses (`AWS_ENDPOINT_URL[_<SERVICE>]`,
`KASS_AWS_OPENSEARCH_ENDPOINT`). Nothing here takes a code path of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from aws_fixtures import create_bucket, create_tables, set_moto_env, table_names
from lambda_harness import context, json_body, load_handler, rest_event, s3_change, sqs_event
from moto.server import ThreadedMotoServer
from scripted_connector import T0, ScriptedSource
from tests.doubles.bedrock_runtime import start_bedrock_double
from tests.doubles.opensearch import OpenSearchDouble

from kass import connectors
from kass.adapters.aws import clients
from kass.adapters.aws.dynamodb import TABLES
from kass.raw_keys import doc_key
from kass.settings import AwsSettings

FUNCTIONS = ("orchestrator", "vector_search", "document_processor", "data_fetcher")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    opensearch = OpenSearchDouble().start()
    bedrock, bedrock_url = start_bedrock_double()
    host, port = moto.get_host_and_port()
    yield {
        "moto": f"http://{host}:{port}",
        "opensearch": f"http://127.0.0.1:{opensearch.port}",
        "bedrock": bedrock_url,
    }
    bedrock.stop()
    opensearch.stop()
    moto.stop()


@pytest.fixture()
def stack(servers, tmp_path, monkeypatch):
    """A fresh deployment's resources (unique names per test) and the four handlers on them."""
    set_moto_env(monkeypatch, servers["moto"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", servers["bedrock"])
    prefix = f"kass-t{uuid.uuid4().hex[:8]}"
    env = {
        "KASS_PROFILE": "aws",
        "KASS_HOME": str(tmp_path),
        "KASS_AWS_OPENSEARCH_ENDPOINT": servers["opensearch"],
        "KASS_AWS_OPENSEARCH_INDEX": f"{prefix}-chunks",
        "KASS_AWS_RAW_BUCKET": f"{prefix}-raw",
        **{f"KASS_AWS_{kind.upper()}_TABLE": f"{prefix}-{kind}" for kind in TABLES},
        "KASS_BEDROCK_EMBED_DIMENSION": "256",
        "KASS_AWS_MAX_ATTEMPTS": "2",
        "POWERTOOLS_METRICS_NAMESPACE": "kass-test",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    clients.client.cache_clear()  # clients remember the endpoint they were made with
    aws = AwsSettings()
    create_tables(boto3.client("dynamodb", endpoint_url=servers["moto"]), table_names(aws))
    create_bucket(boto3.client("s3", endpoint_url=servers["moto"]), aws.raw_bucket)
    key = boto3.client("kms", endpoint_url=servers["moto"]).create_key()["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("KASS_AWS_KMS_KEY_ID", key)
    source = ScriptedSource(count=0)
    source.items = {
        "deploy-freeze": {
            "text": "Deploys are frozen until the ballast migration ends.",
            "updated": T0,
        },
        "login-bug": {
            "text": "Login failed after the 2.3 release because the session cookie "
            "lost its SameSite attribute; the fix shipped in 2.3.1.",
            "updated": T0 + timedelta(minutes=1),
        },
    }
    monkeypatch.setitem(connectors.CONNECTORS, "scripted", lambda settings: source)
    handlers = {name: load_handler(name) for name in FUNCTIONS}
    yield handlers, aws
    clients.client.cache_clear()


def process_all(handlers, aws: AwsSettings, detail_type: str = "Object Created") -> dict:
    keys = list(handlers["document_processor"].runtime.raw_store.keys())
    events = [s3_change(detail_type, aws.raw_bucket, key) for key in keys]
    return handlers["document_processor"].lambda_handler(sqs_event(*events), context())


def test_given_a_fetch_and_processing_when_asking_then_cited_answer_from_aws_adapters(stack):
    handlers, aws = stack

    fetched = handlers["data_fetcher"].lambda_handler({"connector": "scripted"}, context())
    processed = process_all(handlers, aws)
    first = handlers["orchestrator"].lambda_handler(
        rest_event("POST", "/chat", body={"message": "Why did login fail after 2.3?"}), context()
    )
    second = handlers["orchestrator"].lambda_handler(
        rest_event("POST", "/chat", body={"message": "why did login fail after 2.3"}), context()
    )

    assert fetched["documents_written"] == 2 and processed == {"batchItemFailures": []}
    assert first["statusCode"] == 200, first["body"]
    answer = json_body(first)
    assert answer["found"] and answer["citations"][0]["doc_id"] == "login-bug"
    assert json_body(second)["cached"] is True
    s3 = boto3.client("s3")
    head = s3.head_object(Bucket=aws.raw_bucket, Key=doc_key("scripted", "login-bug"))
    assert head["ServerSideEncryption"] == "aws:kms"
    stored = boto3.client("dynamodb").query(
        TableName=aws.conversations_table,
        KeyConditionExpression="conversation_id = :c",
        ExpressionAttributeValues={":c": {"S": answer["conversation_id"]}},
    )
    assert stored["Count"] >= 2  # the question and the answer, one item each


def test_given_a_document_deleted_from_the_bucket_when_processed_then_gone_from_search(stack):
    handlers, aws = stack
    handlers["data_fetcher"].lambda_handler({"connector": "scripted"}, context())
    process_all(handlers, aws)
    search = handlers["vector_search"]

    boto3.client("s3").delete_object(
        Bucket=aws.raw_bucket, Key=doc_key("scripted", "deploy-freeze")
    )
    deleted = handlers["document_processor"].lambda_handler(
        sqs_event(
            s3_change("Object Deleted", aws.raw_bucket, doc_key("scripted", "deploy-freeze"))
        ),
        context(),
    )
    found = search.lambda_handler(
        rest_event("POST", "/search", body={"query": "ballast migration", "mode": "bm25"}),
        context(),
    )

    assert deleted == {"batchItemFailures": []}
    assert found["statusCode"] == 200, found["body"]
    assert [r["doc_id"] for r in json_body(found)["results"]] == []


def test_given_the_haiku_tier_when_asking_then_bedrock_converse_writes_the_cited_answer(
    stack, monkeypatch
):
    handlers, aws = stack
    handlers["data_fetcher"].lambda_handler({"connector": "scripted"}, context())
    process_all(handlers, aws)
    monkeypatch.setenv("KASS_CHAT_TIER", "haiku")
    orchestrator = load_handler("orchestrator")

    response = orchestrator.lambda_handler(
        rest_event("POST", "/chat", body={"message": "Why did login fail after 2.3?"}), context()
    )

    assert response["statusCode"] == 200, response["body"]
    answer = json_body(response)
    assert answer["tier"] == "haiku" and answer["found"]
    assert answer["citations"] and "[1]" in answer["text"]
