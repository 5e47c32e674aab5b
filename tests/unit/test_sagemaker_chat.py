"""SageMakerMessagesChat on a real sagemaker-runtime client.

- moto (5.2) mocks InvokeEndpoint with canned bodies queued through its
  `/moto-api/static/sagemaker/endpoint-results` API: used for plain answers and the tool round
  trip. It answers any endpoint name (no "not found") and does not implement
  InvokeEndpointWithResponseStream ("Not yet implemented").
- Stubber gives the service's errors (endpoint not found, ModelError).
- Streaming: Stubber cannot queue an event stream, so an in-process HTTP responder returns real
  event-stream bytes whose PayloadParts split SSE lines (and a UTF-8 character) mid-way.
"""

from __future__ import annotations

import io
import json

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.tools import tool
from moto import mock_aws
from tests.doubles.botocore_http import respond_with
from tests.doubles.eventstream import encode_event, encode_exception

from kass.errors import ModelUnavailable
from kass.llm.generative import ChatModelAnswerer
from kass.llm.sagemaker import SageMakerMessagesChat, sse_data
from kass.models import Chunk, SearchHit

ENDPOINT = "kass-dev-7b"
MOTO_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"


def _client():
    return boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def moto_client():
    with mock_aws():
        yield _client()


@pytest.fixture
def client():
    return _client()


def _queue(*completions: dict) -> None:
    """Queue chat.completion bodies that moto returns to the next InvokeEndpoint calls."""
    results = [{"Body": json.dumps(c), "ContentType": "application/json"} for c in completions]
    requests.post(MOTO_RESULTS, json={"results": results}, timeout=5).raise_for_status()


def _completion(content: str | None, tool_calls: list | None = None, usage=(40, 7)) -> dict:
    message: dict = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "mistral-7b-instruct",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def _streaming(raw: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(raw), len(raw))


def _sent_bodies(client, operation: str = "InvokeEndpoint") -> list[dict]:
    """Request bodies as serialized on the wire (the hook returns nothing: the call goes on)."""
    bodies: list[dict] = []
    client.meta.events.register(
        f"before-send.sagemaker-runtime.{operation}",
        lambda request, **_: bodies.append(json.loads(request.body)),
    )
    return bodies


def _chat(client, **kwargs) -> SageMakerMessagesChat:
    return SageMakerMessagesChat(
        endpoint_name=ENDPOINT, client=client, max_tokens=256, temperature=0.1, **kwargs
    )


# -- invoke_endpoint (moto) ----------------------------------------------------------------------


def test_given_completion_when_invoked_then_text_usage_and_openai_request(moto_client):
    _queue(_completion("Paris is the capital."))
    sent = _sent_bodies(moto_client)

    reply = _chat(moto_client).invoke([SystemMessage("Be brief."), HumanMessage("Capital?")])

    assert reply.text == "Paris is the capital."
    assert reply.usage_metadata == {"input_tokens": 40, "output_tokens": 7, "total_tokens": 47}
    assert reply.response_metadata["finish_reason"] == "stop"
    assert sent == [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Capital?"},
            ],
            "max_tokens": 256,
            "temperature": 0.1,
            "stream": False,
        }
    ]


@tool
def ticket_status(ticket_id: str) -> str:
    """Status of a Backlog ticket, e.g. "KASS-7"."""
    return f"{ticket_id} is closed (fixed in 2.3.1)"


def test_given_agent_with_tool_when_model_calls_it_then_result_goes_back_and_answer_returns(
    moto_client,
):
    from langchain.agents import create_agent

    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "ticket_status", "arguments": '{"ticket_id": "KASS-7"}'},
    }
    _queue(_completion(None, [call]), _completion("KASS-7 is closed, fixed in 2.3.1."))
    sent = _sent_bodies(moto_client)
    agent = create_agent(_chat(moto_client), tools=[ticket_status])

    result = agent.invoke({"messages": [HumanMessage("Is KASS-7 done?")]})

    assert result["messages"][-1].text == "KASS-7 is closed, fixed in 2.3.1."
    first, second = sent
    assert first["tools"][0]["type"] == "function"
    assert first["tools"][0]["function"]["name"] == "ticket_status"
    assert first["tools"][0]["function"]["parameters"]["properties"] == {
        "ticket_id": {"type": "string"}
    }
    assistant, tool_result = second["messages"][-2:]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"][0]["id"] == "call_1"
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {
        "ticket_id": "KASS-7"
    }
    assert tool_result == {
        "role": "tool",
        "tool_call_id": "call_1",
        "name": "ticket_status",
        "content": "KASS-7 is closed (fixed in 2.3.1)",
    }


