"""Protocols between the use cases and the outside world (AWS or local adapters).

Use cases depend only on these; settings choose the adapter. Keep them small: every method here
must be implementable on OpenSearch/Bedrock/DynamoDB as well as on the embedded default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, Field

from kass.models import Chunk, Document, SearchHit, SearchMode


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
