"""What every connector shares: its credentials, its updated-since watermark, Retry-After.

Credentials: each connector has a pydantic-settings class of its own (`KASS_GITLAB_*`, ...).
On the aws profile the values come from the JSON secret `<secret_prefix><name>` in Secrets
Manager (`kass/<env>/connectors/<name>`, keys = the settings' field names); locally from the
environment or `.env`.

Watermark: an "updated since" poll re-reads an overlap window before the newest update it has
stored (clocks and eventually consistent listings can deliver late), and skips the versions it
already stored, so an overlap costs requests, never duplicates, and a late update is not lost.
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


RECENT_LIMIT = 500  # versions remembered per stream inside the overlap window (checkpoint size)


class Watermark(BaseModel):
    """Checkpoint part of an updated-since poll.

    `updated_at` is the newest update stored. `recent` maps id -> the newest version stored at
    or after `floor` (the watermark minus the overlap, or later once `recent` was trimmed to its
    limit). A version counts as stored when it is older than `floor`, or when `recent` holds it
    at the same or a later time. So an update a lagging listing shows late, dated inside the
    overlap window but never stored, is still fetched: the window is there for exactly that.
    """

    updated_at: datetime | None = None
    recent: dict[str, datetime] = Field(default_factory=dict)
    floor: datetime | None = None

    @classmethod
    def load(cls, checkpoint: Mapping[str, Any] | None, key: str = "watermark") -> Watermark:
        if not checkpoint or key not in checkpoint:
            return cls()
        return cls.model_validate(checkpoint[key])

    def since(self, overlap: timedelta) -> datetime | None:
        """Where the next poll starts: the watermark minus the overlap (None: from the start)."""
        return None if self.updated_at is None else self.updated_at - overlap

    def is_stored(self, item_id: str, updated_at: datetime) -> bool:
        """True when this version of the item (or a newer one) was stored by an earlier batch."""
        updated_at = as_utc(updated_at)
        if self.floor is not None and updated_at < self.floor:
            return True
        stored = self.recent.get(item_id)
        return stored is not None and stored >= updated_at

    def advanced(
        self,
        items: Iterable[tuple[str, datetime]],
        overlap: timedelta,
        limit: int = RECENT_LIMIT,
    ) -> Watermark:
        """The watermark once `items` ((id, updated_at) pairs) are stored.

        `limit=0` remembers no versions: only the newest update moves (for a connector that
        de-duplicates by other means).
        """
        newest, recent = self.updated_at, dict(self.recent)
        for item_id, updated_at in items:
            updated_at = as_utc(updated_at)
            newest = updated_at if newest is None else max(newest, updated_at)
            if recent.get(item_id, updated_at) <= updated_at:
                recent[item_id] = updated_at
        floor = None if newest is None else newest - overlap
        if self.floor is not None and (floor is None or self.floor > floor):
            floor = self.floor
        if floor is not None:
            recent = {item_id: at for item_id, at in recent.items() if at >= floor}
        if len(recent) > limit:  # forget the oldest; what is older than the cut counts as stored
            times = sorted(recent.values(), reverse=True)
            cut = times[limit - 1] if limit else times[0]
            recent = {item_id: at for item_id, at in recent.items() if limit and at >= cut}
            floor = cut if floor is None else max(floor, cut)
        return Watermark(updated_at=newest, recent=recent, floor=floor)

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
