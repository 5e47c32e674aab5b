"""The GitLab connector and MR reader against the GitLab REST double (real python-gitlab, real
HTTP): the connector contract, notes and deep links, retries, auth failures, resume, overlap,
deletions, and a 2,000-issue incremental sync that fetches only what changed."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from connector_contract import (
    check_full_load,
    check_incremental_after_edit,
    check_resume_from_every_checkpoint,
    full_load,
)
from lambda_harness import context, load_handler
from tests.doubles.gitlab_api import GitLabDouble

from kass.adapters.local.raw_store import FolderRawDocumentStore
from kass.adapters.local.state import SqliteCheckpointStore
from kass.chat.citations import resolve_citations
from kass.connectors import gitlab as gitlab_connector
from kass.connectors import make_connector
from kass.connectors.gitlab import (
    GitLabConnector,
    GitLabMergeRequests,
    GitLabSettings,
    from_settings,
    merge_request_reader,
)
from kass.connectors.gitlab_documents import format_time, parse_time
from kass.errors import InvalidInput, NotFound, SourceError
from kass.ingest.fetcher import checkpoint_name, run_connector
from kass.models import Chunk, Document, SearchHit
from kass.raw_keys import doc_key
from kass.settings import load_settings

CHECKPOINT = checkpoint_name("gitlab")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    """No developer .env or KASS_GITLAB_* variable leaks into these tests."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("KASS_"):
            monkeypatch.delenv(name)


@pytest.fixture()
def double() -> Iterator[GitLabDouble]:
    with GitLabDouble() as server:
        yield server


def settings(double: GitLabDouble, **overrides: Any) -> GitLabSettings:
    values: dict[str, Any] = {"url": double.url, "token": double.token, "projects": ["team/app"]}
    values.update(overrides)
    return GitLabSettings(**values)


def connector(double: GitLabDouble, **overrides: Any) -> GitLabConnector:
    return GitLabConnector(settings(double, **overrides))


class MemoryRawStore:
    """The raw document port in memory, where the folder store's fsync per file would
    dominate a 2,000-document test."""

    location = "memory"

    def __init__(self) -> None:
        self.objects: dict[str, Document] = {}

    def put(self, document: Document) -> str:
        key = doc_key(document.source, document.id)
        self.objects[key] = document
        return key

    def get(self, key: str) -> Document | None:
        return self.objects.get(key)

    def delete(self, key: str) -> bool:
        return self.objects.pop(key, None) is not None

    def keys(self, source: str | None = None) -> Iterator[str]:
        prefix = "raw/" if source is None else doc_key(source, "x").rsplit("/", 1)[0] + "/"
        return iter(sorted(key for key in self.objects if key.startswith(prefix)))


class Stores:
    def __init__(self, root: Path, *, in_memory: bool = False) -> None:
        self.raw: FolderRawDocumentStore | MemoryRawStore = (
            MemoryRawStore() if in_memory else FolderRawDocumentStore(root)
        )
        root.mkdir(parents=True, exist_ok=True)
        self.checkpoints = SqliteCheckpointStore(root / "state.db")

    def run(self, source: GitLabConnector, **kwargs: Any):
        return run_connector(source, raw_store=self.raw, checkpoints=self.checkpoints, **kwargs)

    def contents(self) -> dict[str, dict[str, Any]]:
        documents = {key: self.raw.get(key) for key in self.raw.keys("gitlab")}
        return {key: doc.model_dump(mode="json") for key, doc in documents.items() if doc}

    def checkpoint(self) -> dict[str, Any] | None:
        return self.checkpoints.load(CHECKPOINT)


def seed_issues(double: GitLabDouble, count: int, project: str = "team/app") -> None:
    """`count` issues, one minute apart, each with one user note."""
    for n in range(1, count + 1):
        double.tick(timedelta(minutes=1))
        double.add_issue(project, f"Issue {n}", f"Body of issue {n}.")
        double.add_note(project, "issue", n, f"A comment on issue {n}.")


def notes_fetched(double: GitLabDouble) -> list[int]:
    """iids whose notes were requested (issues), in request order."""
    return [int(r.path.split("/")[-2]) for r in double.requests if r.path.endswith("/notes")]


