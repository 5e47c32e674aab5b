"""The local profile's Backlog outbox, Slack export threads and patch merge requests, and how the
runtime picks them when the real connectors are not configured."""

from __future__ import annotations

import json
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kass.adapters.local.outbox import BacklogOutbox
from kass.adapters.local.patch_merge_requests import PatchMergeRequests, parse_patch
from kass.adapters.local.slack_export_threads import SlackExportThreads
from kass.chat.review_checks import run_checks
from kass.errors import InvalidInput, NotFound, SourceError
from kass.models import Document
from kass.ports import TicketDraft
from kass.settings import load_settings
from kass.wiring import Runtime

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "samples" / "slack-export"
MERGE_REQUESTS = ROOT / "samples" / "merge_requests"
SLACK_DOCS = ROOT / "samples" / "workspace" / "slack"
TEAM_URL = "https://tsubame.slack.com/"
INCIDENTS, LOGIN_THREAD = "C04H7QK2ZL1", "1715650320.000100"
CLOCK = datetime(2024, 6, 20, 9, 30, tzinfo=UTC)


def draft(
    project: str = "TSB", summary: str = "Push reminders missing on Android 14"
) -> TicketDraft:
    return TicketDraft(project_key=project, summary=summary, description="Since 4.8.2.")


def outbox(tmp_path: Path, known: dict[str, int] | None = None) -> BacklogOutbox:
    known = {"TSB": 79, "OPS": 15} if known is None else known
    return BacklogOutbox(tmp_path / "outbox", lambda: known, clock=lambda: CLOCK)


# -- Backlog outbox ------------------------------------------------------------------------------
def test_given_known_projects_when_issues_created_then_numbered_per_project_after_known(tmp_path):
    box = outbox(tmp_path)

    first, second, ops = (
        box.create_issue(draft()),
        box.create_issue(draft()),
        box.create_issue(draft("OPS")),
    )

    assert [first.key, second.key, ops.key] == ["TSB-80", "TSB-81", "OPS-16"]
    record = json.loads((tmp_path / "outbox" / "TSB-80.json").read_text(encoding="utf-8"))
    assert record == {
        "issueKey": "TSB-80",
        "keyId": 80,
        "projectKey": "TSB",
        "summary": "Push reminders missing on Android 14",
        "description": "Since 4.8.2.",
        "issueType": None,
        "priority": {"name": "Normal"},
        "created": "2024-06-20T09:30:00Z",
    }
    assert first.url == (tmp_path / "outbox" / "TSB-80.json").resolve().as_uri()


def test_given_a_key_taken_after_listing_when_created_then_next_number_and_old_file_intact(
    tmp_path, monkeypatch
):
    box = outbox(tmp_path)
    taken = tmp_path / "outbox" / "TSB-80.json"
    taken.parent.mkdir(parents=True)
    taken.write_text('{"issueKey": "TSB-80", "by": "another writer"}', encoding="utf-8")
    monkeypatch.setattr(box, "filed", lambda: [])  # the other writer linked after our listing

    created = box.create_issue(draft())

    assert created.key == "TSB-81"
    assert json.loads(taken.read_text(encoding="utf-8"))["by"] == "another writer"
    assert sorted(p.name for p in taken.parent.iterdir()) == ["TSB-80.json", "TSB-81.json"]


