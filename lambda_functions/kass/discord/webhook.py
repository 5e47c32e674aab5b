"""Discord's interaction webhook: edit the deferred reply, post follow-ups (httpx).

https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages
The interaction token authorizes these calls for 15 minutes; no bot token is needed.

- 429: wait what `Retry-After` (or the body's `retry_after`) says, then retry.
- 404 on the original reply: the worker can outrun Discord's handling of the deferral it was
  answered with (a cache hit is fast), so the edit is retried a few times before giving up.
- Any other error is a SourceError naming the status and Discord's message; the worker then
  fails and the asynchronous invocation is retried.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import httpx

from kass.connectors.common import retry_after_seconds
from kass.errors import SourceError

ORIGINAL = "@original"
NOT_YET_BACKOFF = (0.5, 1.0, 2.0)  # seconds between edits of a reply Discord does not know yet


class DiscordWebhook:
    def __init__(
        self,
        api_base: str,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_rate_limited: int = 5,
        timeout: float = 10.0,
    ) -> None:
        self._base = f"{api_base.rstrip('/')}/webhooks"
        self._client = client or httpx.Client(timeout=timeout)
        self._sleep = sleep
        self._max_rate_limited = max_rate_limited

    def edit_original(
        self, application_id: str, token: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PATCH the interaction's original response (the deferred reply, or the message whose
        button was pressed)."""
        url = f"{self._base}/{application_id}/{token}/messages/{ORIGINAL}"
        for wait in (*NOT_YET_BACKOFF, None):
            response = self._send("PATCH", url, body)
            if response.status_code != 404 or wait is None:
                break
            self._sleep(wait)
        return self._json(response)

    def follow_up(self, application_id: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a follow-up message (`?wait=true`: Discord answers with the message)."""
        url = f"{self._base}/{application_id}/{token}?wait=true"
        return self._json(self._send("POST", url, body))

    def close(self) -> None:
        self._client.close()

    def _send(self, method: str, url: str, body: dict[str, Any]) -> httpx.Response:
        for _ in range(self._max_rate_limited):
            try:
                response = self._client.request(method, url, json=body)
            except httpx.HTTPError as error:
                raise SourceError(f"Discord unreachable: {type(error).__name__}") from None
            if response.status_code != 429:
                return response
            self._sleep(_retry_after(response))
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.is_success:
            return response.json() if response.content else {}
        try:
            detail = response.json().get("message", "")
        except ValueError:
            detail = response.text[:200]
        raise SourceError(f"Discord answered {response.status_code}: {detail}".rstrip(": "))


def _retry_after(response: httpx.Response) -> float:
    """Discord sends both the header (seconds) and `retry_after` in the JSON body."""
    default = 1.0
    with contextlib.suppress(ValueError, AttributeError):
        default = float(response.json().get("retry_after", default))
    return retry_after_seconds(response.headers, default)
