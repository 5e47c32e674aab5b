"""`TicketTracker` of the local profile: a Backlog outbox of JSON files in the workspace.

`create_issue` writes `<KASS_HOME>/outbox/backlog/<PROJECT>-<n>.json` with Backlog's own field
names (issueKey, keyId, summary, description, issueType, priority, created), so the file can be
replayed to `POST /api/v2/issues` later. Numbering is per project and continues after the
highest issue number kass knows (indexed issues, earlier outbox files), so a local key never
repeats a real one. Each file is written whole to a temporary name and then hard-linked to its
final name: readers never see a partial file, and the link fails if the name is taken, so two
concurrent writers can never get (or overwrite) the same key.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from kass.errors import NotFound
from kass.ports import CreatedTicket, TicketDraft

ISSUE_KEY = re.compile(r"^(?P<project>[A-Z][A-Z0-9_]*)-(?P<number>[1-9][0-9]*)$")

KnownProjects = Callable[[], Mapping[str, int]]  # project key -> highest known issue number
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def highest_numbers(keys: list[str] | set[str] | tuple[str, ...]) -> dict[str, int]:
    """Project key -> highest issue number among issue keys such as `TSB-42` (others ignored)."""
    highest: dict[str, int] = {}
    for key in keys:
        match = ISSUE_KEY.match(key)
        if match:
            project, number = match["project"], int(match["number"])
            highest[project] = max(highest.get(project, 0), number)
    return highest


class BacklogOutbox:
    """Files each issue as one JSON file; unknown projects are refused like Backlog does."""

    def __init__(self, folder: Path, known: KnownProjects, *, clock: Clock = _utcnow) -> None:
        self.folder = folder
        self._known = known
        self._clock = clock

    def check_project(self, project_key: str) -> None:
        self._numbers(project_key)

    def create_issue(self, draft: TicketDraft) -> CreatedTicket:
        project = draft.project_key
        known = self._numbers(project)
        self.folder.mkdir(parents=True, exist_ok=True)
        number = known[project] + 1
        while True:
            key = f"{project}-{number}"
            if self._publish(self.folder / f"{key}.json", self._record(draft, key, number)):
                break
            number += 1  # taken meanwhile by another writer: the next number
        return CreatedTicket(key=key, url=(self.folder / f"{key}.json").resolve().as_uri())

    def _numbers(self, project: str) -> dict[str, int]:
        """Highest issue number per known project; NotFound when `project` is not one."""
        known = dict(self._known())
        for key, number in highest_numbers(set(self.filed())).items():
            known[key] = max(known.get(key, 0), number)
        if project not in known:
            listed = ", ".join(sorted(known)) or (
                "none; ingest Backlog issues or set KASS_LOCAL_BACKLOG_PROJECTS"
            )
            raise NotFound(f"no Backlog project {project} (known projects: {listed})")
        return known

    def filed(self) -> list[str]:
        """Issue keys in the outbox (file names without `.json`)."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if ISSUE_KEY.match(p.stem))

    def _record(self, draft: TicketDraft, key: str, number: int) -> bytes:
        record = {
            "issueKey": key,
            "keyId": number,
            "projectKey": draft.project_key,
            "summary": draft.summary,
            "description": draft.description,
            "issueType": {"name": draft.issue_type} if draft.issue_type else None,
            "priority": {"name": draft.priority or "Normal"},
            "created": self._clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    def _publish(self, target: Path, data: bytes) -> bool:
        """Write `data` durably under a temporary name, then link it to `target`; False (and
        nothing changed) when `target` exists."""
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, target)
            except FileExistsError:
                return False
            return True
        finally:
            os.unlink(temporary)
