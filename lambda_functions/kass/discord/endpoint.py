"""The interactions endpoint's synchronous part: what to answer Discord within 3 seconds.

verify → parse → PING: PONG | command: map to chat text, hand off, defer (type 5) | button:
hand off, deferred update (type 6). Bad signatures are 401 (Discord probes with them), a
malformed payload 400, both JSON. A command kass cannot take (unknown option, empty or oversize
text) is answered at once with an ephemeral message: only its author sees it. Nothing here
answers 500: an unexpected error after verification becomes an ephemeral apology.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kass.discord.commands import chat_text
from kass.discord.dispatch import Job
from kass.discord.interactions import (
    Interaction,
    InteractionType,
    ResponseType,
    parse_interaction,
)
from kass.discord.messages import error_message, parse_custom_id
from kass.discord.verify import SignatureError, SignatureVerifier
from kass.errors import InvalidInput
from kass.observability import logger

BUSY = "kass could not take this request just now; please try again in a minute."


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as signed (API Gateway base64-encodes binary bodies)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return b""  # cannot be what Discord signed: verification refuses it
    return body.encode("utf-8")


def respond(
    headers: Mapping[str, str],
    body: bytes,
    *,
    verifier: SignatureVerifier | None,
    max_chars: int,
    dispatch: Callable[[Job], None],
) -> Reply:
    if verifier is None:
        logger.error("KASS_DISCORD_PUBLIC_KEY is not set: refusing every interaction")
        return _error(401, "unauthorized", "the bot's public key is not configured")
    try:
        verifier.verify(headers, body)
    except SignatureError as error:
        return _error(401, "invalid_signature", str(error))
    try:
        interaction = parse_interaction(body)
    except InvalidInput as error:
        return _error(400, "invalid_request", str(error))
    logger.append_keys(interaction_id=interaction.id, interaction_type=interaction.type)
    try:
        return _answer(interaction, max_chars, dispatch)
    except InvalidInput as error:
        return _ephemeral(str(error))
    except Exception:
        logger.exception("discord interaction not taken")
        return _ephemeral(BUSY)


def _answer(interaction: Interaction, max_chars: int, dispatch: Callable[[Job], None]) -> Reply:
    kind = interaction.type
    if kind == InteractionType.PING:
        return Reply(200, {"type": ResponseType.PONG})
    if kind == InteractionType.APPLICATION_COMMAND:
        _ = interaction.user_id  # no user, no owner for the answer: refused now
        job = Job(
            interaction=interaction, text=chat_text(interaction.command(), max_chars=max_chars)
        )
        deferral = ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    elif kind == InteractionType.MESSAGE_COMPONENT:
        _ = interaction.user_id
        try:
            parse_custom_id(interaction.component().custom_id)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        job = Job(interaction=interaction)
        deferral = ResponseType.DEFERRED_UPDATE_MESSAGE
    else:
        return _error(400, "unsupported_interaction", f"interaction type {kind} is not handled")
    dispatch(job)
    logger.info("interaction deferred")
    return Reply(200, {"type": deferral})


def _ephemeral(text: str) -> Reply:
    return Reply(
        200, {"type": ResponseType.CHANNEL_MESSAGE_WITH_SOURCE, "data": error_message(text)}
    )


def _error(status: int, error: str, message: str) -> Reply:
    return Reply(status, {"error": error, "message": message})


def make_verifier(public_key: str | None, max_age_seconds: float) -> SignatureVerifier | None:
    return SignatureVerifier(public_key, max_age_seconds=max_age_seconds) if public_key else None