def test_given_tgi_object_arguments_when_invoked_then_tool_call_args_parsed(moto_client):
    call = {
        "id": "0",
        "type": "function",
        "function": {"name": "ticket_status", "arguments": {"ticket_id": "KASS-9"}},
    }
    bad = {"id": "1", "type": "function", "function": {"name": "x", "arguments": "{not json"}}
    _queue(_completion("", [call, bad]))

    reply = _chat(moto_client).bind_tools([ticket_status]).invoke("KASS-9?")

    assert reply.tool_calls == [
        {"name": "ticket_status", "args": {"ticket_id": "KASS-9"}, "id": "0", "type": "tool_call"}
    ]
    assert [c["name"] for c in reply.invalid_tool_calls] == ["x"]


@pytest.mark.parametrize(
    ("choice", "sent_choice"),
    [
        ("any", "required"),
        ("auto", "auto"),
        ("ticket_status", {"type": "function", "function": {"name": "ticket_status"}}),
    ],
)
def test_given_tool_choice_when_bound_then_sent_in_openai_terms(moto_client, choice, sent_choice):
    _queue(_completion("ok"))
    sent = _sent_bodies(moto_client)

    _chat(moto_client).bind_tools([ticket_status], tool_choice=choice).invoke("hi")

    assert sent[0]["tool_choice"] == sent_choice


def test_given_non_messages_api_body_when_invoked_then_model_unavailable(moto_client):
    _queue({"generated_text": "TGI's generate API, not the Messages API"})
    with pytest.raises(ModelUnavailable, match="Messages API format"):
        _chat(moto_client).invoke("hi")


# -- errors (Stubber) ------------------------------------------------------------------------------


def test_given_missing_endpoint_when_invoked_then_model_unavailable_says_missing_or_stopped(
    client,
):
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ValidationError",
            service_message=f"Endpoint {ENDPOINT} of account 123456789012 not found.",
            http_status_code=400,
        )
        with pytest.raises(ModelUnavailable, match="missing or stopped") as caught:
            _chat(client).invoke("hi")
    assert ENDPOINT in str(caught.value) and "\n" not in str(caught.value)


def test_given_missing_endpoint_when_streamed_then_model_unavailable(client):
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint_with_response_stream",
            service_error_code="ValidationError",
            service_message=f"Could not find endpoint {ENDPOINT}.",
            http_status_code=400,
        )
        with pytest.raises(ModelUnavailable, match="missing or stopped"):
            list(_chat(client).stream("hi"))


def test_given_container_error_when_invoked_then_model_unavailable_with_its_message(client):
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ModelError",
            service_message="Received client error (422) from primary: input too long",
            http_status_code=424,
        )
        with pytest.raises(ModelUnavailable, match="input too long"):
            _chat(client).invoke("hi")


def test_given_answerer_on_stopped_endpoint_when_answering_then_model_unavailable(client):
    chunk = Chunk(id="c", doc_id="d", position=0, text="Some text.", source="file")
    answerer = ChatModelAnswerer(_chat(client), tier="sagemaker")
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ValidationError",
            service_message=f"Endpoint {ENDPOINT} of account 123456789012 not found.",
            http_status_code=400,
        )
        with pytest.raises(ModelUnavailable, match="scheduled off outside office hours"):
            answerer.answer("What?", [SearchHit(chunk=chunk, score=1.0)])


def test_given_inference_component_when_invoked_then_it_is_named_in_the_call(client):
    completion = json.dumps(_completion("ok")).encode()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": _streaming(completion), "ContentType": "application/json"},
            {
                "EndpointName": ENDPOINT,
                "Body": ANY,
                "ContentType": "application/json",
                "InferenceComponentName": "kass-7b-ic",
            },
        )
        reply = _chat(client, inference_component="kass-7b-ic").invoke("hi")
    assert reply.text == "ok"


def test_given_model_when_serialized_then_client_is_left_out(client):
    dumped = _chat(client).model_dump()
    assert "client" not in dumped
    assert dumped["endpoint_name"] == ENDPOINT


# -- streaming (real event-stream bytes) ----------------------------------------------------


