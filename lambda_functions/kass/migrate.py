"""`kass migrate --to aws`: copy the local workspace's raw documents, conversations and
checkpoints to the AWS stores.

Every write is idempotent (identical S3 objects are recognised by their `kass-sha256` metadata,
messages are conditional puts, checkpoints are compared first), so re-running copies only what
is missing: an interrupted run is resumed by running it again. The local index is not copied:
objects landing in S3 are indexed in AWS by the document processor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from pydantic import BaseModel

from kass.errors import KassError
from kass.models import Document, Message

if TYPE_CHECKING:
    from kass.wiring import Runtime

Progress = Callable[[int, int], None]


# -- what each side must offer (the local SQLite/folder stores; the S3/DynamoDB stores) -------
@runtime_checkable
class SourceRawDocuments(Protocol):
    def keys(self, source: str | None = None) -> Iterator[str]: ...

    def get(self, key: str) -> Document | None: ...


@runtime_checkable
class SourceConversations(Protocol):
    def all_messages(self) -> Iterator[Message]: ...


@runtime_checkable
class SourceCheckpoints(Protocol):
    def all_states(self) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def all_counters(self) -> Iterator[tuple[str, int]]: ...


@runtime_checkable
class TargetRawDocuments(Protocol):
    @property
    def location(self) -> str: ...

    def put(self, document: Document) -> str: ...

    def holds(self, document: Document) -> bool: ...


@runtime_checkable
class TargetConversations(Protocol):
    def has_message(self, conversation_id: str, message_id: str) -> bool: ...

    def put_message(self, message: Message) -> bool: ...


@runtime_checkable
class TargetCheckpoints(Protocol):
    def load(self, name: str) -> dict[str, Any] | None: ...

    def save(self, name: str, state: Any) -> None: ...

    def counter(self, name: str) -> int: ...

    def raise_counter(self, name: str, value: int) -> bool: ...


@dataclass(frozen=True)
class Source:
    raw_store: SourceRawDocuments
    conversations: SourceConversations | None  # None: no local state database yet
    checkpoints: SourceCheckpoints | None


@dataclass(frozen=True)
class Target:
    raw_store: TargetRawDocuments
    conversations: TargetConversations
    checkpoints: TargetCheckpoints


class Counts(BaseModel):
    copied: int = 0  # in a dry run: would be copied
    skipped: int = 0  # already in the target with identical content


class MigrationReport(BaseModel):
    dry_run: bool
    target: str
    raw_documents: Counts
    messages: Counts
    checkpoints: Counts  # connector states and counters

    @property
    def copied(self) -> int:
        return self.raw_documents.copied + self.messages.copied + self.checkpoints.copied


def local_source(runtime: Runtime) -> Source:
    """The local workspace of `runtime` (profile local), without creating anything in it."""
    home = runtime.settings.app.home
    if not home.is_dir():
        raise KassError(f"nothing to migrate: no local workspace at {home} (set KASS_HOME)")
    has_state = runtime.settings.state_db.is_file()
    return Source(
        raw_store=_require(runtime.raw_store, SourceRawDocuments, "local raw store"),
        conversations=(
            _require(runtime.conversations, SourceConversations, "local conversation store")
            if has_state
            else None
        ),
        checkpoints=(
            _require(runtime.checkpoints, SourceCheckpoints, "local checkpoint store")
            if has_state
            else None
        ),
    )


def aws_target(runtime: Runtime) -> Target:
    return Target(
        raw_store=_require(runtime.raw_store, TargetRawDocuments, "S3 raw store"),
        conversations=_require(runtime.conversations, TargetConversations, "conversation table"),
        checkpoints=_require(runtime.checkpoints, TargetCheckpoints, "checkpoint table"),
    )


def migrate_to_aws(
    source: Source, target: Target, *, dry_run: bool, progress: Progress | None = None
) -> MigrationReport:
    """Copy what the target lacks or holds differently; with `dry_run`, only count it."""
    keys = list(source.raw_store.keys())
    messages = list(source.conversations.all_messages()) if source.conversations else []
    states = list(source.checkpoints.all_states()) if source.checkpoints else []
    counters = list(source.checkpoints.all_counters()) if source.checkpoints else []
    total = len(keys) + len(messages) + len(states) + len(counters)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    report = MigrationReport(
        dry_run=dry_run,
        target=target.raw_store.location,
        raw_documents=Counts(),
        messages=Counts(),
        checkpoints=Counts(),
    )
    # Documents first: a checkpoint copied before its documents would skip them in AWS.
    for key in keys:
        document = source.raw_store.get(key)
        if document is not None:
            if target.raw_store.holds(document):
                report.raw_documents.skipped += 1
            else:
                if not dry_run:
                    target.raw_store.put(document)
                report.raw_documents.copied += 1
        tick()

    for message in messages:
        if dry_run:
            new = not target.conversations.has_message(message.conversation_id, message.id)
        else:
            new = target.conversations.put_message(message)  # conditional: never twice
        _count(report.messages, new)
        tick()

    for name, state in states:
        new = target.checkpoints.load(name) != state
        if new and not dry_run:
            target.checkpoints.save(name, state)
        _count(report.checkpoints, new)
        tick()

    for name, value in counters:
        # A counter only grows (index versions): raise it to the local value, never lower it.
        new = target.checkpoints.counter(name) < value
        if new and not dry_run:
            target.checkpoints.raise_counter(name, value)
        _count(report.checkpoints, new)
        tick()
    return report


def _count(counts: Counts, copied: bool) -> None:
    if copied:
        counts.copied += 1
    else:
        counts.skipped += 1


def _require(store: object, protocol: type, what: str) -> Any:
    if not isinstance(store, protocol):
        raise KassError(f"the {what} ({type(store).__name__}) cannot take part in a migration")
    return cast(Any, store)
