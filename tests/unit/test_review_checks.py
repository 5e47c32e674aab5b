"""Deterministic merge request checks, table-driven: each added line -> the findings it raises."""

from __future__ import annotations

import pytest

from kass.chat.review_checks import (
    ReviewLimits,
    added_lines,
    diff_stats,
    render_findings,
    run_checks,
)
from kass.ports import FileChange, MergeRequestDiff


def _change(path: str, *added: str, removed: tuple[str, ...] = (), start: int = 10) -> FileChange:
    body = [f"@@ -{start},3 +{start},{len(added) + 1} @@ def f():", "     context"]
    body += [f"-{line}" for line in removed]
    body += [f"+{line}" for line in added]
    return FileChange(old_path=path, new_path=path, diff="\n".join(body) + "\n")


def _mr(*changes: FileChange) -> MergeRequestDiff:
    return MergeRequestDiff(
        project="team/app",
        iid=7,
        title="Change things",
        url="https://gitlab.example.com/team/app/-/merge_requests/7",
        changes=list(changes),
    )


def _line_checks(path: str, line: str) -> list[str]:
    """Checks raised by one added line (tests changed too, so no missing-tests finding)."""
    mr = _mr(_change(path, line), _change("tests/test_app.py", "def test_x(): pass"))
    return sorted({f.check for f in run_checks(mr) if f.path == path})


@pytest.mark.parametrize(
    ("path", "line", "expected"),
    [
        ("app/config.py", 'KEY = "AKIAIOSFODNN7EXAMPLE"', ["secret"]),
        (
            "app/config.py",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ["secret"],
        ),  # noqa: E501
        ("deploy/key.pem", "-----BEGIN RSA PRIVATE KEY-----", ["secret"]),
        ("deploy/id", "-----BEGIN OPENSSH PRIVATE KEY-----", ["secret"]),
        ("ci.yml", "token: glpat-abcdefghijklmnopqrstu", ["secret"]),
        ("bot.py", 'SLACK = "xoxb-1234567890-abcdefghij"', ["secret"]),
        ("app/db.py", 'password = "hunter2hunter2"', ["secret"]),
        ("app/db.py", "DB_PASSWORD: 'S3cr3t!x'", ["secret"]),
        # placeholders and lookups are not secrets
        ("app/db.py", 'password = "changeme"', []),
        ("app/db.py", 'password = "${DB_PASSWORD}"', []),
        ("app/db.py", "password = os.environ['DB_PASSWORD']", []),
        ("app/db.py", 'password = "<your password>"', []),
        # TODO / FIXME
        ("app/main.py", "# TODO: handle the empty case", ["todo"]),
        ("app/main.py", "x = 1  # FIXME later", ["todo"]),
        ("app/main.py", "todos = load_todos()", []),
        # debug statements, only in code that is not a test
        ("app/main.py", "    print(user)", ["debug"]),
        ("web/app.js", "  console.log(state)", ["debug"]),
        ("app/main.py", "    breakpoint()", ["debug"]),
        ("README.md", "print(x)", []),
        ("app/main.py", "    printer.print(doc)", []),
        # merge conflict markers
        ("app/main.py", "<<<<<<< HEAD", ["conflict"]),
        ("docs/x.md", ">>>>>>> feature", ["conflict"]),
        ("docs/x.md", "=======", []),
        # a clean line
        ("app/main.py", "return total / count", []),
    ],
)
def test_given_added_line_when_checked_then_expected_findings(path, line, expected):
    assert _line_checks(path, line) == expected


def test_given_secret_when_reported_then_message_redacts_it_and_names_the_line():
    mr = _mr(_change("app/config.py", "x = 1", 'KEY = "AKIAIOSFODNN7EXAMPLE"', start=20))

    (finding,) = [f for f in run_checks(mr) if f.check == "secret"]

    assert finding.severity == "high"
    assert (finding.path, finding.line) == ("app/config.py", 22)  # context 20, x 21, KEY 22
    assert "AKIAIOSFODNN7EXAMPLE" not in finding.message
    assert "AKIA…" in finding.message


def test_given_secret_only_in_removed_line_when_checked_then_nothing_flagged():
    mr = _mr(_change("app/config.py", "KEY = load()", removed=('KEY = "AKIAIOSFODNN7EXAMPLE"',)))

    assert [f.check for f in run_checks(mr) if f.check == "secret"] == []


@pytest.mark.parametrize(
    ("paths", "flagged"),
    [
        (["app/main.py"], True),
        (["app/main.py", "tests/test_main.py"], False),
        (["src/api.ts", "src/api.test.ts"], False),
        (["pkg/server.go", "pkg/server_test.go"], False),
        (["README.md", "docs/guide.md"], False),  # no code changed
        (["app/main.py", "spec/main_spec.rb"], False),
    ],
)
def test_given_changed_paths_when_checked_then_missing_tests_flagged_only_without_tests(
    paths, flagged
):
    mr = _mr(*(_change(path, "value = 1") for path in paths))

    assert any(f.check == "tests" for f in run_checks(mr)) is flagged


@pytest.mark.parametrize(
    ("files", "lines_each", "flagged"),
    [(2, 10, False), (4, 10, True), (1, 31, True), (3, 10, False)],
)
def test_given_diff_size_when_checked_then_oversized_beyond_limits(files, lines_each, flagged):
    changes = [
        _change(f"docs/f{i}.md", *(f"line {n}" for n in range(lines_each))) for i in range(files)
    ]
    limits = ReviewLimits(max_files=3, max_lines=30)

    assert any(f.check == "size" for f in run_checks(_mr(*changes), limits)) is flagged


def test_given_hunks_when_reading_added_lines_then_new_line_numbers_follow_context():
    change = FileChange(
        old_path="a.py",
        new_path="a.py",
        diff="@@ -1,3 +1,3 @@\n keep\n-old\n+new\n keep\n@@ -40,1 +41,2 @@\n ctx\n+late\n",
    )

    assert [(a.line, a.text) for a in added_lines(change)] == [(2, "new"), (42, "late")]
    assert diff_stats(_mr(change)).model_dump() == {"files": 1, "added": 2, "removed": 1}


def test_given_findings_when_rendered_then_most_severe_first_with_mr_link():
    mr = _mr(_change("app/main.py", "# TODO: later", 'token = "glpat-abcdefghijklmnopqrstu"'))

    findings = run_checks(mr)
    text = render_findings(mr, findings)

    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=["high", "medium", "low"].index
    )
    assert mr.url in text
    assert text.index("secret") < text.index("todo")
    assert "glpat-abcdefghijklmnopqrstu" not in text


def test_given_clean_mr_when_rendered_then_says_nothing_to_flag():
    mr = _mr(_change("app/main.py", "value = 2"), _change("tests/test_main.py", "assert 2"))

    assert run_checks(mr) == []
    assert "found nothing to flag" in render_findings(mr, [])


def test_given_deleted_file_when_checked_then_its_lines_are_not_inspected():
    change = _change("old/secret.py", 'KEY = "AKIAIOSFODNN7EXAMPLE"')
    change.deleted_file = True

    assert not any(f.check == "secret" for f in run_checks(_mr(change)))
