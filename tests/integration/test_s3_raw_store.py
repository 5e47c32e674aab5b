"""The raw document store's behaviour, one suite run against S3 (under moto) and a folder alike.

What only S3 has (SSE-KMS, the content hash metadata, pagination, a missing bucket) is tested
at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import REGION, create_bucket, set_moto_env
from moto import mock_aws

from kass.adapters.aws.s3 import S3RawDocumentStore
from kass.adapters.local.raw_store import FolderRawDocumentStore
from kass.errors import InvalidInput, KassError
from kass.models import Document
from kass.raw_keys import doc_key

BUCKET = "kass-test-raw"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    set_moto_env(monkeypatch)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        create_bucket(client, BUCKET)
        yield client


@pytest.fixture
def kms_key(s3) -> str:
    return boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]


@pytest.fixture(params=["s3", "folder"])
def store(request, tmp_path: Path) -> Any:
    if request.param == "folder":
        return FolderRawDocumentStore(tmp_path / "home")
    client = request.getfixturevalue("s3")
    return S3RawDocumentStore(BUCKET, kms_key_id=request.getfixturevalue("kms_key"), client=client)


def document(doc_id: str = "group/project#12", source: str = "gitlab", **fields) -> Document:
    values: dict[str, Any] = {
        "id": doc_id,
        "source": source,
        "url": "https://gitlab.example/group/project/-/issues/12",
        "title": "ログインできない",
        "text": "2.3 のリリース後にログインが失敗する。\nSee MR !34.",
        "metadata": {"project": "group/project"},
        "updated_at": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
    }
    values.update(fields)
    return Document(**values)


# -- both stores -------------------------------------------------------------------------------
def test_given_a_put_document_when_got_by_its_key_then_equal(store):
    original = document()

    key = store.put(original)

    assert key == doc_key("gitlab", "group/project#12")
    assert store.get(key) == original


@pytest.mark.parametrize(
    "doc_id", ["a/b/c", "slack:C123:1700000000.000100", "日本語のID", "..", ".hidden", "100%"]
)
def test_given_ids_with_slashes_unicode_or_dots_when_round_tripped_then_one_object_each(
    store, doc_id
):
    key = store.put(document(doc_id))

    assert list(store.keys()) == [key]
    assert store.get(key).id == doc_id


def test_given_documents_of_several_sources_when_listing_then_key_order_and_source_filter(store):
    keys = [
        store.put(document("2", "slack")),
        store.put(document("b", "gitlab")),
        store.put(document("a", "gitlab")),
        store.put(document("x", "backlog")),
    ]

    assert list(store.keys()) == sorted(keys)
    assert list(store.keys("gitlab")) == [doc_key("gitlab", "a"), doc_key("gitlab", "b")]
    assert list(store.keys("nothing")) == []


def test_given_a_document_put_twice_when_got_then_the_latest_version(store):
    store.put(document(text="first"))

    key = store.put(document(text="second"))

    assert store.get(key).text == "second"
    assert list(store.keys()) == [key]


def test_given_a_document_when_deleted_then_gone_and_a_second_delete_says_so(store):
    key = store.put(document())

    assert store.delete(key) is True
    assert store.get(key) is None
    assert list(store.keys()) == []
    assert store.delete(key) is False


def test_given_an_empty_store_when_read_then_nothing(store):
    assert store.get(doc_key("gitlab", "missing")) is None
    assert list(store.keys()) == []


@pytest.mark.parametrize("key", ["raw/x.json", "other/gitlab/a.json", "raw/gitlab/a.txt", ""])
def test_given_a_key_that_is_not_a_raw_document_key_when_got_then_invalid_input(store, key):
    with pytest.raises(InvalidInput, match="not a raw document key"):
        store.get(key)


# -- S3 only -----------------------------------------------------------------------------------
def test_given_a_kms_key_when_put_then_the_object_is_sse_kms_json_with_its_body_hash(s3, kms_key):
    store = S3RawDocumentStore(BUCKET, kms_key_id=kms_key, client=s3)

    key = store.put(document())

    head = s3.head_object(Bucket=BUCKET, Key=key)
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == kms_key
    assert head["ContentType"] == "application/json"
    assert head["Metadata"]["kass-sha256"] == hashlib.sha256(body).hexdigest()
    assert store.location == BUCKET


def test_given_no_kms_key_when_put_then_no_encryption_header_so_the_bucket_default_applies(s3):
    store = S3RawDocumentStore(BUCKET, client=s3)

    key = store.put(document())

    assert "SSEKMSKeyId" not in s3.head_object(Bucket=BUCKET, Key=key)


def test_given_a_stored_document_when_asked_if_held_then_only_identical_content_counts(s3):
    store = S3RawDocumentStore(BUCKET, client=s3)
    stored = document()
    store.put(stored)

    assert store.holds(stored) is True
    assert store.holds(document(text="edited")) is False
    assert store.holds(document("other")) is False


def test_given_an_object_that_is_not_a_document_when_got_then_invalid_input_naming_the_key(s3):
    store = S3RawDocumentStore(BUCKET, client=s3)
    key = doc_key("gitlab", "broken")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"{not json")

    with pytest.raises(InvalidInput, match="raw/gitlab/broken.json") as caught:
        store.get(key)

    assert "\n" not in str(caught.value)


def test_given_more_objects_than_one_listing_page_when_listed_then_every_key(s3):
    keys = sorted(doc_key("slack", f"{n:05d}") for n in range(1003))
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key="raw/slack/notes.txt", Body=b"not a document key")

    assert list(S3RawDocumentStore(BUCKET, client=s3).keys("slack")) == keys


def test_given_a_missing_bucket_when_used_then_a_one_line_error_naming_it(s3):
    store = S3RawDocumentStore("no-such-bucket", client=s3)

    with pytest.raises(KassError, match="'no-such-bucket' does not exist"):
        store.put(document())
    with pytest.raises(KassError, match="'no-such-bucket' does not exist"):
        list(store.keys())
