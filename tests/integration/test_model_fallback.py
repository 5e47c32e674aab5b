"""Model routing with fallback against the real wire doubles, and the cost ledger it keeps.

Local profile: the orchestrator handler with the `openai` tier on the OpenAI API double; a 500,
a 429 or a refused connection falls to the extractive tier, never to a 5xx. AWS profile: the
router the wiring builds, on real boto3 clients against the Bedrock runtime double (throttling
via `fail_next`), with a fixed searcher so only the model calls go over the wire.
"""

from __future__ import annotations

import json
import socket
from decimal import Decimal

import pytest
from lambda_harness import context, ingest_samples, json_body, load_handler, rest_event
from tests.doubles.bedrock_runtime import _answer as bedrock_answer
from tests.doubles.bedrock_runtime import start_bedrock_double
from tests.doubles.openai_api import MODEL, start_openai_double

from kass.adapters.aws import clients
from kass.chat.ask import ask
from kass.models import Chunk, SearchHit
from kass.settings import load_settings
from kass.wiring import Runtime

PRICE_IN, PRICE_OUT = Decimal("0.15"), Decimal("0.60")  # USD per million, set for the double
PRICES = json.dumps({MODEL: {"input": str(PRICE_IN), "output": str(PRICE_OUT)}})


def _closed_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _emf(output: str) -> list[dict]:
    """The CloudWatch EMF metric blobs Powertools printed."""
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def _metric_values(blobs: list[dict], name: str) -> list[tuple[str | None, float]]:
    return [(blob.get("tier"), value) for blob in blobs if name in blob for value in blob[name]]


# -- local profile: the orchestrator handler on the OpenAI double --------------------------------


@pytest.fixture(scope="module")
def openai_double():
    server, url = start_openai_double()
    yield server, url
    server.stop()


@pytest.fixture(scope="module")
def handler(tmp_path_factory, openai_double):
    _, url = openai_double
    home = tmp_path_factory.mktemp("routing-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home)
        for name, value in {
            "KASS_HOME": str(home),
            "KASS_OPENAI_BASE_URL": url,
            "KASS_OPENAI_MODEL": MODEL,
            "KASS_OPENAI_MAX_RETRIES": "0",
            "KASS_CHAT_PRICES": PRICES,
            "POWERTOOLS_SERVICE_NAME": "orchestrator",
            "POWERTOOLS_METRICS_NAMESPACE": "kass-test",
        }.items():
            patch.setenv(name, value)
        ingest_samples()
        module = load_handler("orchestrator")
        yield module
        module.runtime.close()


def post(handler, message: str, **extra) -> dict:
    response = handler.lambda_handler(
        rest_event("POST", "/chat", body={"message": message, **extra}), context("orchestrator")
    )
    assert response["statusCode"] == 200, response["body"]  # never a 5xx
    return json_body(response)


def stored_reply(handler, body: dict) -> dict:
    messages = handler.runtime.conversations.messages(body["conversation_id"])
    (reply,) = [m for m in messages if m.id == body["message_id"]]
    return reply.model_dump(mode="json")


def test_given_openai_server_when_asking_then_it_answers_and_the_ledger_matches_its_usage(
    handler, openai_double
):
    server, _ = openai_double

    body = post(handler, "What is the API rate limit for free plans?")

    usage = server.usages[-1]
    assert (body["tier"], body["route"], body["fallbacks"]) == (
        "openai",
        ["openai", "extractive"],
        [],
    )
    assert body["found"] and "[1]" in body["text"]
    assert body["usage"]["model_id"] == MODEL
    assert body["usage"]["input_tokens"] == usage.prompt_tokens
    assert body["usage"]["output_tokens"] == usage.completion_tokens
    expected = (usage.prompt_tokens * PRICE_IN + usage.completion_tokens * PRICE_OUT) / 1_000_000
    assert Decimal(body["usage"]["cost_usd"]) == expected
    reply = stored_reply(handler, body)
    assert (reply["tier"], reply["model_id"]) == ("openai", MODEL)
    assert (reply["input_tokens"], reply["output_tokens"]) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )
    assert Decimal(reply["cost_usd"]) == expected