def test_given_concurrent_writers_when_created_then_every_key_distinct_and_no_temp_files(tmp_path):
    box = outbox(tmp_path)
    keys: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        key = box.create_issue(draft()).key
        with lock:
            keys.append(key)

    workers = [threading.Thread(target=create) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(keys, key=lambda k: int(k.split("-")[1])) == [f"TSB-{n}" for n in range(80, 88)]
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == sorted(f"{key}.json" for key in keys)


def test_given_an_unknown_project_when_created_then_not_found_lists_known_and_nothing_written(
    tmp_path,
):
    with pytest.raises(NotFound, match=r"no Backlog project APP \(known projects: OPS, TSB\)"):
        outbox(tmp_path).create_issue(draft("APP"))

    assert not (tmp_path / "outbox").exists()


def test_given_no_known_project_when_created_then_not_found_names_the_setting(tmp_path):
    with pytest.raises(NotFound, match="KASS_LOCAL_BACKLOG_PROJECTS"):
        outbox(tmp_path, known={}).create_issue(draft())


# -- Slack export threads ------------------------------------------------------------------------
def reader(export: Path = EXPORT) -> SlackExportThreads:
    return SlackExportThreads(export, workspace_url=TEAM_URL)


def test_given_the_parent_ts_when_read_then_whole_thread_with_permalinks_and_names():
    thread = reader().thread(INCIDENTS, LOGIN_THREAD)

    assert (thread.channel, thread.channel_name, thread.ts) == (
        INCIDENTS,
        "incidents",
        LOGIN_THREAD,
    )
    assert thread.url == f"{TEAM_URL}archives/{INCIDENTS}/p1715650320000100"
    assert len(thread.messages) == 9
    assert [m.author for m in thread.messages[:2]] == ["yuki.yamada", "daniel.kim"]
    assert thread.messages[1].permalink == (
        f"{TEAM_URL}archives/{INCIDENTS}/p1715650560008019?thread_ts={LOGIN_THREAD}&cid={INCIDENTS}"
    )
    assert all("has joined the channel" not in m.text for m in thread.messages)


def test_given_a_reply_ts_and_a_channel_name_when_read_then_its_whole_thread():
    thread = reader().thread("#incidents", "1715654400.039695")

    assert thread.ts == LOGIN_THREAD and len(thread.messages) == 9


def test_given_the_export_zipped_in_a_folder_when_read_then_same_thread(tmp_path):
    archive = shutil.make_archive(str(tmp_path / "export"), "zip", EXPORT.parent, EXPORT.name)

    zipped = reader(Path(archive)).thread(INCIDENTS, LOGIN_THREAD)

    assert zipped == reader().thread(INCIDENTS, LOGIN_THREAD)


@pytest.mark.parametrize(
    ("channel", "ts", "error", "message"),
    [
        (
            INCIDENTS,
            "1715650320.999999",
            NotFound,
            "no Slack message 1715650320.999999 in #incidents",
        ),
        ("C0NOPE123", LOGIN_THREAD, NotFound, r"no channel 'C0NOPE123' .*#billing, #dev-api"),
        (INCIDENTS, "yesterday", InvalidInput, "not a Slack message timestamp"),
    ],
)
def test_given_a_missing_thread_when_read_then_clear_error(channel, ts, error, message):
    with pytest.raises(error, match=message):
        reader().thread(channel, ts)


def test_given_no_export_at_the_path_when_read_then_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such folder or zip file"):
        reader(tmp_path / "missing").thread(INCIDENTS, LOGIN_THREAD)


def test_given_the_sample_slack_documents_then_the_export_holds_the_same_conversations():
    for path in sorted(SLACK_DOCS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        _, channel, ts = doc["id"].split(":")
        links = re.findall(r"/archives/\w+/p(\d{10})(\d{6})", doc["text"])

        thread = reader().thread(channel, ts)

        assert [m.ts for m in thread.messages] == [f"{s}.{us}" for s, us in links], path.name
        assert thread.channel_name == doc["metadata"]["channel"].lstrip("#")


# -- merge requests from patch files -------------------------------------------------------------
def git_patch(diff: str, subject: str = "[PATCH] Add things") -> str:
    return (
        "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
        "From: =?UTF-8?q?Haruto=20It=C5=8D?= <haruto.ito@tsubame.example>\n"
        "Date: Tue, 28 May 2024 10:20:00 +0900\n"
        f"Subject: {subject}\n"
        "\n"
        "Why it matters.\n"
        "\n"
        "- one\n"
        "---\n"
        " a.py | 1 +\n"
        " 1 file changed, 1 insertion(+)\n"
        "\n"
        f"{diff}"
        "-- \n"
        "2.45.1\n"
        "\n"
    )


RENAME_NEW_DELETE = (
    "diff --git a/old/name.py b/new/name.py\n"
    "similarity index 90%\n"
    "rename from old/name.py\n"
    "rename to new/name.py\n"
    "index 1111111..2222222 100644\n"
    "--- a/old/name.py\n"
    "+++ b/new/name.py\n"
    "@@ -1,2 +1,2 @@\n"
    " keep = 1\n"
    "-gone = 2\n"
    "+added = 3\n"
    "diff --git a/pkg/__init__.py b/pkg/__init__.py\n"
    "new file mode 100644\n"
    "index 0000000..e69de29\n"
    "diff --git a/legacy.py b/legacy.py\n"
    "deleted file mode 100644\n"
    "index 3333333..0000000\n"
    "--- a/legacy.py\n"
    "+++ /dev/null\n"
    "@@ -1 +0,0 @@\n"
    "-print('bye')\n"
    'diff --git "a/docs/na\\303\\257ve notes.md" "b/docs/na\\303\\257ve notes.md"\n'
    "new file mode 100644\n"
    "index 0000000..4444444\n"
    "--- /dev/null\n"
    '+++ "b/docs/na\\303\\257ve notes.md"\n'
    "@@ -0,0 +1 @@\n"
    "+Notes\n"
    "\\ No newline at end of file\n"
)


def test_given_a_format_patch_when_parsed_then_header_and_renamed_new_deleted_files():
    patch = parse_patch(git_patch(RENAME_NEW_DELETE, subject="[PATCH v2 1/1] Rename\n  and add"))

    assert (patch.title, patch.author, patch.description) == (
        "Rename and add",
        "Haruto Itō",
        "Why it matters.\n\n- one",
    )
    changes = [(c.old_path, c.new_path, c.new_file, c.deleted_file) for c in patch.changes]
    assert changes == [
        ("old/name.py", "new/name.py", False, False),
        ("pkg/__init__.py", "pkg/__init__.py", True, False),
        ("legacy.py", "legacy.py", False, True),
        ("docs/naïve notes.md", "docs/naïve notes.md", True, False),
    ]
    assert patch.changes[0].diff == "@@ -1,2 +1,2 @@\n keep = 1\n-gone = 2\n+added = 3\n"
    assert patch.changes[1].diff == ""
    assert patch.changes[3].diff.endswith("+Notes\n\\ No newline at end of file\n")


def test_given_a_plain_git_diff_when_read_then_titled_by_its_reference(tmp_path):
    folder = tmp_path / "mrs" / "team" / "app"
    folder.mkdir(parents=True)
    (folder / "7.diff").write_text(RENAME_NEW_DELETE, encoding="utf-8")

    mr = PatchMergeRequests(tmp_path / "mrs").merge_request("team/app", 7)

    assert (mr.title, mr.author, len(mr.changes)) == ("team/app!7", None, 4)
    assert mr.url == (folder / "7.diff").resolve().as_uri()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (git_patch(RENAME_NEW_DELETE) * 2, "several commits"),
        ("Subject: [PATCH] nothing\n\nJust words.\n", "no `diff --git`"),
        ("just some notes\n", "no `diff --git`"),
    ],
)
def test_given_a_file_that_is_not_one_patch_when_read_then_invalid_input(tmp_path, text, message):
    folder = tmp_path / "team" / "app"
    folder.mkdir(parents=True)
    (folder / "7.patch").write_text(text, encoding="utf-8")

    with pytest.raises(InvalidInput, match=message):
        PatchMergeRequests(tmp_path).merge_request("team/app", 7)


