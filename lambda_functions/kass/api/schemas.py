"""Request and response bodies of the HTTP API. The OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from kass.chat.actions import AuditEntry, ProposedAction
from kass.models import FILTER_KEYS, Citation, ConversationSummary, Message, SearchHit, SearchMode

_FILTERS_DESCRIPTION = f"Metadata filters, exact match; keys: {', '.join(FILTER_KEYS)}"


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, description="The question or request, in any language")
    conversation_id: str | None = Field(
        default=None, max_length=64, description="Continue this conversation; omit to start one"
    )
    filters: dict[str, str] = Field(default_factory=dict, description=_FILTERS_DESCRIPTION)
    confidential: bool = Field(
        default=False,
        description="Keep the passages inside the account: only the self-hosted tier (SageMaker) "
        "or the extractive one may answer, never Bedrock",
    )


class TurnUsage(BaseModel):
    """The cost ledger of one turn: what the answering model reported, priced exactly."""

    model_id: str | None = Field(description="Model that wrote the answer; null: no model call")
    input_tokens: int = Field(description="0 for a cache hit (no model was called)")
    output_tokens: int
    cost_usd: Decimal = Field(description='Exact decimal string, e.g. "0.00108"')


class ChatResponse(BaseModel):
    conversation_id: str
    message_id: str = Field(description="Id of the stored assistant message")
    text: str = Field(description="The answer; `[n]` markers refer to `citations[n-1]`")
    citations: list[Citation]
    found: bool = Field(description="False when nothing relevant was found in the sources")
    tier: str = Field(description="Model tier that wrote the answer")
    route: list[str] = Field(description="Tiers planned for the question, in fallback order")
    fallbacks: list[str] = Field(description="Tiers that failed before `tier` answered")
    cached: bool = Field(description="True when served from the response cache")
    usage: TurnUsage
    removed_citations: int = Field(
        description="`[n]` markers the model wrote that named no given passage (removed)"
    )
    actions: list[ProposedAction] = Field(
        default_factory=list,
        description="Writes proposed in this turn (e.g. a Backlog ticket): nothing happens until "
        "the caller confirms one with POST /actions/{action_id}/confirm",
    )


class ActionResponse(BaseModel):
    action: ProposedAction
    executed_now: bool = Field(description="False when it had been executed before (no repeat)")
    message: str = Field(description="One line for people, e.g. the created ticket's key")


class AuditResponse(BaseModel):
    entries: list[AuditEntry] = Field(description="The caller's audit entries, newest first")


class ConversationResponse(BaseModel):
    conversation_id: str
    messages: list[Message]


class ConversationListResponse(BaseModel):
    conversations: list[ConversationSummary]


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    k: int = Field(default=10, ge=1, le=100)
    mode: SearchMode | None = Field(default=None, description="Default: the configured mode")
    filters: dict[str, str] = Field(default_factory=dict, description=_FILTERS_DESCRIPTION)


class SearchResult(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    source: str
    url: str | None
    text: str
    metadata: dict[str, str]
    score: float
    lexical_score: float | None
    dense_score: float | None

    @classmethod
    def of(cls, hit: SearchHit) -> SearchResult:
        chunk = hit.chunk
        return cls(
            chunk_id=chunk.id,
            doc_id=chunk.doc_id,
            title=chunk.title,
            source=chunk.source,
            url=chunk.url,
            text=chunk.text,
            metadata=chunk.metadata,
            score=hit.score,
            lexical_score=hit.lexical_score,
            dense_score=hit.dense_score,
        )


class SearchResponse(BaseModel):
    results: list[SearchResult]


class HealthResponse(BaseModel):
    status: str = "ok"
    profile: str
    tier: str
    time: datetime


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the API has this body."""

    error: str = Field(description="Machine-readable code, e.g. invalid_input, not_found")
    message: str = Field(description="One line, for people")
