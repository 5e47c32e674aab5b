"""The Backlog connector and ticket tracker against the Backlog API v2 double."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from connector_contract import (
    check_full_load,
    check_incremental_after_edit,
    check_resume_from_every_checkpoint,
    full_load,
)
from tests.doubles.backlog_api import BacklogDouble, FakeTime

from kass import connectors
from kass.adapters.local.raw_store import FolderRawDocumentStore
from kass.adapters.local.state import SqliteCheckpointStore
from kass.connectors.backlog import (
    BacklogConnector,
    BacklogTickets,
    ticket_tracker,
)
from kass.connectors.backlog_client import BacklogClient
from kass.errors import InvalidInput, NotFound, SourceError
from kass.ingest.fetcher import checkpoint_name, run_connector
from kass.ports import TicketDraft
from kass.settings import Settings


@pytest.fixture()
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture()
def backlog(clock: FakeTime) -> Iterator[BacklogDouble]:
    double = BacklogDouble(clock=clock.time, rate_limit=100_000).start()
    yield double
    double.stop()


def client(backlog: BacklogDouble, clock: FakeTime, **kwargs) -> BacklogClient:
    kwargs.setdefault("api_key", backlog.api_key)
    return BacklogClient(backlog.url, sleep=clock.sleep, clock=clock.time, **kwargs)


def connector(backlog, clock, projects=("APP",), **kwargs) -> BacklogConnector:
    client_kwargs = {k: kwargs.pop(k) for k in ("api_key", "max_retries") if k in kwargs}
    return BacklogConnector(client(backlog, clock, **client_kwargs), projects, **kwargs)


def polled(conn: BacklogConnector, checkpoint) -> tuple[list[str], dict]:
    ids, last = [], checkpoint
    for batch in conn.fetch(checkpoint):
        ids += [d.id for d in batch.documents]
        last = batch.checkpoint
    return ids, last


@pytest.fixture()
def stores(tmp_path):
    raw = FolderRawDocumentStore(tmp_path / "raw")
    checkpoints = SqliteCheckpointStore(tmp_path / "state.db")
    yield raw, checkpoints
    checkpoints.close()


def listings(backlog: BacklogDouble) -> list:
    """Requests of the issue list (not of an issue's comments)."""
    return [r for r in backlog.requests if r.path == "/api/v2/issues"]


def raw_documents(raw) -> dict[str, dict]:
    return {key: raw.get(key).model_dump(mode="json") for key in raw.keys("backlog")}


# -- the contract -----------------------------------------------------------------------------
def test_the_backlog_connector_keeps_the_contract(backlog, clock):
    backlog.generate("APP", 230, comments=1)
    backlog.generate("OPS", 20, comments=2)
    backlog.add_wiki("APP", "Onboarding", "手順書: まずVPNに接続します。")

    def make():
        return connector(backlog, clock, projects=("APP", "OPS"), include_wikis=True)

    check_full_load(make())
    check_resume_from_every_checkpoint(make)
    check_incremental_after_edit(
        make(), lambda: "backlog:" + backlog.edit_issue("OPS-3")["issueKey"]
    )


# -- documents --------------------------------------------------------------------------------
def test_given_an_issue_with_comments_then_one_document_with_deep_links_and_no_change_logs(
    backlog, clock
):
    backlog.add_project("APP")
    backlog.add_issue("APP", "ログインできない", "本番でログインに失敗します。", assignee=2)
    first = backlog.add_comment("APP-1", "再現しました。原因を調査します。", author=3)
    backlog.add_comment("APP-1", None, change_log=[{"field": "status", "newValue": "Resolved"}])
    backlog.add_comment("APP-1", "  ", change_log=[{"field": "assigner", "newValue": "Alice"}])
    last = backlog.add_comment("APP-1", "Fixed in release 1.2.", author=2)

    [doc] = full_load(connector(backlog, clock)).values()

    url = f"{backlog.url}/view/APP-1"
    assert doc["id"] == "backlog:APP-1" and doc["source"] == "backlog" and doc["url"] == url
    assert doc["title"] == "APP-1 ログインできない"
    assert doc["text"] == (
        "本番でログインに失敗します。\n\n"
        f"佐藤 健二 — {first['created'][:10]} {first['created'][11:16]} UTC — "
        f"{url}#comment-{first['id']}\n再現しました。原因を調査します。\n\n"
        f"Alice Smith — {last['created'][:10]} {last['created'][11:16]} UTC — "
        f"{url}#comment-{last['id']}\nFixed in release 1.2."
    )
    assert doc["metadata"] == {
        "project": "APP",
        "kind": "issue",
        "key": "APP-1",
        "status": "Open",
        "issue_type": "Bug",
        "priority": "Normal",
        "assignee": "Alice Smith",
        "author": "山田 太郎",
    }
    issue = backlog.issues[next(iter(backlog.issues))]
    assert doc["created_at"] == issue["created"] and doc["updated_at"] == issue["updated"]


def test_given_wikis_enabled_then_each_page_is_a_document_and_edits_are_polled(backlog, clock):
    backlog.generate("APP", 2)
    page = backlog.add_wiki("APP", "Release手順", "1. タグを打つ\n2. デプロイする")
    other = backlog.add_wiki("APP", "FAQ", "Q: VPN? A: yes")
    conn = connector(backlog, clock, include_wikis=True)
    ids, checkpoint = polled(conn, None)
    docs = full_load(conn)

    wiki = docs[f"backlog:wiki:{page['id']}"]
    assert wiki["url"] == f"{backlog.url}/alias/wiki/{page['id']}"
    assert wiki["text"] == "1. タグを打つ\n2. デプロイする"
    assert wiki["metadata"]["kind"] == "wiki" and wiki["metadata"]["project"] == "APP"
    assert f"backlog:wiki:{other['id']}" in set(conn.live_ids())

    backlog.edit_wiki(other["id"], "Q: VPN? A: yes, always")
    again, _ = polled(conn, checkpoint)
    assert again == [f"backlog:wiki:{other['id']}"]


# -- incremental ------------------------------------------------------------------------------
def test_given_several_edits_on_one_day_across_two_polls_then_each_version_once(backlog, clock):
    """updatedSince is date-only: every poll re-lists the whole day (and the day before) and
    must keep only versions it has not stored."""
    day = datetime(2024, 6, 3, tzinfo=UTC)
    backlog.add_project("APP")
    for n in range(5):
        backlog.add_issue("APP", f"issue {n}", at=day + timedelta(hours=1, minutes=n))
    conn = connector(backlog, clock)
    ids, checkpoint = polled(conn, None)
    assert len(ids) == 5

    backlog.edit_issue("APP-2", description="first edit", at=day + timedelta(hours=10))
    backlog.add_comment("APP-4", "same-day comment", at=day + timedelta(hours=10))  # a tie
    first, checkpoint = polled(conn, checkpoint)
    assert sorted(first) == ["backlog:APP-2", "backlog:APP-4"]

    backlog.edit_issue("APP-2", description="second edit", at=day + timedelta(hours=11))
    backlog.edit_issue("APP-1", description="an edit", at=day + timedelta(hours=11))
    before = len(backlog.calls("GET", "/comments"))
    second, checkpoint = polled(conn, checkpoint)
    assert sorted(second) == ["backlog:APP-1", "backlog:APP-2"]
    assert len(backlog.calls("GET", "/comments")) - before == 2, "stored issues cost no comments"

    listing = listings(backlog)[-1]
    assert listing.params["updatedSince"] == ["2024-06-02"], "the watermark's day minus one"
    nothing, _ = polled(conn, checkpoint)
    assert nothing == []


def test_given_an_issue_edited_between_pages_then_no_issue_is_skipped(backlog, clock):
    """Sorted by update, an edit moves an issue to the end and shifts the later offsets."""
    backlog.generate("APP", 250, comments=0)
    batches = connector(backlog, clock).fetch(None)
    ids = [d.id for d in next(batches).documents]
    backlog.edit_issue("APP-5", description="edited mid-run")
    for batch in batches:
        ids += [d.id for d in batch.documents]
    assert set(ids) == {f"backlog:APP-{n}" for n in range(1, 251)}


def test_given_a_crash_mid_run_when_resumed_then_the_store_equals_a_full_sync(
    backlog, clock, stores, tmp_path
):
    backlog.generate("APP", 250, comments=2)
    raw, checkpoints = stores
    # The 120th comment request fails for good (no retries): the run dies in its second page.
    backlog.fail_next(503, "/comments", after=120)
    with pytest.raises(SourceError):
        run_connector(
            connector(backlog, clock, max_retries=0), raw_store=raw, checkpoints=checkpoints
        )
    assert len(list(raw.keys("backlog"))) == 100, "the first page was stored and checkpointed"

    before = len(backlog.calls("GET", "/comments"))
    report = run_connector(connector(backlog, clock), raw_store=raw, checkpoints=checkpoints)
    assert report.complete and report.documents_written == 150
    assert len(backlog.calls("GET", "/comments")) - before == 150, "stored pages are not redone"

    fresh = FolderRawDocumentStore(tmp_path / "fresh")
    run_connector(
        connector(backlog, clock),
        raw_store=fresh,
        checkpoints=SqliteCheckpointStore(tmp_path / "f.db"),
        full=True,
    )
    assert raw_documents(raw) == raw_documents(fresh)


def test_given_a_revoked_key_when_syncing_then_source_error_and_checkpoint_unchanged(
    backlog, clock, stores
):
    backlog.generate("APP", 5)
    raw, checkpoints = stores
    run_connector(connector(backlog, clock), raw_store=raw, checkpoints=checkpoints)
    saved = checkpoints.load(checkpoint_name("backlog"))
    stored = raw_documents(raw)
    backlog.edit_issue("APP-1", summary="changed")

    with pytest.raises(SourceError, match="rejected the API key"):
        run_connector(
            connector(backlog, clock, api_key="revoked"), raw_store=raw, checkpoints=checkpoints
        )

    assert checkpoints.load(checkpoint_name("backlog")) == saved
    assert raw_documents(raw) == stored


def test_given_deleted_issues_when_synced_then_their_documents_go(backlog, clock, stores):
    backlog.generate("APP", 120, comments=0)
    raw, checkpoints = stores
    run_connector(connector(backlog, clock), raw_store=raw, checkpoints=checkpoints)
    backlog.delete_issue("APP-7")
    backlog.delete_issue("APP-110")
    report = run_connector(connector(backlog, clock), raw_store=raw, checkpoints=checkpoints)
    assert report.deleted == 2 and report.documents_written == 0
    keys = {k.rsplit("/", 1)[1] for k in raw.keys("backlog")}
    assert len(keys) == 118 and not any("APP-7." in k or "APP-110." in k for k in keys)


def test_given_an_issue_deleted_between_listing_and_comments_then_it_is_skipped(backlog, clock):
    backlog.generate("APP", 3)
    backlog.fail_next(404, "/issues/APP-2/comments", message="No issue.")
    ids, _ = polled(connector(backlog, clock), None)
    assert ids == ["backlog:APP-1", "backlog:APP-3"]


def test_given_an_unknown_project_in_the_settings_when_syncing_then_not_found(backlog, clock):
    backlog.generate("APP", 1)
    with pytest.raises(NotFound, match="no Backlog project 'NOPE'"):
        list(connector(backlog, clock, projects=("APP", "NOPE")).fetch(None))


# -- settings and the registry ----------------------------------------------------------------
@pytest.fixture()
def env(backlog, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("KASS_BACKLOG_SPACE_URL", backlog.url + "/")
    monkeypatch.setenv("KASS_BACKLOG_API_KEY", backlog.api_key)
    monkeypatch.setenv("KASS_BACKLOG_PROJECTS", "APP, OPS")
    monkeypatch.setenv("KASS_BACKLOG_INCLUDE_WIKIS", "true")


def test_given_env_settings_when_the_registry_builds_it_then_it_syncs_every_project(backlog, env):
    backlog.generate("APP", 2)
    backlog.generate("OPS", 1)
    conn = connectors.make_connector("backlog", Settings())
    assert isinstance(conn, BacklogConnector) and conn.projects == ["APP", "OPS"]
    assert conn.include_wikis and conn.client.space_url == backlog.url
    assert set(full_load(conn)) == {"backlog:APP-1", "backlog:APP-2", "backlog:OPS-1"}


def test_given_no_projects_when_building_the_connector_then_invalid_input(env, monkeypatch):
    monkeypatch.setenv("KASS_BACKLOG_PROJECTS", "")
    with pytest.raises(InvalidInput, match="projects"):
        connectors.make_connector("backlog", Settings())


def test_given_no_credential_when_building_then_invalid_input_naming_the_variable(env, monkeypatch):
    monkeypatch.delenv("KASS_BACKLOG_API_KEY")
    with pytest.raises(InvalidInput, match="KASS_BACKLOG_API_KEY"):
        connectors.make_connector("backlog", Settings())


# -- tickets ----------------------------------------------------------------------------------
def test_given_a_draft_when_creating_then_the_issue_is_posted_with_defaults(backlog, env):
    backlog.add_project("OPS", issue_types=("Task", "Bug"))
    tracker = ticket_tracker(Settings())
    created = tracker.create_issue(
        TicketDraft(project_key="OPS", summary="ディスク使用率が90%", description="監視より")
    )
    assert created.key == "OPS-1" and created.url == f"{backlog.url}/view/OPS-1"
    [issue] = backlog.created
    assert issue["summary"] == "ディスク使用率が90%" and issue["description"] == "監視より"
    assert issue["issueType"]["name"] == "Task", "the project's first type"
    assert issue["priority"]["id"] == 3


def test_given_named_type_and_priority_when_creating_then_they_are_matched_by_name(backlog, clock):
    backlog.add_project("APP")
    tracker = BacklogTickets(client(backlog, clock))
    tracker.create_issue(
        TicketDraft(project_key="APP", summary="x", issue_type="task", priority="HIGH")
    )
    [issue] = backlog.created
    assert issue["issueType"]["name"] == "Task" and issue["priority"]["name"] == "High"


def test_given_an_unknown_project_when_creating_then_not_found_and_nothing_created(backlog, clock):
    tracker = BacklogTickets(client(backlog, clock))
    with pytest.raises(NotFound, match="no Backlog project 'XYZ'"):
        tracker.create_issue(TicketDraft(project_key="XYZ", summary="x"))
    assert backlog.created == [] and backlog.calls("POST") == []


def test_given_an_unknown_issue_type_when_creating_then_invalid_input_listing_valid_ones(
    backlog, clock
):
    backlog.add_project("APP")
    tracker = BacklogTickets(client(backlog, clock))
    with pytest.raises(InvalidInput, match=r"'Epic' \(valid: Bug, Task\)"):
        tracker.create_issue(TicketDraft(project_key="APP", summary="x", issue_type="Epic"))
    assert backlog.created == []


# -- target-like: a 2,000-issue space ---------------------------------------------------------
def test_given_2000_issues_when_50_edits_and_5_deletions_then_the_poll_fetches_only_them(
    stores, tmp_path
):
    """Backlog's rate limit is simulated (600 requests a minute on a shared fake clock), so the
    simulated minutes are what the sync would take on a real space at that limit."""
    sim = FakeTime()
    backlog = BacklogDouble(clock=sim.time, rate_limit=600).start()
    try:
        keys = backlog.generate("APP", 2000, comments=3, step=timedelta(minutes=7))
        raw, checkpoints = stores

        def sync(store=raw, state=checkpoints, full=False):
            start_requests, start_sim, start_wall = (
                len(backlog.requests),
                sim.now,
                time.perf_counter(),
            )
            report = run_connector(
                connector(backlog, sim), raw_store=store, checkpoints=state, full=full
            )
            return report, {
                "requests": len(backlog.requests) - start_requests,
                "simulated_minutes": round((sim.now - start_sim) / 60, 1),
                "wall_seconds": round(time.perf_counter() - start_wall, 2),
            }

        full, full_cost = sync()
        assert full.complete and full.documents_written == 2000

        # 50 edits on the last day of activity (one of them a comment), then 5 deletions.
        edited = keys[::40]
        for n, key in enumerate(edited):
            if n % 2:
                backlog.add_comment(key, f"追記 {n}: 修正済みです。")
            else:
                backlog.edit_issue(key, description=f"edited {n}")
        for key in keys[5:2000:400]:
            backlog.delete_issue(key)

        listings_before = len(listings(backlog))
        comments_before = len(backlog.calls("GET", "/comments"))
        poll, poll_cost = sync()
        deleted = set(keys[5:2000:400])
        assert poll.documents_written == len(set(edited) - deleted)
        assert poll.deleted == 5
        assert len(backlog.calls("GET", "/comments")) - comments_before == len(
            set(edited) - deleted
        )
        poll_cost["issue_list_pages"] = len(listings(backlog)) - listings_before

        fresh = FolderRawDocumentStore(tmp_path / "fresh")
        _, fresh_cost = sync(fresh, SqliteCheckpointStore(tmp_path / "fresh.db"), full=True)
        assert raw_documents(raw) == raw_documents(fresh)
        print(f"\nbacklog 2000 issues: full {full_cost}\n  poll {poll_cost}\n  fresh {fresh_cost}")
    finally:
        backlog.stop()