@pytest.mark.parametrize(
    ("project", "iid", "error", "message"),
    [
        ("tsubame/api", 999, NotFound, r"no merge request tsubame/api!999: .*999\.patch"),
        ("tsubame/../../etc", 1, InvalidInput, "not a GitLab project path"),
    ],
)
def test_given_a_missing_or_escaping_mr_when_read_then_clear_error(project, iid, error, message):
    with pytest.raises(error, match=message):
        PatchMergeRequests(MERGE_REQUESTS).merge_request(project, iid)


def test_given_the_sample_mrs_when_checked_then_clean_one_passes_and_planted_issues_found():
    samples = PatchMergeRequests(MERGE_REQUESTS)

    clean = samples.merge_request("tsubame/api", 142)
    planted = samples.merge_request("tsubame/notifier", 54)

    assert clean.title.startswith("Hotfix 2.3.1") and clean.author == "Kenji Sato"
    assert run_checks(clean) == []
    found = {(f.check, f.path) for f in run_checks(planted)}
    assert found == {
        ("secret", "notifier/settings.py"),
        ("tests", None),
        ("todo", "notifier/apns/token_auth.py"),
    }
    renamed = [c for c in planted.changes if c.old_path != c.new_path]
    assert [(c.old_path, c.new_path) for c in renamed] == [
        ("notifier/apns_client.py", "notifier/apns/client.py")
    ]