# -- the contract ----------------------------------------------------------------------------
def test_the_gitlab_connector_keeps_the_contract(double):
    double.generate(["team/app", "team/sub/web", "team/sub/api"], issues=3, merge_requests=2)

    def make() -> GitLabConnector:
        return connector(double, projects=["team/app"], groups=["team/sub"], per_page=2)

    check_full_load(make())
    check_resume_from_every_checkpoint(make)

    def edit() -> str:
        double.edit_merge_request("team/sub/web", 2, title="edited")
        return "gitlab:team/sub/web!2"

    check_incremental_after_edit(make(), edit)


def test_given_issues_and_merge_requests_when_fetched_then_ids_urls_and_metadata(double):
    double.add_issue("team/app", "Login fails", "Users cannot log in.", labels=["bug", "auth"])
    double.add_merge_request("team/app", "Fix login", "Closes #1.", author="carol", state="merged")

    documents = full_load(connector(double))

    issue, merge_request = documents["gitlab:team/app#1"], documents["gitlab:team/app!1"]
    assert issue["url"] == f"{double.url}/team/app/-/issues/1"
    assert merge_request["url"] == f"{double.url}/team/app/-/merge_requests/1"
    assert issue["title"] == "Login fails" and issue["source"] == "gitlab"
    assert issue["metadata"] == {
        "project": "team/app",
        "kind": "issue",
        "state": "opened",
        "labels": "bug,auth",
        "author": "alice",
    }
    assert merge_request["metadata"]["kind"] == "merge_request"
    assert merge_request["metadata"]["state"] == "merged"
    assert merge_request["metadata"]["author"] == "carol"
    assert issue["created_at"] and issue["updated_at"]


def test_given_notes_when_fetched_then_each_follows_the_description_with_its_deep_link(double):
    double.add_issue("team/app", "Login fails", "Users cannot log in.")
    first = double.add_note("team/app", "issue", 1, "Reproduced on staging.", author="bob")
    double.add_note("team/app", "issue", 1, "changed the description", system=True)
    second = double.add_note("team/app", "issue", 1, "The session cookie expires early.")
    double.add_merge_request("team/app", "Fix cookie", "")
    review = double.add_note(
        "team/app", "merge_request", 1, "Use the constant.", position_path="src/auth.py"
    )

    documents = full_load(connector(double))

    url = f"{double.url}/team/app/-/issues/1"
    stamp = parse_time(first["created_at"]).strftime("%Y-%m-%d %H:%M")
    stamp2 = parse_time(second["created_at"]).strftime("%Y-%m-%d %H:%M")
    assert documents["gitlab:team/app#1"]["text"] == (
        "Users cannot log in.\n\n"
        f"bob ({stamp} UTC) {url}#note_{first['id']}\nReproduced on staging.\n\n"
        f"bob ({stamp2} UTC) {url}#note_{second['id']}\nThe session cookie expires early."
    )
    mr_text = documents["gitlab:team/app!1"]["text"]
    assert mr_text.startswith("bob (") and ", on src/auth.py) " in mr_text
    assert mr_text.endswith(f"/merge_requests/1#note_{review['id']}\nUse the constant.")
    # A citation of a claim made in a note links to that note.
    document = documents["gitlab:team/app#1"]
    chunk = Chunk(
        id="c1",
        doc_id=document["id"],
        position=0,
        text=f"{document['title']}\n\n{document['text']}",
        source="gitlab",
        title=document["title"],
        url=document["url"],
    )
    cited = resolve_citations(
        "The session cookie expires early [1].", [SearchHit(chunk=chunk, score=1.0)]
    )
    assert cited.citations[0].link == f"{url}#note_{second['id']}"


def test_given_items_without_user_notes_when_fetched_then_their_notes_are_not_requested(double):
    double.add_issue("team/app", "Quiet issue", "Nobody commented.")
    double.add_issue("team/app", "Busy issue", "Everyone commented.")
    double.add_note("team/app", "issue", 2, "Me too.")

    full_load(connector(double))

    assert notes_fetched(double) == [2]


