"""The ask use case: retrieve, keep what is relevant, let the answerer write, resolve citations."""

from __future__ import annotations

from kass.chat.citations import resolve_citations
from kass.models import Answer, SearchHit
from kass.ports import Answerer
from kass.retrieval.search import Searcher, validate_query
from kass.settings import AnswerSettings

NOTHING_FOUND = (
    "I could not find anything about that in the indexed sources, so I won't guess. "
    "Try other words, or ingest the documents that cover it."
)


def relevant_passages(hits: list[SearchHit], min_similarity: float) -> list[SearchHit]:
    """Keep hits whose meaning is close enough to the question.

    Fused scores are relative (min-max), so they cannot tell "best of a bad lot" from a real
    match; the raw cosine can. A hit that only the lexical side found is kept when a
    semantically relevant hit exists, since keywords matched it.
    """
    if all(h.dense_score is None for h in hits):
        return hits  # lexical-only mode: BM25 returns only chunks that share words
    semantic = [h for h in hits if h.dense_score is not None and h.dense_score >= min_similarity]
    if not semantic:
        return []
    return [h for h in hits if h.dense_score is None or h.dense_score >= min_similarity]


def ask(
    question: str, *, searcher: Searcher, answerer: Answerer, settings: AnswerSettings
) -> Answer:
    question = validate_query(question, settings.max_question_chars)
    hits = searcher.search(question, k=settings.passages, max_chars=settings.max_question_chars)
    passages = relevant_passages(hits, settings.min_similarity)
    if not passages:
        return Answer(question=question, text=NOTHING_FOUND, found=False, tier=answerer.tier)
    cited = resolve_citations(answerer.answer(question, passages), passages)
    if not cited.citations:
        return Answer(question=question, text=NOTHING_FOUND, found=False, tier=answerer.tier)
    return Answer(question=question, text=cited.text, citations=cited.citations, tier=answerer.tier)
