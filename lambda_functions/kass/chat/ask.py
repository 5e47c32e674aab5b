"""The ask use case: retrieve, keep what is relevant, let the answerer write, resolve citations."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kass.chat.citations import resolve_citations
from kass.chat.router import (
    FallbackStream,
    ModelRouter,
    TierFailure,
    run_with_fallback,
    write_reply,
)
from kass.language import cjk_coverage, is_japanese, is_mostly_cjk
from kass.models import Answer, ModelReply, SearchHit
from kass.ports import Answerer, AnswerStream
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
    answerer: Answerer | ModelRouter,
    settings: AnswerSettings,
    filters: Mapping[str, str] | None = None,
    confidential: bool = False,
    on_failure: Callable[[TierFailure], None] | None = None,
    stream: AnswerStream | None = None,
) -> Answer:
    """Answer `question` from the index, through the router's route with fallback.

    With a plain `Answerer` only that answerer writes. `on_failure` hears about every tier that
    failed before one answered (the chat service logs and counts them). `stream` receives the
    answer as it is written (a tier failing after it had streamed: `restart`, see
    `FallbackStream`); the returned answer, citations resolved, is the authoritative text.
    """
    question = validate_query(question, settings.max_question_chars)
    router = answerer if isinstance(answerer, ModelRouter) else ModelRouter.single(answerer)
    hits = searcher.search(
        question, k=settings.passages, filters=filters, max_chars=settings.max_question_chars
    )
    passages = relevant_passages(hits, question, settings)
    route = router.plan(question, confidential=confidential, passages=passages)
    if not passages:
        # Nothing relevant: no model is called, so nothing is spent.
        if stream is not None:
            stream.delta(nothing_found(question))
        return Answer(
            question=question,
            text=nothing_found(question),
            found=False,
            tier=route.tiers[0],
            route=list(route.tiers),
        )

    tier_stream = FallbackStream(stream) if stream is not None else None

    def attempt(tier: str) -> ModelReply:
        answerer = router.answerer(tier, confidential=route.confidential)
        if tier_stream is not None:
            tier_stream.begin(tier)
        return write_reply(answerer, question, passages, tier_stream)

    ran = run_with_fallback(route, attempt, on_failure=on_failure)
    reply = ran.value
    cited = resolve_citations(reply.text, passages)
    found = bool(cited.citations)  # an answer citing nothing given is no answer
    return Answer(
        question=question,
        text=cited.text if found else nothing_found(question),
        citations=cited.citations,
        found=found,
        tier=ran.tier,
        route=list(route.tiers),
        fallbacks=[failure.tier for failure in ran.failures],
        model_id=reply.model_id,
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        cost_usd=router.cost(reply, ran.tier),
        removed_citations=cited.dropped,
    )