def test_given_a_group_when_fetched_then_its_projects_and_subgroups_projects_come(double):
    double.generate(["team/app", "team/sub/web", "other/tool"], issues=2, merge_requests=1)
    double.add_project("team/wiki", issues_enabled=False)
    double.add_merge_request("team/wiki", "Docs", "")

    documents = full_load(connector(double, projects=[], groups=["team"]))

    projects = {d["metadata"]["project"] for d in documents.values()}
    assert projects == {"team/app", "team/sub/web", "team/wiki"}
    assert "gitlab:team/wiki!1" in documents
    assert not [r for r in double.requests if r.status == 403], "disabled issues not listed"


def test_given_a_project_by_numeric_id_when_fetched_then_ids_use_its_path(double):
    project = double.add_project("team/app")
    double.add_issue("team/app", "By id", "")

    documents = full_load(connector(double, projects=[str(project.id)]))

    assert list(documents) == ["gitlab:team/app#1"]


# -- retries and failures --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (429, {"Retry-After": "0"}),
        (429, {"RateLimit-Reset": "0"}),  # no Retry-After: waits until the reset (past: none)
        (502, {}),
    ],
)
def test_given_a_throttled_or_failing_request_when_fetching_then_python_gitlab_retries(
    double, status, headers
):
    seed_issues(double, 3)
    double.fail_next(status, headers, path_contains="/issues")

    documents = full_load(connector(double))

    assert len(documents) == 3
    listing = [r.status for r in double.requests if r.path.endswith("/issues")]
    assert listing[:2] == [status, 200]


def test_given_429_past_max_retries_when_fetching_then_source_error(double):
    seed_issues(double, 2)
    double.fail_next(429, {"Retry-After": "0"}, path_contains="/issues", times=3)

    with pytest.raises(SourceError, match="still rate limiting .* after 2 retries"):
        full_load(connector(double, max_retries=2))
    assert len([r for r in double.requests if r.path.endswith("/issues")]) == 3


def test_given_a_wrong_token_when_run_then_source_error_and_checkpoint_unchanged(double, tmp_path):
    seed_issues(double, 4)
    stores = Stores(tmp_path)
    stores.run(connector(double))
    before, raw_before = stores.checkpoint(), stores.contents()
    double.edit_issue("team/app", 2, title="changed meanwhile")
    double.token = "rotated"

    with pytest.raises(SourceError) as caught:
        stores.run(connector(double, token="revoked"))

    assert str(caught.value) == f"GitLab rejected the token for {double.url}: 401 Unauthorized"
    assert stores.checkpoint() == before
    assert stores.contents() == raw_before


def test_given_403_on_a_later_page_when_run_then_earlier_pages_saved_and_resume_completes(
    double, tmp_path
):
    seed_issues(double, 5)
    double.fail_next(403, path_contains="/issues/3/notes")  # issue 3 is on the second page
    stores = Stores(tmp_path)

    with pytest.raises(SourceError, match="GitLab rejected the token .*403 Forbidden"):
        stores.run(connector(double, per_page=2))

    saved = stores.checkpoint()
    assert saved is not None
    watermark = saved["projects"]["team/app"]["issue"]["updated_at"]
    assert parse_time(watermark) == parse_time(double.item("team/app", "issue", 2)["updated_at"])
    assert sorted(stores.contents()) == [doc_key("gitlab", f"gitlab:team/app#{n}") for n in (1, 2)]
    report = stores.run(connector(double, per_page=2))
    assert report.complete and report.documents_written == 3
    assert len(stores.contents()) == 5


def test_given_an_unknown_project_or_group_when_fetching_then_source_error_naming_it(double):
    double.add_project("team/app")

    with pytest.raises(SourceError, match="GitLab project 'team/nope' not found"):
        list(connector(double, projects=["team/app", "team/nope"]).fetch(None))
    with pytest.raises(SourceError, match="GitLab group 'ghosts' not found"):
        list(connector(double, projects=[], groups=["ghosts"]).fetch(None))


