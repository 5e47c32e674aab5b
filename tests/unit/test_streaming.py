"""Streaming answers: a chat model's chunks through ChatModelAnswerer, the ask use case's
restart when a tier fails after it streamed, the delta batching, and the frame protocol."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from kass.api.http import caller_id_of, key_principal
from kass.api.schemas import ChatResponse, TurnUsage
from kass.chat.ask import ask
from kass.chat.router import EXTRACTIVE, OPENAI, ModelRouter, Policy
from kass.errors import InvalidInput, KassError, ModelUnavailable, NotFound, SourceError
from kass.llm.generative import ChatModelAnswerer
from kass.models import Chunk, SearchHit
from kass.settings import AnswerSettings
from kass.stream.coalesce import CoalescingStream
from kass.stream.protocol import (
    MAX_FRAME_BYTES,
    ChatFrame,
    FrameError,
    PingFrame,
    done_frame,
    parse_client_frame,
    product_error_frame,
)

PASSAGES = [
    SearchHit(
        chunk=Chunk(
            id="c1", doc_id="d1", position=0, text="Deploys freeze on Fridays.", source="slack"
        ),
        score=1.0,
    )
]


class StreamingModel(BaseChatModel):
    """Streams `pieces` as chunks (usage on the last), raising `fail_after` chunks if set."""

    pieces: list[str]
    usage: dict[str, int] = {"input_tokens": 11, "output_tokens": 4, "total_tokens": 15}
    fail_after: int | None = None
    _streams: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "streaming-test-model"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, **kwargs: Any) -> ChatResult:
        message = AIMessage("".join(self.pieces), usage_metadata=self.usage)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        self._streams += 1
        for i, piece in enumerate(self.pieces):
            if self.fail_after is not None and i == self.fail_after:
                raise ModelUnavailable("the model went away mid-answer")
            last = i == len(self.pieces) - 1
            usage = self.usage if last else None
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece, usage_metadata=usage))  # type: ignore[arg-type]


class Recorded:
    """An AnswerStream that remembers what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def delta(self, text: str) -> None:
        self.events.append(("delta", text))

    def restart(self, tier: str) -> None:
        self.events.append(("restart", tier))


class PlainAnswerer:
    def __init__(self, tier: str, text: str) -> None:
        self.tier, self.text = tier, text

    def answer(self, question: str, passages: Sequence[SearchHit]) -> str:
        return self.text


class FixedSearcher:
    def search(self, question: str, **kwargs: Any) -> list[SearchHit]:
        return PASSAGES


LOCAL = Policy(available=frozenset({OPENAI, EXTRACTIVE}), private=frozenset({EXTRACTIVE}))


def _ask(router: ModelRouter, stream: Recorded | None):
    return ask(
        "When do deploys freeze?",
        searcher=FixedSearcher(),  # type: ignore[arg-type]
        answerer=router,
        settings=AnswerSettings(),
        stream=stream,
    )


def _router(model: StreamingModel, fallback: str = "Deploys freeze on Fridays [1].") -> ModelRouter:
    answerers = {
        OPENAI: ChatModelAnswerer(model, tier=OPENAI, model_id="m"),
        EXTRACTIVE: PlainAnswerer(EXTRACTIVE, fallback),
    }
    return ModelRouter(LOCAL, lambda tier, _confidential: answerers[tier])


# -- the answerer and the ask use case ------------------------------------------------------------
def test_given_a_stream_when_a_model_answers_then_its_chunks_arrive_in_order_with_the_usage_kept():
    model = StreamingModel(pieces=["Deploys ", "freeze on ", "Fridays [1]."])
    stream = Recorded()

    reply = ChatModelAnswerer(model, tier=OPENAI, model_id="m").reply("When?", PASSAGES, stream)

    assert stream.events == [
        ("delta", "Deploys "),
        ("delta", "freeze on "),
        ("delta", "Fridays [1]."),
    ]
    assert reply.text == "Deploys freeze on Fridays [1]."
    assert (reply.input_tokens, reply.output_tokens, reply.model_id) == (11, 4, "m")


def test_given_no_stream_when_asked_then_the_answer_is_the_same_as_streamed():
    model = StreamingModel(pieces=["Deploys ", "freeze on ", "Fridays [1]."])

    plain = _ask(_router(model), None)
    streamed = _ask(_router(model), Recorded())

    assert plain == streamed
    assert plain.tier == OPENAI and plain.found and plain.output_tokens == 4


