"""In-memory implementations of the agent-facing ports (our own protocols, not wire protocols):
TicketTracker, ThreadReader, MergeRequestReader, plus an ActionStore and a keyword searcher."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from kass.chat.actions import ActionStatus, AuditEntry, ProposedAction
from kass.errors import NotFound
from kass.models import Chunk, SearchHit
from kass.ports import CreatedTicket, MergeRequestDiff, Thread, TicketDraft


class RecordingTickets:
    """A Backlog with the given projects; records every issue it creates."""

    def __init__(self, projects: Iterable[str] = ("APP",)) -> None:
        self.projects = set(projects)
        self.created: list[TicketDraft] = []

    def check_project(self, project_key: str) -> None:
        if project_key not in self.projects:
            raise NotFound(f"Backlog project {project_key} does not exist")

    def create_issue(self, draft: TicketDraft) -> CreatedTicket:
        self.check_project(draft.project_key)
        self.created.append(draft)
        key = f"{draft.project_key}-{len(self.created)}"
        return CreatedTicket(key=key, url=f"https://team.backlog.com/view/{key}")


class MemoryThreads:
    def __init__(self, *threads: Thread) -> None:
        self.threads = {(t.channel, t.ts): t for t in threads}
        self.reads: list[tuple[str, str]] = []

    def thread(self, channel: str, ts: str) -> Thread:
        self.reads.append((channel, ts))
        try:
            return self.threads[(channel, ts)]
        except KeyError:
            raise NotFound(f"no Slack thread {ts} in channel {channel}") from None


class MemoryMergeRequests:
    def __init__(self, *mrs: MergeRequestDiff) -> None:
        self.mrs = {(mr.project, mr.iid): mr for mr in mrs}

    def merge_request(self, project: str, iid: int) -> MergeRequestDiff:
        try:
            return self.mrs[(project, iid)]
        except KeyError:
            raise NotFound(f"merge request {project}!{iid} does not exist") from None


class MemoryActionStore:
    """The ActionStore protocol over dicts, with the same conditional transition."""

    def __init__(self) -> None:
        self.actions: dict[str, ProposedAction] = {}
        self.entries: list[AuditEntry] = []
        self._lock = threading.Lock()

    def save(self, action: ProposedAction) -> None:
        with self._lock:
            assert action.id not in self.actions
            self.actions[action.id] = action

    def get(self, action_id: str) -> ProposedAction | None:
        return self.actions.get(action_id)

    def transition(
        self,
        action_id: str,
        *,
        from_status: ActionStatus,
        to_status: ActionStatus,
        at: datetime,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        with self._lock:
            action = self.actions.get(action_id)
            if action is None or action.status != from_status:
                return False
            self.actions[action_id] = action.moved(to_status, at, result, error)
            return True

    def append_audit(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def audit(self, user_id: str, limit: int = 50) -> list[AuditEntry]:
        mine = [e for e in self.entries if e.user_id == user_id]
        return list(reversed(mine))[:limit]


class KeywordSearcher:
    """Stands in for `kass.retrieval.search.Searcher`: chunks sharing a word with the query, as
    lexical-only hits (so `relevant_passages` keeps them all)."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        self.chunks = list(chunks)
        self.queries: list[tuple[str, dict[str, str]]] = []

    def search(
        self,
        text: str,
        *,
        k: int = 10,
        mode: str | None = None,
        filters: Mapping[str, str] | None = None,
        max_chars: int = 4000,
    ) -> list[SearchHit]:
        self.queries.append((text, dict(filters or {})))
        words = set(re.findall(r"\w+", text.lower()))
        hits = []
        for chunk in self.chunks:
            if any(chunk.filter_value(key) != value for key, value in (filters or {}).items()):
                continue
            shared = words & set(re.findall(r"\w+", chunk.text.lower()))
            if shared:
                hits.append(SearchHit(chunk=chunk, score=len(shared), lexical_score=len(shared)))
        return sorted(hits, key=lambda h: -h.score)[:k]


def chunk(doc_id: str, title: str, body: str, *, source: str = "backlog", url: str = "") -> Chunk:
    return Chunk(
        id=f"{doc_id}#0",
        doc_id=doc_id,
        position=0,
        text=f"{title}\n\n{body}",
        source=source,
        title=title,
        url=url or f"https://team.backlog.com/view/{doc_id.split(':')[-1]}",
    )
