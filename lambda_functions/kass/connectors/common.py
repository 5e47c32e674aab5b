"""What every connector shares: its credentials, its updated-since watermark, Retry-After.

Credentials: each connector has a pydantic-settings class of its own (`KASS_GITLAB_*`, ...).
On the aws profile the values come from the JSON secret `<secret_prefix><name>` in Secrets
Manager (`kass/<env>/connectors/<name>`, keys = the settings' field names); locally from the
environment or `.env`.

Watermark: an "updated since" poll re-reads an overlap window before the newest update it has
stored (clocks and eventually consistent listings can deliver late), and skips what it already
stored, so an overlap costs requests, never duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings

from kass.errors import InvalidInput, SourceError
from kass.settings import Settings

S = TypeVar("S", bound=BaseSettings)


def connector_settings(cls: type[S], name: str, settings: Settings) -> S:
    """The connector's settings: the environment, overridden on aws by its secret's JSON."""
    overrides: dict[str, Any] = {}
    prefix = settings.aws.connector_secret_prefix
    if settings.app.profile == "aws" and prefix:
        overrides = _secret_json(f"{prefix}{name}", settings)
    try:
        return cls(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{name} connector setting {field}: {first['msg']}") from None


def _secret_json(secret_id: str, settings: Settings) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    from kass.adapters.aws.clients import client

    secrets = client(
        "secretsmanager", region=settings.aws.region, max_attempts=settings.aws.max_attempts
    )
    try:
        secret = secrets.get_secret_value(SecretId=secret_id)
    except ClientError as error:
        raise SourceError(f"cannot read secret {secret_id}: {error}") from None
    try:
        value = json.loads(secret["SecretString"])
    except (KeyError, ValueError):
        raise InvalidInput(f"secret {secret_id} is not a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"secret {secret_id} is not a JSON object")
    return value


class Watermark(BaseModel):
    """Checkpoint part of an updated-since poll: the newest update stored, and the ids stored
    with exactly that update time (the overlap re-reads them; they are skipped)."""

    updated_at: datetime | None = None
    ids_at: list[str] = Field(default_factory=list)

    @classmethod
    def load(cls, checkpoint: Mapping[str, Any] | None, key: str = "watermark") -> Watermark:
        if not checkpoint or key not in checkpoint:
            return cls()
        return cls.model_validate(checkpoint[key])

    def since(self, overlap: timedelta) -> datetime | None:
        """Where the next poll starts: the watermark minus the overlap (None: from the start)."""
        return None if self.updated_at is None else self.updated_at - overlap

    def is_stored(self, item_id: str, updated_at: datetime) -> bool:
        """True when this version of the item was stored by an earlier batch."""
        if self.updated_at is None:
            return False
        updated_at = as_utc(updated_at)
        return updated_at < self.updated_at or (
            updated_at == self.updated_at and item_id in self.ids_at
        )

    def advanced(self, items: Iterable[tuple[str, datetime]]) -> Watermark:
        """The watermark after storing `items` ((id, updated_at) pairs)."""
        newest, ids = self.updated_at, set(self.ids_at)
        for item_id, updated_at in items:
            updated_at = as_utc(updated_at)
            if newest is None or updated_at > newest:
                newest, ids = updated_at, {item_id}
            elif updated_at == newest:
                ids.add(item_id)
        return Watermark(updated_at=newest, ids_at=sorted(ids))

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime (naive values are taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def retry_after_seconds(
    headers: Mapping[str, str], default: float = 1.0, *, now: datetime | None = None
) -> float:
    """Seconds to wait from `Retry-After` (delta-seconds or HTTP date), else `default`.

    Case-insensitive on the header name; never negative.
    """
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (as_utc(moment) - (now or datetime.now(UTC))).total_seconds())