def test_given_a_tier_failing_after_it_streamed_when_asked_then_restart_and_the_next_tier_streams():
    model = StreamingModel(pieces=["Deploys ", "freeze ", "never"], fail_after=2)
    stream = Recorded()

    answer = _ask(_router(model, fallback="Deploys freeze on Fridays [1]."), stream)

    assert stream.events == [
        ("delta", "Deploys "),
        ("delta", "freeze "),
        ("restart", EXTRACTIVE),
        ("delta", "Deploys freeze on Fridays [1]."),
    ]
    assert (answer.tier, answer.fallbacks) == (EXTRACTIVE, [OPENAI])
    assert answer.text == "Deploys freeze on Fridays [1]." and answer.citations


def test_given_a_tier_failing_before_it_streamed_when_asked_then_no_restart():
    model = StreamingModel(pieces=["never"], fail_after=0)
    stream = Recorded()

    _ask(_router(model), stream)

    assert [kind for kind, _ in stream.events] == ["delta"]


def test_given_nothing_relevant_when_streamed_then_the_refusal_is_one_delta():
    class Empty:
        def search(self, question: str, **kwargs: Any) -> list[SearchHit]:
            return []

    stream = Recorded()
    answer = ask(
        "When?",
        searcher=Empty(),  # type: ignore[arg-type]
        answerer=_router(StreamingModel(pieces=["x"])),
        settings=AnswerSettings(),
        stream=stream,
    )

    assert stream.events == [("delta", answer.text)] and not answer.found


# -- batching deltas into frames --------------------------------------------------------------
class Sent:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.gone = False

    def send(self, frame: Any) -> bool:
        self.frames.append(dict(frame))
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_given_many_deltas_when_coalesced_then_first_at_once_then_one_frame_per_interval():
    sent, clock = Sent(), Clock()
    stream = CoalescingStream(sent, "r1", interval_seconds=0.08, clock=clock)

    stream.delta("a")  # first: at once
    clock.now += 0.03
    stream.delta("b")
    clock.now += 0.03
    stream.delta("c")  # 60 ms since the last frame: held
    clock.now += 0.03
    stream.delta("d")  # 90 ms: "bcd" goes
    stream.delta("e")
    stream.flush()

    assert sent.frames == [
        {"type": "delta", "request_id": "r1", "text": "a"},
        {"type": "delta", "request_id": "r1", "text": "bcd"},
        {"type": "delta", "request_id": "r1", "text": "e"},
    ]
    assert stream.frames == 3


def test_given_held_text_when_a_restart_comes_then_it_is_dropped_and_the_next_delta_goes_at_once():
    sent, clock = Sent(), Clock()
    stream = CoalescingStream(sent, None, interval_seconds=0.08, clock=clock)

    stream.delta("bad ")
    stream.delta("held")
    stream.restart("extractive")
    stream.delta("good")
    stream.flush()

    assert [(f["type"], f.get("text") or f.get("tier")) for f in sent.frames] == [
        ("delta", "bad "),
        ("restart", "extractive"),
        ("delta", "good"),
    ]


# -- the frame protocol -----------------------------------------------------------------------
def test_given_valid_frames_when_parsed_then_chat_and_ping():
    chat = parse_client_frame(
        '{"action":"chat","request_id":"c1","message":"hi","conversation_id":null,'
        '"filters":{"source":"slack"},"confidential":true}'
    )
    ping = parse_client_frame(b'{"action":"ping"}')

    assert isinstance(chat, ChatFrame) and chat.request_id == "c1"
    request = chat.chat_request()
    assert (request.message, request.filters, request.confidential) == (
        "hi",
        {"source": "slack"},
        True,
    )
    assert isinstance(ping, PingFrame) and ping.request_id is None