# -- resume, overlap, ties, deletions --------------------------------------------------------
class SimulatedCrash(BaseException):
    """Not an Exception: nothing on the way may catch it, as nothing catches a killed process."""


class CrashingRawStore(FolderRawDocumentStore):
    """Dies (like a killed Lambda) when it is asked to write document number `crash_at`."""

    def __init__(self, home: Path, crash_at: int) -> None:
        super().__init__(home)
        self.crash_at = crash_at
        self.puts = 0

    def put(self, document):
        self.puts += 1
        if self.puts == self.crash_at:
            raise SimulatedCrash(f"killed at document {self.puts}")
        return super().put(document)


def test_given_a_crash_mid_run_when_run_again_then_it_resumes_and_ends_like_a_full_sync(
    double, tmp_path
):
    seed_issues(double, 7)
    stores = Stores(tmp_path / "run")
    crashing = CrashingRawStore(tmp_path / "run", crash_at=5)  # in the second page of three

    with pytest.raises(SimulatedCrash):
        run_connector(
            connector(double, per_page=3), raw_store=crashing, checkpoints=stores.checkpoints
        )
    double.reset_log()
    report = stores.run(connector(double, per_page=3))

    assert report.complete
    assert sorted(notes_fetched(double)) == [4, 5, 6, 7], "page 1 is not fetched again"
    fresh = Stores(tmp_path / "fresh")
    fresh.run(connector(double))
    assert stores.contents() == fresh.contents()


def test_given_no_change_when_polled_then_the_overlap_is_read_and_nothing_refetched(
    double, tmp_path
):
    seed_issues(double, 30)
    stores = Stores(tmp_path)
    stores.run(connector(double))
    watermark = parse_time(stores.checkpoint()["projects"]["team/app"]["issue"]["updated_at"])
    double.reset_log()

    report = stores.run(connector(double))

    assert report.documents_written == 0 and report.batches == 0
    polls = [r for r in double.requests if "updated_after" in r.params]
    assert [r.params["updated_after"] for r in polls] == [
        format_time(watermark - timedelta(minutes=10))
    ]
    assert notes_fetched(double) == []


def test_given_an_update_shown_late_inside_the_overlap_when_polled_then_it_is_fetched(
    double, tmp_path
):
    seed_issues(double, 30)
    stores = Stores(tmp_path)
    stores.run(connector(double))
    stream = stores.checkpoint()["projects"]["team/app"]["issue"]
    watermark = parse_time(stream["updated_at"])
    # A replica lagging behind showed this update after the poll that set the watermark.
    double.edit_issue("team/app", 3, title="Late", updated_at=watermark - timedelta(minutes=4))

    report = stores.run(connector(double))

    assert report.documents_written == 1
    assert stores.raw.get(doc_key("gitlab", "gitlab:team/app#3")).title == "Late"


def test_given_more_items_at_one_instant_than_a_page_when_fetched_then_none_is_missed(
    double, monkeypatch
):
    moment = double.tick()
    for n in range(5):
        double.add_issue("team/app", f"Imported {n}", "", created_at=moment)
    monkeypatch.setattr(gitlab_connector, "LIST_PAGE", 2)

    def make() -> GitLabConnector:
        return connector(double, per_page=2)

    assert len(full_load(make())) == 5
    check_resume_from_every_checkpoint(make)
    assert len(set(make().live_ids())) == 5


def test_given_a_deleted_issue_when_run_then_live_ids_drop_it_and_its_raw_document_goes(
    double, tmp_path
):
    seed_issues(double, 6)
    stores = Stores(tmp_path)
    stores.run(connector(double))
    double.delete_issue("team/app", 4)

    report = stores.run(connector(double))

    assert report.deleted == 1
    assert "gitlab:team/app#4" not in set(connector(double).live_ids())
    assert doc_key("gitlab", "gitlab:team/app#4") not in stores.contents()
    assert len(stores.contents()) == 5


