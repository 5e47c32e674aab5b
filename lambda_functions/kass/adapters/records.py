"""Keys and encodings of stored state shared by the DynamoDB and SQLite stores.

Both stores sort conversations by `sort_time`, title them with `conversation_title` and write
checkpoints with `dump_state`, so the two worlds list and order alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kass.errors import InvalidInput
from kass.ids import utc
from kass.models import Message

TITLE_CHARS = 80
MAX_KEY_BYTES = 1024  # DynamoDB's limit for a sort key; partition keys allow 2048
CONNECTION_MAX_AGE = timedelta(hours=2)  # API Gateway closes WebSocket connections after 2 h


def sort_time(moment: datetime) -> str:
    """A fixed-width UTC ISO timestamp: string order is time order (for sort keys)."""
    return utc(moment).isoformat(timespec="microseconds")


def epoch_seconds(moment: datetime) -> int:
    return int(utc(moment).timestamp())


def connection_expiry(connected_at: datetime) -> int:
    """Epoch seconds after which a WebSocket connection cannot be open any more."""
    return epoch_seconds(connected_at + CONNECTION_MAX_AGE)


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


LEDGER_FIELDS = ("model_id", "input_tokens", "output_tokens", "cost_usd")


def ledger_json(message: Message) -> str | None:
    """An assistant message's cost ledger as JSON (the cost as an exact decimal string), or None
    when the message has none (user messages, messages stored before the ledger existed)."""
    values = message.model_dump(mode="json", include=set(LEDGER_FIELDS))
    if all(value is None for value in values.values()):
        return None
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def ledger_fields(text: str | None) -> dict[str, Any]:
    """The Message fields stored by `ledger_json` ({} for None)."""
    if not text:
        return {}
    values = json.loads(text)
    return {field: values.get(field) for field in LEDGER_FIELDS}


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
