"""GitLab payloads -> documents, and the per-stream checkpoint's de-duplication. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kass.connectors.gitlab_documents import (
    doc_id,
    format_time,
    item_document,
    merge_request_diff,
    note_block,
    parse_time,
)

URL = "https://gitlab.example.com/team/app/-/issues/7"
T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def note(note_id: int, body: str, *, minute: int = 0, **extra) -> dict:
    return {
        "id": note_id,
        "body": body,
        "author": {"username": "bob", "name": "Bob"},
        "created_at": f"2026-03-02T11:{minute:02d}:00.250Z",
        "system": False,
        **extra,
    }


def issue(**extra) -> dict:
    return {
        "iid": 7,
        "title": "Push notifications stop",
        "description": "  Since 2.3 no push arrives.  ",
        "state": "closed",
        "labels": ["bug", "push"],
        "author": {"username": "alice"},
        "web_url": URL,
        "created_at": "2026-03-02T10:00:00.000Z",
        "updated_at": "2026-03-02T11:05:00.250Z",
        **extra,
    }


def test_given_kinds_when_ids_made_then_gitlab_reference_style():
    assert doc_id("team/app", "issue", 12) == "gitlab:team/app#12"
    assert doc_id("group/sub/app", "merge_request", 3) == "gitlab:group/sub/app!3"


def test_given_gitlab_times_when_parsed_and_formatted_then_utc_milliseconds_truncated():
    moment = parse_time("2016-01-04T15:31:51.081Z")
    assert moment == datetime(2016, 1, 4, 15, 31, 51, 81000, tzinfo=UTC)
    assert parse_time("2016-01-04T16:31:51.081+01:00") == moment
    assert parse_time(None) is None
    assert format_time(moment + timedelta(microseconds=999)) == "2016-01-04T15:31:51.081Z"


def test_given_an_issue_with_notes_when_made_a_document_then_system_notes_dropped_in_order():
    notes = [
        note(2, "Second.", minute=3),
        note(9, "changed the description", minute=1, system=True),
        note(1, "First.", minute=1),
        note(3, "   ", minute=4),
    ]

    document = item_document("team/app", "issue", issue(), notes)

    assert document.id == "gitlab:team/app#7" and document.url == URL
    assert document.text == (
        "Since 2.3 no push arrives.\n\n"
        f"bob (2026-03-02 11:01 UTC) {URL}#note_1\nFirst.\n\n"
        f"bob (2026-03-02 11:03 UTC) {URL}#note_2\nSecond."
    )
    assert document.metadata == {
        "project": "team/app",
        "kind": "issue",
        "state": "closed",
        "labels": "bug,push",
        "author": "alice",
    }
    assert document.updated_at == datetime(2026, 3, 2, 11, 5, 0, 250000, tzinfo=UTC)


def test_given_no_description_and_missing_fields_when_made_then_no_empty_values():
    document = item_document(
        "team/app", "merge_request", issue(description=None, author=None, labels=[]), []
    )

    assert document.text == ""
    assert document.metadata == {
        "project": "team/app",
        "kind": "merge_request",
        "state": "closed",
        "labels": "",
    }


def test_given_a_diff_note_when_formatted_then_the_file_is_named():
    block = note_block(URL, note(5, "Rename this.", position={"new_path": "src/app.py"}))

    assert block == f"bob (2026-03-02 11:00 UTC, on src/app.py) {URL}#note_5\nRename this."


def test_given_an_mr_asked_by_id_when_mapped_then_project_path_from_its_reference():
    diff = merge_request_diff(
        "42",
        {"iid": 3, "title": "Fix", "web_url": "u", "references": {"full": "team/app!3"}},
        [{"old_path": "a.py", "new_path": "b.py", "diff": "@@", "deleted_file": False}],
    )

    assert diff.project == "team/app" and diff.iid == 3 and diff.author is None
    assert diff.changes[0].old_path == "a.py" and diff.changes[0].new_path == "b.py"
