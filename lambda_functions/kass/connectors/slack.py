"""Slack: the connector (threads of the configured channels → Documents), the agent-facing
thread reader, and the Web API client they share (slack-sdk's WebClient and retry handlers).

Incremental strategy (docs/connectors/slack.md has the whole story): each channel keeps a
`Watermark` over its threads' latest activity (post, edit, latest reply). A poll re-reads the
channel's history from `overlap_days` before it, compares each message's fingerprint with the
one stored by the previous pass, and fetches conversations.replies only for threads that
changed. History is listed newest first; the checkpoint records how far down a pass got, so a
crash resumes below it without gaps. Deletions: a stored thread inside the re-read window that
is no longer listed, or no longer has human content, is not live.

Rate limits: Slack answers HTTP 429 with `Retry-After`; the handler waits that long (the sleep
is injectable, so tests do not wait) up to `max_retries` times, then the call fails with a
SourceError, raised before a batch is yielded, so no checkpoint moves past it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any
from urllib.error import URLError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from kass.connectors.common import Watermark, connector_settings, retry_after_seconds
from kass.connectors.slack_documents import (
    SOURCE,
    Message,
    activity_ts,
    check_ts,
    display_name,
    doc_id,
    fingerprint,
    thread_document,
    thread_of,
    time_ts,
    ts_time,
)
from kass.errors import InvalidInput, KassError, NotFound, SourceError
from kass.ports import ConnectorBatch, Thread, ThreadReader
from kass.settings import Settings

Sleep = Callable[[float], None]

AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


class SlackSettings(BaseSettings):
    """`KASS_SLACK_*`; on the aws profile, the secret `<prefix>slack` (same keys, lower case)."""

    model_config = SettingsConfigDict(
        env_prefix="KASS_SLACK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_parse_none_str="none",
    )

    token: SecretStr = Field(description="Bot token (xoxb-...)")
    channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Channel ids (C0123...) or names, comma-separated"
    )
    overlap_days: float = Field(
        default=7.0,
        ge=0,
        description="How far before the newest activity a poll re-reads, to catch edits, new "
        "replies and deletions of recent threads",
    )
    workspace_url: str | None = Field(
        default=None, description="https://<team>.slack.com/ for permalinks; none = auth.test"
    )
    max_retries: int = Field(default=3, ge=0, le=20, description="Per call, on 429 and outages")
    base_url: str = Field(default="https://slack.com/api/", description="Web API base URL")
    page_size: int = Field(default=200, ge=1, le=999, description="Messages per history page")
    timeout: int = Field(default=30, ge=1, description="Seconds per HTTP request")

    @field_validator("channels", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(v).strip().lstrip("#") for v in value if str(v).strip().lstrip("#")]
        return value


class _RateLimitRetry(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, waiting exactly `Retry-After` through an injectable sleep."""

    def __init__(self, max_retry_count: int, sleep: Sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("rate-limit retry without a response")
        headers = {
            name: values[0] if isinstance(values, list) else str(values)
            for name, values in response.headers.items()
        }
        state.next_attempt_requested = True
        self._sleep(retry_after_seconds(headers, default=1.0))
        state.increment_current_attempt()


class _ConnectionRetry(ConnectionErrorRetryHandler):
    """slack-sdk's connection-error handler with exponential backoff through `sleep`."""

    def __init__(self, max_retry_count: int, sleep: Sleep) -> None:
        super().__init__(
            max_retry_count=max_retry_count,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.5),
        )
        self._sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self._sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


def make_client(settings: SlackSettings, sleep: Sleep = time.sleep) -> WebClient:
    retries = settings.max_retries
    return WebClient(
        token=settings.token.get_secret_value(),
        base_url=settings.base_url,
        timeout=settings.timeout,
        retry_handlers=[_RateLimitRetry(retries, sleep), _ConnectionRetry(retries, sleep)],
    )


def is_channel_id(value: str) -> bool:
    return bool(_CHANNEL_ID.match(value))


