"""The search use case's policy: what it asks the index for, given the query."""

from __future__ import annotations

import numpy as np
import pytest

from kass.chat.ask import NOTHING_FOUND, NOTHING_FOUND_JA, nothing_found, relevant_passages
from kass.language import cjk_coverage, is_japanese, is_mostly_cjk
from kass.models import Chunk, SearchHit
from kass.ports import SearchRequest
from kass.retrieval.search import Searcher
from kass.settings import AnswerSettings


class RecordingIndex:
    """Test double: remembers the request and returns nothing."""

    def __init__(self) -> None:
        self.requests: list[SearchRequest] = []

    def search(self, request: SearchRequest) -> list[SearchHit]:
        self.requests.append(request)
        return []


class CountingEmbedder:
    name, dimension, max_tokens = "test", 3, 100

    def __init__(self) -> None:
        self.calls = 0

    def embed_query(self, text: str) -> np.ndarray:
        self.calls += 1
        return np.array([1.0, 0.0, 0.0], dtype=np.float32)


def make_searcher(**kwargs):
    index, embedder = RecordingIndex(), CountingEmbedder()
    return Searcher(index, embedder, **kwargs), index, embedder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("プッシュ通知が届かない", True),
        ("2.4のリリース日は？", True),
        ("TSB-42 login error の件", False),
        ("login failed", False),
        ("12345", False),
    ],
)
def test_given_text_when_checked_for_cjk_then_majority_of_letters_decides(text, expected):
    assert is_mostly_cjk(text) is expected


def test_given_japanese_query_when_searched_then_lexical_weight_is_raised():
    searcher, index, _ = make_searcher(cjk_lexical_weight=0.7)
    searcher.search("プッシュ通知が届かない原因")
    assert index.requests[-1].lexical_weight == 0.7


def test_given_english_query_when_searched_then_configured_weights_apply():
    searcher, index, _ = make_searcher(cjk_lexical_weight=0.7)
    searcher.search("why did login fail")
    assert index.requests[-1].lexical_weight is None


def test_given_bm25_mode_when_searched_then_query_is_not_embedded():
    searcher, index, embedder = make_searcher()
    searcher.search("rate limit", mode="bm25")
    assert embedder.calls == 0
    assert index.requests[-1].vector is None


def test_given_hybrid_mode_when_searched_then_query_vector_is_sent():
    searcher, index, embedder = make_searcher()
    searcher.search("rate limit", k=3, filters={"source": "slack"})
    request = index.requests[-1]
    assert (embedder.calls, request.k, request.mode) == (1, 3, "hybrid")
    assert request.vector == [1.0, 0.0, 0.0]
    assert request.filters == {"source": "slack"}


def hit(n: int, dense: float | None, lexical: float | None = 1.0, text: str = "t") -> SearchHit:
    chunk = Chunk(id=f"c{n}", doc_id=f"d{n}", position=0, text=text, source="slack")
    return SearchHit(chunk=chunk, score=1.0 / n, lexical_score=lexical, dense_score=dense)


GATE = AnswerSettings(min_similarity=0.3, min_coverage=0.5)


def test_given_no_hit_reaching_similarity_when_filtered_then_nothing_is_relevant():
    assert relevant_passages([hit(1, 0.2), hit(2, None)], "why", GATE) == []


def test_given_one_relevant_hit_when_filtered_then_lexical_only_hits_ride_along():
    kept = relevant_passages([hit(1, 0.5), hit(2, None), hit(3, 0.1)], "why", GATE)
    assert [h.chunk.id for h in kept] == ["c1", "c2"]


def test_given_bm25_only_hits_when_filtered_then_lexical_match_is_the_gate():
    hits = [hit(1, None), hit(2, None)]
    assert relevant_passages(hits, "why", GATE) == hits


def test_given_japanese_question_when_filtered_then_word_coverage_decides_not_cosine():
    on_topic = hit(1, 0.05, text="プッシュ通知が届かなかった原因はAPNSの設定です")
    off_topic = hit(2, 0.9, text="シフトの交代依頼を送りました")
    kept = relevant_passages([on_topic, off_topic], "プッシュ通知が届かない原因は？", GATE)
    assert [h.chunk.id for h in kept] == ["c1"]


def test_given_japanese_question_about_absent_topic_then_nothing_is_relevant():
    hits = [hit(1, 0.8, text="シフトの交代依頼を送りました。教えてください。")]
    assert relevant_passages(hits, "寿司の美味しい店を教えて", GATE) == []


def test_given_content_words_when_coverage_then_share_of_question_bigrams_found():
    # question content terms: 東京, 天気 -> one of two present
    assert cjk_coverage("東京の天気", "東京オフィスの会議") == 0.5
    assert cjk_coverage("hello", "anything") == 0.0


def test_given_question_language_when_nothing_found_then_reply_in_that_language():
    assert nothing_found("寿司の店は？") == NOTHING_FOUND_JA
    assert nothing_found("where is the sushi place?") == NOTHING_FOUND
    assert is_japanese("寿司の店") and not is_japanese("寿司店") and not is_japanese("sushi")
