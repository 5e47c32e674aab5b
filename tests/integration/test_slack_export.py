"""The Slack export importer: same documents as the API connector, clear errors, no half imports."""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.doubles.slack_api import TEAM_URL, SlackApiDouble
from tests.integration import connector_contract as contract

from kass.adapters.local.raw_store import FolderRawDocumentStore
from kass.connectors.slack import SlackConnector, SlackSettings
from kass.connectors.slack_export import import_export, read_export
from kass.errors import InvalidInput


@pytest.fixture
def slack() -> Iterator[SlackApiDouble]:
    double = SlackApiDouble().start()
    try:
        yield double
    finally:
        double.stop()


def write_export(double: SlackApiDouble, path: Path, *, folder: str = "") -> Path:
    """The double's workspace as Slack exports it: a JSON list per channel and UTC day."""
    with zipfile.ZipFile(path, "w") as archive:
        channels = [{"id": c.id, "name": c.name, "created": 0} for c in double.channels.values()]
        archive.writestr(f"{folder}channels.json", json.dumps(channels))
        archive.writestr(f"{folder}users.json", json.dumps(list(double.users.values())))
        for channel in double.channels.values():
            days: dict[str, list[dict]] = defaultdict(list)
            messages = list(channel.top.values())
            messages += [m for r in channel.replies.values() for m in r.values()]
            for message in sorted(messages, key=lambda m: float(m["ts"])):
                if message.get("subtype") == "thread_broadcast" and message in channel.top.values():
                    continue  # exported once, with the replies
                day = datetime.fromtimestamp(float(message["ts"]), UTC).strftime("%Y-%m-%d")
                days[day].append(message)
            for day, listed in days.items():
                archive.writestr(f"{folder}{channel.name}/{day}.json", json.dumps(listed))
    return path


def test_given_export_of_workspace_when_read_then_equals_api_connector_documents(slack, tmp_path):
    slack.generate(600, channels=3, users=6, span_days=10)
    parent = next(ts for ts, m in slack.channels["C000000000"].top.items() if m.get("reply_count"))
    slack.edit("C000000000", parent, "edited <@U00000001> parent")
    archive = write_export(slack, tmp_path / "export.zip")
    api = contract.full_load(
        SlackConnector(
            SlackSettings(token=slack.token, channels=list(slack.channels), base_url=slack.base_url)
        )
    )

    documents, report = read_export(archive, workspace_url=TEAM_URL)

    assert {d.id: d.model_dump(mode="json") for d in documents} == api
    assert report.channels == 3 and report.documents == len(api)


def test_given_export_inside_a_folder_when_imported_then_documents_written(slack, tmp_path):
    slack.generate(50, channels=1, users=3)
    archive = write_export(slack, tmp_path / "export.zip", folder="My Workspace Slack export/")
    store = FolderRawDocumentStore(tmp_path / "home")

    report = import_export(archive, store, workspace_url=TEAM_URL)

    assert report.documents == len(list(store.keys("slack"))) > 0


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"users.json": "[]"}, "channels.json is missing"),
        ({"channels.json": "[]"}, "users.json is missing"),
        ({"channels.json": "{not json", "users.json": "[]"}, "channels.json is not valid JSON"),
        ({"channels.json": '[{"id": "C1"}]', "users.json": "[]"}, "lacks its id or name"),
        (
            {
                "channels.json": '[{"id": "C1", "name": "a"}]',
                "users.json": "[]",
                "a/2026-01-01.json": '[{"ts": "1.0", "text": "ok"}]',
                "a/2026-01-02.json": "[{broken",
            },
            "a/2026-01-02.json is not valid JSON",
        ),
    ],
)
def test_given_bad_export_when_imported_then_invalid_input_and_nothing_written(
    tmp_path, files, problem
):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, text in files.items():
            zipped.writestr(name, text)
    store = FolderRawDocumentStore(tmp_path / "home")

    with pytest.raises(InvalidInput, match=problem):
        import_export(archive, store, workspace_url=TEAM_URL)

    assert list(store.keys()) == []


def test_given_file_that_is_not_a_zip_when_imported_then_invalid_input(tmp_path):
    path = tmp_path / "export.zip"
    path.write_text("hello")

    with pytest.raises(InvalidInput, match="is not a zip file"):
        read_export(path, workspace_url=TEAM_URL)
    with pytest.raises(InvalidInput, match="no such file"):
        read_export(tmp_path / "missing.zip", workspace_url=TEAM_URL)