# -- wiring: the local stand-ins when the connectors are not configured ---------------------------
@pytest.fixture
def local_env(tmp_path, monkeypatch) -> Path:
    """A clean environment: no .env, no connector settings, KASS_HOME in tmp."""
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith(("KASS_", "POWERTOOLS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KASS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_given_local_profile_without_settings_when_wired_then_outbox_only(local_env):
    runtime = Runtime(load_settings())
    try:
        assert isinstance(runtime.tickets, BacklogOutbox)
        assert runtime.threads is None and runtime.merge_requests is None
    finally:
        runtime.close()


def test_given_local_settings_when_wired_then_export_and_patch_readers_serve(
    local_env, monkeypatch
):
    monkeypatch.setenv("KASS_LOCAL_SLACK_EXPORT", str(EXPORT))
    monkeypatch.setenv("KASS_SLACK_WORKSPACE_URL", TEAM_URL)
    monkeypatch.setenv("KASS_LOCAL_MERGE_REQUESTS", str(MERGE_REQUESTS))
    runtime = Runtime(load_settings())
    try:
        assert runtime.threads is not None and runtime.merge_requests is not None
        assert runtime.threads.thread(INCIDENTS, LOGIN_THREAD).url.startswith(TEAM_URL)
        assert runtime.merge_requests.merge_request("tsubame/api", 142).iid == 142
    finally:
        runtime.close()


def test_given_stored_backlog_issues_and_a_setting_when_filed_then_known_and_numbered_after(
    local_env, monkeypatch
):
    monkeypatch.setenv("KASS_LOCAL_BACKLOG_PROJECTS", "new")
    runtime = Runtime(load_settings())
    runtime.raw_store.put(
        Document(id="backlog:TSB-61", source="backlog", title="Push", text="iOS push fails")
    )
    try:
        assert runtime.tickets is not None
        stored = runtime.tickets.create_issue(draft())
        configured = runtime.tickets.create_issue(draft("NEW"))
        with pytest.raises(NotFound, match="known projects: NEW, TSB"):
            runtime.tickets.create_issue(draft("OPS"))
    finally:
        runtime.close()

    assert (stored.key, configured.key) == ("TSB-62", "NEW-1")
    assert (local_env / "outbox" / "backlog" / "TSB-62.json").is_file()


def test_given_aws_profile_without_connector_settings_when_wired_then_no_local_stand_in(
    local_env, monkeypatch
):
    monkeypatch.setenv("KASS_PROFILE", "aws")
    monkeypatch.setenv("KASS_LOCAL_MERGE_REQUESTS", str(MERGE_REQUESTS))
    runtime = Runtime(load_settings())
    try:
        assert runtime.tickets is None and runtime.merge_requests is None
    finally:
        runtime.close()