@pytest.mark.parametrize(
    ("body", "status", "error", "request_id", "mentions"),
    [
        (None, 400, "invalid_json", None, "JSON"),
        ("", 400, "invalid_json", None, "JSON"),
        ("{", 400, "invalid_json", None, "JSON"),
        ("42", 422, "invalid_request", None, "object"),
        ('{"request_id":"q"}', 400, "invalid_input", "q", "None"),
        ('{"action":"CHAT","request_id":"q"}', 400, "invalid_input", "q", "'CHAT'"),
        (
            '{"action":"chat","request_id":"q"}',
            422,
            "invalid_request",
            "q",
            "message: Field required",
        ),
        ('{"action":"chat","message":""}', 422, "invalid_request", None, "message:"),
        (
            '{"action":"chat","message":"hi","confidential":"maybe"}',
            422,
            "invalid_request",
            None,
            "confidential:",
        ),
        ('{"action":"ping","extra":1}', 422, "invalid_request", None, "extra:"),
        (
            json.dumps({"action": "ping", "request_id": "x" * 65}),
            422,
            "invalid_request",
            None,
            "request_id:",
        ),
        (
            json.dumps({"action": "chat", "message": "é" * (MAX_FRAME_BYTES // 2)}),
            413,
            "too_large",
            None,
            "bytes",
        ),
    ],
)
def test_given_a_bad_frame_when_parsed_then_the_error_frame_names_the_problem(
    body, status, error, request_id, mentions
):
    with pytest.raises(FrameError) as raised:
        parse_client_frame(body)

    frame = raised.value.frame
    assert frame["type"] == "error"
    assert (frame["status"], frame["error"], frame["request_id"]) == (status, error, request_id)
    assert mentions in frame["message"]


def test_given_a_frame_of_exactly_the_limit_when_parsed_then_accepted():
    padding = MAX_FRAME_BYTES - len(json.dumps({"action": "chat", "message": ""}))
    body = json.dumps({"action": "chat", "message": "x" * padding})
    assert len(body.encode()) == MAX_FRAME_BYTES

    assert isinstance(parse_client_frame(body), ChatFrame)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput("bad"), HTTPStatus.BAD_REQUEST, "invalid_input"),
        (NotFound("gone"), HTTPStatus.NOT_FOUND, "not_found"),
        (SourceError("gitlab said no"), HTTPStatus.BAD_GATEWAY, "source_error"),
        (ModelUnavailable("throttled"), HTTPStatus.SERVICE_UNAVAILABLE, "model_unavailable"),
        (KassError("no tier"), HTTPStatus.SERVICE_UNAVAILABLE, "unavailable"),
    ],
)
def test_given_a_product_error_when_framed_then_the_rest_apis_status_and_code(error, status, code):
    frame = product_error_frame("r", error)
    assert (frame["status"], frame["error"], frame["message"]) == (status, code, str(error))


def test_given_a_response_when_done_then_it_is_the_json_of_post_chat():
    response = ChatResponse(
        conversation_id="c",
        message_id="m",
        text="t [1].",
        citations=[],
        found=True,
        tier="openai",
        route=["openai", "extractive"],
        fallbacks=[],
        cached=False,
        usage=TurnUsage(model_id="m", input_tokens=1, output_tokens=2, cost_usd=Decimal("0.00108")),
        removed_citations=0,
        actions=[],
    )

    frame = done_frame("r", response)

    assert frame["response"] == json.loads(response.model_dump_json())
    assert frame["response"]["usage"]["cost_usd"] == "0.00108"


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"authorizer": {"claims": {"sub": "jwt-sub"}, "principalId": "p"}}, "jwt-sub"),
        ({"authorizer": {"principalId": "p"}, "identity": {"apiKeyId": "k"}}, "p"),
        ({"identity": {"apiKeyId": "k"}}, "k"),
        ({"identity": {"apiKey": "s3cret", "apiKeyId": "k"}}, key_principal("s3cret")),
        ({"authorizer": None, "identity": {"apiKeyId": None}}, "anonymous"),
        ({}, "anonymous"),
    ],
)
def test_given_a_request_context_when_the_caller_is_asked_then_the_rest_apis_rule(
    context, expected
):
    assert caller_id_of(context) == expected


def test_given_one_api_key_when_used_on_rest_and_websocket_then_one_caller():
    from kass.stream.authorizer import authorize

    arn = "arn:aws:execute-api:ap-northeast-1:123456789012:abc123/dev/$connect"
    allowed = authorize(
        {"type": "REQUEST", "methodArn": arn, "queryStringParameters": {"api_key": "k1"}}
    )
    websocket = {"authorizer": {"principalId": allowed["principalId"]}}
    rest = {"identity": {"apiKey": "k1", "apiKeyId": "id-of-k1"}}

    assert (
        caller_id_of(websocket)
        == caller_id_of(rest)
        != caller_id_of({"identity": {"apiKey": "k2"}})
    )
    assert "k1" not in allowed["principalId"]
