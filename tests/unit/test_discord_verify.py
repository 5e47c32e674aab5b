"""Ed25519 verification of Discord requests, with real signatures from a generated key pair."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from kass.discord.verify import SignatureError, SignatureVerifier

NOW = 1_730_000_000
BODY = b'{"id":"1","application_id":"2","type":1,"token":"t","version":1}'
KEY = SigningKey.generate()


def signed(body: bytes = BODY, *, key: SigningKey = KEY, timestamp: int = NOW) -> dict[str, str]:
    stamp = str(timestamp)
    signature = key.sign(stamp.encode() + body).signature.hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp}


def verifier(max_age: float = 300) -> SignatureVerifier:
    return SignatureVerifier(
        KEY.verify_key.encode().hex(), max_age_seconds=max_age, clock=lambda: NOW
    )


def test_given_a_request_signed_with_the_key_when_verified_then_accepted():
    verifier().verify(signed(), BODY)


def test_given_lowercased_headers_as_http_apis_send_them_when_verified_then_accepted():
    headers = {name.lower(): value for name, value in signed().items()}

    verifier().verify(headers, BODY)


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        (signed(), BODY.replace(b'"type":1', b'"type":2'), "invalid request signature"),
        (signed(key=SigningKey.generate()), BODY, "invalid request signature"),
        (signed(timestamp=NOW - 301), BODY, "stale request timestamp"),
        (signed(timestamp=NOW + 301), BODY, "stale request timestamp"),
        ({}, BODY, "missing"),
        ({"X-Signature-Timestamp": str(NOW)}, BODY, "missing"),
        ({**signed(), "X-Signature-Ed25519": "zz" * 64}, BODY, "malformed"),
        ({**signed(), "X-Signature-Ed25519": "ab" * 10}, BODY, "malformed"),
        ({**signed(), "X-Signature-Timestamp": "yesterday"}, BODY, "malformed"),
    ],
    ids=["tampered", "wrong-key", "stale", "future", "no-headers", "no-signature",
         "not-hex", "short-signature", "bad-timestamp"],
)  # fmt: skip
def test_given_a_request_not_provably_from_discord_when_verified_then_refused_with_reason(
    headers, body, reason
):
    with pytest.raises(SignatureError, match=reason):
        verifier().verify(headers, body)


def test_given_a_timestamp_inside_a_configured_window_when_verified_then_accepted():
    verifier(max_age=600).verify(signed(timestamp=NOW - 599), BODY)


def test_given_a_timestamp_whose_signature_is_for_another_time_when_verified_then_refused():
    headers = {**signed(timestamp=NOW - 1), "X-Signature-Timestamp": str(NOW)}

    with pytest.raises(SignatureError, match="invalid request signature"):
        verifier().verify(headers, BODY)


def test_given_a_public_key_that_is_not_hex_when_built_then_value_error():
    with pytest.raises(ValueError, match="hex"):
        SignatureVerifier("not-a-key")
