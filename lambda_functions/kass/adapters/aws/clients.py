"""boto3 clients with one retry policy, cached per service (one per Lambda container)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str, *, region: str, max_attempts: int = 5) -> Any:
    """Standard retry mode: exponential backoff with full jitter on throttling and 5xx.

    Endpoints come from boto3's standard configuration (`AWS_ENDPOINT_URL`,
    `AWS_ENDPOINT_URL_<SERVICE>`), so emulators need no code path of their own.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.session.Session().client(service, config=config)
