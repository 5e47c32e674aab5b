"""Commands, the agent and confirmed actions through the orchestrator handler (local profile).

Backlog is the Backlog API double; the model tier is an OpenAI-compatible double scripted with
tool calls. Nothing outside is written until the proposer confirms, and then exactly once.
"""

from __future__ import annotations

import pytest
from lambda_harness import context, ingest_samples, json_body, load_handler, rest_event
from tests.doubles.backlog_api import BacklogDouble
from tests.doubles.openai_api import MODEL, start_openai_double


@pytest.fixture(scope="module")
def backlog():
    double = BacklogDouble().start()
    double.add_project("APP", issue_types=("Bug", "Task"))
    yield double
    double.stop()


@pytest.fixture(scope="module")
def model():
    server, url = start_openai_double()
    yield server, url
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_script(request):
    """Each test scripts the shared model double from a clean slate."""
    if "model" in request.fixturenames:
        request.getfixturevalue("model")[0].reset()


def _handler(tmp_path_factory, backlog, env: dict[str, str]):
    home = tmp_path_factory.mktemp("actions-home")
    patch = pytest.MonkeyPatch()
    patch.chdir(home)
    for name, value in {
        "KASS_HOME": str(home),
        "KASS_BACKLOG_SPACE_URL": backlog.url,
        "KASS_BACKLOG_API_KEY": backlog.api_key,
        "KASS_BACKLOG_PROJECTS": '["APP"]',
        "POWERTOOLS_SERVICE_NAME": "orchestrator",
        "POWERTOOLS_METRICS_NAMESPACE": "kass-test",
        **env,
    }.items():
        patch.setenv(name, value)
    ingest_samples()
    return load_handler("orchestrator"), patch


@pytest.fixture(scope="module")
def offline(tmp_path_factory, backlog):
    """No model configured: commands run their deterministic forms."""
    module, patch = _handler(tmp_path_factory, backlog, {})
    yield module
    module.runtime.close()
    patch.undo()


@pytest.fixture(scope="module")
def with_model(tmp_path_factory, backlog, model):
    _server, url = model
    env = {"KASS_OPENAI_BASE_URL": url, "KASS_OPENAI_MODEL": MODEL, "KASS_OPENAI_MAX_RETRIES": "0"}
    module, patch = _handler(tmp_path_factory, backlog, env)
    yield module
    module.runtime.close()
    patch.undo()


def post(handler, path: str, body: dict | None = None, subject: str = "alice", **kwargs):
    event = rest_event("POST", path, body=body, subject=subject, **kwargs)
    response = handler.lambda_handler(event, context("orchestrator"))
    return response["statusCode"], json_body(response)


def action_path(action_id: str, verb: str) -> dict:
    return {
        "resource": f"/actions/{{action_id}}/{verb}",
        "path_parameters": {"action_id": action_id},
    }


def confirm(handler, action_id: str, subject: str = "alice"):
    path = f"/actions/{action_id}/confirm"
    return post(handler, path, subject=subject, **action_path(action_id, "confirm"))


def test_given_a_ticket_command_when_confirmed_twice_then_created_once_and_audited(
    offline, backlog
):
    before = len(backlog.created)
    status, body = post(offline, "/chat", {"message": "/ticket APP Login fails -- after 2.3"})

    assert status == 200, body
    [action] = body["actions"]
    assert action["status"] == "proposed" and action["kind"] == "create_backlog_issue"
    assert len(backlog.created) == before, "a proposal writes nothing outside"

    first_status, first = confirm(offline, action["id"])
    second_status, second = confirm(offline, action["id"])

    assert (first_status, second_status) == (200, 200)
    assert first["executed_now"] is True and second["executed_now"] is False
    assert len(backlog.created) == before + 1
    assert backlog.created[-1]["summary"] == "Login fails"
    assert first["action"]["result"]["key"].startswith("APP-")
    audit = offline.lambda_handler(rest_event("GET", "/audit", subject="alice"), context())
    events = [entry["event"] for entry in json_body(audit)["entries"]]
    assert "executed" in events and "proposed" in events


