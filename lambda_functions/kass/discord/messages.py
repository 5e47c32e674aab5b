"""Rendering kass's answers as Discord messages.

Limits (https://discord.com/developers/docs/resources/message#create-message): content at most
2000 characters, at most 5 action rows of at most 5 buttons, custom_id at most 100 characters.
Discord counts characters as JavaScript does (UTF-16 code units), so lengths here are counted
the same way: an emoji is 2, which keeps every part under the limit whichever way it counts.

An answer longer than one message is split at line ends, then at spaces; a markdown link is
never cut, and a code block cut in two is closed and reopened (with its language) so each part
renders on its own. No message pings anyone: `allowed_mentions` parses nothing, whatever the
sources say (`@everyone` in a Slack message stays text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kass.discord.interactions import EPHEMERAL

if TYPE_CHECKING:
    from kass.api.schemas import ActionResponse, ChatResponse
    from kass.chat.actions import ProposedAction
    from kass.models import Citation

CONTENT_LIMIT = 2000
MAX_ACTION_ROWS = 5
NO_MENTIONS: dict[str, Any] = {"parse": []}
SOURCE_NAMES = {"gitlab": "GitLab", "slack": "Slack", "backlog": "Backlog"}
_FENCE = "```"
_TOKEN = re.compile(r"\[[^\]\n]*\]\(<?[^)\s]*>?\)|\S+|\s+")  # a link, a word, or a space run


def units(text: str) -> int:
    """Length as Discord counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


# -- answers ---------------------------------------------------------------------------------
def chat_messages(response: ChatResponse, *, limit: int = CONTENT_LIMIT) -> list[dict[str, Any]]:
    """Message bodies for an answer: the first edits the deferred reply, the rest follow up.
    The confirm/cancel buttons of proposed actions go on the last part, under their text."""
    text = response.text.strip() or "(no answer)"
    sources = _sources(response.citations)
    if sources:
        text += "\n\n" + sources
    text += "\n" + footer(response)
    bodies = [message(part) for part in split_content(text, limit)]
    rows = action_rows(response.actions)
    if rows:
        bodies[-1]["components"] = rows
    return bodies


