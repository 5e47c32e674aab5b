"""Checks on the vectors handed to a ChunkIndex, shared by every adapter."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kass.errors import InvalidInput
from kass.models import Chunk, Document


def unit_rows(
    doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray, dimension: int
) -> np.ndarray:
    """One finite, non-zero vector per chunk of `doc`, scaled to unit length.

    Unit length makes inner product equal cosine, the similarity both indexes rank by.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (len(chunks), dimension):
        raise InvalidInput(
            f"document {doc.id!r}: vectors have shape {vectors.shape}, expected "
            f"({len(chunks)}, {dimension})"
        )
    if any(chunk.doc_id != doc.id for chunk in chunks):
        raise InvalidInput(f"document {doc.id!r}: a chunk belongs to another document")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if not np.all(np.isfinite(vectors)) or np.any(norms == 0):
        raise InvalidInput(f"document {doc.id!r}: a vector is zero or not finite")
    return vectors / norms
