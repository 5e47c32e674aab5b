"""The ingest use case: documents -> chunks -> vectors -> index, incremental and idempotent.

A document is re-indexed only when its stored hash differs from the new one. That hash covers
the document, the chunker configuration and the embedder, so changing any of them re-indexes
instead of leaving stale chunks or vectors from another model. Chunks of many documents are
embedded together: the embedder is fastest on large, length-sorted batches, and most documents
are a single short chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

from pydantic import BaseModel

from kass.errors import InvalidInput
from kass.ingest.chunker import Chunker
from kass.models import Chunk, Document
from kass.ports import ChunkIndex, Embedder

Progress = Callable[[int, int], None]  # (documents done, documents in the input)

# Chunks embedded (and then written) together. Large enough for the embedder's length sorting
# to pay off across documents, small enough to keep memory flat and progress moving.
DEFAULT_GROUP_CHUNKS = 1024


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks_written: int = 0


def ingest(
    documents: Iterable[Document],
    *,
    index: ChunkIndex,
    embedder: Embedder,
    chunker: Chunker,
    origin: str,
    prune: bool = False,
    progress: Progress | None = None,
    group_chunks: int = DEFAULT_GROUP_CHUNKS,
) -> IngestReport:
    """Bring the index in line with `documents`; with `prune`, drop what `origin` no longer has."""
    documents = list(documents)
    _reject_duplicate_ids(documents)
    signature = ingest_signature(chunker, embedder)
    hashes = {doc.id: document_hash(doc, signature) for doc in documents}
    indexed = index.document_hashes()
    from_origin = index.document_hashes(origin)

    report = IngestReport()
    # Unchanged only if the same content was indexed from this origin; a document arriving from
    # another origin is rewritten so that pruning that origin later does not delete it.
    changed = [doc for doc in documents if from_origin.get(doc.id) != hashes[doc.id]]
    report.unchanged = len(documents) - len(changed)
    for doc in changed:
        if doc.id in indexed:
            report.updated += 1
        else:
            report.added += 1

    total, done = len(documents), report.unchanged
    _notify(progress, done, total)
    pending: list[tuple[Document, list[Chunk]]] = []
    pending_chunks = 0
    for position, doc in enumerate(changed, start=1):
        chunks = chunker.chunk(doc)
        pending.append((doc, chunks))
        pending_chunks += len(chunks)
        if pending_chunks >= group_chunks or position == len(changed):
            report.chunks_written += _embed_and_write(pending, index, embedder, origin, hashes)
            done += len(pending)
            _notify(progress, done, total)
            pending, pending_chunks = [], 0

    if prune:
        present = set(hashes)
        stale = sorted(doc_id for doc_id in from_origin if doc_id not in present)
        if stale:
            report.deleted = index.delete_documents(stale)
    return report


def ingest_signature(chunker: Chunker, embedder: Embedder) -> str:
    """What, besides a document's content, decides its chunks and vectors."""
    return f"{chunker.signature}|{embedder.name}|{embedder.dimension}"


def document_hash(document: Document, signature: str) -> str:
    digest = hashlib.sha256()
    digest.update(document.content_hash().encode("ascii"))
    digest.update(b"\x1f")
    digest.update(signature.encode("utf-8"))
    return digest.hexdigest()


def _embed_and_write(
    pending: list[tuple[Document, list[Chunk]]],
    index: ChunkIndex,
    embedder: Embedder,
    origin: str,
    hashes: Mapping[str, str],
) -> int:
    """Embed the chunks of all `pending` documents in one call; write them in one batch."""
    texts = [chunk.text for _, chunks in pending for chunk in chunks]
    vectors = embedder.embed_documents(texts)
    batch, start = [], 0
    for document, chunks in pending:
        batch.append((document, chunks, vectors[start : start + len(chunks)]))
        start += len(chunks)
    index.replace_documents(
        batch, origin=origin, content_hashes={doc.id: hashes[doc.id] for doc, _ in pending}
    )
    return len(texts)


def _reject_duplicate_ids(documents: list[Document]) -> None:
    seen: set[str] = set()
    for doc in documents:
        if doc.id in seen:
            raise InvalidInput(f"document id {doc.id!r} appears more than once in the input")
        seen.add(doc.id)


def _notify(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