class SlackApi:
    """Calls with errors mapped; `what` names the channel or thread for the message."""

    def __init__(self, client: WebClient, settings: SlackSettings) -> None:
        self.client = client
        self.settings = settings
        self._workspace_url = settings.workspace_url
        self._names: dict[str, str] = {}
        self._channel_names: dict[str, str] = {}

    def call(
        self, method: str, *, what: str = "", missing: type[KassError] = SourceError, **args: Any
    ) -> dict[str, Any]:
        try:
            response = self.client.api_call(
                method, params={k: v for k, v in args.items() if v is not None}
            )
        except SlackApiError as error:
            raise _mapped(error, method, what, missing, self.settings.max_retries) from None
        except (SlackClientError, URLError, OSError) as error:
            raise SourceError(
                f"cannot reach Slack at {self.settings.base_url} ({method}): {error}"
            ) from None
        data = response.data
        return data if isinstance(data, dict) else {}

    def pages(
        self,
        method: str,
        key: str,
        *,
        what: str = "",
        missing: type[KassError] = SourceError,
        **args: Any,
    ) -> Iterator[dict[str, Any]]:
        """Each page of a cursor-paginated method (the page's `key` list is in it)."""
        cursor = None
        while True:
            page = self.call(method, what=what, missing=missing, cursor=cursor, **args)
            yield page
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    # -- cached lookups ---------------------------------------------------------------------
    @property
    def workspace_url(self) -> str:
        """From the settings, else auth.test's `url`."""
        if self._workspace_url is None:
            self.check_auth()
        assert self._workspace_url is not None
        return self._workspace_url

    def check_auth(self) -> None:
        """auth.test: a bad, revoked or missing token fails here, before anything is read."""
        url = self.call("auth.test").get("url")
        if self._workspace_url is None:
            if not url:
                raise SourceError(
                    "Slack auth.test gave no workspace url; set KASS_SLACK_WORKSPACE_URL"
                )
            self._workspace_url = str(url)

    def user_name(self, user_id: str) -> str:
        if user_id not in self._names:
            try:
                user = self.call("users.info", user=user_id, missing=NotFound)["user"]
                self._names[user_id] = display_name(user)
            except NotFound:
                self._names[user_id] = user_id
        return self._names[user_id]

    def channel_name(self, channel_id: str, *, missing: type[KassError] = SourceError) -> str:
        if channel_id not in self._channel_names:
            info = self.call(
                "conversations.info", channel=channel_id, what=channel_id, missing=missing
            )
            self._channel_names[channel_id] = str(info["channel"].get("name") or channel_id)
        return self._channel_names[channel_id]

    def resolve_channels(self, wanted: list[str]) -> list[tuple[str, str]]:
        """(id, name) of each configured channel; names are looked up with conversations.list."""
        by_name: dict[str, str] | None = None
        resolved = []
        for entry in wanted:
            if is_channel_id(entry):
                resolved.append((entry, self.channel_name(entry)))
                continue
            if by_name is None:
                by_name = {}
                for page in self.pages(
                    "conversations.list",
                    "channels",
                    types="public_channel,private_channel",
                    limit=200,
                ):
                    for channel in page.get("channels") or []:
                        by_name[str(channel["name"])] = str(channel["id"])
                        self._channel_names[str(channel["id"])] = str(channel["name"])
            if entry not in by_name:
                raise SourceError(
                    f"Slack channel #{entry} not found, or the bot cannot see it "
                    "(invite it, or give its id)"
                )
            resolved.append((by_name[entry], entry))
        return resolved


def _mapped(
    error: SlackApiError, method: str, what: str, missing: type[KassError], retries: int
) -> KassError:
    response = error.response
    code = str(response.get("error") or "unknown_error")
    where = f" {what}" if what else ""
    if response.status_code == 429 or code == "ratelimited":
        return SourceError(
            f"Slack rate limit on {method}{where}: still limited after {retries} retries; "
            "the next run resumes from the checkpoint"
        )
    if code in AUTH_ERRORS:
        return SourceError(f"Slack refused the token ({code}): check KASS_SLACK_TOKEN")
    if code == "missing_scope":
        needed = response.get("needed") or "?"
        return SourceError(f"the Slack token lacks the scope {needed} needed by {method}")
    if code in ("thread_not_found", "channel_not_found", "message_not_found"):
        thing = "thread" if code == "thread_not_found" else "channel"
        return missing(f"Slack {thing}{where} not found ({code})")
    if code in CHANNEL_ERRORS:
        return SourceError(f"Slack channel{where}: {code} (invite the bot to the channel)")
    return SourceError(f"Slack {method}{where} failed: {code}")


