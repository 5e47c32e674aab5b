"""Protocols between the use cases and the outside world (AWS or local adapters).

Use cases depend only on these; settings choose the adapter. Keep them small: every method here
must be implementable on OpenSearch/Bedrock/DynamoDB as well as on the embedded default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, Field

from kass.models import (
    Answer,
    Chunk,
    ConversationSummary,
    Document,
    Message,
    SearchHit,
    SearchMode,
)


class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Shape (len(texts), dimension), float32, unit length."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Shape (dimension,), float32, unit length."""
        ...

    @property
    def max_tokens(self) -> int:
        """Longest input the model reads; longer text would be silently truncated."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the embedder sees for `text` (without special tokens); the chunker sizes by it."""
        ...


class SearchRequest(BaseModel):
    text: str
    vector: list[float] | None = None  # required for dense and hybrid modes
    k: int = Field(default=10, ge=1, le=1000)
    mode: SearchMode = "hybrid"
    filters: dict[str, str] = Field(default_factory=dict)
    # Per-request fusion weight of the lexical side (dense gets 1 - it); None = configured weights.
    lexical_weight: float | None = Field(default=None, ge=0.0, le=1.0)


class IndexStats(BaseModel):
    documents: int
    chunks: int
    embedder: str
    dimension: int
    sources: dict[str, int]  # documents per source
    size_bytes: int
    location: str


@runtime_checkable
class ChunkIndex(Protocol):
    """Hybrid (BM25 + k-NN) chunk index; a document's chunks are replaced as a unit."""

    def replace_documents(
        self,
        batch: Sequence[tuple[Document, Sequence[Chunk], np.ndarray]],
        origin: str = "",
        *,
        content_hashes: Mapping[str, str] | None = None,
    ) -> None:
        """Atomically replace each document's chunks (and vectors).

        `origin` scopes pruning; `content_hashes` (doc id -> hash) is stored instead of
        `Document.content_hash()` so the caller can fold its chunking config into the hash.
        """
        ...

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        """Delete documents and their chunks; returns how many documents existed."""
        ...

    def document_hashes(self, origin: str | None = None) -> Mapping[str, str]:
        """doc_id -> content hash of what is indexed (optionally only those from `origin`)."""
        ...

    def search(self, request: SearchRequest) -> list[SearchHit]: ...

    def stats(self) -> IndexStats: ...

    def close(self) -> None: ...


class Answerer(Protocol):
    """The chat-model seam: writes an answer to `question` from numbered passages.

    The text cites passages as `[n]`, n being the 1-based position in `passages`. Implementations:
    the extractive answerer (no model) and wrappers over LangChain chat models (later tiers).
    """

    @property
    def tier(self) -> str: ...

    def answer(self, question: str, passages: Sequence[SearchHit]) -> str: ...

    # Optional: `reply(question, passages, stream=None) -> ModelReply` returns the text with the
    # model's token usage and, given an `AnswerStream`, streams the text as it is written
    # (kass.chat.router.write_reply uses it when present).


class AnswerStream(Protocol):
    """Where an answer goes while it is being written (the WebSocket stream).

    `delta` carries answer text in order; `restart` says that a tier which had streamed failed
    and `tier` answers instead: the text streamed so far is void. The final answer (citations
    resolved) is not streamed: the caller sends it when the turn is done.
    """

    def delta(self, text: str) -> None: ...

    def restart(self, tier: str) -> None: ...


# ---------------------------------------------------------------------------------------------
# State: conversations, response cache, checkpoints (DynamoDB in AWS, SQLite locally)
# ---------------------------------------------------------------------------------------------
class ConversationStore(Protocol):
    """Messages stored one per item, so no conversation approaches an item size limit."""

    def append(self, message: Message) -> None:
        """Store a message (expires after the TTL); re-appending the same id is a no-op."""
        ...

    def messages(self, conversation_id: str, limit: int = 50) -> list[Message]:
        """The latest `limit` messages, oldest first; [] for an unknown conversation."""
        ...

    def conversations(self, user_id: str, limit: int = 50) -> list[ConversationSummary]:
        """The user's conversations, most recently active first."""
        ...


class ResponseCache(Protocol):
    """Answers keyed by `kass.chat.cache.cache_key(...)` (normalised question + index version)."""

    def get(self, key: str) -> Answer | None:
        """The cached answer, or None when absent or expired."""
        ...

    def put(self, key: str, answer: Answer, ttl_seconds: int) -> None: ...


class CheckpointStore(Protocol):
    """Small named JSON states: connector checkpoints, and the index version counter."""

    def load(self, name: str) -> dict[str, Any] | None: ...

    def save(self, name: str, state: Mapping[str, Any]) -> None:
        """Replace the state atomically (last writer wins)."""
        ...

    def counter(self, name: str) -> int:
        """Current value of an atomic counter (0 when never incremented)."""
        ...

    def increment(self, name: str) -> int:
        """Atomically add one; returns the new value (concurrent writers never lose a bump)."""
        ...


