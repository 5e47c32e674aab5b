"""Message ids, and the keys and encodings of stored state shared by the DynamoDB and SQLite stores.

Both stores sort messages by id and conversations by `sort_time`, title conversations with
`conversation_title` and write checkpoints with `dump_state`, so the two worlds agree.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kass.errors import InvalidInput
from kass.models import Message

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_MAX_MS = (1 << 48) - 1
_lock = threading.Lock()
_last: tuple[int, int] = (-1, 0)  # (milliseconds, random part) of the latest id

TITLE_CHARS = 80
MAX_KEY_BYTES = 1024  # DynamoDB's limit for a sort key; partition keys allow 2048


def new_message_id(now: datetime | None = None) -> str:
    """A ULID: 48-bit milliseconds then 80 random bits, 26 Crockford base32 characters.

    Ids made in the same millisecond by this process increase (the random part is bumped, as
    in the ULID spec's monotonic mode), so a question and its answer written in one tick sort
    in the order they were made.
    """
    global _last
    ms = int(_utc(now or datetime.now(UTC)).timestamp() * 1000)
    if not 0 <= ms <= _MAX_MS:
        raise InvalidInput(f"time {now!r} cannot be encoded in a message id")
    with _lock:
        last_ms, last_random = _last
        if ms == last_ms and last_random + 1 < (1 << _RANDOM_BITS):
            random_part = last_random + 1
        else:
            random_part = secrets.randbits(_RANDOM_BITS)
        _last = (ms, random_part)
    value = (ms << _RANDOM_BITS) | random_part
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def sort_time(moment: datetime) -> str:
    """A fixed-width UTC ISO timestamp: string order is time order (for sort keys)."""
    return _utc(moment).isoformat(timespec="microseconds")


def epoch_seconds(moment: datetime) -> int:
    return int(_utc(moment).timestamp())


def conversation_title(question: str) -> str:
    """The first question on one line, cut to `TITLE_CHARS` characters."""
    text = " ".join(question.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def check_message_keys(message: Message) -> None:
    """Keys a store can hold: non-empty, and short enough for DynamoDB's key limits."""
    for field in ("conversation_id", "id", "user_id"):
        value: str = getattr(message, field)
        if not value:
            raise InvalidInput(f"message {field} must not be empty")
        if len(value.encode("utf-8")) > MAX_KEY_BYTES - 8:  # 8: room for the "msg#" prefix
            raise InvalidInput(f"message {field} is longer than {MAX_KEY_BYTES - 8} bytes")


def require_key(value: str, what: str) -> None:
    if not value:
        raise InvalidInput(f"{what} must not be empty")


def citations_json(message: Message) -> str:
    return json.dumps(
        [citation.model_dump(mode="json") for citation in message.citations], ensure_ascii=False
    )


def dump_state(name: str, state: Mapping[str, Any]) -> str:
    """A checkpoint as canonical JSON (sorted keys: equal states give equal text)."""
    try:
        return json.dumps(dict(state), ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"checkpoint {name!r} is not JSON: {exc}") from None


def parse_state(name: str, text: str) -> dict[str, Any]:
    try:
        state = json.loads(text)
    except ValueError:
        state = None
    if not isinstance(state, dict):
        raise InvalidInput(f"checkpoint {name!r} does not hold a JSON object")
    return state


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (what the rest of the package writes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
