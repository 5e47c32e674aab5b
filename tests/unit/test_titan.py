"""TitanEmbedder on a real bedrock-runtime client: Stubber (which validates the request against
the service model) for single calls, an in-process HTTP responder for the concurrent batch."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from tests.doubles.botocore_http import respond_with

from kass.adapters.aws.titan import TitanEmbedder
from kass.errors import InvalidInput, KassError, ModelUnavailable

MODEL = "amazon.titan-embed-text-v2:0"


@pytest.fixture
def client():
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _body(payload: dict) -> StreamingBody:
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def _ok(vector: list[float]) -> dict:
    return {"body": _body({"embedding": vector, "inputTextTokenCount": 3}), "contentType": "json"}


def _sent_bodies(client) -> list[dict]:
    """The InvokeModel bodies as the client serialized them."""
    bodies: list[dict] = []
    client.meta.events.register(
        "before-parameter-build.bedrock-runtime.InvokeModel",
        lambda params, **_: bodies.append(json.loads(params["body"])),
    )
    return bodies


def test_given_text_when_embedded_then_titan_v2_body_is_sent_and_vector_is_unit_float32(client):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=256)
    bodies = _sent_bodies(client)
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_model",
            _ok([3.0, 4.0] + [0.0] * 254),
            {"modelId": MODEL, "body": ANY, "contentType": "application/json", "accept": ANY},
        )
        vector = embedder.embed_query("login fails after 2.3")
        stub.assert_no_pending_responses()

    assert bodies == [{"inputText": "login fails after 2.3", "dimensions": 256, "normalize": True}]
    assert vector.dtype == np.float32 and vector.shape == (256,)
    assert vector[:2] == pytest.approx([0.6, 0.8])
    assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-6)


def test_given_wrong_length_embedding_when_embedded_then_kass_error_names_both_sizes(client):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=512)
    with Stubber(client) as stub:
        stub.add_response("invoke_model", _ok([0.1] * 256))
        with pytest.raises(KassError, match="256 dimensions, expected 512"):
            embedder.embed_query("text")


def test_given_throttling_past_retries_when_embedded_then_model_unavailable(client):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=256)
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_model", service_error_code="ThrottlingException", http_status_code=429
        )
        with pytest.raises(ModelUnavailable, match="throttling") as caught:
            embedder.embed_documents(["one"])
    assert "\n" not in str(caught.value)


def test_given_service_unavailable_when_embedded_then_model_unavailable(client):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=256)
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_model", service_error_code="ServiceUnavailableException", http_status_code=503
        )
        with pytest.raises(ModelUnavailable, match="unavailable"):
            embedder.embed_query("one")


def test_given_model_access_not_enabled_when_embedded_then_error_says_enable_it_in_console(client):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=256)
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_model",
            service_error_code="AccessDeniedException",
            service_message="You don't have access to the model with the specified model ID.",
            http_status_code=403,
        )
        with pytest.raises(ModelUnavailable, match="enable model access in the Bedrock console"):
            embedder.embed_query("one")


def test_given_empty_text_when_embedded_then_invalid_input_and_no_call(client):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=256)
    with Stubber(client) as stub:  # no response queued: any call would fail differently
        with pytest.raises(InvalidInput, match="empty"):
            embedder.embed_documents(["fine", "  \n"])
        stub.assert_no_pending_responses()


def test_given_no_texts_when_embedded_then_empty_matrix_of_the_dimension(client):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=1024)
    assert embedder.embed_documents([]).shape == (0, 1024)


def test_given_batch_when_embedded_then_calls_overlap_and_rows_keep_input_order(client):
    workers = 4
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=256, workers=workers)
    # The first `workers` calls wait for each other: a sequential implementation would break it.
    barrier = threading.Barrier(workers, timeout=10)
    calls = 0
    lock = threading.Lock()

    def handler(request):
        nonlocal calls
        with lock:
            calls += 1
            first_wave = calls <= workers
        if first_wave:
            barrier.wait()
        index = int(json.loads(request.body)["inputText"].split()[-1])
        vector = [0.0] * 256
        vector[index] = 2.0  # not unit length: the embedder normalises
        return 200, {"Content-Type": "application/json"}, json.dumps({"embedding": vector}).encode()

    respond_with(client, "InvokeModel", handler)
    texts = [f"text number {i}" for i in range(10)]

    vectors = embedder.embed_documents(texts)

    assert vectors.shape == (10, 256)
    assert [int(np.argmax(row)) for row in vectors] == list(range(10))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_given_model_and_dimension_when_named_then_both_are_in_the_name(client):
    assert TitanEmbedder(client, model_id=MODEL, dimension=1024).name == f"bedrock:{MODEL}@1024"
    assert TitanEmbedder(client, model_id=MODEL, dimension=256).name == f"bedrock:{MODEL}@256"


def test_given_unsupported_dimension_when_constructed_then_kass_error(client):
    with pytest.raises(KassError, match="300"):
        TitanEmbedder(client, model_id=MODEL, dimension=300)


@pytest.mark.parametrize(
    ("text", "at_least"),
    [
        ("Login fails after the 2.3 release", 6),  # one per word and number at least
        ("ログインに失敗しました", 11),  # one per CJK character
        ("internationalization", 5),  # a long word is several subword tokens
        ("", 0),
    ],
)
def test_given_text_when_tokens_counted_then_estimate_does_not_undercount(client, text, at_least):
    embedder = TitanEmbedder(client, model_id=MODEL, dimension=256)
    assert embedder.count_tokens(text) >= at_least
    assert embedder.max_tokens == 8192


def test_given_titan_module_when_imported_then_langchain_is_not_loaded():
    code = (
        "import sys, kass.adapters.aws.titan; "
        "print(sorted(m for m in sys.modules if m.startswith('langchain')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