# ---------------------------------------------------------------------------------------------
# Raw documents (S3 in AWS, a folder locally): the input of the document processor
# ---------------------------------------------------------------------------------------------
class RawDocumentStore(Protocol):
    """Raw documents as JSON under `raw/<source>/<quoted doc_id>.json` (see `kass.raw_keys`)."""

    @property
    def location(self) -> str:
        """Bucket name (S3) or folder (local); events name it as their bucket."""
        ...

    def put(self, document: Document) -> str:
        """Write atomically (readers see old or new, never a part); returns the key."""
        ...

    def get(self, key: str) -> Document | None:
        """The document at `key`, or None when it does not exist (deleted)."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the object; True when it existed."""
        ...

    def keys(self, source: str | None = None) -> Iterator[str]:
        """Every key (optionally of one source), in key order."""
        ...


# ---------------------------------------------------------------------------------------------
# Connectors (GitLab, Slack, Backlog come in issue 5; `data_fetcher` runs them)
# ---------------------------------------------------------------------------------------------
class ConnectorBatch(BaseModel):
    """Documents fetched together, and the checkpoint that is true once they are stored."""

    documents: list[Document]
    checkpoint: dict[str, Any]


class Connector(Protocol):
    """One source system. `fetch(None)` is a full load; `fetch(checkpoint)` an incremental poll.

    Batches come in an order such that saving each batch's checkpoint after storing its
    documents lets a crashed run resume without gaps (overlap and de-duplication are the
    connector's job). `live_ids` lists the ids that still exist, for deletion sync; `stored`
    are the ids the raw store holds for this source, so a connector whose API cannot list ids
    cheaply may judge those instead of re-listing everything.
    """

    @property
    def source(self) -> str: ...

    def fetch(self, checkpoint: Mapping[str, Any] | None) -> Iterator[ConnectorBatch]: ...

    def live_ids(self, stored: Iterable[str] = ()) -> Iterable[str]: ...


# -- the outside systems the agents read from and act on (issue 5) ------------------------------
# Adapters live next to each connector (kass.connectors.<name>); they raise NotFound for a
# project, thread or merge request that does not exist and SourceError for auth/outage.


class TicketDraft(BaseModel):
    """A Backlog issue the Report agent proposes; created only after a person confirms."""

    project_key: str = Field(min_length=1, description="Backlog project key, e.g. APP")
    summary: str = Field(min_length=1, max_length=255)
    description: str = ""
    issue_type: str | None = Field(default=None, description="Name; none = the project's first")
    priority: str | None = Field(default=None, description="Name; none = Normal")


class CreatedTicket(BaseModel):
    key: str = Field(description="Issue key, e.g. APP-42")
    url: str


class TicketTracker(Protocol):
    def check_project(self, project_key: str) -> None:
        """NotFound when no such project exists (checked before a ticket is even proposed)."""
        ...

    def create_issue(self, draft: TicketDraft) -> CreatedTicket: ...


class ThreadMessage(BaseModel):
    author: str
    text: str
    ts: str = Field(description="Slack message timestamp (its id within the channel)")
    permalink: str | None = None


class Thread(BaseModel):
    channel: str = Field(description="Channel id")
    channel_name: str | None = None
    ts: str = Field(description="Timestamp of the thread's parent message")
    url: str | None = None
    messages: list[ThreadMessage] = Field(description="Parent first, then replies in order")


class ThreadReader(Protocol):
    def thread(self, channel: str, ts: str) -> Thread: ...


class FileChange(BaseModel):
    old_path: str
    new_path: str
    diff: str = Field(description="Unified diff hunk text of this file")
    new_file: bool = False
    deleted_file: bool = False


class MergeRequestDiff(BaseModel):
    project: str = Field(description="Project path, e.g. team/app")
    iid: int
    title: str
    description: str = ""
    url: str
    author: str | None = None
    changes: list[FileChange]


class MergeRequestReader(Protocol):
    def merge_request(self, project: str, iid: int) -> MergeRequestDiff: ...


# ---------------------------------------------------------------------------------------------
# WebSocket connections (DynamoDB in AWS, SQLite locally) and the frames sent to them
# ---------------------------------------------------------------------------------------------
class StreamConnection(BaseModel):
    """An open WebSocket connection and whom it belongs to (set once, at `$connect`)."""

    connection_id: str
    user_id: str
    connected_at: datetime


class ConnectionStore(Protocol):
    """Connection id -> owner; an entry outlives no connection (API Gateway's 2 h maximum)."""

    def put(self, connection: StreamConnection) -> None: ...

    def get(self, connection_id: str) -> StreamConnection | None:
        """The connection, or None when unknown, deleted or past the connection maximum."""
        ...

    def delete(self, connection_id: str) -> None:
        """Forget the connection (a no-op when it is unknown)."""
        ...


class FrameSender(Protocol):
    """Sends JSON frames to one connection (API Gateway's management API)."""

    gone: bool  # the client has left: frames are no longer sent

    def send(self, frame: Mapping[str, Any]) -> bool:
        """Send one frame; False when it was not delivered (once the client is gone, this and
        every later frame are dropped)."""
        ...
