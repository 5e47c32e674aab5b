"""Model tiers, the routing rules that pick a chain of them, and the fallback that walks it.

A *route* is an ordered tuple of tiers. `plan` builds it from the question (and, once retrieval
has run, its passages); `run_with_fallback` tries each tier in turn: a tier that fails with a
`KassError` (ModelUnavailable: throttled past retries, endpoint stopped, connection refused,
5xx, timeout; or a rejected request) is recorded and the next one tries, so a user sees an
answer from a lesser tier rather than an error. The extractive tier needs no model and closes
every chain. The rules, and why, are in docs/adr/0008-model-routing.md.

This module imports no model library: the extractive and cached paths stay light at cold start.
The tool-calling agent runs through the same chain: `run_with_fallback(route, attempt)` with an
`attempt(tier)` that drives that tier's chat model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from kass.errors import InvalidInput, KassError, ModelUnavailable, NotFound, SourceError
from kass.models import ModelReply, SearchHit

if TYPE_CHECKING:
    from kass.llm.pricing import PriceTable
    from kass.ports import Answerer, AnswerStream
    from kass.settings import Settings

T = TypeVar("T")

HAIKU, SONNET, SAGEMAKER, OPENAI = "haiku", "sonnet", "sagemaker", "openai"
EXTRACTIVE = "extractive"
TIERS = (HAIKU, SONNET, SAGEMAKER, OPENAI, EXTRACTIVE)
BEDROCK_TIERS = frozenset({HAIKU, SONNET})

# Chains before filtering by what is configured. A lesser tier backs each one up: Bedrock quotas
# are per model, so a throttled Haiku does not mean a throttled Sonnet.
SIMPLE_CHAIN = (HAIKU, SONNET, SAGEMAKER, OPENAI, EXTRACTIVE)
COMPLEX_CHAIN = (SONNET, HAIKU, SAGEMAKER, OPENAI, EXTRACTIVE)
PRIVATE_CHAIN = (SAGEMAKER, OPENAI, EXTRACTIVE)  # then filtered by `Policy.private`
ALL_SOURCES = "*"

# -- what makes a question complex --------------------------------------------------------------
_REASONING = re.compile(
    r"\b(?:why|compare[sd]?|comparing|comparison|versus|vs\.?|differen(?:ce|ces|t)|differ|"
    r"trade-?offs?|pros and cons|design(?:ing|ed)?|architect\w*|strateg(?:y|ies)|"
    r"migrat\w+|refactor\w*|recommend\w*|should (?:we|i)|how (?:should|would|could|do) (?:we|i)"
    r"|best (?:way|approach))\b"
    r"|なぜ|どうして|理由|比較|違い|設計|方針|メリット|デメリット|どちらが|どうすべき|べきか",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"```|`[^`\n]+`|\b[A-Za-z_][\w]*\.[A-Za-z_]\w*\([^)\n]*\)|\bdef \w+\(|\bclass \w+[:(]"
    r"|\bfunction\s+\w+\s*\(|=>|Traceback \(most recent call last\)|^\s+at [\w.$]+\(",
    re.MULTILINE,
)
_QUESTION_MARK = re.compile(r"[?？]")
_WIDE = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@dataclass(frozen=True)
class Policy:
    """What routing may use: the configured tiers and the rules' settings."""

    available: frozenset[str]  # tiers configured here; extractive always
    private: frozenset[str]  # tiers that keep data inside the account
    pinned: str | None = None  # KASS_CHAT_TIER; None = auto
    confidential_sources: frozenset[str] = frozenset()
    complex_question_chars: int = 300
    complex_documents: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """Local profile: openai (when KASS_OPENAI_BASE_URL is set), extractive. AWS profile:
        Haiku, Sonnet, the 7B endpoint when configured, openai when configured, extractive."""
        chat = settings.chat
        available = {EXTRACTIVE}
        if settings.openai.base_url:
            available.add(OPENAI)
        if settings.app.profile == "aws":
            available |= BEDROCK_TIERS
            if settings.sagemaker.endpoint_name:
                available.add(SAGEMAKER)
        pinned = None if chat.tier == "auto" else chat.tier
        if pinned:
            available.add(pinned)  # pinning is explicit: it works on either profile
        private = {SAGEMAKER, EXTRACTIVE} | ({OPENAI} if settings.openai.private else set())
        return cls(
            available=frozenset(available),
            private=frozenset(private),
            pinned=pinned,
            confidential_sources=chat.confidential_sources,
            complex_question_chars=chat.complex_question_chars,
            complex_documents=chat.complex_documents,
        )


