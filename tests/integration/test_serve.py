"""`kass serve`: a real uvicorn server in front of Powertools handlers, and the raw folder watcher.

The HTTP tests use a small handler of their own (serve_handlers/echo_handler.py, the same
resolver as the real functions) behind the real server on a free port; the watcher tests use
a recording document processor (serve_handlers/processor_handler.py). The last tests go
through the real handlers and the `kass serve` command.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from kass.api.routes import Route
from kass.cli import app as cli_app
from kass.models import Document
from kass.raw_keys import doc_key
from kass.serve.app import MAX_BODY_BYTES, create_app
from kass.serve.functions import LocalFunctions
from kass.serve.server import bind_socket, make_server, url_of
from kass.serve.watcher import RawFolderWatcher

HANDLERS = Path(__file__).resolve().parent / "serve_handlers"
ECHO_ROUTES = (
    Route("GET", "/items/{item_id}", "echo"),
    Route("POST", "/items", "echo"),
    Route("POST", "/echo", "echo"),
    Route("POST", "/binary", "echo"),
    Route("GET", "/boom", "echo"),
    Route("GET", "/crash", "echo"),
    Route("GET", "/malformed", "echo"),
)
FORBIDDEN = {"message": "Missing Authentication Token"}
BUCKET = "local-bucket"

pytestmark = pytest.mark.timeout(120)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until `condition()` is truthy; fail the test if it never becomes so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail("condition not met in time")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run `app` under uvicorn on 127.0.0.1, a free port, in a background thread."""
    sock = bind_socket("127.0.0.1", 0)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@pytest.fixture()
def echo_functions() -> LocalFunctions:
    return LocalFunctions({"echo": HANDLERS / "echo_handler.py"})


