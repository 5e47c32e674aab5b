"""The extractive answerer: quotes relevant sentences with markers, with or without an embedder."""

import re
import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from kass.chat.citations import resolve_citations
from kass.llm.extractive import ExtractiveAnswerer, passage_sentences, split_sentences
from kass.models import Chunk, SearchHit

MARKER = re.compile(r"\[(\d+)\]")


class BagOfWordsEmbedder:
    """Deterministic `Embedder` double: hashed word counts, L2-normalised. Counts its calls."""

    name = "test/bag-of-words"
    dimension = 256

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word.encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def hit(doc_id: str, title: str, body: str, position: int = 0) -> SearchHit:
    text = f"{title}\n\n{body}"
    chunk = Chunk(
        id=Chunk.make_id(doc_id, position, text),
        doc_id=doc_id,
        position=position,
        text=text,
        source=doc_id.split(":", 1)[0],
        title=title,
        url=f"https://example.com/{doc_id}",
    )
    return SearchHit(chunk=chunk, score=1.0)


RATE_LIMITS = [
    hit(
        "slack:C1:1712552520.000100",
        "#dev-api: Per-plan rate limits for the public API",
        "maria.lopez (2024-04-08 14:02 JST) https://tsubame.slack.com/archives/C1/p1712552520000100\n"
        "We discussed the proposal in the weekly sync with the product team.\n\n"
        "kenji.sato (2024-04-08 14:45 JST) https://tsubame.slack.com/archives/C1/p1712555100023857\n"
        "Clients should read the X-RateLimit-Remaining header before sending more requests.",
    ),
    hit(
        "gitlab:tsubame/api!128",
        "Per-plan API rate limits",
        "## What\n"
        "The free plan rate limit is 60 requests per minute per API token.\n"
        "- Pro plans get 600 requests per minute per API token.\n\n"
        "ren.nakamura (2024-04-15 10:20 JST) https://gitlab.example.com/tsubame/api/-/merge_requests/128#note_1\n"
        "Merged.",
    ),
    hit(
        "backlog:TSB-9",
        "Office move",
        "The office moves to the fifth floor next month and desks will be reassigned.",
    ),
]
QUESTION = "What is the rate limit for free plans?"
BEST = "The free plan rate limit is 60 requests per minute per API token"


@pytest.fixture(params=["embedder", "lexical"])
def answerer(request) -> ExtractiveAnswerer:
    embedder = BagOfWordsEmbedder() if request.param == "embedder" else None
    return ExtractiveAnswerer(embedder, max_sentences=3)


def test_given_passages_when_answered_then_every_marker_resolves(answerer):
    text = answerer.answer(QUESTION, RATE_LIMITS)

    cited = resolve_citations(text, RATE_LIMITS)
    assert MARKER.search(text)
    assert cited.dropped == 0
    assert len(cited.citations) == len(set(MARKER.findall(text)))


def test_given_passages_when_answered_then_best_sentence_comes_first_with_its_passage(answerer):
    text = answerer.answer(QUESTION, RATE_LIMITS)

    assert text.startswith(BEST + " [2].")


def test_given_an_unrelated_passage_when_answered_then_it_is_not_quoted(answerer):
    text = answerer.answer(QUESTION, RATE_LIMITS)

    assert "office" not in text.lower()
    assert "[3]" not in text


def test_given_title_prefixed_chunks_when_answered_then_titles_and_headers_are_not_quoted(answerer):
    text = answerer.answer(QUESTION, RATE_LIMITS)

    assert "Per-plan" not in text  # both titles say it; no body sentence does
    assert "JST" not in text and "https://" not in text
    assert "## What" not in text and "Merged" not in text


@pytest.mark.parametrize("limit", [1, 2])
def test_given_max_sentences_when_answered_then_at_most_that_many_sentences(limit):
    answerer = ExtractiveAnswerer(BagOfWordsEmbedder(), max_sentences=limit)

    text = answerer.answer(QUESTION, RATE_LIMITS)

    assert 1 <= len(MARKER.findall(text)) <= limit


