"""A Slack Web API double for tests: the methods the Slack connector and thread reader call.

A real HTTP server on 127.0.0.1 (stdlib) speaking the Web API as documented, so the real
slack-sdk WebClient, its retry handlers and its error mapping are exercised:
- `POST /api/<method>`, arguments in the query string, a form body or a JSON body; the token in
  `Authorization: Bearer` (or a `token` argument);
- API errors are HTTP 200 with `{"ok": false, "error": ...}`; rate limits are HTTP 429 with
  `Retry-After` (see `rate_limit`);
- conversations.history: newest first, `oldest`/`latest` bounds (exclusive unless `inclusive`),
  `limit`, `has_more`, `response_metadata.next_cursor` (base64 of `next_ts:<ts>`, as Slack's);
- conversations.replies: the parent, then replies oldest first, paginated the same way;
- a parent deleted while it has replies becomes a `tombstone`; a deleted reply updates its
  parent's `reply_count`/`latest_reply`; an edit sets `edited` (the edit's own ts).

Time is the double's own clock (`now`), advanced by every post, reply and edit, so message
timestamps are unique and increasing. Every request is recorded (`requests`, `calls`).
"""

from __future__ import annotations

import base64
import json
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.served import ServedDouble

TOKEN = "xoxb-test-token"
TEAM_URL = "https://kass-test.slack.com/"
T0_US = 1_767_225_600 * 1_000_000  # 2026-01-01T00:00:00Z in microseconds


def ts_of(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def micros_of(ts: str) -> int:
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction or "0").ljust(6, "0")[:6])


@dataclass
class Recorded:
    method: str
    args: dict[str, str]


@dataclass
class Channel:
    id: str
    name: str
    is_member: bool = True
    is_private: bool = False
    top: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> channel-level message
    replies: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # thread -> ts

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_private": self.is_private,
            "is_member": self.is_member,
            "is_archived": False,
        }


