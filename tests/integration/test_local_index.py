"""LocalChunkIndex on disk: writes, search modes, filters, persistence, errors, crash safety."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from kass.adapters.local.index import DB_NAME, LocalChunkIndex
from kass.errors import CorruptIndex, IndexMismatch, InvalidInput
from kass.models import Chunk, Document
from kass.ports import ChunkIndex, SearchRequest
from kass.settings import IndexSettings, RetrievalSettings

DIM = 16


def vector_for(key: str) -> np.ndarray:
    """A deterministic random unit vector per key."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def make_doc(doc_id: str, *texts: str, source: str = "slack", project: str | None = None):
    metadata = {"project": project} if project else {}
    doc = Document(id=doc_id, source=source, text=" ".join(texts), metadata=metadata)
    chunks = [
        Chunk(
            id=Chunk.make_id(doc_id, i, t),
            doc_id=doc_id,
            position=i,
            text=t,
            source=source,
            metadata=metadata,
        )
        for i, t in enumerate(texts)
    ]
    vectors = np.stack([vector_for(f"{doc_id}/{i}/{t}") for i, t in enumerate(texts)])
    return doc, chunks, vectors


def open_index(
    directory: Path,
    *,
    threshold: int = 20_000,
    embedder: str = "test-embedder",
    dimension: int = DIM,
    **retrieval,
) -> LocalChunkIndex:
    return LocalChunkIndex.open(
        directory,
        embedder_name=embedder,
        dimension=dimension,
        index_settings=IndexSettings(hnsw_threshold=threshold, hnsw_ef_search=200),
        retrieval_settings=RetrievalSettings(**retrieval),
    )


def search(index, text="", vector=None, **kwargs):
    vector = None if vector is None else np.asarray(vector).tolist()
    return index.search(SearchRequest(text=text, vector=vector, **kwargs))


def doc_ids(hits) -> list[str]:
    return [hit.chunk.doc_id for hit in hits]


@pytest.fixture
def index(tmp_path):
    with open_index(tmp_path / "index") as opened:
        yield opened


# -- writes -------------------------------------------------------------------------------
def test_given_local_index_then_it_satisfies_the_chunk_index_port(index):
    assert isinstance(index, ChunkIndex)


@pytest.mark.parametrize("threshold", [20_000, 2], ids=["exact", "hnsw"])
def test_given_two_instances_on_one_file_when_one_writes_then_the_other_sees_it(
    tmp_path, threshold
):
    with (
        open_index(tmp_path / "index", threshold=threshold) as writer,
        open_index(tmp_path / "index", threshold=threshold) as reader,
    ):
        first, second, third = (make_doc(f"d{n}", f"text {n}") for n in range(3))
        writer.replace_documents([first, second])
        assert doc_ids(search(reader, vector=second[2][0], k=1, mode="dense")) == ["d1"]

        writer.delete_documents(["d1"])
        reader.replace_documents([third])  # a write of its own after the other's delete

        for index in (reader, writer):
            found = doc_ids(search(index, vector=second[2][0], k=3, mode="dense"))
            assert sorted(found) == ["d0", "d2"]


def test_given_two_docs_when_one_deleted_then_search_omits_it(index):
    a, b = make_doc("a", "database migration failed"), make_doc("b", "database backup done")
    index.replace_documents([a, b])

    assert index.delete_documents(["a", "missing"]) == 1

    assert doc_ids(search(index, "database", mode="bm25")) == ["b"]
    assert "a" not in doc_ids(search(index, vector=a[2][0], mode="dense"))
    assert index.stats().documents == 1


def test_given_indexed_doc_when_replaced_then_only_its_new_chunks_remain(index):
    index.replace_documents([make_doc("a", "old wording about kafka", "more kafka")])

    index.replace_documents([make_doc("a", "new wording about rabbitmq")])

    assert search(index, "kafka", mode="bm25") == []
    assert [h.chunk.text for h in search(index, "rabbitmq", mode="bm25")] == [
        "new wording about rabbitmq"
    ]
    assert index.stats().chunks == 1


def test_given_docs_from_two_origins_when_hashes_listed_then_scoped_by_origin(index):
    a, b = make_doc("a", "alpha"), make_doc("b", "beta")
    index.replace_documents([a], origin="slack-export")
    index.replace_documents([b], origin="gitlab", content_hashes={"b": "custom-hash"})

    assert index.document_hashes("slack-export") == {"a": a[0].content_hash()}
    assert index.document_hashes() == {"a": a[0].content_hash(), "b": "custom-hash"}


