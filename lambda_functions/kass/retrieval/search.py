"""The search use case: validate, embed the query when the mode needs it, ask the index."""

from __future__ import annotations

from collections.abc import Mapping

from kass.errors import InvalidInput
from kass.language import is_mostly_cjk
from kass.models import FILTER_KEYS, SearchHit, SearchMode
from kass.ports import ChunkIndex, Embedder, SearchRequest

MAX_QUERY_CHARS = 4000


def parse_filters(pairs: list[str]) -> dict[str, str]:
    """`["source=slack", "project=TSB"]` -> dict; rejects unknown keys and malformed pairs."""
    filters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(f"filter {pair!r} is not key=value (keys: {', '.join(FILTER_KEYS)})")
        filters[key.strip()] = value.strip()
    validate_filters(filters)
    return filters


def validate_filters(filters: Mapping[str, str]) -> None:
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise InvalidInput(
            f"unknown filter key {unknown[0]!r}; use one of: {', '.join(FILTER_KEYS)}"
        )


def validate_query(text: str, max_chars: int = MAX_QUERY_CHARS) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("the query is empty")
    if len(text) > max_chars:
        raise InvalidInput(f"the query is {len(text)} characters; the limit is {max_chars}")
    return text


class Searcher:
    """Hybrid search over any ChunkIndex with any Embedder (local or AWS)."""

    def __init__(
        self,
        index: ChunkIndex,
        embedder: Embedder,
        default_mode: SearchMode = "hybrid",
        cjk_lexical_weight: float | None = None,
    ):
        self.index = index
        self.embedder = embedder
        self.default_mode = default_mode
        self.cjk_lexical_weight = cjk_lexical_weight

    def search(
        self,
        text: str,
        *,
        k: int = 10,
        mode: SearchMode | None = None,
        filters: Mapping[str, str] | None = None,
        max_chars: int = MAX_QUERY_CHARS,
    ) -> list[SearchHit]:
        text = validate_query(text, max_chars)
        filters = dict(filters or {})
        validate_filters(filters)
        if not 1 <= k <= 1000:
            raise InvalidInput(f"k must be between 1 and 1000, got {k}")
        mode = mode or self.default_mode
        vector = None if mode == "bm25" else self.embedder.embed_query(text).tolist()
        lexical_weight = self.cjk_lexical_weight if is_mostly_cjk(text) else None
        request = SearchRequest(
            text=text, vector=vector, k=k, mode=mode, filters=filters, lexical_weight=lexical_weight
        )
        return self.index.search(request)
