"""The document processor handler on the local profile: SQS batches of EventBridge S3 events."""

from __future__ import annotations

import pytest
from lambda_harness import context, load_handler, s3_change, sqs_event

from kass.models import Document
from kass.raw_keys import doc_key

DOC = Document(
    id="C024BE91L-1731900000.000100",
    source="slack",
    title="#ops: deploy freeze",
    text="Deploys are frozen until the ballast migration finishes on Friday.",
    url="https://example.slack.com/archives/C024BE91L/p1731900000000100",
    metadata={"channel": "ops"},
)
KEY = doc_key(DOC.source, DOC.id)


@pytest.fixture()
def handler(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KASS_HOME", str(tmp_path))
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "document_processor")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "kass-test")
    module = load_handler("document_processor")
    yield module
    module.runtime.close()


def deliver(handler, *events):
    return handler.lambda_handler(sqs_event(*events), context("document_processor"))


def indexed(handler) -> dict[str, str]:
    return dict(handler.runtime.index.document_hashes())


def bucket(handler) -> str:
    return handler.runtime.raw_store.location


def test_given_a_new_raw_document_when_object_created_arrives_then_it_is_searchable(handler):
    handler.runtime.raw_store.put(DOC)

    result = deliver(handler, s3_change("Object Created", bucket(handler), KEY))

    assert result == {"batchItemFailures": []}
    assert list(indexed(handler)) == [DOC.id]
    hits = handler.runtime.searcher.search("ballast migration", k=1)
    assert hits[0].chunk.doc_id == DOC.id


def test_given_the_same_event_twice_when_delivered_then_one_copy_and_one_version_bump(handler):
    handler.runtime.raw_store.put(DOC)
    event = s3_change("Object Created", bucket(handler), KEY)

    deliver(handler, event)
    deliver(handler, event, event)

    assert list(indexed(handler)) == [DOC.id]
    assert handler.runtime.index.stats().chunks == 1
    assert handler.runtime.checkpoints.counter("index-version") == 1


def test_given_events_out_of_order_when_delivered_then_index_matches_the_bucket(handler):
    store = handler.runtime.raw_store
    store.put(DOC)
    created = s3_change("Object Created", bucket(handler), KEY)
    store.delete(KEY)
    deleted = s3_change("Object Deleted", bucket(handler), KEY)

    deliver(handler, deleted)  # the delete is delivered first ...
    deliver(handler, created)  # ... then the stale create: the object is gone, so is the doc

    assert indexed(handler) == {}


def test_given_an_edit_when_object_created_arrives_then_chunks_are_replaced(handler):
    store = handler.runtime.raw_store
    store.put(DOC)
    deliver(handler, s3_change("Object Created", bucket(handler), KEY))
    store.put(DOC.model_copy(update={"text": "The freeze is lifted; deploy the ferry release."}))

    deliver(handler, s3_change("Object Created", bucket(handler), KEY))

    hits = handler.runtime.searcher.search("ferry release", k=5, mode="bm25")
    assert [h.chunk.doc_id for h in hits] == [DOC.id]
    assert handler.runtime.searcher.search("ballast", k=5, mode="bm25") == []


def test_given_bad_records_in_a_batch_when_processed_then_only_they_are_reported(handler):
    handler.runtime.raw_store.put(DOC)
    good = s3_change("Object Created", bucket(handler), KEY)
    other_bucket = s3_change("Object Created", "someone-elses-bucket", KEY)
    not_raw_key = s3_change("Object Created", bucket(handler), "notes/readme.txt")
    wrong_type = {**good, "detail-type": "Object Restore Completed", "id": "x-1"}
    event = sqs_event(good, other_bucket, "not json at all", not_raw_key, wrong_type)

    result = handler.lambda_handler(event, context("document_processor"))

    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    ids = [r["messageId"] for r in event["Records"]]
    assert failed == set(ids[1:])
    assert list(indexed(handler)) == [DOC.id]


def test_given_a_key_holding_another_document_when_processed_then_failure_and_index_intact(
    handler,
):
    store = handler.runtime.raw_store
    store.put(DOC)
    deliver(handler, s3_change("Object Created", bucket(handler), KEY))
    impostor_key = doc_key("slack", "someone-else")
    path = handler.runtime.settings.app.home / impostor_key
    path.write_text(DOC.model_copy(update={"text": "overwritten"}).model_dump_json())

    result = deliver(handler, s3_change("Object Created", bucket(handler), impostor_key))

    assert len(result["batchItemFailures"]) == 1
    assert handler.runtime.searcher.search("ballast migration", k=1)[0].chunk.doc_id == DOC.id