def test_given_a_cached_answer_when_asked_again_then_no_model_call_and_nothing_spent(
    handler, openai_double
):
    server, _ = openai_double
    first = post(handler, "When is the maintenance window for the PostgreSQL 15 upgrade?")
    calls = len(server.completions)

    second = post(handler, "when is the maintenance window for the postgresql 15 upgrade")

    assert first["cached"] is False and second["cached"] is True
    assert len(server.completions) == calls
    assert second["text"] == first["text"] and second["tier"] == "openai"
    assert second["usage"]["input_tokens"] == second["usage"]["output_tokens"] == 0
    assert Decimal(second["usage"]["cost_usd"]) == 0
    assert stored_reply(handler, second)["input_tokens"] == 0


@pytest.mark.parametrize("status", [500, 503, 429])
def test_given_the_server_failing_when_asking_then_extractive_answers_and_is_not_cached(
    handler, openai_double, status, capsys
):
    server, _ = openai_double
    question = f"Why were some customers charged twice when they upgraded ({status})?"
    server.fail_next(status)
    capsys.readouterr()

    fallen = post(handler, question)
    blobs = _emf(capsys.readouterr().out)
    again = post(handler, question)

    assert (fallen["tier"], fallen["fallbacks"]) == ("extractive", ["openai"])
    assert fallen["found"] and fallen["citations"]
    assert fallen["usage"]["model_id"] is None and Decimal(fallen["usage"]["cost_usd"]) == 0
    assert _metric_values(blobs, "ModelFallback") == [("openai", 1.0)]
    # Not cached: the better tier is tried again (and answers now).
    assert again["cached"] is False and again["tier"] == "openai" and again["fallbacks"] == []


def test_given_a_refused_connection_when_asking_then_extractive_answers(
    tmp_path, monkeypatch, handler
):
    monkeypatch.setenv("KASS_OPENAI_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")
    monkeypatch.setenv("KASS_CHAT_CACHE_TTL_SECONDS", "0")
    refused = load_handler("orchestrator")
    try:
        body = post(refused, "What is the API rate limit for free plans?")
    finally:
        refused.runtime.close()

    assert (body["tier"], body["fallbacks"]) == ("extractive", ["openai"])
    assert body["found"] and "[1]" in body["text"]


def test_given_several_requests_when_ledger_summed_then_it_equals_the_servers_token_counts(
    handler, openai_double
):
    server, _ = openai_double
    before = len(server.usages)
    questions = [
        "What caused the 503 errors on shift edits during the June 3 deploy?",
        "What is the API rate limit for free plans on the api?",
        "Why did login fail after the 2.3 release of the web app?",
        "プッシュ通知が届かない問題の原因は？",
    ]

    bodies = [post(handler, q) for q in questions]

    reported = server.usages[before:]
    assert len(reported) == len(questions) and all(b["tier"] == "openai" for b in bodies)
    stored = [stored_reply(handler, b) for b in bodies]
    tokens_in = sum(u.prompt_tokens for u in reported)
    tokens_out = sum(u.completion_tokens for u in reported)
    assert sum(m["input_tokens"] for m in stored) == tokens_in
    assert sum(m["output_tokens"] for m in stored) == tokens_out
    total = sum((Decimal(m["cost_usd"]) for m in stored), Decimal(0))
    assert total == (tokens_in * PRICE_IN + tokens_out * PRICE_OUT) / 1_000_000
    assert total == sum((Decimal(b["usage"]["cost_usd"]) for b in bodies), Decimal(0))


