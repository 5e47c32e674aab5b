"""`ChunkIndex` on OpenSearch (Serverless vector collections or a managed domain), opensearch-py.

Body building is pure (module-level functions, no I/O) so contract tests can check every body
against the OpenSearch API specification; `OpenSearchChunkIndex` only sends them.

Records (one index, told apart by the `kind` keyword):
- `kind=document`: one marker per document (doc_id, origin, content_hash, source, title, url,
  metadata). It has no `text` and no `embedding`, so no lexical or k-NN query can return it;
  it makes `document_hashes`, `delete_documents`' count and document stats exact, including for
  documents that produced no chunks.
- `kind=chunk`: text (BM25, `english` analyzer + `text.ja` with `kuromoji`), embedding (HNSW,
  faiss, inner product on unit vectors), filter keywords, doc_id/chunk_id/content_hash/origin.

OpenSearch Serverless vector collections generate `_id` and take no `refresh`, so a document is
replaced by deleting its records (found by `doc_id`) and bulk-indexing the new ones without ids.
AOSS search is near-real-time: records written moments ago may not yet be visible to the
search that finds the ones to delete (see `replace_documents`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import numpy as np

from kass.adapters.aws.opensearch_bodies import (
    PAGE_SIZE,
    bulk_delete_lines,
    bulk_index_lines,
    by_doc_ids,
    check_meta,
    chunk_source,
    cosine_from_innerproduct_score,
    delete_by_query_body,
    document_source,
    fusion_weights,
    hashes_query,
    index_body,
    index_meta,
    pipeline_body,
    pipeline_id,
    records_page_body,
    search_body,
    stats_body,
)
from kass.errors import InvalidInput, KassError
from kass.models import Chunk, Document, SearchHit
from kass.ports import IndexStats, SearchRequest
from kass.settings import IndexSettings, RetrievalSettings
from kass.vectors import unit_rows

if TYPE_CHECKING:  # opensearch-py is imported only by code that talks to OpenSearch
    from opensearchpy import OpenSearch

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BULK_DOCS = 500  # records per _bulk request


# ---------------------------------------------------------------------------------------------
# The adapter
# ---------------------------------------------------------------------------------------------
class OpenSearchUnavailable(KassError):
    """OpenSearch kept failing (throttling or server errors) after retries."""


class OpenSearchChunkIndex:
    """`ChunkIndex` over an `opensearchpy.OpenSearch` client. Create with `open(...)`."""

    def __init__(
        self,
        client: OpenSearch,
        index: str,
        *,
        embedder_name: str,
        dimension: int,
        index_settings: IndexSettings,
        retrieval_settings: RetrievalSettings,
        pipeline_prefix: str | None = None,
        use_delete_by_query: bool = False,
        max_retries: int = 4,
        backoff_base: float = 0.2,
        backoff_max: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.index = index
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._index_settings = index_settings
        self._retrieval = retrieval_settings
        self._pipeline_prefix = pipeline_prefix or f"{index}-fusion"
        self._use_delete_by_query = use_delete_by_query
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._sleep = sleep
        self._pipelines: set[str] = set()

    @classmethod
    def open(cls, client: OpenSearch, index: str, **kwargs: Any) -> OpenSearchChunkIndex:
        """Create the index and the default fusion pipeline if absent; refuse a mismatched index."""
        adapter = cls(client, index, **kwargs)
        adapter.ensure_index()
        adapter.ensure_pipeline(None)
        return adapter

    # -- setup ------------------------------------------------------------------------------
    def ensure_index(self) -> None:
        from opensearchpy.exceptions import RequestError

        if not self._call(self.client.indices.exists, index=self.index):
            body = index_body(self.embedder_name, self.dimension, self._index_settings)
            try:
                self._call(self.client.indices.create, index=self.index, body=body)
            except RequestError as error:  # created meanwhile by another cold start
                if "resource_already_exists" not in str(error.error):
                    raise
        mapping = self._call(self.client.indices.get_mapping, index=self.index)
        check_meta(index_meta(mapping), self.index, self.embedder_name, self.dimension)

    def ensure_pipeline(self, lexical_weight: float | None) -> str:
        """PUT (create or replace, idempotent) the pipeline for these weights once per process."""
        fusion = self._retrieval.fusion
        weights = fusion_weights(self._retrieval, lexical_weight)
        name = pipeline_id(self._pipeline_prefix, fusion, weights, self._retrieval.rrf_k)
        if name not in self._pipelines:
            body = pipeline_body(fusion, weights, self._retrieval.rrf_k)
            self._call(self.client.search_pipeline.put, id=name, body=body)
            self._pipelines.add(name)
        return name

    # -- writing ----------------------------------------------------------------------------
    def replace_documents(
        self,
        batch: Sequence[tuple[Document, Sequence[Chunk], np.ndarray]],
        origin: str = "",
        *,
        content_hashes: Mapping[str, str] | None = None,
    ) -> None:
        """Delete each document's records, then bulk-index its marker and chunks.

        Not atomic on OpenSearch: between the two steps a reader may see the document missing;
        a failure after the delete leaves it missing until the next replace (the caller's
        content hash no longer matches, so the next ingestion run re-indexes it).
        """
        hashes = content_hashes or {}
        ids = [doc.id for doc, _, _ in batch]
        if len(set(ids)) != len(ids):
            raise InvalidInput("a batch names the same document twice")
        sources: list[dict[str, Any]] = []
        for doc, chunks, vectors in batch:
            content_hash = hashes.get(doc.id) or doc.content_hash()
            unit = unit_rows(doc, chunks, vectors, self.dimension)
            sources.append(document_source(doc, origin, content_hash))
            sources.extend(
                chunk_source(chunk, vector, origin, content_hash)
                for chunk, vector in zip(chunks, unit, strict=True)
            )
        if ids:
            self._delete_records(ids)
        for start in range(0, len(sources), BULK_DOCS):
            self._bulk(bulk_index_lines(self.index, sources[start : start + BULK_DOCS]))

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        doc_ids = list(dict.fromkeys(doc_ids))
        if not doc_ids:
            return 0
        return self._delete_records(doc_ids)

    def _delete_records(self, doc_ids: Sequence[str]) -> int:
        """Delete every record of these documents; returns how many documents had a marker."""
        existed = 0
        record_ids: list[str] = []
        for hit in self._scan(by_doc_ids(doc_ids), ("kind",)):
            record_ids.append(hit["_id"])
            existed += hit.get("_source", {}).get("kind") == "document"
        if self._use_delete_by_query:  # managed domains; AOSS does not list _delete_by_query
            self._call(
                self.client.delete_by_query,
                index=self.index,
                body=delete_by_query_body(doc_ids),
                params={"conflicts": "proceed"},
            )
        else:
            for start in range(0, len(record_ids), BULK_DOCS):
                lines = bulk_delete_lines(self.index, record_ids[start : start + BULK_DOCS])
                self._bulk(lines, missing_ok=True)
        return existed

    # -- reading ----------------------------------------------------------------------------
    def document_hashes(self, origin: str | None = None) -> Mapping[str, str]:
        fields = ("doc_id", "content_hash")
        return {
            hit["_source"]["doc_id"]: hit["_source"]["content_hash"]
            for hit in self._scan(hashes_query(origin), fields)
        }

    def search(self, request: SearchRequest) -> list[SearchHit]:
        body = search_body(request, self._retrieval.candidates, self.dimension)
        kwargs: dict[str, Any] = {"index": self.index, "body": body}
        if request.mode == "hybrid":
            kwargs["params"] = {"search_pipeline": self.ensure_pipeline(request.lexical_weight)}
        response = self._call(self.client.search, **kwargs)
        hits = response.get("hits", {}).get("hits", [])[: request.k]
        return [self._hit(hit, request.mode) for hit in hits]

    def _hit(self, hit: Mapping[str, Any], mode: str) -> SearchHit:
        source = hit["_source"]
        score = float(hit.get("_score") or 0.0)
        chunk = Chunk(
            id=source["chunk_id"],
            doc_id=source["doc_id"],
            position=int(source.get("position", 0)),
            text=source.get("text", ""),
            source=source.get("source", ""),
            title=source.get("title") or "",
            url=source.get("url"),
            metadata=source.get("metadata") or {},
        )
        # Hybrid: OpenSearch returns only the fused score, so the raw sub-query scores are None.
        lexical = score if mode == "bm25" else None
        dense = cosine_from_innerproduct_score(score) if mode == "dense" else None
        return SearchHit(chunk=chunk, score=score, lexical_score=lexical, dense_score=dense)

    def stats(self) -> IndexStats:
        response = self._call(self.client.search, index=self.index, body=stats_body())
        aggs = response.get("aggregations", {})
        kinds = {b["key"]: b["doc_count"] for b in aggs.get("kinds", {}).get("buckets", [])}
        sources = {
            b["key"]: b["doc_count"]
            for b in aggs.get("sources", {}).get("by_source", {}).get("buckets", [])
        }
        size = 0
        try:  # AOSS lists _cat/indices under aoss:DescribeIndex; a missing permission is not fatal
            rows = self._call(
                self.client.cat.indices, index=self.index, params={"format": "json", "bytes": "b"}
            )
            size = sum(int(row.get("store.size") or 0) for row in rows)
        except Exception:  # noqa: BLE001 (size is informational)
            size = 0
        return IndexStats(
            documents=int(kinds.get("document", 0)),
            chunks=int(kinds.get("chunk", 0)),
            embedder=self.embedder_name,
            dimension=self.dimension,
            sources=sources,
            size_bytes=size,
            location=f"opensearch:{self.index}",
        )

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if callable(close):
            close()

    # -- plumbing ---------------------------------------------------------------------------
    def _scan(self, query: Mapping[str, Any], fields: Sequence[str]) -> Iterable[dict[str, Any]]:
        """Every record matching `query`, paged with search_after (AOSS has no scroll)."""
        after: list[Any] | None = None
        while True:
            body = records_page_body(query, fields, after, PAGE_SIZE)
            response = self._call(self.client.search, index=self.index, body=body)
            hits = response.get("hits", {}).get("hits", [])
            yield from hits
            if len(hits) < PAGE_SIZE:
                return
            after = hits[-1]["sort"]

    def _bulk(self, lines: list[dict[str, Any]], *, missing_ok: bool = False) -> None:
        """Send a bulk request; resend the items that failed with 429/5xx, raise on others."""
        pending = lines
        for attempt in range(self._max_retries + 1):
            response = self._call(self.client.bulk, body=pending)
            if not response.get("errors"):
                return
            retry: list[dict[str, Any]] = []
            fatal: list[str] = []
            cursor = 0
            for item in response.get("items", []):
                action, result = next(iter(item.items()))
                width = 1 if action == "delete" else 2
                status = int(result.get("status", 200))
                if status >= 300 and not (missing_ok and status == 404):
                    if status in RETRY_STATUSES:
                        retry.extend(pending[cursor : cursor + width])
                    else:
                        fatal.append(f"{action} {status}: {result.get('error')}")
                cursor += width
            if fatal:
                raise KassError(f"OpenSearch bulk request failed: {fatal[0]} (+{len(fatal) - 1})")
            if not retry:
                return
            pending = retry
            if attempt < self._max_retries:
                self._sleep(self._backoff(attempt))
        raise OpenSearchUnavailable(
            f"OpenSearch kept rejecting {len(pending) // 2 or 1} bulk item(s) after "
            f"{self._max_retries} retries"
        )

    def _call(self, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        """Call the client; retry 429/5xx and lost connections with jittered exponential backoff."""
        from opensearchpy.exceptions import ConnectionError as TransportConnectionError
        from opensearchpy.exceptions import TransportError

        for attempt in range(self._max_retries + 1):
            try:
                return method(**kwargs)
            except TransportConnectionError as error:
                last: Exception = error
            except TransportError as error:
                if (
                    not isinstance(error.status_code, int)
                    or error.status_code not in RETRY_STATUSES
                ):
                    raise
                last = error
            if attempt < self._max_retries:
                self._sleep(self._backoff(attempt))
        raise OpenSearchUnavailable(
            f"OpenSearch index {self.index!r} unavailable after {self._max_retries} retries: {last}"
        ) from last

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_max, self._backoff_base * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)


# ---------------------------------------------------------------------------------------------
# Client factory (SigV4)
# ---------------------------------------------------------------------------------------------
def make_client(
    endpoint: str,
    *,
    region: str,
    service: Literal["aoss", "es"] = "aoss",
    timeout: float = 10.0,
    boto3_session: Any = None,
) -> OpenSearch:
    """An opensearch-py client signing requests with SigV4 for `aoss` (Serverless) or `es`.

    Credentials come from the boto3 session (Lambda role, profile, env). The transport's own
    retries are off (`max_retries=0`): the adapter retries with backoff, which the transport
    does not do.
    """
    import boto3  # lazy: only the aws profile needs it
    from opensearchpy import AWSV4SignerAuth, OpenSearch, RequestsHttpConnection

    session = boto3_session or boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise KassError("no AWS credentials found for OpenSearch (SigV4)")
    # A bare host means the AWS endpoint (https on 443); a URL may name another scheme and port,
    # as an emulator or a test double does.
    url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    secure = url.scheme == "https"
    return OpenSearch(
        hosts=[{"host": url.hostname, "port": url.port or (443 if secure else 80)}],
        http_auth=AWSV4SignerAuth(credentials, region, service),
        use_ssl=secure,
        verify_certs=secure,
        connection_class=RequestsHttpConnection,
        timeout=timeout,
        max_retries=0,
        retry_on_timeout=False,
        http_compress=True,
        pool_maxsize=10,
    )