@pytest.fixture()
def client(echo_functions: LocalFunctions) -> Iterator[httpx.Client]:
    with (
        serving(create_app(echo_functions, routes=ECHO_ROUTES)) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        yield http


# -- HTTP: requests become proxy events -------------------------------------------------------
def test_given_a_route_with_a_path_parameter_when_requested_then_the_handler_gets_it(client):
    response = client.get("/items/abc-123")

    assert response.status_code == 200
    received = response.json()
    assert received["item_id"] == "abc-123"
    assert received["pathParameters"] == {"item_id": "abc-123"}
    assert received["resource"] == "/items/{item_id}"
    assert received["path"] == "/items/abc-123"
    assert received["stage"] == "local"
    assert received["sourceIp"] == "127.0.0.1"
    assert received["function"] == "echo"
    assert received["remainingMs"] > 0
    assert response.headers["x-amzn-requestid"] == received["requestId"]


def test_given_repeated_query_parameters_when_requested_then_multi_and_last_values_arrive(client):
    response = client.get("/items/x", params=[("tag", "a"), ("tag", "b"), ("q", "日本語 text")])

    received = response.json()
    assert received["query"] == {"tag": ["a", "b"], "q": ["日本語 text"]}
    assert received["singleQuery"] == {"tag": "b", "q": "日本語 text"}


def test_given_no_query_string_when_requested_then_the_query_fields_are_null(client):
    received = client.get("/items/x").json()

    assert received["query"] == {} and received["singleQuery"] == {}  # Powertools maps null to {}


def test_given_request_headers_when_posted_then_they_reach_the_handler_and_its_headers_return(
    client,
):
    response = client.post(
        "/echo",
        content=b'{"a": 1}',
        headers=[("X-Trace", "t-1"), ("X-Many", "one"), ("X-Many", "two")],
    )

    assert response.status_code == 201
    received = response.json()
    assert received["headers"]["x-trace"] == ["t-1"]
    assert received["headers"]["x-many"] == ["one", "two"]
    assert received["body"] == '{"a": 1}'
    assert received["isBase64Encoded"] is False
    assert response.headers["x-echo"] == "yes"
    assert response.headers.get_list("x-multi") == ["one", "two"]
    assert response.headers["content-type"] == "application/json"


def test_given_a_binary_body_when_posted_then_it_travels_base64_and_comes_back_intact(client):
    payload = bytes(range(256)) * 4  # not UTF-8

    response = client.post(
        "/binary", content=payload, headers={"Content-Type": "application/octet-stream"}
    )

    assert response.status_code == 200
    assert response.content == payload
    assert response.headers["content-type"] == "application/octet-stream"


def test_given_a_trailing_slash_when_requested_then_the_same_resource_answers(client):
    received = client.get("/items/x/").json()

    assert received["resource"] == "/items/{item_id}"
    assert received["path"] == "/items/x/"


def test_given_a_non_json_body_when_the_route_validates_then_the_handler_answers_4xx(client):
    response = client.post("/items", content=b"not json", headers={"Content-Type": "text/plain"})

    assert 400 <= response.status_code < 500
    assert isinstance(response.json(), dict)


def test_given_a_valid_body_when_the_route_validates_then_the_handler_answers(client):
    response = client.post("/items", json={"name": "widget"})

    assert response.status_code == 200
    assert response.json() == {"created": "widget"}


def test_given_one_container_when_requested_twice_then_init_ran_once(client):
    first = client.get("/items/a").json()["invocations"]
    second = client.get("/items/b").json()["invocations"]

    assert second == first + 1


# -- HTTP: API Gateway's own answers ----------------------------------------------------------
@pytest.mark.parametrize("path", ["/nowhere", "/", "/items/a/b"])
def test_given_an_unknown_resource_when_requested_then_403_missing_authentication_token(
    client, path
):
    response = client.get(path)

    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/items/a"), ("GET", "/echo")])
def test_given_a_method_the_resource_lacks_when_requested_then_403_like_api_gateway(
    client, method, path
):
    response = client.request(method, path)

    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_given_a_body_over_10_mb_when_posted_then_413_json(client):
    response = client.post("/echo", content=b"x" * (MAX_BODY_BYTES + 1))

    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"}


def test_given_a_chunked_body_over_10_mb_when_posted_then_413_json(client):
    def chunks() -> Iterator[bytes]:
        for _ in range(11):
            yield b"x" * (1024 * 1024)

    response = client.post("/echo", content=chunks())

    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"}


def test_given_a_body_of_exactly_10_mb_when_posted_then_the_handler_gets_it(client):
    response = client.post("/echo", content=b"x" * MAX_BODY_BYTES)

    assert response.status_code == 201
    assert len(response.json()["body"]) == MAX_BODY_BYTES


@pytest.mark.parametrize("path", ["/boom", "/crash"])  # a route raises; the handler raises
def test_given_a_function_error_when_requested_then_502_json_without_details(client, caplog, path):
    response = client.get(path)

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert response.headers["x-amzn-errortype"] == "InternalServerErrorException"
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert any("function echo failed" in r.getMessage() for r in caplog.records)


def test_given_a_malformed_proxy_result_when_requested_then_502_json(client):
    response = client.get("/malformed")

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_given_a_handler_whose_init_fails_when_requested_then_502_json(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise ImportError('missing dependency')\n")
    functions = LocalFunctions({"broken": broken})
    routes = (Route("GET", "/health", "broken"),)

    with serving(create_app(functions, routes=routes)) as url:
        response = httpx.get(f"{url}/health", timeout=30)

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_given_a_route_naming_an_unknown_function_when_the_app_is_built_then_value_error(
    echo_functions,
):
    with pytest.raises(ValueError, match="unknown 'nobody'"):
        create_app(echo_functions, routes=(Route("GET", "/x", "nobody"),))


# -- the watcher: S3 → EventBridge → SQS → document_processor ---------------------------------
@pytest.fixture()
def processor() -> LocalFunctions:
    return LocalFunctions({"document_processor": HANDLERS / "processor_handler.py"})


def received(functions: LocalFunctions) -> list[dict[str, Any]]:
    return functions["document_processor"].module.received


def make_watcher(home: Path, functions: LocalFunctions, **options: Any) -> RawFolderWatcher:
    return RawFolderWatcher(home, functions["document_processor"].invoke, bucket=BUCKET, **options)


def write_doc(home: Path, key: str, text: str = '{"id": "x"}') -> Path:
    path = home / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_given_documents_on_disk_when_the_watcher_reconciles_then_each_is_created(
    tmp_path, processor
):
    write_doc(tmp_path, "raw/slack/a.json", "alpha")
    write_doc(tmp_path, "raw/gitlab/b%2Fc.json", "beta!")

    make_watcher(tmp_path, processor).reconcile()

    got = sorted(received(processor), key=lambda r: r["key"])
    assert [(r["detail_type"], r["key"], r["bucket"]) for r in got] == [
        ("Object Created", "raw/gitlab/b%2Fc.json", BUCKET),
        ("Object Created", "raw/slack/a.json", BUCKET),
    ]
    assert got[1]["size"] == len("alpha")
    assert got[1]["etag"] == "2c1743a391305fbf367df8e4f069f9f9"  # MD5 of "alpha", as S3's ETag


def test_given_a_changed_and_a_deleted_file_when_noticed_then_created_and_deleted_arrive(
    tmp_path, processor
):
    kept = write_doc(tmp_path, "raw/slack/kept.json")
    gone = write_doc(tmp_path, "raw/slack/gone.json")
    watcher = make_watcher(tmp_path, processor)
    watcher.reconcile()
    received(processor).clear()

    kept.write_text('{"id": "edited"}', encoding="utf-8")
    gone.unlink()
    watcher.notice([kept, gone])
    watcher.flush()

    assert sorted((r["detail_type"], r["key"]) for r in received(processor)) == [
        ("Object Created", "raw/slack/kept.json"),
        ("Object Deleted", "raw/slack/gone.json"),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "raw/slack/.tmpab12.tmp",  # the local store's temporary file
        "raw/slack/.x9.tmp",
        "raw/slack/.#doc.json",  # emacs lock
        "raw/slack/#doc.json#",  # emacs autosave
        "raw/slack/.doc.json.swp",  # vim swap
        "raw/slack/doc.json~",  # backup
        "raw/slack/notes.txt",
        "raw/slack/deeper/doc.json",  # not raw/<source>/<name>.json
        "raw/top.json",
    ],
)
def test_given_a_temporary_or_editor_file_when_noticed_then_nothing_is_delivered(
    tmp_path, processor, name
):
    path = write_doc(tmp_path, name)
    watcher = make_watcher(tmp_path, processor)

    watcher.reconcile()
    watcher.notice([path])
    watcher.flush()

    assert received(processor) == []


def test_given_a_record_that_keeps_failing_when_scanned_then_three_receives_then_the_dlq(
    tmp_path, processor
):
    write_doc(tmp_path, "raw/slack/will-fail.json")
    write_doc(tmp_path, "raw/slack/fine.json")
    watcher = make_watcher(tmp_path, processor)

    watcher.reconcile()  # first receive
    watcher.flush()  # second
    watcher.flush()  # third, then the DLQ
    watcher.flush()  # nothing left

    failing = [r for r in received(processor) if r["key"] == "raw/slack/will-fail.json"]
    assert [r["receive_count"] for r in failing] == [1, 2, 3]
    assert len({r["message_id"] for r in failing}) == 1  # the same message, received again
    assert [r["key"] for r in received(processor)].count("raw/slack/fine.json") == 1
    lines = (tmp_path / "dlq" / "document_processor.jsonl").read_text().splitlines()
    assert len(lines) == 1
    dead = json.loads(lines[0])
    assert dead["key"] == "raw/slack/will-fail.json"
    assert dead["record"]["attributes"]["ApproximateReceiveCount"] == "3"
    assert json.loads(dead["record"]["body"])["detail"]["object"]["key"] == dead["key"]
    assert watcher.pending == 0


def test_given_a_function_error_when_delivered_then_the_whole_batch_is_received_again(
    tmp_path, processor
):
    write_doc(tmp_path, "raw/slack/a.json")
    write_doc(tmp_path, "raw/slack/b.json")
    watcher = make_watcher(tmp_path, processor)
    processor["document_processor"].module.crash_next = True

    watcher.reconcile()  # the function fails: nothing recorded, both messages return
    assert received(processor) == [] and watcher.pending == 2
    watcher.flush()

    assert sorted((r["key"], r["receive_count"]) for r in received(processor)) == [
        ("raw/slack/a.json", 2),
        ("raw/slack/b.json", 2),
    ]


def test_given_many_changes_when_flushed_then_batches_hold_at_most_ten_records(tmp_path, processor):
    for n in range(23):
        write_doc(tmp_path, f"raw/slack/doc-{n:02}.json")

    make_watcher(tmp_path, processor).reconcile()

    assert processor["document_processor"].module.batches == [10, 10, 3]
    assert len(received(processor)) == 23


def test_given_a_file_deleted_while_stopped_when_restarted_then_object_deleted_arrives(
    tmp_path, processor
):
    doc = write_doc(tmp_path, "raw/slack/old.json")
    make_watcher(tmp_path, processor).reconcile()
    doc.unlink()
    received(processor).clear()

    make_watcher(tmp_path, processor).reconcile()  # a new run of the server

    assert [(r["detail_type"], r["key"]) for r in received(processor)] == [
        ("Object Deleted", "raw/slack/old.json")
    ]


def test_given_the_server_running_when_files_change_then_the_processor_receives_them(
    tmp_path, processor, echo_functions
):
    write_doc(tmp_path, "raw/slack/before.json")
    watcher = make_watcher(tmp_path, processor, interval=0.1, force_polling=True)
    app = create_app(processor, routes=(), watcher=watcher)

    with serving(app):
        wait_for(lambda: any(r["key"] == "raw/slack/before.json" for r in received(processor)))
        after = write_doc(tmp_path, "raw/slack/after.json")
        wait_for(lambda: any(r["key"] == "raw/slack/after.json" for r in received(processor)))
        after.unlink()
        wait_for(lambda: any(r["detail_type"] == "Object Deleted" for r in received(processor)))

    assert {(r["detail_type"], r["key"]) for r in received(processor)} == {
        ("Object Created", "raw/slack/before.json"),
        ("Object Created", "raw/slack/after.json"),
        ("Object Deleted", "raw/slack/after.json"),
    }


# -- the command ------------------------------------------------------------------------------
def test_given_the_port_in_use_when_serving_then_one_line_error_and_exit_code_2(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("KASS_HOME", str(tmp_path))
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["serve", "--host", "127.0.0.1", "--port", str(port)])

    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- the real handlers ------------------------------------------------------------------------
DOC = Document(
    id="C024BE91L-1731900000.000100",
    source="slack",
    title="#ops: deploy freeze",
    text="Deploys are frozen until the ballast migration finishes on Friday.",
    url="https://example.slack.com/archives/C024BE91L/p1731900000000100",
    metadata={"channel": "ops"},
)


@pytest.fixture()
def local_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KASS_HOME", str(tmp_path))
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "kass-test")
    return tmp_path


