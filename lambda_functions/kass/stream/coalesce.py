"""The `AnswerStream` of one turn over a connection, with deltas batched into few frames.

Each frame is one management API call (an HTTPS round trip from Lambda, and a billed message),
while a model writes a token every 10-20 ms. So the first delta goes at once (the time to first
token is what a reader notices), and later ones are held and sent together at most once per
interval (80 ms by default: below the ~100 ms that reads as instantaneous, and at a fast
model's ~100 tokens/s about 8 tokens per call, so a 30 s answer costs some 375 calls rather than
3,000). Held text goes out when the next delta arrives after the interval, before a restart, or
at `flush` (the caller flushes before the turn's `done`). No timer thread: the model's own
tokens pace the sends, so a pause in the model delays only the text written just before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kass.ports import FrameSender
from kass.stream.protocol import delta_frame, restart_frame


class CoalescingStream:
    def __init__(
        self,
        sender: FrameSender,
        request_id: str | None,
        *,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sender = sender
        self._request_id = request_id
        self._interval = interval_seconds
        self._clock = clock
        self._held: list[str] = []
        self._sent_at: float | None = None  # None: nothing sent since the start or a restart
        self.frames = 0  # frames handed to the sender (for the metrics)

    def delta(self, text: str) -> None:
        if not text:
            return
        self._held.append(text)
        now = self._clock()
        if self._sent_at is None or now - self._sent_at >= self._interval:
            self._send_held(now)

    def restart(self, tier: str) -> None:
        # The held text belongs to the failed tier: the client discards it anyway.
        self._held.clear()
        self._send(restart_frame(self._request_id, tier))
        self._sent_at = None

    def flush(self) -> None:
        """Send whatever text is held (before the turn's final frame)."""
        if self._held:
            self._send_held(self._clock())

    def _send_held(self, now: float) -> None:
        text = "".join(self._held)
        self._held.clear()
        self._send(delta_frame(self._request_id, text))
        self._sent_at = now

    def _send(self, frame: dict[str, object]) -> None:
        self.frames += 1
        self._sender.send(frame)
