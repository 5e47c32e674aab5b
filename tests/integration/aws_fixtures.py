"""Shared set-up for tests against moto: environment, tables from the adapters' definitions.

Fixture-free helpers, so any test module can build its own fixtures on them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from moto.core.botocore_stubber import BotocoreStubber

from kass.adapters.aws.dynamodb import TABLES
from kass.settings import AwsSettings

REGION = "us-east-1"
MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "KASS_AWS_REGION": REGION,
    # No developer profile or config file leaks into a test.
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


def set_moto_env(monkeypatch: pytest.MonkeyPatch, endpoint_url: str | None = None) -> None:
    """Dummy credentials and region.

    `endpoint_url` points boto3 at a moto server; without it, requests go to AWS host names,
    which the in-process `mock_aws` intercepts.
    """
    for name, value in MOTO_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    if endpoint_url is None:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)


def table_names(aws: AwsSettings) -> dict[str, str]:
    """Table kind -> name, as the settings configure them."""
    return {kind: getattr(aws, f"{kind}_table") for kind in TABLES}


def create_tables(client: Any, names: Mapping[str, str]) -> None:
    """Create the tables `names` (kind -> table name) from the adapters' definitions, with TTL."""
    for kind, name in names.items():
        definition, ttl_attribute = TABLES[kind]
        client.create_table(**definition(name))
        if ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
            )


def create_bucket(client: Any, bucket: str) -> None:
    client.create_bucket(Bucket=bucket)  # us-east-1 takes no location constraint


def serialize_moto_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handle one in-process moto request at a time.

    DynamoDB applies each request atomically; moto's backends take no locks, so concurrent
    requests can interleave inside one UpdateItem. Serializing requests restores the service's
    guarantee, and leaves client-side read-modify-write (the bug to catch) still racy.
    """
    lock = threading.Lock()
    original: Callable[..., Any] = BotocoreStubber.process_request

    def locked(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", locked)
