"""The ingest use case over an in-memory ChunkIndex and a deterministic embedder.

Both doubles live here only: they implement the ports' contracts in memory and record every call,
so the tests can see what the pipeline wrote, and when.
"""

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pytest

from kass.errors import InvalidInput
from kass.ingest.chunker import Chunker
from kass.ingest.pipeline import IngestReport, ingest
from kass.models import Chunk, Document, SearchHit
from kass.ports import ChunkIndex, IndexStats, SearchRequest
from kass.settings import ChunkerSettings

DIMENSION = 8


class HashEmbedder:
    """Deterministic unit vectors from a text's hash; records the size of every call."""

    def __init__(self, name: str = "test/hash-embedder"):
        self._name = name
        self.calls: list[list[str]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return DIMENSION

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.array([self._vector(text) for text in texts], dtype=np.float32)
        return vectors.reshape(len(texts), DIMENSION)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\S+", text))

    @staticmethod
    def _vector(text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
        return vector / np.linalg.norm(vector)


class MemoryIndex:
    """A ChunkIndex in a few dicts; counts the calls that change it."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[Chunk]] = {}
        self.vectors: dict[str, np.ndarray] = {}
        self.hashes: dict[str, str] = {}
        self.origins: dict[str, str] = {}
        self.replace_calls: list[list[str]] = []  # doc ids per call
        self.delete_calls: list[list[str]] = []

    def replace_documents(
        self,
        batch: Sequence[tuple[Document, Sequence[Chunk], np.ndarray]],
        origin: str = "",
        *,
        content_hashes: Mapping[str, str] | None = None,
    ) -> None:
        self.replace_calls.append([doc.id for doc, _, _ in batch])
        for doc, chunks, vectors in batch:
            assert vectors.shape == (len(chunks), DIMENSION)
            self.chunks[doc.id] = list(chunks)
            self.vectors[doc.id] = vectors
            self.hashes[doc.id] = (content_hashes or {}).get(doc.id, doc.content_hash())
            self.origins[doc.id] = origin

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        doc_ids = list(doc_ids)
        self.delete_calls.append(doc_ids)
        existed = [doc_id for doc_id in doc_ids if doc_id in self.hashes]
        for doc_id in existed:
            for store in (self.chunks, self.vectors, self.hashes, self.origins):
                del store[doc_id]
        return len(existed)

    def document_hashes(self, origin: str | None = None) -> Mapping[str, str]:
        return {
            doc_id: value
            for doc_id, value in self.hashes.items()
            if origin is None or self.origins[doc_id] == origin
        }

    def search(self, request: SearchRequest) -> list[SearchHit]:
        return []

    def stats(self) -> IndexStats:
        return IndexStats(
            documents=len(self.hashes),
            chunks=sum(len(c) for c in self.chunks.values()),
            embedder="test/hash-embedder",
            dimension=DIMENSION,
            sources={},
            size_bytes=0,
            location="memory",
        )

    def close(self) -> None:
        pass

    @property
    def writes(self) -> int:
        return len(self.replace_calls) + len(self.delete_calls)


def doc(doc_id: str, text: str = "", **extra) -> Document:
    return Document(
        id=doc_id, source="file", title=f"Title {doc_id}", text=text or f"about {doc_id}", **extra
    )


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


@pytest.fixture
def index() -> MemoryIndex:
    return MemoryIndex()


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


def make_chunker(embedder: HashEmbedder, size: int = 16, overlap: int = 0) -> Chunker:
    return Chunker(embedder.count_tokens, ChunkerSettings(size=size, overlap=overlap))


def run(documents, index, embedder, *, chunker=None, origin="/docs", **options) -> IngestReport:
    return ingest(
        documents,
        index=index,
        embedder=embedder,
        chunker=chunker or make_chunker(embedder),
        origin=origin,
        **options,
    )


def test_given_memory_index_double_when_checked_then_it_satisfies_the_protocol(index):
    assert isinstance(index, ChunkIndex)


def test_given_new_documents_when_ingested_then_all_added_with_their_chunks_and_vectors(
    index, embedder
):
    documents = [doc("a"), doc("b", words(40))]
    report = run(documents, index, embedder)
    assert report == IngestReport(
        added=2, chunks_written=len(index.chunks["a"]) + len(index.chunks["b"])
    )
    assert len(index.chunks["b"]) > 1  # 40 words do not fit 16 tokens
    for doc_id, chunks in index.chunks.items():
        expected = np.stack([HashEmbedder._vector(chunk.text) for chunk in chunks])
        np.testing.assert_array_equal(
            index.vectors[doc_id], expected
        )  # vectors line up with chunks


def test_given_unchanged_input_when_ingested_again_then_nothing_is_written(index, embedder):
    documents = [doc("a"), doc("b", words(40))]
    run(documents, index, embedder)
    writes, embeds = index.writes, len(embedder.calls)
    report = run(documents, index, embedder, prune=True)
    assert report == IngestReport(unchanged=2)
    assert (index.writes, len(embedder.calls)) == (writes, embeds)


def test_given_one_edited_document_when_ingested_then_only_it_is_replaced_as_a_unit(
    index, embedder
):
    run([doc("a", words(40)), doc("b")], index, embedder)
    old_ids = {chunk.id for chunk in index.chunks["a"]}
    report = run([doc("a", "short now"), doc("b")], index, embedder)
    assert report == IngestReport(updated=1, unchanged=1, chunks_written=1)
    assert index.replace_calls[-1] == ["a"]
    assert [chunk.text for chunk in index.chunks["a"]] == ["Title a\n\nshort now"]
    assert old_ids.isdisjoint(chunk.id for chunk in index.chunks["a"])


def test_given_documents_gone_from_input_when_ingested_with_prune_then_they_are_deleted(
    index, embedder
):
    run([doc("a"), doc("b"), doc("c")], index, embedder)
    report = run([doc("b")], index, embedder, prune=True)
    assert report == IngestReport(unchanged=1, deleted=2)
    assert set(index.hashes) == {"b"}


def test_given_documents_gone_from_input_when_ingested_without_prune_then_they_stay(
    index, embedder
):
    run([doc("a"), doc("b")], index, embedder)
    report = run([doc("b")], index, embedder)
    assert report == IngestReport(unchanged=1)
    assert set(index.hashes) == {"a", "b"}


def test_given_documents_from_another_origin_when_pruning_then_they_are_kept(index, embedder):
    run([doc("slack-1")], index, embedder, origin="/exports/slack")
    run([doc("a"), doc("b")], index, embedder, origin="/docs")
    report = run([doc("a")], index, embedder, origin="/docs", prune=True)
    assert report.deleted == 1
    assert set(index.hashes) == {"slack-1", "a"}


def test_given_same_document_from_a_new_origin_when_ingested_then_it_moves_and_counts_as_updated(
    index, embedder
):
    run([doc("a")], index, embedder, origin="/old")
    report = run([doc("a")], index, embedder, origin="/new")
    assert report == IngestReport(updated=1, chunks_written=1)
    assert run([], index, embedder, origin="/old", prune=True).deleted == 0  # no longer /old's
    assert set(index.hashes) == {"a"}


def test_given_ingest_when_hash_stored_then_it_is_the_pipeline_hash_not_the_content_hash(
    index, embedder
):
    run([doc("a")], index, embedder)
    assert index.hashes["a"] != doc("a").content_hash()


def test_given_chunker_settings_changed_when_ingested_then_every_document_is_reindexed(
    index, embedder
):
    documents = [doc("a", words(30)), doc("b")]
    run(documents, index, embedder, chunker=make_chunker(embedder, size=16))
    report = run(documents, index, embedder, chunker=make_chunker(embedder, size=24))
    assert (report.updated, report.unchanged) == (2, 0)
    assert all(embedder.count_tokens(c.text) <= 24 for c in index.chunks["a"])


def test_given_other_embedder_when_ingested_then_every_document_is_reindexed(index, embedder):
    documents = [doc("a"), doc("b")]
    run(documents, index, embedder)
    other = HashEmbedder(name="test/other-model")
    report = run(documents, index, other, chunker=make_chunker(other))
    assert (report.updated, report.unchanged) == (2, 0)


def test_given_many_small_documents_when_ingested_then_embedding_and_writes_are_batched_across_them(
    index, embedder
):
    documents = [doc(f"d{i}") for i in range(10)]  # one chunk each
    report = run(documents, index, embedder, group_chunks=4)
    assert [len(call) for call in embedder.calls] == [4, 4, 2]
    assert index.replace_calls == [["d0", "d1", "d2", "d3"], ["d4", "d5", "d6", "d7"], ["d8", "d9"]]
    assert report.chunks_written == 10


def test_given_a_document_larger_than_a_group_when_ingested_then_its_chunks_stay_in_one_write(
    index, embedder
):
    report = run(
        [doc("small"), doc("big", words(100)), doc("tail")], index, embedder, group_chunks=3
    )
    big_chunks = len(index.chunks["big"])
    assert big_chunks > 3
    assert index.replace_calls == [["small", "big"], ["tail"]]
    assert [len(call) for call in embedder.calls] == [1 + big_chunks, 1]
    assert report.chunks_written == big_chunks + 2


def test_given_progress_callback_when_ingested_then_it_reports_documents_done_up_to_the_total(
    index, embedder
):
    run([doc("a"), doc("b")], index, embedder)
    seen: list[tuple[int, int]] = []
    documents = [doc("a"), doc("b")] + [doc(f"n{i}") for i in range(5)]
    run(
        documents,
        index,
        embedder,
        group_chunks=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[0] == (2, 7)  # the unchanged ones are done at once
    assert seen[-1] == (7, 7)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_given_duplicate_ids_in_input_when_ingested_then_invalid_input_and_nothing_written(
    index, embedder
):
    with pytest.raises(InvalidInput, match="'a' appears more than once"):
        run([doc("a"), doc("b"), doc("a", "other")], index, embedder)
    assert index.writes == 0 and embedder.calls == []


def test_given_document_with_empty_text_and_title_when_ingested_then_recorded_with_no_chunks(
    index, embedder
):
    empty = Document(id="e", source="file", text="   ")
    report = run([empty], index, embedder)
    assert report == IngestReport(added=1)
    assert index.chunks["e"] == [] and "e" in index.hashes
    assert run([empty], index, embedder) == IngestReport(unchanged=1)


def test_given_empty_input_with_prune_when_ingested_then_everything_from_origin_is_deleted(
    index, embedder
):
    run([doc("a"), doc("b")], index, embedder)
    assert run([], index, embedder, prune=True) == IngestReport(deleted=2)
    assert index.hashes == {}
