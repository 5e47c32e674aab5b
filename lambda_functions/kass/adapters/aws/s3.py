"""S3 adapter of the raw document store: one JSON object per document under `raw/<source>/`.

Each object carries the SHA-256 of its body as user metadata (`kass-sha256`), so a copy
(`kass migrate`) can tell an identical object from a changed one with a HEAD request (`holds`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError, NoCredentialsError
from pydantic import ValidationError

from kass.errors import InvalidInput, KassError
from kass.models import Document
from kass.raw_keys import PREFIX, doc_key, parse_key

SHA256_METADATA = "kass-sha256"  # S3 returns user metadata keys lower-cased: keep it so


def document_body(document: Document) -> bytes:
    """The bytes `S3RawDocumentStore.put` writes for `document`."""
    return document.model_dump_json().encode("utf-8")


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class S3RawDocumentStore:
    def __init__(self, bucket: str, *, kms_key_id: str | None = None, client: Any) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self.client = client

    @property
    def location(self) -> str:
        return self.bucket

    def put(self, document: Document) -> str:
        key = doc_key(document.source, document.id)
        body = document_body(document)
        extra: dict[str, str] = {}
        if self.kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        # Without a key id, "aws:kms" alone would pick the AWS-managed aws/s3 key over the
        # bucket's own default key; sending nothing lets the bucket default apply.
        with self._errors():
            # One PutObject is atomic: readers see the old object or the new one, never a part.
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                Metadata={SHA256_METADATA: body_sha256(body)},
                **extra,
            )
        return key

    def get(self, key: str) -> Document | None:
        parse_key(key)
        with self._errors():
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
            body = response["Body"].read()
        try:
            return Document.model_validate_json(body)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise InvalidInput(f"raw document {key} is not a valid document: {problem}") from None

    def holds(self, document: Document) -> bool:
        """True when the object of `document` exists with exactly this content (one HEAD)."""
        head = self._head(doc_key(document.source, document.id))
        if head is None:
            return False
        metadata: dict[str, str] = head.get("Metadata", {})
        return metadata.get(SHA256_METADATA) == body_sha256(document_body(document))

    def delete(self, key: str) -> bool:
        parse_key(key)
        if self._head(key) is None:
            return False
        with self._errors():
            self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def keys(self, source: str | None = None) -> Iterator[str]:
        prefix = PREFIX if source is None else f"{PREFIX}{quote(source, safe='')}/"
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    if _is_doc_key(entry["Key"]):
                        yield entry["Key"]

    def _head(self, key: str) -> dict[str, Any] | None:
        with self._errors():
            try:
                head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
        return head

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                raise KassError(
                    f"S3 bucket {self.bucket!r} does not exist (check KASS_AWS_RAW_BUCKET)"
                ) from None
            raise
        except NoCredentialsError:
            raise KassError("no AWS credentials found for S3") from None


def _missing(exc: ClientError) -> bool:
    # GetObject says NoSuchKey; HEAD responses have no body, so only the status says 404.
    code = exc.response.get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


def _is_doc_key(key: str) -> bool:
    try:
        parse_key(key)
    except InvalidInput:
        return False
    return True
