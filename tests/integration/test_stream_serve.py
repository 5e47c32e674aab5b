"""Streaming over WebSocket through `kass serve`: a real uvicorn server, the real stream_handler
and orchestrator, a real WebSocket client (`websockets`), the OpenAI API double as the model.

The frames reach the client the way they would on AWS: the handler's boto3 management API
client posts them to the server's own `/@connections/{id}` (KASS_STREAM_MANAGEMENT_URL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lambda_harness import ingest_samples
from test_serve import serving, wait_for
from tests.doubles.openai_api import MODEL, start_openai_double
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from kass.serve.app import create_app
from kass.serve.functions import LocalFunctions
from kass.serve.websocket import WebSocketGateway

pytestmark = pytest.mark.timeout(180)

QUESTION = "What is the API rate limit for free plans?"


@pytest.fixture(scope="module")
def model():
    server, url = start_openai_double()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory, model) -> Iterator[str]:
    """`kass serve`'s app (REST + WebSocket) on a free port, over an ingested sample workspace."""
    home = tmp_path_factory.mktemp("stream-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home)
        for name, value in {
            "KASS_HOME": str(home),
            "KASS_OPENAI_BASE_URL": model.url,
            "KASS_OPENAI_MODEL": MODEL,
            "KASS_OPENAI_MAX_RETRIES": "0",
            "KASS_CHAT_CACHE_TTL_SECONDS": "0",
            "KASS_LOCAL_BACKLOG_PROJECTS": "APP",
            "POWERTOOLS_METRICS_NAMESPACE": "kass-test",
        }.items():
            patch.setenv(name, value)
        ingest_samples()
        functions = LocalFunctions()
        app = create_app(functions, extra_routes=WebSocketGateway(functions).routes)
        with serving(app) as url:
            # What `kass serve` does: the functions post frames to this server.
            patch.setenv("KASS_STREAM_MANAGEMENT_URL", url)
            yield url


@pytest.fixture()
def ws(served) -> Iterator[ClientConnection]:
    with connect(ws_url(served), open_timeout=60) as connection:
        yield connection


@pytest.fixture(autouse=True)
def _fresh_model(model):
    model.reset()


def ws_url(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http") + "/stream"


def receive(connection: ClientConnection) -> dict[str, Any]:
    return json.loads(connection.recv(timeout=60))


def turn(connection: ClientConnection, frame: dict[str, Any]) -> list[dict[str, Any]]:
    """Send a frame; the frames answering it, up to and including `done` or `error`."""
    connection.send(json.dumps(frame))
    frames = [receive(connection)]
    while frames[-1]["type"] not in ("done", "error", "pong"):
        frames.append(receive(connection))
    return frames


def test_given_a_question_when_streamed_then_deltas_then_done_equal_to_post_chat(served, ws):
    frames = turn(ws, {"action": "chat", "request_id": "c1", "message": QUESTION})
    with httpx.Client(base_url=served, timeout=60) as http:
        rest = http.post("/chat", json={"message": QUESTION})

    *deltas, done = frames
    assert done["type"] == "done" and done["request_id"] == "c1"
    assert deltas and all(f["type"] == "delta" and f["request_id"] == "c1" for f in deltas)
    streamed = "".join(f["text"] for f in deltas)
    response = done["response"]
    assert response["tier"] == "openai" and response["found"] and "[1]" in streamed
    assert response["text"] == streamed.strip()
    assert rest.status_code == 200
    expected = rest.json()
    for key in ("conversation_id", "message_id"):  # a new conversation each
        expected.pop(key), response.pop(key)
    assert response == expected


def test_given_a_streamed_turn_when_the_conversation_is_read_then_it_is_stored_once(served, ws):
    [*_, done] = turn(ws, {"action": "chat", "message": QUESTION})
    conversation_id = done["response"]["conversation_id"]

    follow = turn(
        ws, {"action": "chat", "message": "And for paid plans?", "conversation_id": conversation_id}
    )
    with httpx.Client(base_url=served, timeout=60) as http:
        stored = http.get(f"/conversations/{conversation_id}").json()["messages"]

    assert follow[-1]["type"] == "done" and follow[-1]["request_id"] is None
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[1]["id"] == done["response"]["message_id"]


def test_given_a_ping_when_sent_then_pong(ws):
    ws.send(json.dumps({"action": "ping"}))
    assert receive(ws) == {"type": "pong", "request_id": None}


@pytest.mark.parametrize(
    ("frame", "status", "error", "request_id", "names"),
    [
        ("{not json", 400, "invalid_json", None, "JSON"),
        ('["chat"]', 422, "invalid_request", None, "object"),
        (json.dumps({"action": "shout", "request_id": "u1"}), 400, "invalid_input", "u1", "shout"),
        (
            json.dumps({"action": "chat", "request_id": "w1"}),
            422,
            "invalid_request",
            "w1",
            "message",
        ),
        (
            json.dumps({"action": "chat", "request_id": "w2", "message": "hi", "tone": "calm"}),
            422,
            "invalid_request",
            "w2",
            "tone",
        ),
        (json.dumps({"action": "chat", "message": "x" * 40_000}), 413, "too_large", None, "32768"),
    ],
    ids=["not-json", "not-object", "unknown-action", "missing-field", "extra-field", "oversize"],
)
def test_given_a_bad_frame_when_sent_then_one_error_frame_and_the_connection_stays(
    ws, frame, status, error, request_id, names
):
    ws.send(frame)
    reply = receive(ws)
    ws.send(json.dumps({"action": "ping", "request_id": "after"}))

    assert reply["type"] == "error"
    assert (reply["status"], reply["error"], reply["request_id"]) == (status, error, request_id)
    assert names in reply["message"] and "\n" not in reply["message"]
    assert receive(ws) == {"type": "pong", "request_id": "after"}


def test_given_a_ticket_command_when_streamed_then_done_with_the_proposed_action(ws):
    frames = turn(ws, {"action": "chat", "request_id": "t1", "message": "/ticket APP Login fails"})

    done = frames[-1]
    assert done["type"] == "done", frames
    [action] = done["response"]["actions"]
    assert action["kind"] == "create_backlog_issue" and action["status"] == "proposed"
    assert all(f["type"] == "delta" for f in frames[:-1])


def test_given_the_client_leaves_mid_stream_when_the_turn_ends_then_it_is_stored_once(
    served, model
):
    question = "Which deploy caused the 503 errors on shift edits?"
    model.reply_next(" ".join(["The June 3 deploy caused them [1]."] * 200))
    with connect(ws_url(served), open_timeout=60) as connection:
        connection.send(json.dumps({"action": "chat", "message": question}))
        first = receive(connection)
    # The handler finishes the turn after the client left (its posts are answered 410).

    def stored_turn() -> list[dict[str, Any]] | None:
        with httpx.Client(base_url=served, timeout=60) as http:
            listed = http.get("/conversations").json()["conversations"]
            [*mine] = [c for c in listed if c["title"] == question]
            if not mine:
                return None
            messages = http.get(f"/conversations/{mine[0]['conversation_id']}").json()
            return messages["messages"] if len(messages["messages"]) >= 2 else None

    messages = wait_for(stored_turn, timeout=120)
    with httpx.Client(base_url=served, timeout=60) as http:
        listed = http.get("/conversations").json()["conversations"]

    assert first["type"] == "delta"
    assert [c["title"] for c in listed].count(question) == 1
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["text"].startswith("The June 3 deploy caused them")


# -- the gateway itself, with a small function of its own ---------------------------------------
@pytest.fixture()
def echo_gateway(monkeypatch) -> Iterator[str]:
    from test_serve import HANDLERS

    functions = LocalFunctions({"stream_handler": HANDLERS / "stream_echo_handler.py"})
    app = create_app(functions, routes=(), extra_routes=WebSocketGateway(functions).routes)
    with serving(app) as url:
        monkeypatch.setenv("KASS_STREAM_MANAGEMENT_URL", url)
        yield url


def test_given_a_connect_the_function_refuses_when_connecting_then_http_403(echo_gateway):
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(ws_url(echo_gateway) + "?refuse=1", open_timeout=30),
    ):
        pass

    assert refused.value.response.status_code == 403


def test_given_a_message_when_sent_then_the_function_answers_through_the_management_api(
    echo_gateway,
):
    with connect(ws_url(echo_gateway), open_timeout=30) as connection:
        connection.send("hello")
        echoed = receive(connection)
        connection.send("get")
        described = receive(connection)
        connection.send("boom")
        failed = receive(connection)

    assert echoed["routeKey"] == "$default" and echoed["body"] == "hello"
    assert described["sourceIp"] == "127.0.0.1"
    assert failed["message"] == "Internal server error" and failed["connectionId"]


def test_given_a_delete_from_the_function_when_done_then_the_client_is_closed(echo_gateway):
    from websockets.exceptions import ConnectionClosed

    with connect(ws_url(echo_gateway), open_timeout=30) as connection:
        connection.send("delete")
        with pytest.raises(ConnectionClosed):
            connection.recv(timeout=30)


def test_given_a_message_over_128_kb_when_sent_then_closed_with_1009(echo_gateway):
    from websockets.exceptions import ConnectionClosed

    with connect(ws_url(echo_gateway), open_timeout=30, max_size=None) as connection:
        connection.send("x" * (128 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=30)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_given_a_closed_connection_when_posted_to_then_410_gone(echo_gateway):
    with connect(ws_url(echo_gateway), open_timeout=30):
        pass

    response = httpx.post(f"{echo_gateway}/@connections/nobody=", content=b"{}")

    assert response.status_code == 410
    assert response.headers["x-amzn-errortype"] == "GoneException"