def test_given_a_project_removed_and_added_back_when_run_then_it_loads_in_full_again(
    double, tmp_path
):
    seed_issues(double, 3, "team/app")
    seed_issues(double, 2, "team/web")
    stores = Stores(tmp_path)
    stores.run(connector(double, projects=["team/app", "team/web"]))

    removed = stores.run(connector(double, projects=["team/app"]))
    forgotten = "team/web" not in stores.checkpoint()["projects"]
    back = stores.run(connector(double, projects=["team/app", "team/web"]))

    assert removed.deleted == 2 and forgotten
    assert back.documents_written == 2
    assert len(stores.contents()) == 5


# -- merge requests for the review agent -----------------------------------------------------
def test_given_a_merge_request_when_read_then_metadata_and_file_changes(double):
    project = double.add_project("team/app")
    double.add_merge_request(
        "team/app",
        "Fix login",
        "Closes #1.",
        author="carol",
        diffs=[
            {"new_path": "src/auth.py", "diff": "@@ -1 +1 @@\n-a\n+b\n"},
            {"new_path": "docs/auth.md", "diff": "@@ -0,0 +1 @@\n+new\n", "new_file": True},
        ],
    )

    by_path = GitLabMergeRequests(settings(double)).merge_request("team/app", 1)
    by_id = GitLabMergeRequests(settings(double)).merge_request(str(project.id), 1)

    assert by_path == by_id
    assert by_path.project == "team/app" and by_path.iid == 1 and by_path.author == "carol"
    assert by_path.url == f"{double.url}/team/app/-/merge_requests/1"
    assert [(c.new_path, c.new_file) for c in by_path.changes] == [
        ("src/auth.py", False),
        ("docs/auth.md", True),
    ]
    assert by_path.changes[0].diff == "@@ -1 +1 @@\n-a\n+b\n"


def test_given_a_gitlab_without_diffs_endpoint_when_read_then_changes_endpoint_used(double):
    double.add_merge_request("team/app", "Old server", "", diffs=[{"new_path": "a.py"}])
    double.diffs_endpoint = False

    read = GitLabMergeRequests(settings(double)).merge_request("team/app", 1)

    assert [c.new_path for c in read.changes] == ["a.py"]
    assert double.calls("/merge_requests/1/changes")


def test_given_an_unknown_merge_request_when_read_then_not_found(double):
    double.add_project("team/app")
    reader = GitLabMergeRequests(settings(double))

    with pytest.raises(NotFound, match=r"^merge request team/app!42 not found$"):
        reader.merge_request("team/app", 42)
    with pytest.raises(NotFound, match=r"merge request team/ghost!1 not found"):
        reader.merge_request("team/ghost", 1)


def test_given_a_wrong_token_when_reading_a_merge_request_then_source_error(double):
    double.add_merge_request("team/app", "Fix", "")

    with pytest.raises(SourceError, match="GitLab rejected the token"):
        GitLabMergeRequests(settings(double, token="wrong")).merge_request("team/app", 1)


# -- settings and factories ------------------------------------------------------------------
def test_given_env_settings_when_made_by_the_registry_then_a_working_connector(double, monkeypatch):
    double.generate(["team/app", "team/web"], issues=2, merge_requests=1)
    monkeypatch.setenv("KASS_GITLAB_URL", double.url + "/")
    monkeypatch.setenv("KASS_GITLAB_TOKEN", double.token)
    monkeypatch.setenv("KASS_GITLAB_PROJECTS", " team/app , team/web,")

    source = make_connector("gitlab", load_settings())
    reader = merge_request_reader(load_settings())

    assert isinstance(source, GitLabConnector)
    assert source.settings.projects == ["team/app", "team/web"]
    assert len(full_load(source)) == 6
    assert reader.merge_request("team/web", 1).project == "team/web"


