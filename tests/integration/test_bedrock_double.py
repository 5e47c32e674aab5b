"""The Bedrock runtime double through real boto3 clients: TitanEmbedder, the Converse chat tier
(invoke and stream, which botocore's Stubber cannot express), the answerer, and the aws-profile
wiring that builds them from settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.doubles.bedrock_runtime import start_bedrock_double

from kass.adapters.aws import clients
from kass.adapters.aws.titan import TitanEmbedder
from kass.chat.citations import resolve_citations
from kass.errors import InvalidInput, KassError, ModelUnavailable
from kass.llm.bedrock import make_bedrock_chat
from kass.llm.generative import ChatModelAnswerer
from kass.models import Chunk, SearchHit
from kass.settings import BedrockSettings, load_settings
from kass.wiring import Runtime

ROOT = Path(__file__).resolve().parents[2]
EMBED = "amazon.titan-embed-text-v2:0"
HAIKU = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture
def double():
    server, url = start_bedrock_double()
    yield server, url
    server.stop()


def _client(url: str, attempts: int = 1):
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def _hit(n: int, text: str, title: str, url: str | None = None) -> SearchHit:
    chunk = Chunk(
        id=f"c{n}",
        doc_id=f"gitlab:{n}",
        position=0,
        text=f"{title}\n\n{text}",
        source="gitlab",
        title=title,
        url=url,
    )
    return SearchHit(chunk=chunk, score=1.0 / n)


PASSAGES = [
    _hit(1, "The session cookie lost its SameSite flag in 2.3. We fixed it in 2.3.1.", "Login"),
    _hit(2, "Unrelated: the CI cache was cleared.", "CI"),
]


# -- Titan embeddings ---------------------------------------------------------------------------


def test_given_double_when_embedding_then_unit_vectors_and_shared_words_are_closer(double):
    server, url = double
    embedder = TitanEmbedder(_client(url), model_id=EMBED, dimension=512)

    vectors = embedder.embed_documents(
        ["login fails after the release", "after the release login is broken", "cats eat fish"]
    )

    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert [r.body["dimensions"] for r in server.requests] == [512, 512, 512]


def test_given_same_text_when_embedded_twice_then_identical_vectors(double):
    _, url = double
    embedder = TitanEmbedder(_client(url), model_id=EMBED, dimension=256)
    first = embedder.embed_query("ログインに失敗しました")
    assert np.array_equal(first, embedder.embed_query("ログインに失敗しました"))


def test_given_empty_input_text_when_sent_raw_then_double_rejects_it_like_bedrock(double):
    _, url = double
    with pytest.raises(ClientError) as caught:
        _client(url).invoke_model(modelId=EMBED, body=json.dumps({"inputText": ""}))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "minLength" in caught.value.response["Error"]["Message"]
    with pytest.raises(InvalidInput):  # the embedder refuses before calling
        TitanEmbedder(_client(url), model_id=EMBED, dimension=256).embed_query("")


def test_given_unknown_model_when_embedding_then_validation_error_becomes_kass_error(double):
    _, url = double
    embedder = TitanEmbedder(_client(url), model_id="amazon.titan-embed-g9:0", dimension=256)
    with pytest.raises(KassError, match="ValidationException.*model identifier is invalid"):
        embedder.embed_query("text")


def test_given_throttling_on_every_attempt_when_embedding_then_model_unavailable(double):
    server, url = double
    server.fail_next("ThrottlingException", 429)
    with pytest.raises(ModelUnavailable, match="throttling"):
        TitanEmbedder(_client(url), model_id=EMBED, dimension=256).embed_query("text")


# -- Converse -----------------------------------------------------------------------------------


def test_given_answerer_on_double_when_answering_then_first_passage_cited_and_usage_kept(double):
    server, url = double
    answerer = ChatModelAnswerer(
        make_bedrock_chat(HAIKU, BedrockSettings(), client=_client(url)), tier="haiku"
    )

    reply = answerer.reply("Why did login fail after 2.3?", PASSAGES)
    text = reply.text
    cited = resolve_citations(text, PASSAGES)

    assert text == "The session cookie lost its SameSite flag in 2.3 [1]."
    assert [c.doc_id for c in cited.citations] == ["gitlab:1"]
    assert reply.input_tokens > 0 and reply.output_tokens > 0
    (request,) = server.requests
    assert (request.action, request.model_id) == ("converse", HAIKU)


def test_given_japanese_passage_when_answering_then_marker_before_the_full_stop(double):
    _, url = double
    answerer = ChatModelAnswerer(
        make_bedrock_chat(HAIKU, BedrockSettings(), client=_client(url)), tier="haiku"
    )
    passages = [_hit(1, "プッシュ通知は証明書の期限切れで止まった。更新済み。", "通知障害")]

    assert (
        answerer.answer("通知が届かない原因は？", passages)
        == "プッシュ通知は証明書の期限切れで止まった[1]。"
    )


def test_given_double_when_streaming_then_deltas_arrive_in_order_and_match_converse(double):
    _, url = double
    chat = make_bedrock_chat(HAIKU, BedrockSettings(), client=_client(url))
    prompt = '<passage n="1" source="s" title="t">\nAlpha beta gamma. Delta.\n</passage>'

    chunks = list(chat.stream([("user", prompt)]))

    texts = [c.text for c in chunks if c.text]
    assert texts == ["Alpha ", "beta ", "gamma ", "[1]."]
    assert "".join(texts) == chat.invoke([("user", prompt)]).text
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert usage and usage[-1]["output_tokens"] > 0


def test_given_one_throttle_when_client_retries_then_answer_arrives(double):
    server, url = double
    server.fail_next("ThrottlingException", 429)
    chat = make_bedrock_chat(HAIKU, BedrockSettings(), client=_client(url, attempts=2))

    reply = chat.invoke("hello")

    assert reply.text == "I don't know from the indexed sources."
    assert [r.action for r in server.requests] == ["converse", "converse"]


def test_given_unknown_chat_model_when_answering_then_kass_error_with_service_message(double):
    _, url = double
    chat = make_bedrock_chat("anthropic.unknown-v9:0", BedrockSettings(), client=_client(url))
    with pytest.raises(KassError, match="model identifier is invalid"):
        ChatModelAnswerer(chat, tier="haiku").answer("Q?", PASSAGES)


# -- wiring of the aws profile --------------------------------------------------------------------


def test_given_aws_profile_settings_when_runtime_builds_models_then_they_use_the_double(
    double, monkeypatch, tmp_path
):
    server, url = double
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "KASS_PROFILE": "aws",
        "KASS_CHAT_TIER": "haiku",
        "KASS_AWS_MAX_ATTEMPTS": "1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    clients.client.cache_clear()  # clients are cached per container; this one reads the env
    runtime = Runtime(load_settings())
    try:
        assert runtime.embedder.name == f"bedrock:{EMBED}@1024"
        assert runtime.embedder.embed_query("login").shape == (1024,)
        assert runtime.answerer.tier == "haiku"
        assert runtime.answerer.answer("Why?", PASSAGES).endswith("[1].")
    finally:
        runtime.close()
        clients.client.cache_clear()
    assert [r.action for r in server.requests] == ["invoke", "converse"]


def test_given_module_entry_point_when_started_then_it_serves_on_the_printed_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.doubles.bedrock_runtime", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        vector = TitanEmbedder(_client(url), model_id=EMBED, dimension=256).embed_query("hi")
        assert vector.shape == (256,)
    finally:
        process.terminate()
        process.wait(timeout=10)
