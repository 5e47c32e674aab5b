"""The domain model shared by ingestion, retrieval and chat. Pure data, no I/O."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Metadata keys a search may filter on. They mirror keyword fields of the OpenSearch mapping.
FILTER_KEYS: tuple[str, ...] = ("source", "project", "channel")

SearchMode = Literal["hybrid", "bm25", "dense"]


def _sha256(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")  # unit separator: ("ab","c") and ("a","bc") differ
    return digest.hexdigest()


class Document(BaseModel):
    """One source item: a GitLab issue/MR with its notes, a Slack thread, a Backlog issue, a file.

    This is also the on-disk shape of a raw document (`raw/<source>/<doc_id>.json`).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Stable id, unique across sources")
    source: str = Field(min_length=1, description="gitlab | slack | backlog | file | beir | ...")
    url: str | None = None
    title: str = ""
    text: str
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _stringify_metadata(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items() if v is not None}
        return value

    def content_hash(self) -> str:
        """Hash of everything that ends up in the index; equal hash means nothing to do."""
        body = self.model_dump(mode="json")
        return _sha256(json.dumps(body, sort_keys=True, ensure_ascii=False))


class Chunk(BaseModel):
    """A piece of a document, sized for the embedder, with the document's title prefixed."""

    model_config = ConfigDict(extra="forbid")

    id: str
    doc_id: str
    position: int = Field(ge=0)
    text: str
    source: str
    title: str = ""
    url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @staticmethod
    def make_id(doc_id: str, position: int, text: str) -> str:
        """Deterministic: the same document, position and content give the same id."""
        return _sha256(doc_id, str(position), text)[:32]

    @property
    def body(self) -> str:
        """The text without the title the chunker prefixes ("<title>\\n\\n<body>")."""
        if self.title and self.text.startswith(self.title):
            return self.text[len(self.title) :].strip()
        return self.text.strip()

    def filter_value(self, key: str) -> str | None:
        return self.source if key == "source" else self.metadata.get(key)


class SearchHit(BaseModel):
    """A retrieved chunk with its fused score and the raw sub-query scores behind it."""

    chunk: Chunk
    score: float
    lexical_score: float | None = None  # raw BM25, None when the chunk was not a lexical hit
    dense_score: float | None = None  # raw cosine similarity, None when not a vector hit


class Citation(BaseModel):
    """What an `[n]` marker in an answer resolves to."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    source: str
    location: str  # URL, or path/id where there is no URL
    link: str  # the most precise link: the cited note/message's own URL when the chunk has one
    snippet: str


class ModelReply(BaseModel):
    """What one answering tier wrote, and the tokens the model reported for it."""

    text: str
    model_id: str | None = None  # None: no model was called (the extractive tier)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)


class Answer(BaseModel):
    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    found: bool = True  # False when nothing relevant was retrieved
    tier: str  # which model tier produced the text ("extractive", "haiku", ...)
    route: list[str] = Field(default_factory=list)  # the tiers planned, in order
    fallbacks: list[str] = Field(default_factory=list)  # tiers that failed before `tier`
    model_id: str | None = None  # the model behind `tier` (None: no model was called)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cost_usd: Decimal = Field(default=Decimal(0), ge=0)  # exact, from kass.llm.pricing
    removed_citations: int = Field(default=0, ge=0)  # markers that named no given passage


class Message(BaseModel):
    """One turn of a conversation; stored one item per message (DynamoDB) or row (SQLite)."""

    id: str = Field(description="Time-ordered (ULID-like): sorting by id sorts by time")
    conversation_id: str
    user_id: str
    role: Literal["user", "assistant"]
    text: str
    citations: list[Citation] = Field(default_factory=list)
    tier: str | None = None  # assistant messages: the tier that wrote it
    # The cost ledger (assistant messages): what this turn spent; 0 tokens for a cache hit.
    model_id: str | None = None
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cost_usd: Decimal | None = Field(default=None, ge=0)
    created_at: datetime


class ConversationSummary(BaseModel):
    """A user's conversation as listed: its id, when it was last active, its first question."""

    conversation_id: str
    user_id: str
    title: str
    updated_at: datetime