def test_given_vectors_of_wrong_shape_when_replacing_then_invalid_input_and_nothing_written(index):
    doc, chunks, vectors = make_doc("a", "alpha", "beta")

    with pytest.raises(InvalidInput, match="shape"):
        index.replace_documents([make_doc("ok", "fine"), (doc, chunks, vectors[:1])])

    assert index.stats().documents == 0


def test_given_same_document_twice_in_a_batch_when_replacing_then_invalid_input(index):
    with pytest.raises(InvalidInput, match="twice"):
        index.replace_documents([make_doc("a", "one"), make_doc("a", "two")])


# -- search modes -------------------------------------------------------------------------
def test_given_bm25_mode_when_searching_then_score_is_raw_bm25_and_no_dense_score(index):
    index.replace_documents([make_doc("a", "redis cache eviction"), make_doc("b", "redis")])

    hits = search(index, "redis eviction", mode="bm25")

    assert doc_ids(hits) == ["a", "b"]
    assert all(h.score == h.lexical_score > 0 and h.dense_score is None for h in hits)


def test_given_dense_mode_when_searching_own_vector_then_that_chunk_first_with_cosine_one(index):
    docs = [make_doc(f"d{i}", f"text {i}") for i in range(10)]
    index.replace_documents(docs)

    hits = search(index, vector=docs[3][2][0], mode="dense", k=3)

    assert hits[0].chunk.doc_id == "d3"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5) == hits[0].dense_score
    assert all(h.lexical_score is None for h in hits)


def test_given_hybrid_mode_when_chunk_hit_by_both_then_fused_score_follows_minmax(tmp_path):
    with open_index(tmp_path / "i", lexical_weight=0.5, dense_weight=0.5) as index:
        docs = [make_doc("a", "kubernetes pod crash"), make_doc("b", "pod"), make_doc("c", "x")]
        index.replace_documents(docs)

        hits = search(index, "kubernetes pod", vector=docs[0][2][0], mode="hybrid", k=3)

        top = hits[0]
        assert top.chunk.doc_id == "a"
        assert top.lexical_score is not None and top.dense_score == pytest.approx(1.0, abs=1e-5)
        assert top.score == pytest.approx(1.0)  # best in both sub-queries
        assert all(0 < h.score <= 1 for h in hits)


def test_given_request_lexical_weight_when_searching_hybrid_then_it_overrides_settings(index):
    docs = [make_doc("lex", "kubernetes kubernetes"), make_doc("vec", "unrelated words")]
    index.replace_documents(docs)
    query = {"text": "kubernetes", "vector": docs[1][2][0].tolist(), "k": 2}

    lexical_wins = index.search(SearchRequest(**query, lexical_weight=0.9))
    dense_wins = index.search(SearchRequest(**query, lexical_weight=0.1))

    # "lex": best lexical hit (1.0), worst of the two dense hits (0.001): 0.9*1 + 0.1*0.001
    assert doc_ids(lexical_wins)[0] == "lex" and lexical_wins[0].score == pytest.approx(0.9001)
    assert doc_ids(dense_wins)[0] == "vec"


def test_given_rrf_fusion_when_searching_hybrid_then_scores_are_reciprocal_ranks(tmp_path):
    with open_index(tmp_path / "i", fusion="rrf", lexical_weight=1.0, dense_weight=1.0) as index:
        docs = [make_doc("a", "kubernetes"), make_doc("b", "other")]
        index.replace_documents(docs)

        hits = search(index, "kubernetes", vector=docs[0][2][0], k=2)

        assert hits[0].chunk.doc_id == "a"
        assert hits[0].score == pytest.approx(2 / 61)


def test_given_hybrid_without_vector_when_searching_then_invalid_input(index):
    with pytest.raises(InvalidInput, match="vector"):
        search(index, "anything", mode="hybrid")


def test_given_vector_of_other_dimension_when_searching_then_invalid_input(index):
    with pytest.raises(InvalidInput, match="dimensions"):
        search(index, "x", vector=np.ones(DIM + 1), mode="dense")


def test_given_japanese_chunk_when_searching_japanese_words_then_lexical_match(index):
    index.replace_documents(
        [
            make_doc("ja", "iOSでプッシュ通知が届かない問題を調査した"),
            make_doc("en", "push notifications are delayed"),
        ]
    )

    hits = search(index, "通知が届かない", mode="bm25")

    assert doc_ids(hits) == ["ja"]