def test_given_answers_when_written_then_token_and_cost_metrics_carry_the_tier(
    handler, openai_double, capsys
):
    server, _ = openai_double
    capsys.readouterr()

    post(handler, "What is the on-call escalation rule for incidents?")

    blobs = _emf(capsys.readouterr().out)
    usage = server.usages[-1]
    assert _metric_values(blobs, "InputTokens") == [("openai", usage.prompt_tokens)]
    assert _metric_values(blobs, "OutputTokens") == [("openai", usage.completion_tokens)]
    micro = (usage.prompt_tokens * PRICE_IN + usage.completion_tokens * PRICE_OUT) / 1_000_000
    assert _metric_values(blobs, "CostMicroUSD") == [("openai", float(micro * 1_000_000))]
    (cost_blob,) = [b for b in blobs if "CostMicroUSD" in b]
    (cache_blob,) = [b for b in blobs if "CacheMiss" in b]  # the handler's own metric
    namespace = cache_blob["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    assert cost_blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace
    assert cost_blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["tier", "service"]]


def test_given_a_marker_naming_no_passage_when_answered_then_removed_counted_and_reported(
    handler, openai_double, capsys
):
    server, _ = openai_double
    server.reply_next("Free plans allow 60 requests per minute [1]. Paid plans are unlimited [9].")
    capsys.readouterr()

    body = post(handler, "What is the rate limit for the free plan of the API?")

    blobs = _emf(capsys.readouterr().out)
    assert body["removed_citations"] == 1
    assert "[9]" not in body["text"] and "[1]" in body["text"]
    assert len(body["citations"]) == 1
    assert _metric_values(blobs, "UnsupportedCitations") == [("openai", 1.0)]
    assert stored_reply(handler, body)["text"] == body["text"]


def test_given_a_confidential_request_on_local_profile_then_the_openai_server_is_not_called(
    handler, openai_double
):
    server, _ = openai_double
    calls = len(server.completions)

    body = post(handler, "What is the API rate limit for free plans?", confidential=True)

    assert body["route"] == ["extractive"] and body["tier"] == "extractive"
    assert len(server.completions) == calls


# -- AWS profile: the wiring's router on the Bedrock double ---------------------------------------

PASSAGE_TEXT = (
    "Deploy freeze\n\nDeploys are frozen every Friday after 15:00 JST. Hotfixes need two approvals."
)


class FixedSearcher:
    """The retrieval side held still: these tests are about the model calls."""

    def __init__(self, source: str = "backlog") -> None:
        chunk = Chunk(
            id="c1",
            doc_id="backlog:OPS-1",
            position=0,
            text=PASSAGE_TEXT,
            source=source,
            title="Deploy freeze",
            url="https://example.backlog.com/view/OPS-1",
        )
        self.hits = [SearchHit(chunk=chunk, score=1.0, lexical_score=3.0)]

    def search(self, question, *, k, filters=None, max_chars=None, **_):
        return self.hits


@pytest.fixture
def bedrock():
    server, url = start_bedrock_double()
    yield server, url
    server.stop()