def test_given_the_real_handlers_when_a_document_lands_then_it_is_searchable_over_http(
    local_home,
):
    from kass.adapters.local.raw_store import FolderRawDocumentStore

    store = FolderRawDocumentStore(local_home)
    store.put(DOC)
    functions = LocalFunctions()
    watcher = RawFolderWatcher(
        local_home, functions["document_processor"].invoke, bucket=store.location
    )

    watcher.reconcile()  # the real processor indexes it
    with (
        serving(create_app(functions)) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        health = http.get("/health")
        found = http.post("/search", json={"query": "ballast migration", "k": 1})
        bad = http.post("/search", content=b"{not json")

    assert watcher.pending == 0
    assert not (local_home / "dlq").exists()
    assert health.status_code == 200 and health.json()["profile"] == "local"
    assert found.status_code == 200
    assert found.json()["results"][0]["doc_id"] == DOC.id
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_json"
    assert doc_key(DOC.source, DOC.id) in json.loads(
        (local_home / "serve/raw-keys.json").read_text()
    )


def test_given_a_loaded_search_when_a_new_document_is_indexed_then_dense_search_finds_it(
    local_home,
):
    from kass.adapters.local.raw_store import FolderRawDocumentStore

    store = FolderRawDocumentStore(local_home)
    store.put(DOC)
    functions = LocalFunctions()
    watcher = RawFolderWatcher(
        local_home, functions["document_processor"].invoke, bucket=store.location
    )
    watcher.reconcile()
    query = {"query": "penguins on the antarctic ice", "k": 1, "mode": "dense"}
    with (
        serving(create_app(functions)) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        http.post("/search", json=query)  # the search function loads the index now
        later = DOC.model_copy(update={"id": "penguins", "text": "Penguins waddle on the ice."})
        store.put(later)
        watcher.notice([local_home / doc_key(later.source, later.id)])
        watcher.flush()
        found = http.post("/search", json=query)

    assert found.json()["results"][0]["doc_id"] == "penguins"


def test_given_kass_serve_when_started_then_it_prints_the_url_and_serves_health(local_home):
    env = {**os.environ, "KASS_SERVE_PORT": "0", "KASS_HOME": str(local_home)}
    kass = Path(sys.executable).parent / "kass"  # the installed console script
    process = subprocess.Popen(
        [str(kass), "serve", "--no-watch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split("listening on ", 1)[1].split()[0]
        routes = [process.stdout.readline() for _ in range(6)]
        response = httpx.get(f"{url}/health", timeout=60)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)

    assert url.startswith("http://127.0.0.1:")
    assert any("/chat" in line and "orchestrator" in line for line in routes)
    assert response.status_code == 200
    assert response.json()["profile"] == "local"


def test_given_kass_serve_when_discord_posts_a_signed_ping_then_pong_and_a_tampered_one_401(
    local_home, monkeypatch
):
    from nacl.signing import SigningKey

    key = SigningKey.generate()
    monkeypatch.setenv("KASS_DISCORD_PUBLIC_KEY", key.verify_key.encode().hex())
    ping = {"id": "1250000000000000001", "application_id": "1240000000000000000", "type": 1}
    body = json.dumps({**ping, "token": "t", "version": 1})
    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + body.encode()).signature.hex()
    headers = {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": stamp,
    }
    with (
        serving(create_app(LocalFunctions())) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        # No x-api-key: the route is keyless, the signature is the authentication.
        pong = http.post("/discord", content=body, headers=headers)
        tampered = http.post("/discord", content=body.replace("1}", "2}"), headers=headers)

    assert pong.status_code == 200 and pong.json() == {"type": 1}
    assert tampered.status_code == 401
    assert tampered.json()["error"] == "invalid_signature"