@dataclass(frozen=True)
class Route:
    """The tiers to try, in order, and why they were chosen (for logs and tests)."""

    tiers: tuple[str, ...]
    reasons: tuple[str, ...]
    confidential: bool = False  # only tiers that keep data in the account

    @property
    def key(self) -> str:
        """The route as a response-cache key component: another chain is another key."""
        return ">".join(self.tiers) + ("|private" if self.confidential else "")


def complexity(
    question: str,
    *,
    policy: Policy,
    passages: Sequence[SearchHit] | None = None,
    needs_tools: bool = False,
) -> tuple[str, ...]:
    """Why `question` needs the stronger model; empty when it is simple."""
    reasons: list[str] = []
    if needs_tools:
        reasons.append("needs tools")
    # A CJK character carries about as much as two Latin ones.
    if len(question) + len(_WIDE.findall(question)) >= policy.complex_question_chars:
        reasons.append("long question")
    if len(_QUESTION_MARK.findall(question)) >= 2:
        reasons.append("several questions")
    if _REASONING.search(question):
        reasons.append("comparison, why or design")
    if _CODE.search(question):
        reasons.append("code")
    if passages and len({hit.chunk.doc_id for hit in passages}) >= policy.complex_documents:
        reasons.append("many passages")
    return tuple(reasons)


def plan(
    policy: Policy,
    question: str,
    *,
    confidential: bool = False,
    needs_tools: bool = False,
    passages: Sequence[SearchHit] | None = None,
) -> Route:
    """The route for one request. Confidentiality beats a pinned tier; a pin beats the rules.

    `passages` is None before retrieval (the cache key is planned then) and the relevant
    passages after it: a passage from a confidential source, or many documents, change the
    route. Since the passages follow from the question, filters and index version, which the
    cache key holds too, the planned-before route still identifies the answer.
    """
    reasons: list[str] = []
    if confidential:
        reasons.append("request marked confidential")
    elif ALL_SOURCES in policy.confidential_sources:
        confidential = True
        reasons.append("every source is confidential")
    elif passages and policy.confidential_sources:
        touched = sorted({h.chunk.source for h in passages} & policy.confidential_sources)
        if touched:
            confidential = True
            reasons.append(f"confidential source {', '.join(touched)}")

    chain: Sequence[str]
    if confidential:
        head = (policy.pinned,) if policy.pinned in policy.private else ()
        chain = [t for t in (*head, *PRIVATE_CHAIN) if t in policy.private]
    elif policy.pinned:
        chain = (policy.pinned, EXTRACTIVE)
        reasons.append("pinned by KASS_CHAT_TIER")
    else:
        why = complexity(question, policy=policy, passages=passages, needs_tools=needs_tools)
        chain = COMPLEX_CHAIN if why else SIMPLE_CHAIN
        reasons.extend(why or ("simple",))
    tiers = tuple(dict.fromkeys(t for t in chain if t in policy.available))
    if not tiers:
        raise KassError("no configured model tier may read this request's data")
    return Route(tiers, tuple(reasons), confidential)


# -- fallback ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierFailure:
    tier: str
    error: str  # the one-line KassError message
    unavailable: bool  # ModelUnavailable (capacity, outage) rather than a rejected request
    next_tier: str | None  # the tier tried next; None when the chain is exhausted


class Ran(NamedTuple, Generic[T]):
    value: T
    tier: str  # the tier that produced `value`
    failures: tuple[TierFailure, ...]  # the tiers that failed before it, in order


def run_with_fallback(
    route: Route | Sequence[str],
    attempt: Callable[[str], T],
    *,
    on_failure: Callable[[TierFailure], None] | None = None,
) -> Ran[T]:
    """`attempt(tier)` for each tier of `route` until one returns.

    A `KassError` moves on to the next tier after `on_failure` is told, except InvalidInput
    (the next tier would reject it too) and NotFound/SourceError (about the request's subject
    or an outside system, not the model); any other exception is a bug and propagates.
    When every tier failed, the last error is raised (ModelUnavailable -> HTTP 503).
    """
    tiers = route.tiers if isinstance(route, Route) else tuple(route)
    if not tiers:
        raise ValueError("an empty route")
    failures: list[TierFailure] = []
    for i, tier in enumerate(tiers):
        try:
            return Ran(attempt(tier), tier, tuple(failures))
        except (InvalidInput, NotFound, SourceError):
            raise
        except KassError as exc:
            next_tier = tiers[i + 1] if i + 1 < len(tiers) else None
            failure = TierFailure(tier, str(exc), isinstance(exc, ModelUnavailable), next_tier)
            failures.append(failure)
            if on_failure is not None:
                on_failure(failure)
            if next_tier is None:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