@pytest.fixture
def aws_runtime(bedrock, monkeypatch, tmp_path):
    _, url = bedrock
    monkeypatch.chdir(tmp_path)
    for name in ("KASS_OPENAI_BASE_URL", "KASS_OPENAI_MODEL", "KASS_CHAT_PRICES"):
        monkeypatch.delenv(name, raising=False)  # the local-profile fixture's, if it ran
    for name, value in {
        "KASS_PROFILE": "aws",
        "KASS_AWS_MAX_ATTEMPTS": "1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    clients.client.cache_clear()
    runtimes: list[Runtime] = []

    def make(source: str = "backlog") -> Runtime:
        runtime = Runtime(load_settings())
        runtime.__dict__["searcher"] = FixedSearcher(source)
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.close()
    clients.client.cache_clear()


def _ask(runtime: Runtime, question: str, **kwargs):
    return ask(
        question,
        searcher=runtime.searcher,
        answerer=runtime.router,
        settings=runtime.settings.answer,
        **kwargs,
    )


def test_given_haiku_throttled_past_retries_when_asking_then_sonnet_answers(bedrock, aws_runtime):
    server, _ = bedrock
    server.fail_next("ThrottlingException", 429)
    runtime = aws_runtime()

    answer = _ask(runtime, "When are deploys frozen?")

    settings = runtime.settings.bedrock
    assert (answer.tier, answer.fallbacks) == ("sonnet", ["haiku"])
    assert answer.found and answer.text.endswith("[1].")
    assert [(r.action, r.model_id) for r in server.requests] == [
        ("converse", settings.haiku_model_id),
        ("converse", settings.sonnet_model_id),
    ]
    assert answer.model_id == settings.sonnet_model_id


def test_given_both_bedrock_tiers_throttled_when_asking_then_the_openai_tier_answers(
    bedrock, aws_runtime, openai_double, monkeypatch
):
    server, _ = bedrock
    openai_server, url = openai_double
    monkeypatch.setenv("KASS_OPENAI_BASE_URL", url)
    monkeypatch.setenv("KASS_OPENAI_MODEL", MODEL)
    server.fail_next("ThrottlingException", 429, times=2)
    calls = len(openai_server.completions)

    answer = _ask(aws_runtime(), "When are deploys frozen?")

    assert (answer.tier, answer.fallbacks) == ("openai", ["haiku", "sonnet"])
    assert answer.route == ["haiku", "sonnet", "openai", "extractive"]
    assert len(openai_server.completions) == calls + 1


def test_given_every_model_throttled_when_asking_then_extractive_answers_from_the_passages(
    bedrock, aws_runtime
):
    server, _ = bedrock
    server.fail_next("ThrottlingException", 429, times=2)

    answer = _ask(aws_runtime(), "When are deploys frozen?")

    assert (answer.tier, answer.fallbacks) == ("extractive", ["haiku", "sonnet"])
    assert answer.found and "Friday" in answer.text


def test_given_bedrock_answers_when_ledger_summed_then_it_equals_the_doubles_usage(
    bedrock, aws_runtime
):
    server, _ = bedrock
    runtime = aws_runtime()
    questions = ["When are deploys frozen?", "Who approves hotfixes?", "Is Friday frozen?"]

    answers = [_ask(runtime, q) for q in questions]

    reported = [bedrock_answer(r.model_id, r.body)[1] for r in server.requests]
    assert len(reported) == len(questions)
    assert sum(a.input_tokens for a in answers) == sum(u["inputTokens"] for u in reported)
    assert sum(a.output_tokens for a in answers) == sum(u["outputTokens"] for u in reported)
    total = sum((a.cost_usd for a in answers), Decimal(0))
    tokens_in = sum(u["inputTokens"] for u in reported)
    tokens_out = sum(u["outputTokens"] for u in reported)
    assert all(a.tier == "haiku" for a in answers)  # simple questions, Claude 3.5 Haiku prices
    assert total == (tokens_in * Decimal("0.80") + tokens_out * Decimal("4.00")) / 1_000_000


def test_given_a_confidential_request_when_asking_then_bedrock_is_never_called(
    bedrock, aws_runtime, monkeypatch
):
    server, _ = bedrock
    # The 7B endpoint is configured but stopped (nothing listens): it falls to extractive.
    monkeypatch.setenv("KASS_SAGEMAKER_ENDPOINT_NAME", "kass-test-llm")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", f"http://127.0.0.1:{_closed_port()}")

    answer = _ask(aws_runtime(), "Why are deploys frozen on Fridays?", confidential=True)

    assert answer.route == ["sagemaker", "extractive"]
    assert (answer.tier, answer.fallbacks) == ("extractive", ["sagemaker"])
    assert answer.found and "Friday" in answer.text
    assert server.requests == []  # not a chat call, not even a Titan embedding of a sentence


def test_given_a_confidential_source_when_its_passage_is_retrieved_then_bedrock_is_not_called(
    bedrock, aws_runtime, monkeypatch
):
    server, _ = bedrock
    monkeypatch.setenv("KASS_CHAT_CONFIDENTIAL_SOURCES", "backlog")

    answer = _ask(aws_runtime("backlog"), "When are deploys frozen?")

    assert answer.route == ["extractive"] and answer.tier == "extractive"
    assert server.requests == []