def _sse(chunk: dict | str) -> bytes:
    data = chunk if isinstance(chunk, str) else json.dumps(chunk, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def _delta(delta: dict, finish: str | None = None) -> dict:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _stream_response(sse: bytes, cuts: list[int]) -> bytes:
    """Event-stream bytes: PayloadPart events holding `sse` cut at the given byte offsets."""
    bounds = [0, *cuts, len(sse)]
    parts = [sse[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return b"".join(encode_event("PayloadPart", p, "application/octet-stream") for p in parts)


def _serve_stream(client, body: bytes) -> list:
    headers = {
        "Content-Type": "application/vnd.amazon.eventstream",
        "X-Amzn-SageMaker-Content-Type": "text/event-stream",
    }
    return respond_with(client, "InvokeEndpointWithResponseStream", lambda _: (200, headers, body))


def test_given_parts_split_mid_line_when_streamed_then_tokens_arrive_in_order(client):
    pieces = ["ログイン", "は 2.3 ", "で", "壊れました", " [1]。"]
    sse = b"".join(
        [
            _sse(_delta({"role": "assistant", "content": ""})),
            *(_sse(_delta({"content": p})) for p in pieces),
            _sse(_delta({}, "stop")),
            _sse(
                {
                    "object": "chat.completion.chunk",
                    "choices": [],
                    "usage": {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36},
                }
            ),
            _sse("[DONE]"),
        ]
    )
    first_kana = sse.index("ロ".encode())
    # Cut inside a JSON line, inside a UTF-8 character, and right after "data:".
    cuts = [10, first_kana + 1, sse.index(b"data:", first_kana) + 5, len(sse) - 3]
    requests_seen = _serve_stream(client, _stream_response(sse, sorted(cuts)))

    chunks = list(_chat(client).stream("ログインはなぜ壊れた？"))

    texts = [c.text for c in chunks if c.text]
    assert texts == pieces
    total = sum(chunks[1:], chunks[0])
    assert isinstance(total, AIMessageChunk)
    assert total.text == "".join(pieces)
    assert total.usage_metadata == {"input_tokens": 30, "output_tokens": 6, "total_tokens": 36}
    body = json.loads(requests_seen[0].body)
    assert body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "ログインはなぜ壊れた？"}]


def test_given_streamed_tool_call_when_aggregated_then_tool_call_has_parsed_args(client):
    sse = b"".join(
        [
            _sse(
                _delta(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_9",
                                "type": "function",
                                "function": {"name": "ticket_status", "arguments": ""},
                            }
                        ],
                    }
                )
            ),
            _sse(_delta({"tool_calls": [{"index": 0, "function": {"arguments": '{"ticket_'}}]})),
            _sse(_delta({"tool_calls": [{"index": 0, "function": {"arguments": 'id": "K-1"}'}}]})),
            _sse(_delta({}, "tool_calls")),
            _sse("[DONE]"),
        ]
    )
    _serve_stream(client, _stream_response(sse, [7, 100, 101]))

    chunks = list(_chat(client).bind_tools([ticket_status]).stream("K-1?"))

    total = sum(chunks[1:], chunks[0])
    assert total.tool_calls == [
        {"name": "ticket_status", "args": {"ticket_id": "K-1"}, "id": "call_9", "type": "tool_call"}
    ]


def test_given_stream_error_event_mid_answer_when_streamed_then_model_unavailable(client):
    body = _stream_response(_sse(_delta({"content": "Half"})), []) + encode_exception(
        "ModelStreamError", {"Message": "StreamBroken", "ErrorCode": "StreamBroken"}
    )
    _serve_stream(client, body)

    received: list[str] = []
    with pytest.raises(ModelUnavailable, match="ModelStreamError"):
        for chunk in _chat(client).stream("hi"):
            received.append(chunk.text)
    assert received == ["Half"]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([b'data: {"a"', b": 1}\n\ndata: [DONE]\n\n"], ['{"a": 1}', "[DONE]"]),
        ([b'{"token": 1}\n{"tok', b'en": 2}'], ['{"token": 1}', '{"token": 2}']),
        ([b": keep-alive\n", b"event: x\ndata:{}\r\n"], ["{}"]),
    ],
)
def test_given_payload_parts_when_sse_read_then_data_lines_reassembled(parts, expected):
    assert list(sse_data({"PayloadPart": {"Bytes": p}} for p in parts)) == expected
