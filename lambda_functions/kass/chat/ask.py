"""The ask use case: retrieve, keep what is relevant, let the answerer write, resolve citations."""

from __future__ import annotations

from collections.abc import Mapping

from kass.chat.citations import resolve_citations
from kass.language import cjk_coverage, is_japanese, is_mostly_cjk
from kass.models import Answer, SearchHit
from kass.ports import Answerer
from kass.retrieval.search import Searcher, validate_query
from kass.settings import AnswerSettings

NOTHING_FOUND = (
    "I could not find anything about that in the indexed sources, so I won't guess. "
    "Try other words, or ingest the documents that cover it."
)
NOTHING_FOUND_JA = (
    "インデックス済みの情報源には該当する内容が見つからなかったため、推測では答えません。"
    "別の言葉で聞くか、該当する文書を取り込んでください。"
)


def nothing_found(question: str) -> str:
    """The "nothing relevant" reply, in the language asked (Japanese, else English)."""
    return NOTHING_FOUND_JA if is_japanese(question) else NOTHING_FOUND


def relevant_passages(
    hits: list[SearchHit], question: str, settings: AnswerSettings
) -> list[SearchHit]:
    """Keep hits whose meaning is close enough to the question.

    Fused scores are relative (min-max), so they cannot tell "best of a bad lot" from a real
    match; the raw cosine can. A hit that only the lexical side found is kept when a
    semantically relevant hit exists, since keywords matched it. For CJK questions the local
    English-only embedder's cosine is noise, so the share of the question's content words a
    passage contains decides instead.
    """
    if is_mostly_cjk(question):
        return [h for h in hits if cjk_coverage(question, h.chunk.text) >= settings.min_coverage]
    min_similarity = settings.min_similarity
    if all(h.dense_score is None for h in hits):
        return hits  # lexical-only mode: BM25 returns only chunks that share words
    semantic = [h for h in hits if h.dense_score is not None and h.dense_score >= min_similarity]
    if not semantic:
        return []
    return [h for h in hits if h.dense_score is None or h.dense_score >= min_similarity]


def ask(
    question: str,
    *,
    searcher: Searcher,
    answerer: Answerer,
    settings: AnswerSettings,
    filters: Mapping[str, str] | None = None,
) -> Answer:
    question = validate_query(question, settings.max_question_chars)
    hits = searcher.search(
        question, k=settings.passages, filters=filters, max_chars=settings.max_question_chars
    )
    passages = relevant_passages(hits, question, settings)
    cited = resolve_citations(answerer.answer(question, passages), passages) if passages else None
    if cited is None or not cited.citations:
        return Answer(
            question=question, text=nothing_found(question), found=False, tier=answerer.tier
        )
    return Answer(question=question, text=cited.text, citations=cited.citations, tier=answerer.tier)