class SlackApiDouble(ServedDouble):
    def __init__(
        self, *, token: str = TOKEN, team_url: str = TEAM_URL, host: str = "127.0.0.1"
    ) -> None:
        self.token = token
        self.team_url = team_url
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.now = T0_US
        self.revoked = False
        self._rate_limits: list[tuple[str, str]] = []  # (method, Retry-After value)
        self._errors: list[tuple[str, dict[str, Any]]] = []  # (method, error body)
        self._lock = threading.RLock()
        self._serve(host, 0, self._handler_class())

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What WebClient takes as `base_url` (it appends the method name)."""
        return f"http://127.0.0.1:{self.port}/api/"

    # -- inspection and fault injection -----------------------------------------------------
    def calls(self, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if method is None or r.method == method]

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for record in self.calls():
            counted[record.method] = counted.get(record.method, 0) + 1
        return counted

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def rate_limit(self, method: str, retry_after: str = "0", times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with this Retry-After."""
        with self._lock:
            self._rate_limits.extend([(method, retry_after)] * times)

    def fail(self, method: str, error: str, times: int = 1, **fields: Any) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error, **fields}`."""
        with self._lock:
            self._errors.extend([(method, {"ok": False, "error": error, **fields})] * times)

    # -- workspace mutators -----------------------------------------------------------------
    def tick(self, seconds: float = 1.0) -> str:
        with self._lock:
            self.now += max(1, int(seconds * 1_000_000))
            return ts_of(self.now)

    def add_user(self, user_id: str, name: str, display_name: str = "", **extra: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "real_name": extra.pop("real_name", name.title()),
            "deleted": False,
            "is_bot": extra.pop("is_bot", False),
            "profile": {"display_name": display_name, "real_name": name.title()},
            **extra,
        }

    def add_channel(self, channel_id: str, name: str, *, member: bool = True) -> Channel:
        channel = Channel(channel_id, name, is_member=member)
        self.channels[channel_id] = channel
        return channel

    def post(
        self, channel: str, user: str | None, text: str, *, gap: float = 60.0, **fields: Any
    ) -> str:
        """A channel-level message (`subtype`, `bot_id` ... in `fields`); returns its ts."""
        with self._lock:
            ts = self.tick(gap)
            message: dict[str, Any] = {"type": "message", "text": text, "ts": ts, **fields}
            if user is not None:
                message["user"] = user
            self.channels[channel].top[ts] = message
            return ts

    def reply(
        self,
        channel: str,
        thread_ts: str,
        user: str | None,
        text: str,
        *,
        gap: float = 30.0,
        broadcast: bool = False,
        **fields: Any,
    ) -> str:
        with self._lock:
            chan = self.channels[channel]
            parent = chan.top[thread_ts]
            ts = self.tick(gap)
            message: dict[str, Any] = {
                "type": "message",
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
                "parent_user_id": parent.get("user", ""),
                **fields,
            }
            if user is not None:
                message["user"] = user
            if broadcast:
                message["subtype"] = "thread_broadcast"
                chan.top[ts] = dict(message, root={"ts": thread_ts})
            chan.replies.setdefault(thread_ts, {})[ts] = message
            self._refresh_parent(chan, thread_ts)
            return ts

    def edit(self, channel: str, ts: str, text: str) -> str:
        """Edit a message (channel-level or reply); returns the edit's ts."""
        with self._lock:
            chan = self.channels[channel]
            edited = self.tick(1)
            for message in self._copies(chan, ts):
                message["text"] = text
                message["edited"] = {"user": message.get("user", ""), "ts": edited}
            return edited

    def delete(self, channel: str, ts: str) -> None:
        """Delete a message as Slack does: a parent with replies stays as a tombstone."""
        with self._lock:
            chan = self.channels[channel]
            if chan.replies.get(ts):  # a parent with replies stays, as a tombstone
                chan.top[ts] = {
                    "type": "message",
                    "subtype": "tombstone",
                    "text": "This message was deleted.",
                    "user": "USLACKBOT",
                    "hidden": True,
                    "ts": ts,
                    "thread_ts": ts,
                }
                self._refresh_parent(chan, ts)
                return
            if ts in chan.top and chan.top[ts].get("subtype") != "thread_broadcast":
                del chan.top[ts]
                chan.replies.pop(ts, None)
                return
            for thread_ts, replies in chan.replies.items():
                if ts in replies:
                    del replies[ts]
                    chan.top.pop(ts, None)  # a broadcast's channel copy goes too
                    parent = chan.top.get(thread_ts, {})
                    if not replies and parent.get("subtype") == "tombstone":
                        del chan.top[thread_ts]
                        del chan.replies[thread_ts]
                    else:
                        self._refresh_parent(chan, thread_ts)
                    return
            raise KeyError(ts)

    def generate(
        self,
        messages: int,
        *,
        channels: int = 2,
        users: int = 12,
        thread_share: float = 0.25,
        noise_share: float = 0.03,
        span_days: float = 90.0,
        seed: int = 7,
    ) -> None:
        """`messages` messages in all (replies included), deterministic for a seed.

        About `thread_share` of channel-level messages start threads of 1-6 replies; about
        `noise_share` are bot posts or joins (not human content). The messages spread over
        about `span_days` days, ending at the double's clock.
        """
        rng = random.Random(seed)
        gap = span_days * 86_400 / max(messages, 1)
        for n in range(users):
            self.add_user(f"U{n:08d}", f"user{n}", f"User {n}" if n % 3 else "")
        ids = [f"C{n:09d}" for n in range(channels)]
        for n, channel_id in enumerate(ids):
            if channel_id not in self.channels:
                self.add_channel(channel_id, f"channel-{n}")
        written = 0
        while written < messages:
            channel = rng.choice(ids)
            author = f"U{rng.randrange(users):08d}"
            roll = rng.random()
            if roll < noise_share / 2:
                self.post(
                    channel,
                    None,
                    f"deploy #{written} finished",
                    subtype="bot_message",
                    bot_id="B00000001",
                    username="deploybot",
                    gap=gap,
                )
                written += 1
                continue
            if roll < noise_share:
                self.post(
                    channel,
                    author,
                    f"<@{author}> has joined the channel",
                    subtype="channel_join",
                    gap=gap,
                )
                written += 1
                continue
            ts = self.post(channel, author, f"message {written}: {_sentence(rng)}", gap=gap)
            written += 1
            if rng.random() < thread_share:
                for _ in range(min(rng.randint(1, 6), messages - written)):
                    who = f"U{rng.randrange(users):08d}"
                    self.reply(channel, ts, who, f"reply {written}: {_sentence(rng)}", gap=5)
                    written += 1

    # -- Web API ----------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                args = {k: v[-1] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if raw and kind == "application/json":
                    args.update({k: _text(v) for k, v in json.loads(raw).items()})
                elif raw:
                    args.update({k: v[-1] for k, v in parse_qs(raw).items()})
                auth = self.headers.get("Authorization") or ""
                token = auth[7:] if auth.startswith("Bearer ") else args.pop("token", "")
                method = url.path.removeprefix("/api/")
                status, headers, payload = double._answer(method, token, args)
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        return Handler

    def _answer(
        self, method: str, token: str, args: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.requests.append(Recorded(method, dict(args)))
            for i, (limited, retry_after) in enumerate(self._rate_limits):
                if limited == method:
                    del self._rate_limits[i]
                    return 429, {"Retry-After": retry_after}, {"ok": False, "error": "ratelimited"}
            for i, (failing, body) in enumerate(self._errors):
                if failing == method:
                    del self._errors[i]
                    return 200, {}, body
            if not token:
                return 200, {}, {"ok": False, "error": "not_authed"}
            if self.revoked and token == self.token:
                return 200, {}, {"ok": False, "error": "token_revoked"}
            if token != self.token:
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            try:
                return 200, {}, {"ok": True, **handler(args)}
            except _ApiError as error:
                return 200, {}, {"ok": False, "error": str(error)}

    def _auth_test(self, args: dict[str, str]) -> dict[str, Any]:
        return {
            "url": self.team_url,
            "team": "kass-test",
            "user": "kass",
            "team_id": "T0000001",
            "user_id": "U0KASSBOT",
            "bot_id": "B0KASSBOT",
        }

    def _conversations_list(self, args: dict[str, str]) -> dict[str, Any]:
        ordered = sorted(self.channels.values(), key=lambda c: c.id)
        start = int(_uncursor(args.get("cursor", "")) or 0)
        limit = int(args.get("limit") or 100)
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return {
            "channels": [c.info() for c in page],
            "response_metadata": {"next_cursor": _cursor(str(start + limit)) if more else ""},
        }

    def _conversations_info(self, args: dict[str, str]) -> dict[str, Any]:
        return {"channel": self._channel(args, need_member=False).info()}

    def _conversations_history(self, args: dict[str, str]) -> dict[str, Any]:
        channel = self._channel(args)
        return self._page(list(channel.top.values()), args, newest_first=True)

    def _conversations_replies(self, args: dict[str, str]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = args.get("ts") or ""
        parent = channel.top.get(ts)
        if parent is None:
            raise _ApiError("thread_not_found")
        thread = [parent, *channel.replies.get(ts, {}).values()]
        return self._page(thread, args, newest_first=False)

    def _users_info(self, args: dict[str, str]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": user}

    def _users_list(self, args: dict[str, str]) -> dict[str, Any]:
        ordered = sorted(self.users.values(), key=lambda u: u["id"])
        start = int(_uncursor(args.get("cursor", "")) or 0)
        limit = int(args.get("limit") or 100)
        more = start + limit < len(ordered)
        return {
            "members": ordered[start : start + limit],
            "response_metadata": {"next_cursor": _cursor(str(start + limit)) if more else ""},
        }

    def _channel(self, args: dict[str, str], *, need_member: bool = True) -> Channel:
        channel = self.channels.get(args.get("channel", ""))
        if channel is None:
            raise _ApiError("channel_not_found")
        if need_member and not channel.is_member:
            raise _ApiError("not_in_channel")
        return channel

    def _page(
        self, messages: list[dict[str, Any]], args: dict[str, str], *, newest_first: bool
    ) -> dict[str, Any]:
        inclusive = args.get("inclusive") in ("1", "true")
        oldest = micros_of(args["oldest"]) if args.get("oldest") else None
        latest = micros_of(args["latest"]) if args.get("latest") else None
        limit = max(1, min(int(args.get("limit") or 100), 999))

        def in_range(message: dict[str, Any]) -> bool:
            at = micros_of(message["ts"])
            if oldest is not None and (at < oldest or (at == oldest and not inclusive)):
                return False
            return latest is None or at < latest or (at == latest and inclusive)

        chosen = sorted(
            (m for m in messages if in_range(m)),
            key=lambda m: micros_of(m["ts"]),
            reverse=newest_first,
        )
        after = _uncursor(args.get("cursor", ""))
        if after:
            mark = micros_of(after.removeprefix("next_ts:"))
            chosen = [
                m
                for m in chosen
                if (micros_of(m["ts"]) < mark if newest_first else micros_of(m["ts"]) > mark)
            ]
        page, more = chosen[:limit], len(chosen) > limit
        result: dict[str, Any] = {
            "messages": [json.loads(json.dumps(m)) for m in page],
            "has_more": more,
        }
        if more:
            result["response_metadata"] = {"next_cursor": _cursor(f"next_ts:{page[-1]['ts']}")}
        return result

    # -- helpers ----------------------------------------------------------------------------
    def _copies(self, chan: Channel, ts: str) -> list[dict[str, Any]]:
        found = [chan.top[ts]] if ts in chan.top else []
        found += [replies[ts] for replies in chan.replies.values() if ts in replies]
        if not found:
            raise KeyError(ts)
        return found

    def _refresh_parent(self, chan: Channel, thread_ts: str) -> None:
        parent = chan.top[thread_ts]
        replies = sorted(chan.replies.get(thread_ts, {}).values(), key=lambda m: m["ts"])
        if not replies:
            for key in (
                "thread_ts",
                "reply_count",
                "reply_users",
                "reply_users_count",
                "latest_reply",
            ):
                parent.pop(key, None)
            return
        users = list(dict.fromkeys(m.get("user", "") for m in replies))
        parent.update(
            thread_ts=thread_ts,
            reply_count=len(replies),
            reply_users=users,
            reply_users_count=len(users),
            latest_reply=replies[-1]["ts"],
        )


class _ApiError(Exception):
    pass


def _cursor(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _uncursor(value: str) -> str:
    return base64.b64decode(value.encode()).decode() if value else ""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


# fmt: off
_WORDS = (
    "deploy", "release", "api", "latency", "cache", "index", "review", "merge", "ticket", "bug",
    "fix", "rollout", "database", "queue", "retry", "timeout", "schema", "migration", "alert",
)
# fmt: on


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 12)))
