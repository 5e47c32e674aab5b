"""Message ids: ULIDs, time-ordered, so sorting by id sorts by time."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime

from kass.errors import InvalidInput

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_MAX_MS = (1 << 48) - 1
_lock = threading.Lock()
_last: tuple[int, int] = (-1, 0)  # (milliseconds, random part) of the latest id


def new_message_id(now: datetime | None = None) -> str:
    """A ULID: 48-bit milliseconds then 80 random bits, 26 Crockford base32 characters.

    Ids made in the same millisecond by this process increase (the random part is bumped, as
    in the ULID spec's monotonic mode), so a question and its answer written in one tick sort
    in the order they were made.
    """
    global _last
    ms = int(utc(now or datetime.now(UTC)).timestamp() * 1000)
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


def utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (what the rest of the package writes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