def test_given_an_embedder_when_answered_then_question_and_sentences_are_embedded_in_one_batch():
    embedder = BagOfWordsEmbedder()

    ExtractiveAnswerer(embedder).answer(QUESTION, RATE_LIMITS)

    assert len(embedder.batches) == 1
    batch = embedder.batches[0]
    assert batch[0] == QUESTION
    assert any(s.startswith(BEST) for s in batch[1:])


def test_given_overlapping_chunks_when_answered_then_a_sentence_is_quoted_once(answerer):
    shared = "The free plan rate limit is 60 requests per minute per API token."
    passages = [
        hit("gitlab:tsubame/api!128", "MR", f"Intro about plans and limits.\n{shared}", 0),
        hit("gitlab:tsubame/api!128", "MR", f"{shared}\nPro gets 600 requests per minute.", 1),
    ]

    text = answerer.answer(QUESTION, passages)

    assert text.count("60 requests per minute per API token") == 1


def test_given_same_input_when_answered_twice_then_same_answer(answerer):
    assert answerer.answer(QUESTION, RATE_LIMITS) == answerer.answer(QUESTION, RATE_LIMITS)


def test_given_no_passages_when_answered_then_empty(answerer):
    assert answerer.answer(QUESTION, []) == ""


def test_given_japanese_passages_when_answered_then_japanese_sentence_cited_before_full_stop(
    answerer,
):
    passages = [
        hit(
            "backlog:TSB-61",
            "iOSアプリでプッシュ通知が届かない",
            "ren.nakamura (2024-05-28 11:40 JST) https://tsubame.backlog.jp/view/TSB-61#comment-1\n"
            "本日の定例会議は会議室Bで行います。プッシュ通知が届かない原因は、APNsのトピック設定の誤りでした。"
            "修正は夕方にデプロイしました。",
        )
    ]

    text = answerer.answer("プッシュ通知が届かない原因は？", passages)

    assert text.startswith("プッシュ通知が届かない原因は、APNsのトピック設定の誤りでした[1]。")
    assert "iOSアプリでプッシュ通知が届かない" not in text  # the title


def test_given_source_text_with_bracketed_numbers_when_answered_then_no_stray_markers():
    passages = [
        hit("slack:C1:1.0", "t", "The free plan rate limit is 60 per minute [3] per token.")
    ]

    text = ExtractiveAnswerer().answer(QUESTION, passages)

    assert MARKER.findall(text) == ["1"]


def test_given_max_sentences_below_one_when_constructed_then_error():
    with pytest.raises(ValueError, match="max_sentences"):
        ExtractiveAnswerer(max_sentences=0)


def test_given_the_answerer_then_its_tier_is_extractive():
    assert ExtractiveAnswerer().tier == "extractive"


# --- sentence splitting ----------------------------------------------------------------------


def test_given_japanese_text_when_split_then_each_sentence_ends_at_its_mark():
    assert split_sentences("原因が分かりました。設定を直しました！本当ですか？はい") == [
        "原因が分かりました。",
        "設定を直しました！",
        "本当ですか？",
        "はい",
    ]


def test_given_english_text_when_split_then_versions_and_abbreviations_stay_whole():
    text = "We shipped 2.3.1 today. Some clients, e.g. the CLI, retry. Done!\nNext line"

    assert split_sentences(text) == [
        "We shipped 2.3.1 today.",
        "Some clients, e.g. the CLI, retry.",
        "Done!",
        "Next line",
    ]


def test_given_a_chunk_when_sentences_taken_then_metadata_lines_and_author_prefixes_go():
    chunk = hit(
        "slack:C1:1.0",
        "#incidents: login",
        "daniel.kim (2024-05-14 10:36 JST) https://tsubame.slack.com/archives/C1/p1\n"
        "daniel.kim (10:51): Can we roll back to the previous release safely?\n"
        "| plan | limit |\n"
        "LGTM.",
    ).chunk

    assert passage_sentences(chunk) == ["Can we roll back to the previous release safely?"]
