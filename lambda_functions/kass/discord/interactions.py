"""The interaction payloads kass receives (Discord's documented JSON), parsed with clear errors.

https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
Only the fields kass uses are modelled; everything else Discord sends is ignored, so new fields
never break parsing.
"""

from __future__ import annotations

import hashlib
import json
from enum import IntEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kass.errors import InvalidInput


class InteractionType(IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CommandType(IntEnum):
    CHAT_INPUT = 1  # a slash command
    USER = 2
    MESSAGE = 3  # a message context-menu command ("Apps > Ask kass" on a message)


class ResponseType(IntEnum):
    """Interaction callback types kass answers with."""

    PONG = 1
    CHANNEL_MESSAGE_WITH_SOURCE = 4
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
    DEFERRED_UPDATE_MESSAGE = 6


M = TypeVar("M", bound=BaseModel)
EPHEMERAL = 1 << 6  # message flag: only the invoking user sees it


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Model):
    id: str
    username: str = ""


class Member(_Model):
    user: User


class CommandOption(_Model):
    name: str
    type: int
    value: str | int | float | bool | None = None
    options: list[CommandOption] = Field(default_factory=list)  # subcommands (unused by kass)


class ResolvedMessage(_Model):
    id: str
    content: str = ""
    channel_id: str | None = None


class Resolved(_Model):
    messages: dict[str, ResolvedMessage] = Field(default_factory=dict)


class CommandData(_Model):
    id: str = ""
    name: str
    type: int = CommandType.CHAT_INPUT
    options: list[CommandOption] = Field(default_factory=list)
    target_id: str | None = None  # the message of a message command
    resolved: Resolved = Field(default_factory=Resolved)


class ComponentData(_Model):
    custom_id: str = Field(min_length=1, max_length=100)
    component_type: int


class Message(_Model):
    """The message a component (button) is attached to."""

    id: str
    content: str = ""


class Interaction(_Model):
    id: str = Field(min_length=1)
    application_id: str = Field(min_length=1)
    type: int
    token: str = ""
    version: int = 1
    data: dict[str, Any] | None = None
    guild_id: str | None = None
    channel_id: str | None = None
    member: Member | None = None  # in a guild
    user: User | None = None  # in a DM
    message: Message | None = None  # for components
    locale: str | None = None

    @model_validator(mode="after")
    def _token_unless_ping(self) -> Interaction:
        if self.type != InteractionType.PING and not self.token:
            raise ValueError("an interaction other than PING must carry its token")
        return self

    @property
    def user_id(self) -> str:
        """kass's user id for the person who acted: `discord:<snowflake>` (namespaced, so a
        Discord user can never own an API caller's conversations or proposals)."""
        person = self.member.user if self.member else self.user
        if person is None:
            raise InvalidInput("the interaction names no user")
        return f"discord:{person.id}"

    def conversation_id(self) -> str | None:
        """The conversation this person has in this channel or thread (a thread is a channel in
        Discord), so follow-ups there continue it: the agent sees the earlier turns. Derived,
        not stored: the same place and person always give the same id, and ids of different
        people never meet (the user id is part of the digest)."""
        if not self.channel_id:
            return None
        place = f"{self.channel_id}:{self.user_id}".encode()
        return "discord-" + hashlib.sha256(place).hexdigest()[:40]

    def command(self) -> CommandData:
        return _parse(CommandData, self.data, "application command data")

    def component(self) -> ComponentData:
        return _parse(ComponentData, self.data, "component data")


def parse_interaction(body: bytes | str) -> Interaction:
    """The interaction in a request body; InvalidInput naming the problem otherwise."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON") from None
    return _parse(Interaction, payload, "interaction")


def _parse(model: type[M], payload: Any, what: str) -> M:
    if not isinstance(payload, dict):
        raise InvalidInput(f"the {what} is not a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or what
        raise InvalidInput(f"{what}: {where}: {first.get('msg', 'invalid')}") from None
