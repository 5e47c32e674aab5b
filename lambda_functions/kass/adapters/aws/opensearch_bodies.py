"""Pure builders of the request bodies the OpenSearch adapter sends (no I/O).

Kept apart from the adapter so contract tests can validate every body against the OpenSearch
API specification. Record layout and the reasons behind it: `opensearch.py`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kass.errors import IndexMismatch, InvalidInput
from kass.models import FILTER_KEYS, Chunk, Document
from kass.ports import SearchRequest
from kass.settings import IndexSettings, RetrievalSettings

MAPPING_PATH = Path(__file__).with_name("opensearch_mapping.json")
FORMAT = "kass-chunk-index"
VERSION = "1"
VECTOR_FIELD = "embedding"
TEXT_FIELDS = ("text", "text.ja")
PAGE_SIZE = 1000  # search_after page when listing records

Fusion = Literal["minmax", "rrf"]


# ---------------------------------------------------------------------------------------------
# Pure body builders
# ---------------------------------------------------------------------------------------------
def load_mapping() -> dict[str, Any]:
    """The committed index body (settings + mappings) as a fresh dict."""
    return json.loads(MAPPING_PATH.read_text(encoding="utf-8"))


def index_body(embedder_name: str, dimension: int, settings: IndexSettings) -> dict[str, Any]:
    """PUT <index> body: the committed mapping with this embedder's name, dimension, HNSW knobs."""
    if dimension < 1:
        raise InvalidInput(f"embedding dimension must be positive, got {dimension}")
    body = load_mapping()
    mappings = body["mappings"]
    mappings["_meta"] = {
        "format": FORMAT,
        "version": VERSION,
        "embedder": embedder_name,
        "dimension": dimension,
    }
    vector = mappings["properties"][VECTOR_FIELD]
    vector["dimension"] = dimension
    vector["method"]["parameters"] = {
        "m": settings.hnsw_m,
        "ef_construction": settings.hnsw_ef_construction,
    }
    body["settings"]["index"]["knn.algo_param.ef_search"] = settings.hnsw_ef_search
    return body


def index_meta(mapping_response: Mapping[str, Any]) -> dict[str, Any]:
    """`_meta` out of a GET <index>/_mapping response ({index: {mappings: {...}}})."""
    for entry in mapping_response.values():
        return dict(entry.get("mappings", {}).get("_meta") or {})
    return {}


def check_meta(meta: Mapping[str, Any], index: str, embedder_name: str, dimension: int) -> None:
    """Raise IndexMismatch unless the index was built for this embedder and dimension."""
    if meta.get("format") != FORMAT:
        raise IndexMismatch(
            f"OpenSearch index {index!r} is not a kass chunk index (its mapping _meta has no "
            f"format {FORMAT!r}); choose another index name"
        )
    found_name, found_dim = meta.get("embedder"), meta.get("dimension")
    if found_name != embedder_name or found_dim != dimension:
        raise IndexMismatch(
            f"OpenSearch index {index!r} was built with embedder {found_name!r} "
            f"(dimension {found_dim}); the configured embedder is {embedder_name!r} "
            f"(dimension {dimension}). Use another index name or re-index"
        )


def fusion_weights(
    settings: RetrievalSettings, lexical_weight: float | None
) -> tuple[float, float]:
    """(lexical, dense) weights, normalized to sum to 1 and rounded to 4 decimals.

    The normalization processor rejects weights that do not sum to 1.0; the arithmetic mean
    Σwᵢsᵢ/Σwᵢ is unchanged by scaling, so normalizing keeps the local index's fusion. Rounding
    bounds the number of named pipelines (one per distinct weight pair).
    """
    if lexical_weight is None:
        lexical, dense = settings.lexical_weight, settings.dense_weight
    else:
        lexical, dense = lexical_weight, 1.0 - lexical_weight
    total = lexical + dense
    if total <= 0:
        raise InvalidInput("fusion weights cannot both be 0")
    lexical = round(lexical / total, 4)
    return lexical, round(1.0 - lexical, 4)


