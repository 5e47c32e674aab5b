"""Deterministic merge request checks: what a reviewer should never miss, found without a model.

Only added lines are inspected (a removed secret is good news), each finding names the file and
the new line number. Secrets are reported redacted, so the review itself never repeats them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel

from kass.ports import FileChange, MergeRequestDiff

Severity = Literal["high", "medium", "low"]
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,\d+)? @@")

# (name, pattern). Token formats as their issuers document them.
_SECRETS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "AWS secret access key",
        re.compile(r"(?i)aws_?secret_?(?:access_?)?key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}\b"),
    ),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY( BLOCK)?-----")),
    ("GitLab token", re.compile(r"\bglpat-[0-9A-Za-z_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}")),
    (
        "password or token",
        re.compile(
            r"(?i)(?<![a-z0-9])(?:password|passwd|pwd|secret|api_?key|access_?token|auth_?token|token)"
            r"['\"]?\s*[:=]\s*['\"](?P<value>[^'\"\s]{6,})['\"]"
        ),
    ),
)
# (A name may end a longer one: DB_PASSWORD, SLACK_TOKEN.)
# Values that are obviously not a real secret (examples, placeholders, lookups).
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|changeme|change_me|example\w*|dummy\w*|test\w*|fake\w*|placeholder|"
    r"your[_-]?\w*|<[^>]*>|\$\{?[\w.]+\}?|\{\{.*\}\}|%\(\w+\)s|redacted)$"
)
_TODO = re.compile(r"\b(TODO|FIXME|XXX|HACK)\b")
_DEBUG = re.compile(
    r"^\s*(?:print\(|console\.(?:log|debug)\(|debugger;?\s*$|binding\.pry|"
    r"(?:import\s+pdb;\s*)?pdb\.set_trace\(\)|breakpoint\(\)|var_dump\(|dd\(|fmt\.Println\()"
)
_CONFLICT = re.compile(r"^(?:<{7}|>{7})(?: |$)")

_CODE_SUFFIXES = frozenset(
    {
        ".py", ".js", ".jsx", ".ts", ".tsx", ".go", ".java", ".kt", ".kts", ".rb", ".rs", ".php",
        ".cs", ".scala", ".swift", ".c", ".cc", ".cpp", ".h", ".hpp", ".m", ".ex", ".exs",
        ".clj", ".dart", ".vue", ".svelte",
    }
)  # fmt: skip
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs)/|(?:^|/)test_[^/]+$|_test\.\w+$|"
    r"\.(?:test|spec)\.\w+$|Tests?\.\w+$"
)


@dataclass(frozen=True)
class AddedLine:
    path: str
    line: int  # line number in the new file
    text: str


class Finding(BaseModel):
    check: Literal["secret", "todo", "tests", "size", "debug", "conflict"]
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None

    def where(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path


class ReviewLimits(BaseModel):
    max_files: int = 30
    max_lines: int = 800


class DiffStats(BaseModel):
    files: int
    added: int
    removed: int


def added_lines(change: FileChange) -> Iterator[AddedLine]:
    """Each `+` line of the file's hunks with its new line number."""
    path = change.new_path or change.old_path
    line = 0
    for raw in change.diff.splitlines():
        hunk = _HUNK.match(raw)
        if hunk:
            line = int(hunk["start"])
        elif raw.startswith("+") and not raw.startswith("+++"):
            yield AddedLine(path, line, raw[1:])
            line += 1
        elif raw.startswith(" ") or raw == "":
            line += 1
        # "-" lines and "\ No newline at end of file" do not advance the new file


def diff_stats(mr: MergeRequestDiff) -> DiffStats:
    added = removed = 0
    for change in mr.changes:
        for raw in change.diff.splitlines():
            if raw.startswith("+") and not raw.startswith("+++"):
                added += 1
            elif raw.startswith("-") and not raw.startswith("---"):
                removed += 1
    return DiffStats(files=len(mr.changes), added=added, removed=removed)


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def is_code_path(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _CODE_SUFFIXES


def run_checks(mr: MergeRequestDiff, limits: ReviewLimits | None = None) -> list[Finding]:
    """Every finding, most severe first, then by file and line."""
    limits = limits or ReviewLimits()
    findings: list[Finding] = []
    for change in mr.changes:
        if change.deleted_file:
            continue
        for added in added_lines(change):
            findings.extend(_line_findings(added))
    findings.extend(_tests_finding(mr))
    findings.extend(_size_findings(mr, limits))
    return sorted(
        findings,
        key=lambda f: (_SEVERITY_ORDER[f.severity], f.path or "", f.line or 0, f.check),
    )


def _line_findings(added: AddedLine) -> Iterator[Finding]:
    text = added.text
    for name, pattern in _SECRETS:
        match = pattern.search(text)
        if match is None:
            continue
        value = match.groupdict().get("value")
        if value is not None and _PLACEHOLDER.match(value):
            continue
        yield Finding(
            check="secret",
            severity="high",
            path=added.path,
            line=added.line,
            message=f"possible {name} added ({_redact(match.group(0))}); remove it and rotate it",
        )
        break  # one secret finding per line is enough
    if _CONFLICT.match(text):
        yield Finding(
            check="conflict",
            severity="high",
            path=added.path,
            line=added.line,
            message="merge conflict marker added",
        )
    todo = _TODO.search(text)
    if todo:
        yield Finding(
            check="todo",
            severity="low",
            path=added.path,
            line=added.line,
            message=f"{todo.group(1)} added: {text.strip()[:120]}",
        )
    if is_code_path(added.path) and not is_test_path(added.path) and _DEBUG.match(text):
        yield Finding(
            check="debug",
            severity="low",
            path=added.path,
            line=added.line,
            message=f"debug statement added: {text.strip()[:120]}",
        )


def _tests_finding(mr: MergeRequestDiff) -> Iterator[Finding]:
    paths = [c.new_path or c.old_path for c in mr.changes]
    code = [p for p in paths if is_code_path(p) and not is_test_path(p)]
    if code and not any(is_test_path(p) for p in paths):
        shown = ", ".join(code[:3]) + (f" and {len(code) - 3} more" if len(code) > 3 else "")
        yield Finding(
            check="tests",
            severity="medium",
            message=f"code changed ({shown}) but no test changed",
        )


def _size_findings(mr: MergeRequestDiff, limits: ReviewLimits) -> Iterator[Finding]:
    stats = diff_stats(mr)
    lines = stats.added + stats.removed
    if stats.files > limits.max_files or lines > limits.max_lines:
        yield Finding(
            check="size",
            severity="medium",
            message=f"large merge request: {stats.files} files, +{stats.added}/-{stats.removed} "
            f"lines (limits {limits.max_files} files, {limits.max_lines} lines); consider "
            "splitting it",
        )


def _redact(secret: str) -> str:
    """Enough to find it again (first 4 characters), never the secret itself."""
    head = secret.strip()[:4]
    return f"{head}…"


def render_findings(mr: MergeRequestDiff, findings: list[Finding]) -> str:
    """A short Markdown review: the MR link, its size, then one line per finding."""
    stats = diff_stats(mr)
    header = (
        f"Review of {mr.project}!{mr.iid} “{mr.title}” ({mr.url}): {stats.files} files, "
        f"+{stats.added}/-{stats.removed} lines."
    )
    if not findings:
        return header + "\nThe automatic checks found nothing to flag."
    lines = [header, f"The automatic checks found {len(findings)} issue(s):"]
    for finding in findings:
        where = f" `{finding.where()}`" if finding.path else ""
        lines.append(f"- [{finding.severity}] {finding.check}{where}: {finding.message}")
    return "\n".join(lines)
