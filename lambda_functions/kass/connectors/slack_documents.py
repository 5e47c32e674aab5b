"""Slack messages → kass Documents: the shape shared by the API connector and the export importer.

One Document per thread (a message without replies is a thread of one), id
`slack:<channel id>:<thread ts>`, so an export import and a later API sync write the same ids.
Each message in the text carries its author, time and permalink, so a citation can point at it.
Permalinks follow Slack's documented format instead of a chat.getPermalink call per message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kass.errors import InvalidInput, NotFound
from kass.models import Document
from kass.ports import Thread, ThreadMessage

SOURCE = "slack"
TITLE_CHARS = 90
# Subtypes that are people talking; joins, leaves, topic changes, bots, tombstones are not.
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})

Message = Mapping[str, Any]
UserName = Callable[[str], str]  # user id -> display name

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")


MESSAGE_TS = re.compile(r"^\d{9,}\.\d{1,6}$")


def check_ts(ts: str) -> str:
    """A message timestamp as Slack writes it; InvalidInput otherwise."""
    ts = ts.strip()
    if not MESSAGE_TS.match(ts):
        raise InvalidInput(f"not a Slack message timestamp: {ts!r} (e.g. 1712552520.000100)")
    return ts


def thread_of(
    channel: str,
    name: str,
    thread_ts: str,
    messages: Iterable[Message],
    *,
    workspace_url: str,
    user_name: UserName,
) -> Thread:
    """The agent-facing thread: its human messages in order, each with its permalink."""
    kept = [m for m in messages if is_human(m)]
    if not kept:
        raise NotFound(f"Slack thread {channel} {thread_ts} has no messages left")
    return Thread(
        channel=channel,
        channel_name=name,
        ts=thread_ts,
        url=permalink(workspace_url, channel, thread_ts),
        messages=[
            ThreadMessage(
                author=user_name(str(m["user"])),
                text=render_text(str(m["text"]), user_name),
                ts=str(m["ts"]),
                permalink=permalink(workspace_url, channel, str(m["ts"]), thread_ts),
            )
            for m in kept
        ],
    )


def doc_id(channel: str, thread_ts: str) -> str:
    return f"{SOURCE}:{channel}:{thread_ts}"


def ts_time(ts: str) -> datetime:
    """A Slack timestamp ("1700000000.123456", seconds UTC) as an aware datetime, exactly."""
    seconds, _, fraction = ts.partition(".")
    micros = int((fraction or "0").ljust(6, "0")[:6])
    return datetime.fromtimestamp(int(seconds), UTC).replace(microsecond=micros)


def time_ts(moment: datetime) -> str:
    """Inverse of `ts_time` (to microseconds)."""
    moment = moment.astimezone(UTC)
    return f"{int(moment.replace(microsecond=0).timestamp())}.{moment.microsecond:06d}"


def permalink(workspace_url: str, channel: str, ts: str, thread_ts: str | None = None) -> str:
    """`<workspace>archives/<channel>/p<ts without dot>`, with the thread for replies."""
    base = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
    link = f"{base}archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


def is_human(message: Message) -> bool:
    """People's messages: no bot posts, joins/leaves, tombstones; something to read."""
    if message.get("subtype") not in HUMAN_SUBTYPES or message.get("bot_id"):
        return False
    return bool(str(message.get("text") or "").strip()) and bool(message.get("user"))


def activity_ts(message: Message) -> str:
    """The latest thing that happened to a channel-level message: posted, edited, replied to."""
    candidates = [
        message["ts"],
        message.get("latest_reply"),
        (message.get("edited") or {}).get("ts"),
    ]
    return max((ts for ts in candidates if ts), key=ts_time)


def fingerprint(message: Message) -> str:
    """Short hash of what a channel-level message shows about its thread: a change of text,
    edit, subtype (deleted → tombstone) or replies (count, latest) changes it."""
    parts = (
        message.get("subtype") or "",
        message.get("text") or "",
        (message.get("edited") or {}).get("ts") or "",
        str(message.get("reply_count") or 0),
        message.get("latest_reply") or "",
        message.get("user") or "",
        message.get("bot_id") or "",
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


def render_text(text: str, user_name: UserName) -> str:
    """Slack mrkdwn → readable text: mentions by name, links as "label (url)", entities decoded."""
    text = _USER.sub(lambda m: "@" + user_name(m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def display_name(user: Mapping[str, Any]) -> str:
    """The name Slack shows: profile display name, else real name, else the handle."""
    profile = user.get("profile") or {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if candidate and str(candidate).strip():
            return str(candidate).strip()
    return str(user.get("id") or "unknown")


def mentioned_users(messages: Iterable[Message]) -> set[str]:
    """User ids a thread needs names for: authors and mentions."""
    found: set[str] = set()
    for message in messages:
        if message.get("user"):
            found.add(str(message["user"]))
        found.update(_USER.findall(str(message.get("text") or "")))
    return found


def thread_document(
    *,
    channel: str,
    channel_name: str,
    thread_ts: str,
    messages: Sequence[Message],
    workspace_url: str,
    user_name: UserName,
) -> Document | None:
    """The thread as one Document (parent first, replies in order); None when nothing in it is
    human content (a bot post, a join, a tombstone whose replies are gone)."""
    kept = sorted((m for m in messages if is_human(m)), key=lambda m: ts_time(m["ts"]))
    if not kept:
        return None
    blocks = []
    for message in kept:
        when = ts_time(message["ts"]).strftime("%Y-%m-%d %H:%M UTC")
        link = permalink(workspace_url, channel, message["ts"], thread_ts)
        author = user_name(str(message["user"]))
        body = render_text(str(message["text"]), user_name).strip()
        blocks.append(f"{author} ({when}) {link}\n{body}")
    first_line = render_text(str(kept[0]["text"]), user_name).strip().splitlines()[0]
    if len(first_line) > TITLE_CHARS:
        first_line = first_line[: TITLE_CHARS - 1].rstrip() + "…"
    updated = max(
        (ts_time(t) for m in kept for t in (m["ts"], (m.get("edited") or {}).get("ts")) if t),
    )
    parent = next((m for m in messages if m.get("ts") == thread_ts), None)
    metadata = {"channel": channel, "channel_name": channel_name}
    if parent is not None and is_human(parent):
        metadata["author"] = user_name(str(parent["user"]))
    metadata["replies"] = str(sum(1 for m in kept if m["ts"] != thread_ts))
    return Document(
        id=doc_id(channel, thread_ts),
        source=SOURCE,
        url=permalink(workspace_url, channel, thread_ts),
        title=f"#{channel_name}: {first_line}",
        text="\n\n".join(blocks),
        metadata=metadata,
        created_at=ts_time(thread_ts),
        updated_at=updated,
    )