def test_given_someone_elses_proposal_when_confirmed_then_404_and_nothing_created(offline, backlog):
    _, body = post(offline, "/chat", {"message": "/ticket APP Not yours"})
    before = len(backlog.created)

    status, error = confirm(offline, body["actions"][0]["id"], subject="mallory")

    assert status == 404 and error["error"] == "not_found"
    assert len(backlog.created) == before


def test_given_a_cancelled_proposal_when_confirmed_then_refused_and_nothing_created(
    offline, backlog
):
    _, body = post(offline, "/chat", {"message": "/ticket APP Changed my mind"})
    action_id = body["actions"][0]["id"]
    before = len(backlog.created)

    cancelled_status, cancelled = post(
        offline, f"/actions/{action_id}/cancel", **action_path(action_id, "cancel")
    )
    status, _ = confirm(offline, action_id)

    assert cancelled_status == 200 and cancelled["action"]["status"] == "cancelled"
    assert status in (400, 404) and len(backlog.created) == before


def test_given_an_unknown_project_when_a_ticket_is_asked_then_404_and_nothing_proposed(
    offline, backlog
):
    before = len(backlog.created)
    audit_before = offline.lambda_handler(rest_event("GET", "/audit", subject="alice"), context())

    status, error = post(offline, "/chat", {"message": "/ticket NOPE Something"})

    audit_after = offline.lambda_handler(rest_event("GET", "/audit", subject="alice"), context())
    assert status == 404 and "NOPE" in error["message"]
    assert len(backlog.created) == before
    assert json_body(audit_after) == json_body(audit_before), "no proposal was stored"


def test_given_an_unknown_command_when_posted_then_400_with_usage(offline):
    status, error = post(offline, "/chat", {"message": "/deploy prod"})

    assert status == 400 and "/ticket" in error["message"]


def test_given_an_action_request_and_no_model_when_posted_then_answer_with_command_hint(
    offline, backlog
):
    before = len(backlog.created)
    status, body = post(offline, "/chat", {"message": "Please file a ticket about login errors"})

    assert status == 200 and body["actions"] == []
    assert "/ticket" in body["text"] and body["tier"] == "extractive"
    assert len(backlog.created) == before


def test_given_a_model_calling_the_ticket_tool_when_asked_then_only_a_proposal(
    with_model, model, backlog
):
    server, _ = model
    server.call_tool_next(
        "create_backlog_issue", {"project_key": "APP", "summary": "Push notifications broken"}
    )
    server.reply_next("I drafted the ticket; confirm it to file it.")
    before = len(backlog.created)

    status, body = post(with_model, "/chat", {"message": "File a ticket: push notifications"})

    assert status == 200, body
    assert body["tier"] == "openai" and body["usage"]["input_tokens"] > 0
    [action] = body["actions"]
    assert action["arguments"]["summary"] == "Push notifications broken"
    assert len(backlog.created) == before
    confirmed_status, confirmed = confirm(with_model, action["id"])
    assert confirmed_status == 200 and len(backlog.created) == before + 1


def test_given_the_model_tier_failing_when_an_action_is_asked_then_extractive_answers(
    with_model, model, backlog
):
    server, _ = model
    server.fail_next(503, times=5)
    before = len(backlog.created)

    status, body = post(with_model, "/chat", {"message": "Please review merge request !3"})

    assert status == 200, body
    assert body["tier"] == "extractive" and "openai" in body["fallbacks"]
    assert body["actions"] == [] and len(backlog.created) == before


def test_given_the_agent_citing_a_passage_it_never_got_when_answered_then_marker_removed(
    with_model, model
):
    server, _ = model
    server.reply_next("The login incident was fixed by a rollback [4].")

    status, body = post(with_model, "/chat", {"message": "Summarize the login incident please"})

    assert status == 200, body
    assert body["tier"] == "openai" and "[4]" not in body["text"]
    assert body["removed_citations"] == 1 and body["citations"] == []
