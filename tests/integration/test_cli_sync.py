"""`kass sync` and `kass import-slack-export` on a local workspace, against the Slack double."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.doubles.slack_api import TEAM_URL, SlackApiDouble
from tests.integration.test_slack_export import write_export
from typer.testing import CliRunner

from kass.cli_connectors import app
from kass.settings import load_settings
from kass.wiring import open_runtime

GENERAL = "C0GENERAL1"


@pytest.fixture
def slack() -> Iterator[SlackApiDouble]:
    double = SlackApiDouble().start()
    double.add_user("U0ALICE001", "alice", "Alice")
    double.add_channel(GENERAL, "general")
    try:
        yield double
    finally:
        double.stop()


def run(home: Path, *args: str, **env: str):
    with pytest.MonkeyPatch.context() as patch:
        home.mkdir(parents=True, exist_ok=True)
        patch.chdir(home)  # no stray .env from the developer's checkout
        return CliRunner().invoke(app, list(args), env={"KASS_HOME": str(home), **env})


def slack_env(double: SlackApiDouble, token: str | None = None) -> dict[str, str]:
    return {
        "KASS_SLACK_TOKEN": token or double.token,
        "KASS_SLACK_CHANNELS": GENERAL,
        "KASS_SLACK_BASE_URL": double.base_url,
        "KASS_SLACK_MAX_RETRIES": "0",
    }


def indexed(home: Path) -> dict[str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KASS_HOME", str(home))
        patch.chdir(home)
        runtime = open_runtime(load_settings())
        try:
            return dict(runtime.index.document_hashes())
        finally:
            runtime.close()


def test_given_slack_double_when_synced_twice_then_index_follows_edits_and_deletions(
    slack, tmp_path
):
    kept = slack.post(GENERAL, "U0ALICE001", "the release train leaves on Thursday")
    gone = slack.post(GENERAL, "U0ALICE001", "lunch at noon")
    home = tmp_path / "home"

    first = run(home, "sync", "slack", **slack_env(slack))

    assert first.exit_code == 0, first.output
    assert "documents written" in first.output
    assert set(indexed(home)) == {f"slack:{GENERAL}:{kept}", f"slack:{GENERAL}:{gone}"}
    before = indexed(home)[f"slack:{GENERAL}:{kept}"]

    slack.edit(GENERAL, kept, "the release train leaves on Friday")
    slack.delete(GENERAL, gone)
    second = run(home, "sync", "slack", **slack_env(slack))

    assert second.exit_code == 0, second.output
    after = indexed(home)
    assert set(after) == {f"slack:{GENERAL}:{kept}"}
    assert after[f"slack:{GENERAL}:{kept}"] != before
    assert slack.counts()["conversations.history"] == 2  # the second sync re-read the window


def test_given_bad_token_when_synced_then_one_line_error_and_exit_code(slack, tmp_path):
    result = run(tmp_path / "home", "sync", "slack", **slack_env(slack, token="xoxb-bad"))

    assert result.exit_code == 6
    assert "Slack refused the token (invalid_auth)" in result.output
    assert "Traceback" not in result.output


def test_given_unknown_connector_when_synced_then_invalid_input(tmp_path):
    result = run(tmp_path / "home", "sync", "jira")

    assert result.exit_code == 2
    assert "unknown connector 'jira'" in result.output


def test_given_export_zip_when_imported_then_indexed_and_a_later_sync_adds_no_copies(
    slack, tmp_path
):
    ts = slack.post(GENERAL, "U0ALICE001", "exported before the API sync")
    archive = write_export(slack, tmp_path / "export.zip")
    home = tmp_path / "home"

    imported = run(home, "import-slack-export", str(archive), "--workspace-url", TEAM_URL)

    assert imported.exit_code == 0, imported.output
    assert set(indexed(home)) == {f"slack:{GENERAL}:{ts}"}
    synced = run(home, "sync", "slack", **slack_env(slack))
    assert synced.exit_code == 0, synced.output
    assert set(indexed(home)) == {f"slack:{GENERAL}:{ts}"}


def test_given_not_an_export_when_imported_then_one_line_error(tmp_path):
    path = tmp_path / "notes.zip"
    path.write_text("not a zip")

    result = run(tmp_path / "home", "import-slack-export", str(path), "--workspace-url", TEAM_URL)

    assert result.exit_code == 2
    assert "is not a zip file" in result.output