# ---------------------------------------------------------------------------------------------
# The connector
# ---------------------------------------------------------------------------------------------
class _Pass(BaseModel):
    """A read of one channel's history, newest first, from `oldest` (None: the beginning)."""

    oldest: str | None = None
    before: str | None = None  # everything at or after this ts is done (resume point)
    watermark: Watermark = Field(default_factory=Watermark)
    seen: dict[str, str] = Field(default_factory=dict)  # ts -> fingerprint, within the window


class _ChannelState(BaseModel):
    watermark: Watermark = Field(default_factory=Watermark)  # newest activity of a whole pass
    seen: dict[str, str] = Field(default_factory=dict)  # fingerprints of the overlap window
    running: _Pass | None = None


class _Checkpoint(BaseModel):
    version: int = 1
    channels: dict[str, _ChannelState] = Field(default_factory=dict)


@dataclass
class _Run:
    """What one fetch saw, for `live_ids`."""

    verified: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    listed: dict[str, set[str]] = field(default_factory=dict)  # channel-level ts, all listed
    fetched: dict[str, set[str]] = field(default_factory=dict)  # threads that made a document
    dropped: dict[str, set[str]] = field(default_factory=dict)  # threads that made none
    complete: bool = False


class SlackConnector:
    """Slack threads of the configured channels, polled with an overlap window.

    `live_ids(stored)` after a poll costs no request: stored threads outside the window the
    poll re-read are taken as live. Without a complete run first, it re-lists every channel's
    history (a full fetch).
    """

    source = SOURCE

    def __init__(
        self,
        settings: SlackSettings,
        *,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.settings = settings
        self.api = SlackApi(make_client(settings, sleep), settings)
        self.overlap = timedelta(days=settings.overlap_days)
        self._run: _Run | None = None

    def fetch(self, checkpoint: Mapping[str, Any] | None) -> Iterator[ConnectorBatch]:
        state = _load_checkpoint(checkpoint)
        if not self.settings.channels:
            raise InvalidInput("KASS_SLACK_CHANNELS is empty: list the channels to sync")
        run = _Run()
        self._run = run
        self.api.check_auth()  # a bad token fails before any batch
        workspace = self.api.workspace_url
        for channel, name in self.api.resolve_channels(self.settings.channels):
            yield from self._channel(channel, name, state, workspace, run)
        run.complete = True

    def live_ids(self, stored: Iterable[str] = ()) -> Iterable[str]:
        run = self._run
        if run is None or not run.complete:
            for _ in self.fetch(None):  # nothing to go on: list everything (expensive)
                pass
            run = self._run
            assert run is not None
        live = {doc_id(c, t) for c, threads in run.fetched.items() for t in threads}
        for known in stored:
            parts = known.split(":")
            if len(parts) != 3 or parts[0] != SOURCE or parts[1] not in run.verified:
                live.add(known)  # not one of the channels synced: not ours to judge
                continue
            channel, thread = parts[1], parts[2]
            if thread in run.dropped[channel]:
                continue
            oldest, before = run.verified[channel]
            inside = (oldest is None or _later_or_same(thread, oldest)) and (
                before is None or not _later_or_same(thread, before)
            )
            if not inside or thread in run.listed[channel]:
                live.add(known)
        return live

    # -- one channel ------------------------------------------------------------------------
    def _channel(
        self, channel: str, name: str, state: _Checkpoint, workspace: str, run: _Run
    ) -> Iterator[ConnectorBatch]:
        current = state.channels.setdefault(channel, _ChannelState())
        if current.running is None:
            since = current.watermark.since(self.overlap)
            current.running = _Pass(
                oldest=None if since is None else time_ts(since), watermark=current.watermark
            )
        progress = current.running
        before = progress.before  # fixed for this process: the part after it was done earlier
        run.verified[channel] = (progress.oldest, before)
        listed = run.listed.setdefault(channel, set())
        fetched = run.fetched.setdefault(channel, set())
        dropped = run.dropped.setdefault(channel, set())
        for page in self.api.pages(
            "conversations.history",
            "messages",
            what=f"{channel} (#{name})",
            channel=channel,
            oldest=progress.oldest,
            latest=before,
            inclusive=True,
            limit=self.settings.page_size,
        ):
            wanted: dict[str, Message | None] = {}  # thread ts -> the message, if it is all
            for message in page.get("messages") or []:
                ts = str(message["ts"])
                if before is not None and _later_or_same(ts, before):
                    continue
                mark = fingerprint(message)
                progress.seen[ts] = mark
                thread = str(message.get("thread_ts") or ts)
                progress.watermark = progress.watermark.advanced(
                    [(doc_id(channel, thread), ts_time(activity_ts(message)))],
                    self.overlap,
                    limit=0,  # de-duplication is by the messages' fingerprints
                )
                if current.seen.get(ts) == mark:
                    if thread == ts:
                        listed.add(ts)
                    continue  # unchanged since the pass that stored it
                if thread != ts:  # a reply also sent to the channel
                    parent_listed = progress.oldest is None or _later_or_same(
                        thread, progress.oldest
                    )
                    if not parent_listed:  # an older thread moved: re-read it
                        wanted.setdefault(thread, None)
                    continue
                listed.add(ts)
                wanted[ts] = None if message.get("reply_count") else message
            documents = []
            for thread, alone in wanted.items():
                messages = [alone] if alone is not None else self._replies(channel, thread, name)
                document = thread_document(
                    channel=channel,
                    channel_name=name,
                    thread_ts=thread,
                    messages=messages,
                    workspace_url=workspace,
                    user_name=self.api.user_name,
                )
                if document is None:
                    dropped.add(thread)
                else:
                    fetched.add(thread)
                    documents.append(document)
            timestamps = [str(m["ts"]) for m in page.get("messages") or []]
            if timestamps:
                progress.before = min(timestamps, key=ts_time)
            since = progress.watermark.since(self.overlap)
            if since is not None:
                progress.seen = {ts: p for ts, p in progress.seen.items() if ts_time(ts) >= since}
            last = not page.get("has_more")
            if last:
                current.watermark, current.seen, current.running = (
                    progress.watermark,
                    progress.seen,
                    None,
                )
            yield ConnectorBatch(documents=documents, checkpoint=state.model_dump(mode="json"))

    def _replies(self, channel: str, thread: str, name: str) -> list[Message]:
        try:
            return [
                message
                for page in self.api.pages(
                    "conversations.replies",
                    "messages",
                    what=f"{channel} (#{name}) thread {thread}",
                    missing=NotFound,
                    channel=channel,
                    ts=thread,
                    limit=200,
                )
                for message in page.get("messages") or []
            ]
        except NotFound:
            return []  # deleted since it was listed: no document, and not live


def _later_or_same(ts: str, other: str) -> bool:
    return ts_time(ts) >= ts_time(other)


def _load_checkpoint(checkpoint: Mapping[str, Any] | None) -> _Checkpoint:
    if not checkpoint:
        return _Checkpoint()
    try:
        return _Checkpoint.model_validate(checkpoint)
    except ValidationError:
        raise InvalidInput(
            "the slack checkpoint is not one this version understands; run a full sync"
        ) from None


# ---------------------------------------------------------------------------------------------
# The agent-facing thread reader
# ---------------------------------------------------------------------------------------------
class SlackThreads:
    """`ThreadReader` over conversations.replies: the human messages of one thread."""

    def __init__(self, settings: SlackSettings, *, sleep: Sleep = time.sleep) -> None:
        self.api = SlackApi(make_client(settings, sleep), settings)

    def thread(self, channel: str, ts: str) -> Thread:
        channel, ts = channel.strip().lstrip("#"), check_ts(ts)
        if not is_channel_id(channel):
            channel = self.api.resolve_channels([channel])[0][0]
        name = self.api.channel_name(channel, missing=NotFound)
        workspace = self.api.workspace_url
        messages = [
            message
            for page in self.api.pages(
                "conversations.replies",
                "messages",
                what=f"{channel} thread {ts}",
                missing=NotFound,
                channel=channel,
                ts=ts,
                limit=200,
            )
            for message in page.get("messages") or []
        ]
        thread = str(messages[0].get("thread_ts") or ts) if messages else ts
        return thread_of(
            channel, name, thread, messages, workspace_url=workspace, user_name=self.api.user_name
        )


def thread_reader(settings: Settings) -> ThreadReader:
    """The reader the Summarize agent uses, from the connector's settings (token required)."""
    return SlackThreads(load_slack_settings(settings))


def load_slack_settings(settings: Settings) -> SlackSettings:
    return connector_settings(SlackSettings, SOURCE, settings)


def from_settings(settings: Settings) -> SlackConnector:
    """The connector `kass.connectors.CONNECTORS` builds."""
    return SlackConnector(load_slack_settings(settings))
