"""Routing rules (table-driven), the fallback chain, and the router as the ask use case uses it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from kass.chat.router import (
    EXTRACTIVE,
    HAIKU,
    OPENAI,
    SAGEMAKER,
    SONNET,
    ModelRouter,
    Policy,
    TierFailure,
    complexity,
    plan,
    run_with_fallback,
)
from kass.errors import InvalidInput, KassError, ModelUnavailable
from kass.models import Chunk, SearchHit
from kass.settings import Settings

AWS = Policy(
    available=frozenset({HAIKU, SONNET, SAGEMAKER, EXTRACTIVE}),
    private=frozenset({SAGEMAKER, EXTRACTIVE}),
)
LOCAL = Policy(available=frozenset({OPENAI, EXTRACTIVE}), private=frozenset({EXTRACTIVE}))


def _hits(*docs: str, source: str = "slack") -> list[SearchHit]:
    return [
        SearchHit(
            chunk=Chunk(id=f"c{i}", doc_id=doc, position=0, text="t", source=source), score=1.0
        )
        for i, doc in enumerate(docs)
    ]


@pytest.mark.parametrize(
    ("question", "kwargs", "tiers", "reason"),
    [
        ("What is the API rate limit?", {}, (HAIKU, SONNET, SAGEMAKER, EXTRACTIVE), "simple"),
        ("レート制限はいくつ？", {}, (HAIKU, SONNET, SAGEMAKER, EXTRACTIVE), "simple"),
        ("Why did login fail after 2.3?", {}, (SONNET, HAIKU, SAGEMAKER, EXTRACTIVE), "why"),
        ("Compare the GitLab and Backlog flows", {}, (SONNET,) * 1, "comparison"),
        ("How should we design the retry queue", {}, (SONNET,), "design"),
        ("なぜ通知が届かないのですか", {}, (SONNET,), "why"),
        ("What does `retry_after()` return?", {}, (SONNET,), "code"),
        ("Who owns billing? And who owns auth?", {}, (SONNET,), "several questions"),
        ("x" * 300, {}, (SONNET,), "long question"),
        ("あ" * 150, {}, (SONNET,), "long question"),  # CJK characters count double
        ("What is the rate limit?", {"needs_tools": True}, (SONNET,), "needs tools"),
        (
            "What is the rate limit?",
            {"passages": _hits("a", "b", "c", "d")},
            (SONNET,),
            "many passages",
        ),
        ("What is the rate limit?", {"passages": _hits("a", "a", "b", "c")}, (HAIKU,), "simple"),
    ],
)
def test_given_a_question_when_planned_on_aws_then_the_rule_picks_the_first_tier(
    question, kwargs, tiers, reason
):
    route = plan(AWS, question, **kwargs)

    assert route.tiers[: len(tiers)] == tiers
    assert route.tiers[-1] == EXTRACTIVE  # every chain ends with the tier that needs no model
    assert any(reason in r for r in route.reasons), route.reasons
    assert not route.confidential


@pytest.mark.parametrize(
    ("policy", "kwargs", "tiers"),
    [
        (AWS, {"confidential": True}, (SAGEMAKER, EXTRACTIVE)),
        (AWS, {"confidential": True, "needs_tools": True}, (SAGEMAKER, EXTRACTIVE)),
        (
            Policy(available=AWS.available - {SAGEMAKER}, private=AWS.private),
            {"confidential": True},
            (EXTRACTIVE,),
        ),
        (
            Policy(**{**AWS.__dict__, "pinned": SONNET}),
            {"confidential": True},
            (SAGEMAKER, EXTRACTIVE),
        ),
        (
            Policy(**{**AWS.__dict__, "confidential_sources": frozenset({"backlog"})}),
            {"passages": _hits("a", source="backlog")},
            (SAGEMAKER, EXTRACTIVE),
        ),
        (
            Policy(**{**AWS.__dict__, "confidential_sources": frozenset({"*"})}),
            {},
            (SAGEMAKER, EXTRACTIVE),
        ),
        (LOCAL, {"confidential": True}, (EXTRACTIVE,)),
        (
            Policy(available=LOCAL.available, private=frozenset({OPENAI, EXTRACTIVE})),
            {"confidential": True},
            (OPENAI, EXTRACTIVE),
        ),
    ],
)
def test_given_confidential_data_when_planned_then_no_bedrock_tier_is_in_the_route(
    policy, kwargs, tiers
):
    route = plan(policy, "Why did login fail?", **kwargs)

    assert route.tiers == tiers
    assert route.confidential
    assert not {HAIKU, SONNET} & set(route.tiers)


def test_given_confidential_sources_not_touched_when_planned_then_normal_route():
    policy = Policy(**{**AWS.__dict__, "confidential_sources": frozenset({"backlog"})})
    route = plan(policy, "What is the limit?", passages=_hits("a", source="slack"))
    assert route.tiers[0] == HAIKU and not route.confidential


@pytest.mark.parametrize(
    ("policy", "question", "tiers"),
    [
        (Policy(**{**AWS.__dict__, "pinned": SONNET}), "What is it?", (SONNET, EXTRACTIVE)),
        (Policy(**{**AWS.__dict__, "pinned": HAIKU}), "Why? And how?", (HAIKU, EXTRACTIVE)),
        (Policy(**{**AWS.__dict__, "pinned": EXTRACTIVE}), "Why?", (EXTRACTIVE,)),
        (LOCAL, "Why did it fail?", (OPENAI, EXTRACTIVE)),
        (Policy(available=frozenset({EXTRACTIVE}), private=LOCAL.private), "Q?", (EXTRACTIVE,)),
    ],
)
def test_given_a_pin_or_the_local_profile_when_planned_then_that_chain(policy, question, tiers):
    assert plan(policy, question).tiers == tiers


def test_given_routes_when_keyed_then_another_chain_or_confidentiality_is_another_key():
    simple = plan(AWS, "What is it?")
    pinned = plan(Policy(**{**AWS.__dict__, "pinned": SONNET}), "What is it?")
    private = plan(AWS, "What is it?", confidential=True)
    assert len({simple.key, pinned.key, private.key}) == 3
    assert plan(AWS, "What is it?").key == simple.key


@pytest.mark.parametrize(
    ("profile", "env", "available", "pinned"),
    [
        ("local", {}, {EXTRACTIVE}, None),
        (
            "local",
            {"KASS_OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "KASS_OPENAI_MODEL": "m"},
            {OPENAI, EXTRACTIVE},
            None,
        ),
        ("local", {"KASS_CHAT_TIER": "haiku"}, {HAIKU, EXTRACTIVE}, HAIKU),
        ("aws", {}, {HAIKU, SONNET, EXTRACTIVE}, None),
        (
            "aws",
            {"KASS_SAGEMAKER_ENDPOINT_NAME": "e"},
            {HAIKU, SONNET, SAGEMAKER, EXTRACTIVE},
            None,
        ),
    ],
)
def test_given_settings_when_policy_built_then_available_tiers_follow_the_profile(
    monkeypatch, profile, env, available, pinned
):
    monkeypatch.setenv("KASS_PROFILE", profile)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    policy = Policy.from_settings(Settings())

    assert policy.available == available
    assert policy.pinned == pinned
    assert policy.private == {SAGEMAKER, EXTRACTIVE}


def test_given_confidential_sources_setting_when_read_then_comma_separated_set(monkeypatch):
    monkeypatch.setenv("KASS_CHAT_CONFIDENTIAL_SOURCES", "backlog, slack")
    assert Policy.from_settings(Settings()).confidential_sources == {"backlog", "slack"}


def test_given_no_reason_when_complexity_checked_then_simple():
    assert complexity("What is the API rate limit for free plans?", policy=AWS) == ()


# -- fallback -----------------------------------------------------------------------------------


def _scripted(outcomes: dict[str, Exception | str]):
    tried: list[str] = []

    def attempt(tier: str) -> str:
        tried.append(tier)
        outcome = outcomes[tier]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return attempt, tried


def test_given_failing_tiers_when_run_then_next_tier_answers_and_failures_are_reported():
    attempt, tried = _scripted(
        {
            HAIKU: ModelUnavailable("throttled"),
            SONNET: KassError("rejected"),
            EXTRACTIVE: "quoted [1].",
        }
    )
    heard: list[TierFailure] = []

    ran = run_with_fallback((HAIKU, SONNET, EXTRACTIVE), attempt, on_failure=heard.append)

    assert (ran.value, ran.tier) == ("quoted [1].", EXTRACTIVE)
    assert tried == [HAIKU, SONNET, EXTRACTIVE]
    assert [(f.tier, f.unavailable, f.next_tier) for f in ran.failures] == [
        (HAIKU, True, SONNET),
        (SONNET, False, EXTRACTIVE),
    ]
    assert heard == list(ran.failures)


def test_given_first_tier_answers_when_run_then_no_other_tier_is_tried():
    attempt, tried = _scripted({HAIKU: "ok", SONNET: "unused"})
    ran = run_with_fallback((HAIKU, SONNET), attempt)
    assert (ran.tier, ran.failures, tried) == (HAIKU, (), [HAIKU])


def test_given_every_tier_failing_when_run_then_the_last_error_is_raised():
    attempt, _ = _scripted({HAIKU: ModelUnavailable("a"), SONNET: ModelUnavailable("b")})
    with pytest.raises(ModelUnavailable, match="b"):
        run_with_fallback((HAIKU, SONNET), attempt)


@pytest.mark.parametrize("error", [ValueError("a bug"), InvalidInput("bad question")])
def test_given_a_bug_or_bad_input_when_run_then_it_propagates_without_fallback(error):
    attempt, tried = _scripted({HAIKU: error, EXTRACTIVE: "unused"})
    with pytest.raises(type(error)):
        run_with_fallback((HAIKU, EXTRACTIVE), attempt)
    assert tried == [HAIKU]


class _Answerer:
    def __init__(self, tier: str, text: str | Exception):
        self.tier, self._text = tier, text
        self.calls = 0

    def answer(self, question: str, passages: Sequence[SearchHit]) -> str:
        self.calls += 1
        if isinstance(self._text, Exception):
            raise self._text
        return self._text


def test_given_a_router_when_used_as_an_answerer_then_it_routes_and_falls_back():
    answerers = {
        OPENAI: _Answerer(OPENAI, ModelUnavailable("connection refused")),
        EXTRACTIVE: _Answerer(EXTRACTIVE, "From the sources [1]."),
    }
    router = ModelRouter(LOCAL, lambda tier, _confidential: answerers[tier])

    assert router.tier == OPENAI
    assert router.answer("What?", _hits("a")) == "From the sources [1]."
    assert answerers[OPENAI].calls == answerers[EXTRACTIVE].calls == 1


def test_given_a_single_answerer_when_wrapped_then_only_it_is_used():
    only = _Answerer(HAIKU, "x [1].")
    router = ModelRouter.single(only)
    assert plan(router.policy, "Why? How? Compare!").tiers == (HAIKU,)
    assert router.answerer(HAIKU) is only
