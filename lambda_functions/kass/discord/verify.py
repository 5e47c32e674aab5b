"""Ed25519 verification of Discord's signed requests.

Discord signs `X-Signature-Timestamp + raw body` with the application's key and sends the
signature in `X-Signature-Ed25519` (hex). It probes endpoints with bad signatures and expects
401 for them. A valid signature on an old timestamp is a replay: refused outside the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

SIGNATURE_HEADER = "x-signature-ed25519"
TIMESTAMP_HEADER = "x-signature-timestamp"


class SignatureError(Exception):
    """The request is not provably from Discord (or is too old); the message says why."""


class SignatureVerifier:
    def __init__(
        self,
        public_key_hex: str,
        *,
        max_age_seconds: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            self._key = VerifyKey(bytes.fromhex(public_key_hex))
        except ValueError as error:
            raise ValueError(f"not an Ed25519 public key in hex: {error}") from None
        self._max_age = max_age_seconds
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise SignatureError unless `body` was signed by the key within the time window."""
        lowered = {name.lower(): value for name, value in headers.items()}
        signature_hex = lowered.get(SIGNATURE_HEADER)
        timestamp = lowered.get(TIMESTAMP_HEADER)
        if not signature_hex or not timestamp:
            raise SignatureError("missing X-Signature-Ed25519 or X-Signature-Timestamp header")
        try:
            signature = bytes.fromhex(signature_hex)
            sent_at = int(timestamp)
        except ValueError:
            raise SignatureError("malformed signature or timestamp header") from None
        if len(signature) != 64:
            raise SignatureError("malformed signature header")
        try:
            self._key.verify(timestamp.encode("ascii") + body, signature)
        except (BadSignatureError, UnicodeEncodeError):
            raise SignatureError("invalid request signature") from None
        # After the signature: only a genuine request learns that its timestamp was the problem.
        if abs(self._clock() - sent_at) > self._max_age:
            raise SignatureError("stale request timestamp")