def message(content: str, *, ephemeral: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
    if ephemeral:
        body["flags"] = EPHEMERAL
    return body


def error_message(text: str, *, ephemeral: bool = True) -> dict[str, Any]:
    """A one-message error, cut to fit (error messages are built from user input)."""
    content = f"⚠️ {text}".strip()
    if units(content) > CONTENT_LIMIT:
        content = _cut(content, CONTENT_LIMIT - 1) + "…"
    return message(content, ephemeral=ephemeral) | {"components": []}


def footer(response: ChatResponse) -> str:
    """Tier and cost, small and grey (Discord's `-#` subtext)."""
    parts = [response.tier]
    usage = response.usage
    if usage.input_tokens or usage.output_tokens:
        parts.append(f"{usage.input_tokens + usage.output_tokens:,} tokens")
    parts.append(f"${_money(usage.cost_usd)}")
    if response.cached:
        parts.append("cached")
    if response.fallbacks:
        parts.append("after " + ", ".join(response.fallbacks))
    return "-# " + " · ".join(parts)


def _money(amount: Decimal) -> str:
    return "0" if amount == 0 else format(amount.normalize(), "f")


def _sources(citations: Sequence[Citation]) -> str:
    """`[n](<url>) GitLab · title`, one line per citation (angle brackets: no link preview)."""
    lines = []
    for citation in citations:
        source = SOURCE_NAMES.get(citation.source, citation.source)
        title = _escape(citation.title.strip() or citation.doc_id)
        if citation.link.startswith(("https://", "http://")):
            marker = f"[{citation.n}](<{citation.link}>)"
        else:
            marker = f"[{citation.n}]"
            title += f" ({_escape(citation.link)})"
        lines.append(f"{marker} {source} · {title}")
    return "\n".join(lines)


def _escape(text: str) -> str:
    """Plain text in markdown: no formatting, no stray link syntax, on one line."""
    text = " ".join(text.split())
    return re.sub(r"([\\*_~`|\[\]()<>])", r"\\\1", text)[:200]


# -- actions ---------------------------------------------------------------------------------
def action_rows(actions: Sequence[ProposedAction]) -> list[dict[str, Any]]:
    """One row per pending proposal: Confirm (`confirm:<id>`) and Cancel (`cancel:<id>`)."""
    rows = []
    for action in [a for a in actions if a.status == "proposed"][:MAX_ACTION_ROWS]:
        rows.append(
            {
                "type": 1,  # action row
                "components": [
                    _button("Confirm", 3, f"confirm:{action.id}"),  # 3: success (green)
                    _button("Cancel", 4, f"cancel:{action.id}"),  # 4: danger (red)
                ],
            }
        )
    return rows


def _button(label: str, style: int, custom_id: str) -> dict[str, Any]:
    return {"type": 2, "style": style, "label": label, "custom_id": custom_id[:100]}


def parse_custom_id(custom_id: str) -> tuple[str, str]:
    """`confirm:<id>` -> ("confirm", id); anything else: ValueError."""
    verb, _, action_id = custom_id.partition(":")
    if verb not in ("confirm", "cancel") or not action_id:
        raise ValueError(f"unknown button {custom_id[:100]!r}")
    return verb, action_id


def settled_message(original: str, response: ActionResponse) -> dict[str, Any]:
    """The proposal's message after a confirm or cancel: its text, the outcome, no buttons."""
    line = "Cancelled." if response.action.status == "cancelled" else response.message
    outcome = f"**{line}**"
    content = f"{original.rstrip()}\n\n{outcome}" if original.strip() else outcome
    if units(content) > CONTENT_LIMIT:
        content = outcome if units(outcome) <= CONTENT_LIMIT else _cut(outcome, CONTENT_LIMIT)
    return message(content) | {"components": []}


# -- splitting -------------------------------------------------------------------------------
def split_content(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Parts of at most `limit` units, cut between lines where possible, never inside a link;
    a code block cut in two is closed and reopened."""
    parts: list[str] = []
    current = ""
    for segment in _segments(text):
        if units(current) + units(segment) <= limit:
            current += segment
            continue
        if current.strip():
            parts.append(current)
        pieces = [segment] if units(segment) <= limit else _split_segment(segment, limit)
        parts.extend(pieces[:-1])
        current = pieces[-1]
    if current.strip():
        parts.append(current)
    return [part.lstrip("\n").rstrip() for part in parts if part.strip()] or [""]


def _segments(text: str) -> Iterator[str]:
    """Whole fenced code blocks, and single lines (ends kept)."""
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith(_FENCE):
            end = i + 1
            while end < len(lines) and not lines[end].lstrip().startswith(_FENCE):
                end += 1
            yield "".join(lines[i : end + 1])
            i = end + 1
        else:
            yield lines[i]
            i += 1


def _split_segment(segment: str, limit: int) -> list[str]:
    if segment.lstrip().startswith(_FENCE):
        return _split_code(segment, limit)
    return _pack(_TOKEN.findall(segment), limit)


def _split_code(block: str, limit: int) -> list[str]:
    lines = block.splitlines(keepends=True)
    opening = lines[0] if lines[0].endswith("\n") else lines[0] + "\n"
    body = lines[1:]
    if body and body[-1].lstrip().startswith(_FENCE):
        body = body[:-1]
    closing = _FENCE + "\n"
    room = limit - units(opening) - units(closing) - 1
    if room < 1:
        return _pack(_TOKEN.findall(block), limit)
    parts = []
    for chunk in _pack(body, room):
        chunk = chunk if chunk.endswith("\n") else chunk + "\n"
        parts.append(opening + chunk + closing)
    return parts or [opening + closing]


def _pack(tokens: Sequence[str], limit: int) -> list[str]:
    """Greedily join tokens into parts of at most `limit`; a token longer than that is cut."""
    parts: list[str] = []
    current = ""
    for token in tokens:
        if units(current) + units(token) > limit and current:
            parts.append(current)
            current = ""
        while units(token) > limit:
            head = _cut(token, limit)
            parts.append(head)
            token = token[len(head) :]
        current += token
    if current:
        parts.append(current)
    return parts


def _cut(text: str, limit: int) -> str:
    """The longest prefix of at most `limit` units (never half a surrogate pair)."""
    total = 0
    for i, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > limit:
            return text[:i]
    return text
