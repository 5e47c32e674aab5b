"""Hybrid score fusion, as OpenSearch's search pipelines compute it. Pure functions.

Min-max follows neural-search's `normalization-processor` (min_max + arithmetic_mean):
- each sub-query is normalized over the hits *it returned*: (s - min) / (max - min);
- when a sub-query's max equals its min (e.g. a single hit) the normalized score is 1.0;
- a normalized 0 is floored to MIN_SCORE (0.001), so a returned hit always outranks a miss;
- a document missing from a sub-query scores 0 there and that sub-query's weight still counts;
- combination is the weighted arithmetic mean sum(w_i * s_i) / sum(w_i).
RRF follows `score-ranker-processor`: sum_i w_i / (rank_constant + rank_i), ranks from 1.

OpenSearch computes in float32; we use float64, so scores can differ in the 7th digit.
Ties are broken by id so a ranking never depends on dict or set order.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

Id = TypeVar("Id", bound=Hashable)

MIN_SCORE = 0.001
SINGLE_RESULT_SCORE = 1.0

# One sub-query's hits, best first: (id, raw score).
Ranked = Sequence[tuple[Id, float]]


def minmax_normalize(scores: Sequence[float]) -> list[float]:
    """Normalize one sub-query's scores to (0, 1] the way OpenSearch's min_max technique does."""
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high == low:
        return [SINGLE_RESULT_SCORE] * len(scores)
    normalized = [(s - low) / (high - low) for s in scores]
    return [MIN_SCORE if n == 0.0 else n for n in normalized]


def minmax_fuse(results: Sequence[Ranked[Id]], weights: Sequence[float]) -> list[tuple[Id, float]]:
    """Weighted arithmetic mean of min-max normalized scores; a miss contributes 0."""
    _check(results, weights)
    total_weight = sum(weights)
    fused: dict[Id, float] = {}
    for hits, weight in zip(results, weights, strict=True):
        normalized = minmax_normalize([score for _, score in hits])
        for (doc_id, _), score in zip(hits, normalized, strict=True):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight * score
    return _sorted({doc_id: s / total_weight for doc_id, s in fused.items()})


def rrf_fuse(
    results: Sequence[Ranked[Id]], weights: Sequence[float], rank_constant: int = 60
) -> list[tuple[Id, float]]:
    """Reciprocal rank fusion: each sub-query adds weight / (rank_constant + rank)."""
    _check(results, weights)
    if rank_constant < 1:
        raise ValueError(f"rank_constant must be >= 1, got {rank_constant}")
    fused: dict[Id, float] = {}
    for hits, weight in zip(results, weights, strict=True):
        for rank, (doc_id, _) in enumerate(hits, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (rank_constant + rank)
    return _sorted(fused)


def _check(results: Sequence[Ranked[Id]], weights: Sequence[float]) -> None:
    if len(results) != len(weights):
        raise ValueError(f"{len(results)} sub-query results but {len(weights)} weights")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be >= 0 and not all 0, got {list(weights)}")
    for hits in results:
        ids = [doc_id for doc_id, _ in hits]
        if len(set(ids)) != len(ids):
            raise ValueError("a sub-query returned the same id twice")


def _sorted(scores: dict[Id, float]) -> list[tuple[Id, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
