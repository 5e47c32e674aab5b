"""`kass chat`, `kass confirm`, `kass cancel` on the local profile's stand-ins (outbox, Slack
export, patch files), and the `make demo` sequence against a temporary workspace."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kass.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
LOCAL_ENV = {
    "KASS_LOCAL_SLACK_EXPORT": str(SAMPLES / "slack-export"),
    "KASS_LOCAL_SLACK_WORKSPACE_URL": "https://tsubame.slack.com/",
    "KASS_LOCAL_MERGE_REQUESTS": str(SAMPLES / "merge_requests"),
    "KASS_LOCAL_BACKLOG_PROJECTS": "TSB",
    "KASS_USER": "alice",
}
LOGIN_THREAD_LINK = "https://tsubame.slack.com/archives/C04H7QK2ZL1/p1715650320000100"
CONFIRM_LINE = re.compile(r"kass confirm (act_[\w-]+)")
# What `make demo` sends after its ingest and ask (the test below checks the Makefile agrees).
DEMO_CHAT = [
    "/ask What is the API rate limit for free plans?",
    f"/summarize {LOGIN_THREAD_LINK}",
    "/review tsubame/notifier!54",
]
DEMO_TICKET = "/ticket TSB Push reminders missing on Android 14 -- "


def run(home: Path, *args: str, **env: str):
    with pytest.MonkeyPatch.context() as patch:
        home.mkdir(parents=True, exist_ok=True)
        patch.chdir(home)  # no stray .env from the developer's checkout
        return CliRunner().invoke(app, list(args), env={"KASS_HOME": str(home), **LOCAL_ENV, **env})


def outbox_files(home: Path) -> list[str]:
    folder = home / "outbox" / "backlog"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def proposal_id(output: str) -> str:
    match = CONFIRM_LINE.search(output)
    assert match, output
    return match.group(1)


def test_given_a_ticket_proposal_when_confirmed_twice_then_exactly_one_outbox_file(tmp_path):
    proposed = run(tmp_path, "chat", "/ticket TSB Push reminders missing -- Since 4.8.2.")
    action_id = proposal_id(proposed.stdout)

    first = run(tmp_path, "confirm", action_id)
    second = run(tmp_path, "confirm", action_id)

    assert proposed.exit_code == 0 and "Proposed (not done yet)" in proposed.stdout
    assert first.exit_code == 0, first.output
    assert "Done: TSB-1 file://" in first.stdout
    assert second.exit_code == 0 and second.stdout.startswith("Already done earlier. Done: TSB-1")
    assert outbox_files(tmp_path) == ["TSB-1.json"]
    record = json.loads((tmp_path / "outbox" / "backlog" / "TSB-1.json").read_text("utf-8"))
    assert (record["summary"], record["description"]) == ("Push reminders missing", "Since 4.8.2.")


def test_given_someone_elses_proposal_when_confirmed_then_not_found_and_nothing_written(tmp_path):
    action_id = proposal_id(run(tmp_path, "chat", "/ticket TSB Broken").stdout)

    result = run(tmp_path, "confirm", action_id, "--user", "bob")

    assert result.exit_code == 4
    assert f"no pending action '{action_id}' of yours" in result.output
    assert outbox_files(tmp_path) == []


def test_given_a_cancelled_proposal_when_confirmed_then_refused_and_nothing_written(tmp_path):
    action_id = proposal_id(run(tmp_path, "chat", "/ticket TSB Broken").stdout)

    cancelled = run(tmp_path, "cancel", action_id)
    confirmed = run(tmp_path, "confirm", action_id)

    assert cancelled.exit_code == 0 and cancelled.stdout.startswith("Cancelled: create a Backlog")
    assert confirmed.exit_code == 2 and "was cancelled" in confirmed.output
    assert outbox_files(tmp_path) == []


def test_given_an_unknown_project_when_a_ticket_is_asked_then_not_found_lists_known_ones(tmp_path):
    result = run(tmp_path, "chat", "/ticket APP Broken")

    assert result.exit_code == 4
    assert "no Backlog project APP (known projects: TSB)" in result.output
    assert outbox_files(tmp_path) == []


def test_given_the_planted_mr_when_reviewed_then_secret_todo_and_tests_found_redacted(tmp_path):
    result = run(tmp_path, "chat", "/review tsubame/notifier!54")

    assert result.exit_code == 0, result.output
    assert "The automatic checks found 3 issue(s)" in result.stdout
    assert "[high] secret `notifier/settings.py:8`: possible AWS access key id added (AKIA…)" in (
        result.stdout
    )
    assert "[medium] tests" in result.stdout and "[low] todo" in result.stdout
    assert "AKIAZ7" not in result.stdout


def test_given_the_clean_mr_by_url_when_reviewed_then_nothing_flagged(tmp_path):
    url = "https://gitlab.example.com/tsubame/api/-/merge_requests/142"

    result = run(tmp_path, "chat", f"/review {url}", "--json")

    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    assert "The automatic checks found nothing to flag." in response["text"]
    assert response["tier"] == "deterministic"


def test_given_a_reply_permalink_when_summarized_then_whole_thread_cites_permalinks(tmp_path):
    reply = "https://tsubame.slack.com/archives/C04H7QK2ZL1/p1715654400039695"

    result = run(tmp_path, "chat", f"/summarize {reply}", "--json")

    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    assert "Summary of the thread in #incidents (9 messages, 5 people)" in response["text"]
    links = [c["link"] for c in response["citations"]]
    assert links[0] == LOGIN_THREAD_LINK
    assert all(
        link.startswith("https://tsubame.slack.com/archives/C04H7QK2ZL1/p") for link in links
    )
    assert all(f"[{c['n']}]" in response["text"] for c in response["citations"])


def test_given_no_slack_export_configured_when_summarized_then_one_line_error(tmp_path):
    result = run(
        tmp_path, "chat", f"/summarize {LOGIN_THREAD_LINK}", KASS_LOCAL_SLACK_EXPORT="none"
    )

    assert result.exit_code == 6
    assert result.output.strip() == (
        "error: Slack is not configured here (set the Slack connector settings)"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["chat", "/ticket"], 2, "/ticket needs an argument"),
        (["chat", "/deploy prod"], 2, "unknown command /deploy"),
        (["chat", ""], 2, "message: String should have at least 1 character"),
        (["chat", "/summarize incidents 1715650320.999999"], 4, "no Slack message"),
        (["confirm", "act_nope"], 4, "no pending action 'act_nope' of yours"),
    ],
)
def test_given_bad_input_when_run_then_error_line_and_exit_code(tmp_path, args, code, message):
    result = run(tmp_path, *args)

    assert result.exit_code == code
    assert result.output.startswith("error: ") and message in result.output


# -- the `make demo` sequence ---------------------------------------------------------------------
def test_given_the_makefile_then_its_demo_sends_these_messages_with_these_settings():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = makefile[makefile.index("\ndemo: venv") :].split("\n\n", 1)[0]

    for message in [*DEMO_CHAT, DEMO_TICKET]:
        assert message in demo
    for setting in ("KASS_LOCAL_SLACK_EXPORT", "KASS_LOCAL_MERGE_REQUESTS"):
        assert f"demo: export {setting} ?= samples/" in makefile


def test_given_a_fresh_workspace_when_the_demo_sequence_runs_then_every_agent_answers(tmp_path):
    env = {"KASS_LOCAL_BACKLOG_PROJECTS": "none"}  # known from the ingested issues only
    ingested = run(tmp_path, "ingest", str(SAMPLES / "workspace"), "--prune", "--json", **env)
    agents = run(tmp_path, "chat", *DEMO_CHAT, **env)
    proposed = run(tmp_path, "chat", DEMO_TICKET + "Since 4.8.2.", **env)
    confirmed = run(tmp_path, "confirm", proposal_id(proposed.stdout), **env)

    assert ingested.exit_code == 0, ingested.output
    assert agents.exit_code == 0, agents.output
    assert "60 requests per minute" in agents.stdout  # /ask, cited
    assert "Summary of the thread in #incidents" in agents.stdout
    assert "The automatic checks found 3 issue(s)" in agents.stdout
    assert confirmed.exit_code == 0, confirmed.output
    assert "Done: TSB-80" in confirmed.stdout  # numbered after the sample's TSB-79
    assert outbox_files(tmp_path) == ["TSB-80.json"]