def test_given_json_lists_in_env_when_loaded_then_parsed(monkeypatch):
    monkeypatch.setenv("KASS_GITLAB_PROJECTS", '["team/app", 42]')
    monkeypatch.setenv("KASS_GITLAB_GROUPS", "platform")

    loaded = GitLabSettings()

    assert loaded.projects == ["team/app", "42"] and loaded.groups == ["platform"]
    assert loaded.url == "https://gitlab.com" and loaded.per_page == 100
    assert loaded.overlap_minutes == 10


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KASS_GITLAB_PROJECTS": "team/app"}, "GitLab token is not set"),
        ({"KASS_GITLAB_TOKEN": "t"}, "GitLab connector has nothing to sync"),
        (
            {"KASS_GITLAB_TOKEN": "t", "KASS_GITLAB_PROJECTS": "a", "KASS_GITLAB_PER_PAGE": "101"},
            "gitlab connector setting per_page",
        ),
        (
            {
                "KASS_GITLAB_TOKEN": "t",
                "KASS_GITLAB_PROJECTS": "a",
                "KASS_GITLAB_URL": "gitlab.com",
            },
            "gitlab connector setting url",
        ),
    ],
)
def test_given_incomplete_settings_when_made_then_invalid_input(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(InvalidInput, match=message):
        from_settings(load_settings())


def test_given_no_token_when_making_a_merge_request_reader_then_invalid_input():
    with pytest.raises(InvalidInput, match="KASS_GITLAB_TOKEN"):
        merge_request_reader(load_settings())


def test_given_the_gitlab_schedule_when_the_data_fetcher_runs_then_documents_written(
    double, monkeypatch, tmp_path
):
    double.generate(["team/app"], issues=4, merge_requests=2)
    monkeypatch.setenv("KASS_HOME", str(tmp_path))
    monkeypatch.setenv("KASS_GITLAB_URL", double.url)
    monkeypatch.setenv("KASS_GITLAB_TOKEN", double.token)
    monkeypatch.setenv("KASS_GITLAB_PROJECTS", "team/app")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "data_fetcher")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "kass-test")
    handler = load_handler("data_fetcher")
    try:
        report = handler.lambda_handler({"connector": "gitlab"}, context("data_fetcher", 900_000))
    finally:
        handler.runtime.close()

    assert report["complete"] and report["documents_written"] == 6


# -- the target: 2,000 issues, 50 edits, 5 deletions -----------------------------------------
def test_given_2000_issues_when_50_edited_and_5_deleted_then_the_poll_fetches_only_changes(
    double, tmp_path
):
    double.generate(["team/app"], issues=2000, merge_requests=60, max_notes=3, seed=11)
    stores = Stores(tmp_path / "incremental", in_memory=True)
    started = time.perf_counter()
    first = stores.run(connector(double))
    full_seconds, full_requests = time.perf_counter() - started, len(double.requests)
    assert first.complete and first.documents_written == 2060

    rng = random.Random(5)
    edited = rng.sample(range(1, 2001), 50)
    for n, iid in enumerate(edited):
        if n % 2:
            double.add_note("team/app", "issue", iid, f"Follow-up {n}: still seen in prod.")
        else:
            double.edit_issue("team/app", iid, title=f"Edited title {n}", labels=["bug"])
    deleted = rng.sample(sorted(set(range(1, 2001)) - set(edited)), 5)
    for iid in deleted:
        double.delete_issue("team/app", iid)
    double.reset_log()

    second = stores.run(connector(double))

    assert second.complete and second.documents_written == 50 and second.deleted == 5
    polls = [r for r in double.requests if "updated_after" in r.params]
    assert len(polls) == 2, "one page of changes per kind"
    fetched = notes_fetched(double)
    assert set(fetched) <= set(edited) and len(fetched) == len(set(fetched))
    commented = {iid for n, iid in enumerate(edited) if n % 2}
    assert commented <= set(fetched), "a new note brings its issue back with its notes"
    listing = [
        r
        for r in double.requests
        if r.params.get("order_by") == "created_at" and not r.path.endswith("/notes")
    ]
    assert len(listing) <= 1 + -(-1995 // 99) + 1, "live ids: 100 per page, issues and MRs"
    assert len(double.requests) == 1 + len(polls) + len(fetched) + len(listing)
    poll_requests = len(double.requests)

    fresh = Stores(tmp_path / "fresh", in_memory=True)
    fresh.run(connector(double))
    assert stores.contents() == fresh.contents()
    print(  # figures for docs/performance.md (measured, not asserted)
        f"gitlab 2000 issues: full {full_requests} requests in {full_seconds:.1f} s; "
        f"poll {poll_requests} requests"
    )
