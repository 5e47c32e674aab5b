"""OpenSearchChunkIndex through the real opensearch-py client against the HTTP double."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("opensearchpy", reason="opensearch-py (the aws extra) is not installed")

from opensearchpy import OpenSearch  # noqa: E402
from tests.doubles.opensearch import OpenSearchDouble  # noqa: E402

from kass.adapters.aws.opensearch import OpenSearchChunkIndex, OpenSearchUnavailable  # noqa: E402
from kass.errors import IndexMismatch, InvalidInput  # noqa: E402
from kass.models import Chunk, Document  # noqa: E402
from kass.ports import SearchRequest  # noqa: E402
from kass.settings import IndexSettings, RetrievalSettings  # noqa: E402

DIM = 4
INDEX = "kass-chunks"


@pytest.fixture
def double():
    server = OpenSearchDouble().start()
    yield server
    server.stop()


def _client(double: OpenSearchDouble) -> OpenSearch:
    return OpenSearch(hosts=[{"host": "127.0.0.1", "port": double.port}], max_retries=0, timeout=5)


def _open(double: OpenSearchDouble, *, embedder: str = "tiny", dimension: int = DIM, **kw):
    return OpenSearchChunkIndex.open(
        _client(double),
        INDEX,
        embedder_name=embedder,
        dimension=dimension,
        index_settings=IndexSettings(),
        retrieval_settings=kw.pop("retrieval", RetrievalSettings()),
        sleep=lambda _seconds: None,
        **kw,
    )


def _doc(doc_id: str, text: str, *, source: str = "slack", project: str = "p1"):
    doc = Document(id=doc_id, source=source, title=doc_id, text=text, metadata={"project": project})
    chunks = [
        Chunk(
            id=Chunk.make_id(doc_id, i, part),
            doc_id=doc_id,
            position=i,
            text=part,
            source=source,
            title=doc_id,
            metadata={"project": project},
        )
        for i, part in enumerate(text.split(". "))
    ]
    rng = np.random.default_rng(abs(hash(doc_id)) % 2**32)
    return doc, chunks, rng.normal(size=(len(chunks), DIM)).astype(np.float32)


def _chunk_records(double: OpenSearchDouble, doc_id: str) -> list[dict]:
    docs = double.indices[INDEX].docs.values()
    return [d for d in docs if d["doc_id"] == doc_id and d["kind"] == "chunk"]


def test_given_no_index_when_opened_twice_then_index_and_pipeline_are_created_once(double):
    _open(double)
    _open(double)

    assert [r.path for r in double.requests if r.method == "PUT"].count(f"/{INDEX}") == 1
    meta = double.indices[INDEX].mappings["_meta"]
    assert (meta["embedder"], meta["dimension"]) == ("tiny", DIM)
    assert double.indices[INDEX].mappings["properties"]["embedding"]["dimension"] == DIM
    assert len(double.pipelines) == 1  # same weights -> same named pipeline, PUT is idempotent


def test_given_index_of_another_embedder_when_opened_then_index_mismatch(double):
    _open(double, embedder="tiny")

    with pytest.raises(IndexMismatch, match="tiny"):
        _open(double, embedder="other")
    with pytest.raises(IndexMismatch, match="dimension"):
        _open(double, embedder="tiny", dimension=DIM + 1)


def test_given_document_when_replaced_twice_then_one_copy_is_indexed(double):
    index = _open(double)
    batch = [_doc("d1", "push notifications failed. the APNs key expired")]

    index.replace_documents(batch, origin="slack-export")
    index.replace_documents(batch, origin="slack-export")

    assert len(_chunk_records(double, "d1")) == 2
    assert index.document_hashes() == {"d1": batch[0][0].content_hash()}
    assert index.document_hashes("elsewhere") == {}
    stats = index.stats()
    assert (stats.documents, stats.chunks, stats.sources) == (1, 2, {"slack": 1})
    for action in (line for r in double.calls("POST", "_bulk") for line in r.body[::2]):
        assert "_id" not in action.get("index", {})  # AOSS generates ids


def test_given_indexed_chunks_when_searched_then_chunks_come_back_in_each_mode(double):
    index = _open(double)
    doc, chunks, vectors = _doc("d1", "push notifications failed. the APNs key expired")
    index.replace_documents([(doc, chunks, vectors)])
    query = vectors[1].tolist()

    dense = index.search(SearchRequest(text="", vector=query, k=1, mode="dense"))
    bm25 = index.search(SearchRequest(text="APNs key", k=5, mode="bm25"))
    hybrid = index.search(SearchRequest(text="APNs key", vector=query, k=2))

    assert dense[0].chunk.id == chunks[1].id
    assert dense[0].dense_score == pytest.approx(1.0, abs=1e-5)  # cosine of a vector with itself
    assert [h.chunk.id for h in bm25] == [chunks[1].id]
    assert bm25[0].lexical_score is not None and bm25[0].dense_score is None
    assert hybrid[0].chunk.id == chunks[1].id
    assert hybrid[0].lexical_score is None and hybrid[0].dense_score is None  # fused only


def test_given_filters_when_hybrid_search_then_both_sub_queries_carry_them(double):
    index = _open(double)
    index.replace_documents([_doc("d1", "deploy failed", project="p1")])
    index.replace_documents([_doc("d2", "deploy failed", project="p2")])

    hits = index.search(
        SearchRequest(text="deploy", vector=[1.0, 0, 0, 0], filters={"project": "p2"})
    )

    assert {h.chunk.doc_id for h in hits} == {"d2"}
    lexical, dense = double.calls("POST", "/_search")[-1].body["query"]["hybrid"]["queries"]
    term = {"term": {"project": {"value": "p2"}}}
    assert term in lexical["bool"]["filter"]
    assert term in dense["knn"]["embedding"]["filter"]["bool"]["filter"]


def test_given_per_request_weight_when_hybrid_search_then_its_named_pipeline_is_used(double):
    index = _open(double)
    index.replace_documents([_doc("d1", "通知が届かない. push failed")])

    index.search(SearchRequest(text="通知", vector=[0, 1.0, 0, 0], lexical_weight=0.7))

    name = double.calls("POST", "/_search")[-1].params["search_pipeline"]
    weights = double.pipelines[name]["phase_results_processors"][0]["normalization-processor"][
        "combination"
    ]["parameters"]["weights"]
    assert weights == [0.7, 0.3]


def test_given_documents_when_deleted_then_their_records_are_gone_and_count_returned(double):
    index = _open(double)
    index.replace_documents([_doc("d1", "a. b"), _doc("d2", "c")])

    assert index.delete_documents(["d1", "missing"]) == 1
    assert _chunk_records(double, "d1") == []
    assert set(index.document_hashes()) == {"d2"}
    assert not double.calls("POST", "_delete_by_query")  # AOSS-safe path: search + bulk delete


def test_given_delete_by_query_enabled_when_deleting_then_it_is_used(double):
    index = _open(double, use_delete_by_query=True)
    index.replace_documents([_doc("d1", "a. b")])

    assert index.delete_documents(["d1"]) == 1
    assert double.calls("POST", "_delete_by_query")
    assert index.document_hashes() == {}


def test_given_throttling_when_searching_then_request_is_retried_and_succeeds(double):
    index = _open(double)
    index.replace_documents([_doc("d1", "deploy failed")])
    before = len(double.calls("POST", "/_search"))
    double.fail_next(429, "/_search")
    double.fail_next(503, "/_search")

    hits = index.search(SearchRequest(text="deploy", k=3, mode="bm25"))

    assert [h.chunk.doc_id for h in hits] == ["d1"]
    assert len(double.calls("POST", "/_search")) - before == 3


def test_given_bulk_item_throttled_when_indexing_then_only_that_item_is_resent(double):
    index = _open(double)
    double.fail_next_bulk_item(429)

    index.replace_documents([_doc("d1", "a. b")])

    assert len(_chunk_records(double, "d1")) == 2
    assert index.document_hashes().keys() == {"d1"}
    bulk_index_calls = [r for r in double.calls("POST", "_bulk") if "index" in r.body[0]]
    assert [len(r.body) for r in bulk_index_calls] == [6, 2]  # marker + 2 chunks, then 1 resent


def test_given_persistent_5xx_when_searching_then_clear_error_after_retries(double):
    index = _open(double, max_retries=2)
    double.fail_next(500, "/_search", times=3)

    with pytest.raises(OpenSearchUnavailable, match="after 2 retries"):
        index.search(SearchRequest(text="x", mode="bm25"))


def test_given_unknown_filter_when_searching_then_invalid_input_and_no_request(double):
    index = _open(double)
    before = len(double.requests)

    with pytest.raises(InvalidInput, match="unknown filter"):
        index.search(SearchRequest(text="x", mode="bm25", filters={"author": "me"}))
    assert len(double.requests) == before
