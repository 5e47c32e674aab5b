"""kass's Discord commands: their definitions (application command JSON) and their mapping to
the text kass.chat understands.

https://discord.com/developers/docs/interactions/application-commands
Six slash commands mirror kass.chat.commands (/confirm and /cancel besides the buttons, so the
proposal text's "confirm with /confirm <id>" holds in Discord too); "Ask kass" is a message
context-menu command, kass's form of "mention the bot in a thread": an interactions endpoint
never receives plain messages (those come only over the Gateway, a long-lived WebSocket a Lambda
cannot hold), so the user picks a message (Apps > Ask kass) and its text is the question.

Mapping checks what Discord's client also checks (required options, lengths), because anyone
holding a valid signature path (or a future client) may send anything: an unknown option, an
empty or oversize value is an InvalidInput whose message is shown to the user, ephemerally.
"""

from __future__ import annotations

import re
from typing import Any

from kass.discord.interactions import CommandData, CommandOption, CommandType
from kass.errors import InvalidInput

STRING = 3  # application command option type
ASK_MESSAGE = "Ask kass"  # the message command's name (context-menu names may hold spaces)
SUMMARY_MAX = 255  # Backlog's summary limit
_SEPARATOR = re.compile(r"(?:^|\s)--(?:\s|$)")  # kass.chat.commands' summary/description split


def _option(name: str, description: str, *, required: bool, max_length: int) -> dict[str, Any]:
    return {
        "type": STRING,
        "name": name,
        "description": description,
        "required": required,
        "max_length": max_length,
    }


def application_commands(max_chars: int = 4000) -> list[dict[str, Any]]:
    """The global (or guild) command set, as `PUT /applications/{id}/commands` takes it.

    `max_chars` is the longest question kass accepts (KASS_ANSWER_MAX_QUESTION_CHARS), capped at
    Discord's 6000 for a string option.
    """
    text_max = max(1, min(max_chars, 6000))
    return [
        {
            "type": CommandType.CHAT_INPUT,
            "name": "ask",
            "description": "Ask kass; the answer cites GitLab, Slack and Backlog",
            "options": [
                _option("question", "What you want to know", required=True, max_length=text_max)
            ],
        },
        {
            "type": CommandType.CHAT_INPUT,
            "name": "ticket",
            "description": "Propose a Backlog ticket (nothing is filed until you confirm)",
            "options": [
                _option("project", "Backlog project key, e.g. APP", required=True, max_length=32),
                _option("summary", "One-line summary", required=True, max_length=SUMMARY_MAX),
                _option("description", "Details", required=False, max_length=text_max),
            ],
        },
        {
            "type": CommandType.CHAT_INPUT,
            "name": "summarize",
            "description": "Summarize a Slack thread: give its link, or its channel and ts",
            "options": [
                _option("link", "The thread's permalink", required=False, max_length=500),
                _option("channel", "Channel name or id", required=False, max_length=100),
                _option(
                    "ts", "The thread's ts, e.g. 1714550400.000100", required=False, max_length=32
                ),
            ],
        },  # fmt: skip
        {
            "type": CommandType.CHAT_INPUT,
            "name": "review",
            "description": "Review a GitLab merge request",
            "options": [
                _option(
                    "merge_request",
                    "group/project!iid or the merge request URL",
                    required=True,
                    max_length=500,
                )
            ],
        },
        *(
            {
                "type": CommandType.CHAT_INPUT,
                "name": verb,
                "description": f"{verb.capitalize()} a proposed action (or use its button)",
                "options": [
                    _option("id", "The action id, e.g. act_01J…", required=True, max_length=64)
                ],
            }
            for verb in ("confirm", "cancel")
        ),
        {"type": CommandType.MESSAGE, "name": ASK_MESSAGE},
    ]


def _declared() -> dict[str, set[str]]:
    return {
        command["name"]: {option["name"] for option in command.get("options", [])}
        for command in application_commands()
    }


_OPTIONS = _declared()


def chat_text(data: CommandData, *, max_chars: int) -> str:
    """The message kass.chat takes for this command, e.g. `/ticket APP Login fails -- details`.

    /ask and "Ask kass" send the question itself (as the web page does: cache, routing and the
    agent apply); the others send kass.chat's slash command. Empty or longer than `max_chars`
    (what kass.chat accepts): InvalidInput.
    """
    if data.name not in _OPTIONS:
        raise InvalidInput(f"unknown command /{data.name}")
    if data.type == CommandType.MESSAGE:
        return _checked("the message", _target_text(data), max_chars)
    values = _values(data.name, data.options)
    if data.name == "ask":
        return _checked("question", _required(values, "ask", "question"), max_chars)
    return _checked(f"/{data.name}", _command_text(data.name, values), max_chars)


def _command_text(name: str, values: dict[str, str]) -> str:
    if name == "ticket":
        project = _word(_required(values, "ticket", "project"), "project")
        summary = _required(values, "ticket", "summary")
        if _SEPARATOR.search(summary):
            raise InvalidInput("summary cannot contain ' -- ' (put details in description)")
        text = f"/ticket {project} {summary}"
        if description := values.get("description", "").strip():
            text += f" -- {description}"
        return text
    if name == "summarize":
        link, channel, ts = (values.get(key, "").strip() for key in ("link", "channel", "ts"))
        if link and not (channel or ts):
            return f"/summarize {_word(link, 'link')}"
        if channel and ts and not link:
            return f"/summarize {_word(channel, 'channel')} {_word(ts, 'ts')}"
        raise InvalidInput("/summarize takes either link, or channel and ts")
    if name in ("confirm", "cancel"):
        return f"/{name} {_word(_required(values, name, 'id'), 'id')}"
    merge_request = _required(values, "review", "merge_request")
    return f"/review {_word(merge_request, 'merge_request')}"


def _values(command: str, options: list[CommandOption]) -> dict[str, str]:
    values: dict[str, str] = {}
    for option in options:
        if option.name not in _OPTIONS[command]:
            known = ", ".join(sorted(_OPTIONS[command])) or "none"
            raise InvalidInput(f"/{command} has no option {option.name!r} (options: {known})")
        if option.type != STRING or not isinstance(option.value, str):
            raise InvalidInput(f"/{command} {option.name} must be text")
        values[option.name] = option.value
    return values


def _required(values: dict[str, str], command: str, name: str) -> str:
    value = values.get(name, "").strip()
    if not value:
        raise InvalidInput(f"/{command} needs {name}")
    return value


def _word(value: str, name: str) -> str:
    value = value.strip()
    if not value or any(c.isspace() for c in value):
        raise InvalidInput(f"{name} must be one word without spaces: {value[:80]!r}")
    return value


def _checked(what: str, text: str, max_chars: int) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > max_chars:
        raise InvalidInput(f"{what} is {len(text)} characters; kass takes at most {max_chars}")
    return text


def _target_text(data: CommandData) -> str:
    message = data.resolved.messages.get(data.target_id or "")
    if message is None:
        raise InvalidInput("the selected message was not sent with the command")
    return message.content