def pipeline_id(prefix: str, fusion: Fusion, weights: tuple[float, float], rrf_k: int) -> str:
    """Stable name of the search pipeline for these fusion parameters (weights in 1/10,000)."""
    lexical, dense = (round(w * 10_000) for w in weights)
    if fusion == "rrf":
        return f"{prefix}-rrf{rrf_k}-{lexical:05d}-{dense:05d}"
    return f"{prefix}-minmax-{lexical:05d}-{dense:05d}"


def pipeline_body(fusion: Fusion, weights: tuple[float, float], rrf_k: int) -> dict[str, Any]:
    """PUT _search/pipeline/<id> body; sub-query order is (lexical, dense), as in `hybrid_query`."""
    if fusion == "rrf":
        processor = {
            "score-ranker-processor": {
                "combination": {
                    "technique": "rrf",
                    "rank_constant": rrf_k,
                    # Weighted RRF needs OpenSearch >= 3.x; not in the API spec's schema.
                    "parameters": {"weights": list(weights)},
                }
            }
        }
        description = f"kass hybrid fusion: rrf k={rrf_k}, weights {list(weights)}"
    else:
        processor = {
            "normalization-processor": {
                "normalization": {"technique": "min_max"},
                "combination": {
                    "technique": "arithmetic_mean",
                    "parameters": {"weights": list(weights)},
                },
            }
        }
        description = f"kass hybrid fusion: min_max + arithmetic_mean, weights {list(weights)}"
    return {"description": description, "phase_results_processors": [processor]}


def filter_clauses(filters: Mapping[str, str]) -> list[dict[str, Any]]:
    """Exact-match term clauses on the keyword filter fields; unknown keys are refused."""
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise InvalidInput(f"unknown filter key(s) {unknown}; allowed: {list(FILTER_KEYS)}")
    return [{"term": {key: {"value": value}}} for key, value in sorted(filters.items())]


def lexical_query(text: str, filters: Mapping[str, str]) -> dict[str, Any]:
    """BM25 over the English and the Japanese analysis of the text, filters as a bool filter."""
    query: dict[str, Any] = {
        "should": [{"match": {field: {"query": text}}} for field in TEXT_FIELDS],
        "minimum_should_match": 1,
    }
    clauses = filter_clauses(filters)
    if clauses:
        query["filter"] = clauses
    return {"bool": query}


def knn_query(vector: Sequence[float], k: int, filters: Mapping[str, str]) -> dict[str, Any]:
    """k-NN on the embedding; filters go *inside* knn (efficient pre-filtering), not after it."""
    knn: dict[str, Any] = {"vector": [float(x) for x in vector], "k": k}
    clauses = filter_clauses(filters)
    if clauses:
        knn["filter"] = {"bool": {"filter": clauses}}
    return {"knn": {VECTOR_FIELD: knn}}


def hybrid_query(
    text: str, vector: Sequence[float], k: int, filters: Mapping[str, str]
) -> dict[str, Any]:
    """`hybrid` with (lexical, dense) sub-queries, each filtered; order matches the weights."""
    return {"hybrid": {"queries": [lexical_query(text, filters), knn_query(vector, k, filters)]}}


def search_body(request: SearchRequest, candidates: int, dimension: int) -> dict[str, Any]:
    """_search body for a request: plain match (bm25), plain knn (dense), or hybrid."""
    if request.mode == "bm25":
        query, size = lexical_query(request.text, request.filters), request.k
    elif request.mode == "dense":
        vector = unit_query_vector(request.vector, dimension)
        query, size = knn_query(vector, request.k, request.filters), request.k
    else:
        # Each sub-query contributes `candidates` hits to the fusion, as in the local index.
        size = max(request.k, candidates)
        vector = unit_query_vector(request.vector, dimension)
        query = hybrid_query(request.text, vector, size, request.filters)
    return {"size": size, "query": query, "_source": {"excludes": [VECTOR_FIELD]}}


