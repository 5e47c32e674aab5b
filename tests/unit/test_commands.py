"""Slash commands with no model configured (the offline profile): parse, run, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.doubles.agent_ports import (
    KeywordSearcher,
    MemoryActionStore,
    MemoryMergeRequests,
    MemoryThreads,
    RecordingTickets,
    chunk,
)

from kass.chat.actions import Actions
from kass.chat.commands import USAGE, handle_command, parse_command
from kass.chat.tools.context import ToolDeps
from kass.errors import InvalidInput, NotFound
from kass.llm.extractive import ExtractiveAnswerer
from kass.ports import FileChange, MergeRequestDiff, Thread, ThreadMessage

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
MR_URL = "https://gitlab.example.com/team/app/-/merge_requests/7"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _thread() -> Thread:
    def msg(i: int, author: str, text: str) -> ThreadMessage:
        ts = f"170000000{i}.000100"
        link = f"https://team.slack.com/archives/C0TEAM/p170000000{i}000100?thread_ts=1700000000.000100"
        return ThreadMessage(author=author, text=text, ts=ts, permalink=link)

    return Thread(
        channel="C0TEAM",
        channel_name="dev",
        ts="1700000000.000100",
        url="https://team.slack.com/archives/C0TEAM/p1700000000000100",
        messages=[
            msg(0, "alice", "Login fails after 2.3"),
            msg(1, "bob", "Only on Safari?"),
            msg(2, "alice", "We decided to roll back."),
            msg(3, "bob", "Fixed in 2.3.1, root cause was the SameSite flag."),
        ],
    )


def _mr() -> MergeRequestDiff:
    diff = "@@ -1,1 +1,3 @@\n import os\n+KEY = 'AKIAIOSFODNN7EXAMPLE'\n+# TODO: tidy\n"
    return MergeRequestDiff(
        project="team/app",
        iid=7,
        title="Add config",
        url=MR_URL,
        changes=[FileChange(old_path="app/config.py", new_path="app/config.py", diff=diff)],
    )


@pytest.fixture
def world():
    clock = Clock()
    store = MemoryActionStore()
    tickets = RecordingTickets(projects={"APP"})
    searcher = KeywordSearcher(
        [
            chunk(
                "backlog:APP-1",
                "Login fails after 2.3",
                "The session cookie lost its SameSite flag in release 2.3.",
            )
        ]
    )
    deps = ToolDeps(
        actions=Actions(store, ttl=timedelta(minutes=30), clock=clock),
        searcher=searcher,  # type: ignore[arg-type]
        answerer=ExtractiveAnswerer(),
        tickets=tickets,
        threads=MemoryThreads(_thread()),
        merge_requests=MemoryMergeRequests(_mr()),
    )
    return deps, store, tickets, clock


# -- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/deploy now", "unknown command /deploy"),
        ("hello", "not a command"),
        ("/ask", "/ask needs an argument: /ask <question>"),
        ("/review   ", "/review needs an argument: /review <group/project>!<iid>"),
    ],
)
def test_given_bad_command_when_parsed_then_invalid_input_with_usage(text, message):
    with pytest.raises(InvalidInput) as error:
        parse_command(text)

    assert message in str(error.value)


def test_given_command_in_any_case_when_parsed_then_name_and_argument():
    parsed = parse_command("  /Ticket APP Login broken -- details ")

    assert (parsed.name, parsed.argument) == ("ticket", "APP Login broken -- details")
    assert "/ticket <PROJECT> <summary> [-- description]" in USAGE


# -- /ask ----------------------------------------------------------------------------------------


def test_given_indexed_answer_when_ask_then_extractive_answer_cites_it(world):
    deps, *_ = world

    result = handle_command("/ask Why does login fail after 2.3?", user_id="u1", deps=deps)

    assert result.tier == "extractive"
    assert "SameSite" in result.text
    assert [c.doc_id for c in result.citations] == ["backlog:APP-1"]


# -- /ticket, /confirm, /cancel -----------------------------------------------------------------


def test_given_ticket_command_when_run_then_only_a_proposal_is_stored(world):
    deps, store, tickets, _ = world

    result = handle_command(
        "/ticket app Login fails on Safari -- Seen after 2.3, see thread", user_id="u1", deps=deps
    )

    assert tickets.created == []
    assert result.action is not None and result.action.status == "proposed"
    stored = store.get(result.action.id)
    assert stored is not None and stored.user_id == "u1"
    assert stored.arguments["project_key"] == "APP"
    assert stored.arguments["summary"] == "Login fails on Safari"
    assert stored.arguments["description"] == "Seen after 2.3, see thread"
    assert f"/confirm {result.action.id}" in result.text
    assert [e.event for e in store.audit("u1")] == ["proposed"]


def test_given_proposal_when_confirmed_twice_then_created_once_and_same_result(world):
    deps, store, tickets, _ = world
    action = handle_command("/ticket APP Login fails", user_id="u1", deps=deps).action
    assert action is not None

    first = handle_command(f"/confirm {action.id}", user_id="u1", deps=deps)
    second = handle_command(f"/confirm {action.id}", user_id="u1", deps=deps)

    assert [t.summary for t in tickets.created] == ["Login fails"]
    assert first.action and first.action.result == {
        "key": "APP-1",
        "url": "https://team.backlog.com/view/APP-1",
    }
    assert second.action and second.action.result == first.action.result
    assert second.text.startswith("Already done earlier.")
    assert [e.event for e in store.audit("u1")] == ["executed", "proposed"]


def test_given_someone_elses_proposal_when_confirmed_then_not_found_and_nothing_created(world):
    deps, store, tickets, _ = world
    action = handle_command("/ticket APP Login fails", user_id="u1", deps=deps).action
    assert action is not None

    with pytest.raises(NotFound) as error:
        handle_command(f"/confirm {action.id}", user_id="mallory", deps=deps)
    with pytest.raises(NotFound) as unknown:
        handle_command("/confirm act_doesnotexist", user_id="mallory", deps=deps)

    assert tickets.created == []
    assert str(error.value).replace(action.id, "X") == str(unknown.value).replace(
        "act_doesnotexist", "X"
    )  # the same answer whether the id exists or not: nothing to probe
    assert store.get(action.id).status == "proposed"  # type: ignore[union-attr]
    assert [(e.event, e.reason) for e in store.audit("mallory")] == [
        ("refused", "unknown action"),
        ("refused", "action of another user"),
    ]


def test_given_expired_proposal_when_confirmed_then_clear_error_and_nothing_created(world):
    deps, store, tickets, clock = world
    action = handle_command("/ticket APP Login fails", user_id="u1", deps=deps).action
    assert action is not None
    clock.now = T0 + timedelta(minutes=31)

    with pytest.raises(InvalidInput, match="expired at 2025-05-01 09:30 UTC"):
        handle_command(f"/confirm {action.id}", user_id="u1", deps=deps)

    assert tickets.created == []
    assert store.audit("u1")[0].event == "refused"


def test_given_unknown_project_when_a_ticket_is_asked_then_not_found_and_nothing_stored(world):
    deps, store, tickets, _ = world

    with pytest.raises(NotFound, match="NOPE does not exist"):
        handle_command("/ticket NOPE Login fails", user_id="u1", deps=deps)

    assert tickets.created == [] and store.audit("u1") == []


def test_given_project_gone_before_confirm_when_confirmed_then_not_found_and_action_failed(world):
    deps, store, tickets, _ = world
    action = handle_command("/ticket APP Login fails", user_id="u1", deps=deps).action
    assert action is not None
    tickets.projects.discard("APP")  # archived or deleted between proposal and confirmation

    with pytest.raises(NotFound, match="APP does not exist"):
        handle_command(f"/confirm {action.id}", user_id="u1", deps=deps)
    with pytest.raises(InvalidInput, match="failed"):
        handle_command(f"/confirm {action.id}", user_id="u1", deps=deps)

    assert tickets.created == []
    stored = store.get(action.id)
    assert stored is not None and stored.status == "failed"
    assert "APP does not exist" in (stored.error or "")
    assert [e.event for e in store.audit("u1")][:2] == ["refused", "failed"]


def test_given_cancelled_proposal_when_confirmed_then_refused(world):
    deps, store, tickets, _ = world
    action = handle_command("/ticket APP Login fails", user_id="u1", deps=deps).action
    assert action is not None

    cancelled = handle_command(f"/cancel {action.id}", user_id="u1", deps=deps)
    with pytest.raises(InvalidInput, match="was cancelled"):
        handle_command(f"/confirm {action.id}", user_id="u1", deps=deps)

    assert cancelled.action and cancelled.action.status == "cancelled"
    assert tickets.created == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/ticket app-1 Login", "not a Backlog project key"),
        ("/ticket APP", "needs a summary"),
        ("/ticket APP  -- only a description", "needs a summary"),
        ("/ticket APP " + "x" * 300, "ticket summary"),
    ],
)
def test_given_bad_ticket_when_run_then_invalid_input_and_nothing_stored(world, text, message):
    deps, store, tickets, _ = world

    with pytest.raises(InvalidInput, match=message):
        handle_command(text, user_id="u1", deps=deps)

    assert store.actions == {} and tickets.created == []


# -- /summarize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argument",
    [
        "C0TEAM 1700000000.000100",
        "#C0TEAM 1700000000.000100",
        "https://team.slack.com/archives/C0TEAM/p1700000000000100",
        # a reply's link: its thread is in thread_ts
        "https://team.slack.com/archives/C0TEAM/p1700000003000100?thread_ts=1700000000.000100&cid=C0TEAM",
    ],
)
def test_given_thread_ref_when_summarize_then_extractive_summary_cites_permalinks(world, argument):
    deps, *_ = world

    result = handle_command(f"/summarize {argument}", user_id="u1", deps=deps)

    assert result.tier == "extractive"
    assert deps.threads.reads[-1] == ("C0TEAM", "1700000000.000100")
    assert "root cause was the SameSite flag" in result.text
    links = [c.link for c in result.citations]
    assert links and all(
        link.startswith("https://team.slack.com/archives/C0TEAM/p") for link in links
    )
    assert "Decision" in result.text and "Outcome" in result.text


@pytest.mark.parametrize(
    ("argument", "error", "message"),
    [
        ("C0TEAM 1600000000.000100", NotFound, "no Slack thread"),
        ("C0TEAM yesterday", InvalidInput, "not a Slack timestamp"),
        ("https://example.com/nothing", InvalidInput, "not a Slack message link"),
        ("C0TEAM 1.1 extra", InvalidInput, "takes a channel and a ts"),
    ],
)
def test_given_bad_thread_ref_when_summarize_then_clear_error(world, argument, error, message):
    deps, *_ = world

    with pytest.raises(error, match=message):
        handle_command(f"/summarize {argument}", user_id="u1", deps=deps)


# -- /review -------------------------------------------------------------------------------------


@pytest.mark.parametrize("argument", ["team/app!7", MR_URL, MR_URL + "/diffs", "team/app 7"])
def test_given_mr_ref_when_review_then_deterministic_findings(world, argument):
    deps, *_ = world

    result = handle_command(f"/review {argument}", user_id="u1", deps=deps)

    assert result.tier == "deterministic"
    assert {f.check for f in result.findings} == {"secret", "todo", "tests"}
    assert MR_URL in result.text
    assert "AKIAIOSFODNN7EXAMPLE" not in result.text


@pytest.mark.parametrize(
    ("argument", "error", "message"),
    [
        ("team/app!99", NotFound, "team/app!99 does not exist"),
        ("team/app", InvalidInput, "give the merge request number"),
        ("app!7", InvalidInput, "not a GitLab project path"),
        ("https://gitlab.example.com/team/app/-/issues/7", InvalidInput, "not a merge request URL"),
    ],
)
def test_given_bad_mr_ref_when_review_then_clear_error(world, argument, error, message):
    deps, *_ = world

    with pytest.raises(error, match=message):
        handle_command(f"/review {argument}", user_id="u1", deps=deps)


def test_given_port_not_configured_when_command_needs_it_then_clear_source_error(world):
    deps, *_ = world
    deps.merge_requests = None

    with pytest.raises(Exception, match="GitLab is not configured"):
        handle_command("/review team/app!7", user_id="u1", deps=deps)


def test_given_no_model_when_commands_run_then_langchain_is_never_imported():
    script = f"""
import json, sys
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "lambda_functions")!r}]
from tests.unit.test_commands import _mr, _thread
from tests.doubles.agent_ports import (
    MemoryActionStore, MemoryMergeRequests, MemoryThreads, RecordingTickets,
)
from kass.chat.actions import Actions
from kass.chat.commands import handle_command
from kass.chat.tools.context import ToolDeps
deps = ToolDeps(actions=Actions(MemoryActionStore()), tickets=RecordingTickets(),
                threads=MemoryThreads(_thread()), merge_requests=MemoryMergeRequests(_mr()))
for text in ["/review team/app!7", "/summarize C0TEAM 1700000000.000100", "/ticket APP Broken"]:
    handle_command(text, user_id="u1", deps=deps)
heavy = ("langchain", "langchain_core", "langgraph")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )

    # The last line: audit log lines (Powertools logs to stdout) come before it.
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