def test_given_postings_budget_when_querying_then_common_terms_dropped_rarest_kept(tmp_path):
    with LocalChunkIndex.open(
        tmp_path / "i",
        embedder_name="e",
        dimension=DIM,
        index_settings=IndexSettings(),
        retrieval_settings=RetrievalSettings(),
        max_postings=3,
    ) as index:
        index.replace_documents([make_doc(f"c{i}", "common words") for i in range(10)])
        index.replace_documents([make_doc("r", "rare common")])

        assert doc_ids(search(index, "common rare", mode="bm25", k=20)) == ["r"]

        index.delete_documents(["r"])  # "rare" now has no chunks: only "common" is left
        assert len(search(index, "common rare", mode="bm25", k=20)) == 10


# -- filters ------------------------------------------------------------------------------
@pytest.fixture(params=[20_000, 4], ids=["exact", "hnsw"])
def crowded_index(request, tmp_path):
    """30 slack docs around one vector, 6 gitlab docs elsewhere; few candidates per sub-query."""
    with open_index(tmp_path / "i", threshold=request.param, candidates=5) as index:
        base = vector_for("slack-centre")
        slack = []
        for i in range(30):
            doc, chunks, _ = make_doc(f"s{i}", "deploy deploy deploy pipeline", source="slack")
            slack.append((doc, chunks, (base + 0.05 * vector_for(f"n{i}"))[None, :]))
        gitlab = [
            make_doc(f"g{i}", "deploy pipeline", source="gitlab", project="web") for i in range(6)
        ]
        index.replace_documents(slack + gitlab)
        yield index, base


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_given_filter_when_searching_then_k_matching_hits_even_if_others_rank_higher(
    crowded_index, mode
):
    index, base = crowded_index

    hits = search(index, "deploy", vector=base, mode=mode, k=5, filters={"source": "gitlab"})

    assert len(hits) == 5
    assert {h.chunk.source for h in hits} == {"gitlab"}


def test_given_metadata_filter_when_searching_then_applied_to_both_subqueries(crowded_index):
    index, base = crowded_index

    hits = search(index, "deploy", vector=base, k=10, filters={"project": "web"})

    assert len(hits) == 6
    assert all(h.chunk.metadata["project"] == "web" for h in hits)
    assert all(h.lexical_score is not None and h.dense_score is not None for h in hits)


def test_given_filter_value_nobody_has_when_searching_then_no_hits(crowded_index):
    index, base = crowded_index
    assert search(index, "deploy", vector=base, filters={"channel": "none"}) == []


def test_given_unknown_filter_key_when_searching_then_invalid_input(index):
    with pytest.raises(InvalidInput, match="unknown filter key 'team'"):
        search(index, "x", mode="bm25", filters={"team": "a"})


# -- persistence and the HNSW path --------------------------------------------------------
def test_given_closed_index_when_reopened_then_same_results(tmp_path):
    docs = [make_doc(f"d{i}", f"topic{i % 3} shared words") for i in range(12)]
    with open_index(tmp_path / "i") as index:
        index.replace_documents(docs)
        before = search(index, "topic1", vector=docs[4][2][0], k=5)

    with open_index(tmp_path / "i") as index:
        after = search(index, "topic1", vector=docs[4][2][0], k=5)
        assert index.stats().chunks == 12

    assert [(h.chunk.id, h.score) for h in after] == [(h.chunk.id, h.score) for h in before]


def test_given_index_above_threshold_when_searching_then_hnsw_answers_like_exact(tmp_path):
    docs = [make_doc(f"d{i}", f"text {i}") for i in range(300)]
    queries = [vector_for(f"q{i}") for i in range(20)]
    exact, ann = open_index(tmp_path / "exact"), open_index(tmp_path / "hnsw", threshold=50)
    with exact, ann:
        exact.replace_documents(docs)
        ann.replace_documents(docs)
        for query in queries:
            assert doc_ids(search(ann, vector=query, mode="dense", k=10)) == doc_ids(
                search(exact, vector=query, mode="dense", k=10)
            )
    assert list((tmp_path / "hnsw").glob("hnsw-*.bin"))
    assert not list((tmp_path / "exact").glob("hnsw-*.bin"))