def unit_query_vector(vector: Sequence[float] | None, dimension: int) -> list[float]:
    if vector is None:
        raise InvalidInput("dense and hybrid search need a query vector")
    array = np.asarray(vector, dtype=np.float64)
    if array.shape != (dimension,):
        raise InvalidInput(
            f"the query vector has {array.size} dimensions; the index has {dimension}"
        )
    norm = float(np.linalg.norm(array))
    if not math.isfinite(norm) or norm == 0:
        raise InvalidInput("the query vector is zero or not finite")
    return [float(x) for x in array / norm]


def document_source(doc: Document, origin: str, content_hash: str) -> dict[str, Any]:
    source = {
        "kind": "document",
        "doc_id": doc.id,
        "chunk_id": "",  # a sort tie-breaker value (see records_page_body)
        "origin": origin,
        "content_hash": content_hash,
        "source": doc.source,
        "title": doc.title,
        "url": doc.url,
        "metadata": dict(doc.metadata),
    }
    for key in FILTER_KEYS:
        if key != "source" and key in doc.metadata:
            source[key] = doc.metadata[key]
    return source


def chunk_source(
    chunk: Chunk, vector: Sequence[float], origin: str, content_hash: str
) -> dict[str, Any]:
    source: dict[str, Any] = {
        "kind": "chunk",
        "doc_id": chunk.doc_id,
        "chunk_id": chunk.id,
        "origin": origin,
        "content_hash": content_hash,
        "position": chunk.position,
        "text": chunk.text,
        "title": chunk.title,
        "url": chunk.url,
        "source": chunk.source,
        "metadata": dict(chunk.metadata),
        VECTOR_FIELD: [float(x) for x in vector],
    }
    for key in FILTER_KEYS:
        value = chunk.filter_value(key)
        if value is not None:
            source[key] = value
    return source


def bulk_index_lines(index: str, sources: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Bulk action/source pairs with no `_id` (AOSS vector collections generate it)."""
    lines: list[dict[str, Any]] = []
    for source in sources:
        lines.append({"index": {"_index": index}})
        lines.append(dict(source))
    return lines


def bulk_delete_lines(index: str, ids: Iterable[str]) -> list[dict[str, Any]]:
    return [{"delete": {"_index": index, "_id": record_id}} for record_id in ids]


def by_doc_ids(doc_ids: Sequence[str]) -> dict[str, Any]:
    return {"bool": {"filter": [{"terms": {"doc_id": list(doc_ids)}}]}}


def records_page_body(
    query: Mapping[str, Any], fields: Sequence[str], search_after: list[Any] | None, size: int
) -> dict[str, Any]:
    """One page of records matching `query`, sorted by doc_id then chunk_id, for search_after.

    Sorting on `_id` is not allowed on AOSS, so the tie-breaker is the chunk_id keyword (a
    document marker's chunk_id is "", so no sort value is ever missing). Plain field names:
    the spec's `Sort` oneOf is ambiguous for `{field: {order: ...}}` objects.
    """
    body: dict[str, Any] = {
        "size": size,
        "query": dict(query),
        "_source": {"includes": list(fields)},
        "sort": ["doc_id", "chunk_id"],
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body


def delete_by_query_body(doc_ids: Sequence[str]) -> dict[str, Any]:
    return {"query": by_doc_ids(doc_ids)}


def hashes_query(origin: str | None) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [{"term": {"kind": {"value": "document"}}}]
    if origin is not None:
        clauses.append({"term": {"origin": {"value": origin}}})
    return {"bool": {"filter": clauses}}


def stats_body() -> dict[str, Any]:
    """Counts of documents and chunks, and documents per source, in one request."""
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"match_all": {}},
        "aggs": {
            "kinds": {"terms": {"field": "kind", "size": 10}},
            "sources": {
                "filter": {"term": {"kind": {"value": "document"}}},
                "aggs": {"by_source": {"terms": {"field": "source", "size": 1000}}},
            },
        },
    }


def cosine_from_innerproduct_score(score: float) -> float:
    """Invert OpenSearch's inner-product score (ip ≥ 0: 1 + ip; ip < 0: 1 / (1 − ip))."""
    return score - 1.0 if score >= 1.0 else 1.0 - 1.0 / score
