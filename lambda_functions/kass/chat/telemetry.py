"""Logs and metrics of a chat turn: fallbacks, the cost ledger, citations removed.

Metrics go out through Powertools (`kass.observability`) as single EMF blobs, because each
carries its own `tier` dimension (the function's shared metric set has only `service`):
`ModelFallback` (tier = the tier that failed), `InputTokens`, `OutputTokens`, `CostMicroUSD`
and `UnsupportedCitations` (tier = the tier that answered).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from kass.chat.router import TierFailure
from kass.llm.pricing import micro_usd
from kass.models import Answer
from kass.observability import logger, metrics


def record_fallback(failure: TierFailure) -> None:
    """A tier failed and the next one takes over: warn (with why) and count it."""
    logger.warning(
        "model tier failed; falling back",
        extra={
            "tier": failure.tier,
            "next_tier": failure.next_tier,
            "unavailable": failure.unavailable,
            "error": failure.error,
        },
    )
    _count("ModelFallback", failure.tier, 1, MetricUnit.Count)


def record_answer(answer: Answer, *, cached: bool) -> None:
    """The ledger of a freshly written answer (a cache hit spent nothing and counts nothing)."""
    if cached:
        return
    if answer.model_id is not None:
        _count("InputTokens", answer.tier, answer.input_tokens, MetricUnit.Count)
        _count("OutputTokens", answer.tier, answer.output_tokens, MetricUnit.Count)
        _count("CostMicroUSD", answer.tier, float(micro_usd(answer.cost_usd)), MetricUnit.NoUnit)
    if answer.removed_citations:
        logger.info(
            "citations that named no passage were removed",
            extra={"tier": answer.tier, "removed": answer.removed_citations},
        )
        _count("UnsupportedCitations", answer.tier, answer.removed_citations, MetricUnit.Count)


def _count(name: str, tier: str, value: float, unit: MetricUnit) -> None:
    with single_metric(
        name=name,
        unit=unit,
        value=value,
        namespace=metrics.namespace,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="tier", value=tier)