# -- errors -------------------------------------------------------------------------------
def test_given_index_of_other_embedder_when_opened_then_mismatch_names_both(tmp_path):
    open_index(tmp_path / "i", embedder="minilm").close()

    with pytest.raises(IndexMismatch, match="'minilm'.*'titan-v2'"):
        open_index(tmp_path / "i", embedder="titan-v2")
    with pytest.raises(IndexMismatch, match="dimension 16.*dimension 8"):
        open_index(tmp_path / "i", embedder="minilm", dimension=8)


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()


def _truncated_index(path: Path) -> None:
    with open_index(path.parent / "donor") as index:
        index.replace_documents([make_doc(f"d{i}", "words " * 200) for i in range(50)])
    data = (path.parent / "donor" / DB_NAME).read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "make_file",
    [
        lambda p: p.write_bytes(b"this is not a database at all" * 10),
        _foreign_sqlite,
        _truncated_index,
    ],
    ids=["garbage", "foreign-sqlite", "truncated"],
)
def test_given_file_that_is_not_an_intact_index_when_opened_then_corrupt_and_untouched(
    tmp_path, make_file
):
    directory = tmp_path / "i"
    directory.mkdir()
    db = directory / DB_NAME
    make_file(db)
    before = db.read_bytes()

    with pytest.raises(CorruptIndex, match=str(db)) as error:
        open_index(directory)

    assert "\n" not in str(error.value)
    assert db.read_bytes() == before


def test_given_path_is_a_file_when_opened_then_corrupt(tmp_path):
    (tmp_path / "i").write_text("hello")
    with pytest.raises(CorruptIndex, match="is a file"):
        open_index(tmp_path / "i")


# -- crash safety -------------------------------------------------------------------------
def _run_writer(directory: Path, body: str) -> subprocess.Popen:
    """A separate Python process that opens the index (HNSW from 10 chunks) and runs `body`."""
    header = (
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
        "from integration.test_local_index import make_doc, open_index\n"
        f"DIRECTORY = {str(directory)!r}\n"
        "index = open_index(DIRECTORY, threshold=10)\n"
    )
    code = header + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_given_ingest_killed_midway_when_reopened_then_every_document_whole_and_searchable(
    tmp_path,
):
    writer = _run_writer(
        tmp_path / "i",
        """
        # at most 80 rounds: the live chunks stay within one search (k <= 1000), and the
        # pauses keep the writer busy past the moment it is killed
        for n in range(80):
            index.replace_documents([make_doc(f"d{n}-{j}", "alpha", "beta", "gamma")
                                     for j in range(5)])
            index.delete_documents([f"d{n - 3}-0"])
            print(n, flush=True)
            time.sleep(0.02)
    """,
    )
    for _ in range(30):  # let it write (and checkpoint the graph) a while, then kill -9
        writer.stdout.readline()
    time.sleep(0.2)
    writer.send_signal(signal.SIGKILL)
    writer.wait()

    with open_index(tmp_path / "i", threshold=10) as index:
        stats = index.stats()
        assert stats.documents >= 30 * 4
        assert stats.chunks == 3 * stats.documents  # no document half-written
        everything = search(index, vector=vector_for("probe"), mode="dense", k=stats.chunks)
        assert len(everything) == stats.chunks  # the graph holds exactly the live chunks
        assert len(search(index, "beta", mode="bm25", k=1000)) == stats.documents


def test_given_writes_after_last_graph_save_when_process_dies_then_graph_caught_up(tmp_path):
    _run_writer(
        tmp_path / "i",
        """
        index.replace_documents([make_doc(f"old{i}", f"old {i}") for i in range(40)])
        index.close()
        index = open_index(DIRECTORY, threshold=10)
        index.replace_documents([make_doc(f"new{i}", f"new {i}") for i in range(10)])
        index.delete_documents([f"old{i}" for i in range(5)])
        os._exit(0)  # no close(): the saved graph lacks the last writes
    """,
    ).wait()

    # few candidates, so the graph (not the exact fallback) must answer the k=1 searches
    with open_index(tmp_path / "i", threshold=10, candidates=5) as index:
        for i in range(10):
            new = make_doc(f"new{i}", f"new {i}")
            assert doc_ids(search(index, vector=new[2][0], mode="dense", k=1)) == [f"new{i}"]
        live = search(index, vector=vector_for("probe"), mode="dense", k=45)
        assert len(live) == 45
        assert not {f"old{i}" for i in range(5)} & set(doc_ids(live))