# -- the router the chat use case holds -----------------------------------------------------------

AnswererFactory = Callable[[str, bool], "Answerer"]  # (tier, confidential) -> answerer


class ModelRouter:
    """A routing policy, the answerer of each tier (built on first use) and the price table.

    It is also an `Answerer` (its `tier` is where a simple question goes first, `answer` routes
    and falls back), so code written against one answerer gets routing unchanged.
    """

    def __init__(
        self, policy: Policy, answerer_for: AnswererFactory, prices: PriceTable | None = None
    ) -> None:
        self.policy = policy
        self._answerer_for = answerer_for
        self._prices = prices
        self._answerers: dict[tuple[str, bool], Answerer] = {}

    @classmethod
    def single(cls, answerer: Answerer, prices: PriceTable | None = None) -> ModelRouter:
        """A router that only ever uses `answerer` (no routing, no fallback)."""
        tier = answerer.tier
        policy = Policy(available=frozenset({tier}), private=frozenset({tier}), pinned=tier)
        return cls(policy, lambda _tier, _confidential: answerer, prices)

    def plan(
        self,
        question: str,
        *,
        confidential: bool = False,
        needs_tools: bool = False,
        passages: Sequence[SearchHit] | None = None,
    ) -> Route:
        return plan(
            self.policy,
            question,
            confidential=confidential,
            needs_tools=needs_tools,
            passages=passages,
        )

    def answerer(self, tier: str, *, confidential: bool = False) -> Answerer:
        key = (tier, confidential)
        if key not in self._answerers:
            self._answerers[key] = self._answerer_for(tier, confidential)
        return self._answerers[key]

    def cost(self, reply: ModelReply, tier: str) -> Decimal:
        """Exact USD of `reply` (0 when no model was called or no price table is set)."""
        if reply.model_id is None or self._prices is None:
            return Decimal(0)
        return self._prices.cost(reply.model_id, tier, reply.input_tokens, reply.output_tokens)

    # -- the Answerer protocol ----------------------------------------------------------------
    @property
    def tier(self) -> str:
        return self.plan("").tiers[0]

    def answer(self, question: str, passages: Sequence[SearchHit]) -> str:
        route = self.plan(question, passages=passages)
        ran = run_with_fallback(
            route,
            lambda tier: write_reply(
                self.answerer(tier, confidential=route.confidential), question, passages
            ),
        )
        return ran.value.text


def write_reply(
    answerer: Answerer,
    question: str,
    passages: Sequence[SearchHit],
    stream: AnswerStream | None = None,
) -> ModelReply:
    """The answerer's reply with its usage (`reply`), or its bare text when it has no usage.

    With `stream`, an answerer whose `reply` streams writes its text there as it comes; any
    other answer (no model, no usage) goes there whole, as one delta.
    """
    reply = getattr(answerer, "reply", None)
    if callable(reply):
        result = reply(question, passages) if stream is None else reply(question, passages, stream)
        if isinstance(result, ModelReply):
            return result
    text = answerer.answer(question, passages)
    if stream is not None and text:
        stream.delta(text)
    return ModelReply(text=text)


class FallbackStream:
    """One route's answer stream: before the next tier writes, a tier that failed after it had
    streamed is disowned (`restart`), so the client never shows two tiers' text run together."""

    def __init__(self, stream: AnswerStream) -> None:
        self._stream = stream
        self._streamed = False

    def begin(self, tier: str) -> None:
        """`tier` is about to write."""
        if self._streamed:
            self._stream.restart(tier)
            self._streamed = False

    def delta(self, text: str) -> None:
        if text:
            self._streamed = True
            self._stream.delta(text)

    def restart(self, tier: str) -> None:
        self._streamed = False
        self._stream.restart(tier)
