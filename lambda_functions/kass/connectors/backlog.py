"""Backlog (Nulab) connector: issues with their comments (and wiki pages) as documents, and the
Report agent's ticket tracker.

Incremental polls list issues `sort=updated&order=asc` from `updatedSince`, which Backlog takes
as a date only (no time of day, read in the space's time zone). So each poll re-lists from the
day before its watermark (`overlap_days`) and skips, by the `Watermark`, every issue version it
already stored: the overlap costs listing requests (100 issues each), never comment requests or
duplicates. Listing pages re-read the previous page's last issue; when it has moved (an earlier
issue was updated or deleted mid-run, shifting the offsets) the poll restarts from its
watermark instead of skipping an issue.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kass.connectors.backlog_client import (
    MAX_COUNT,
    BacklogClient,
    Comment,
    Issue,
    Named,
    Project,
    WikiPage,
)
from kass.connectors.common import Watermark, connector_settings
from kass.errors import InvalidInput, NotFound, SourceError
from kass.models import Document
from kass.ports import ConnectorBatch, CreatedTicket, TicketDraft, TicketTracker
from kass.settings import Settings

SOURCE = "backlog"
WIKI_BATCH = 50  # wiki pages fetched (one request each) per checkpointed batch
MAX_RESTARTS = 5  # listings restarted because the list shifted under us, per project and run
NORMAL_PRIORITY_ID = 3  # Backlog's fixed priorities: 2 High, 3 Normal, 4 Low


class BacklogSettings(BaseSettings):
    """`KASS_BACKLOG_*`; on aws the JSON secret `<prefix>backlog` with these keys."""

    model_config = SettingsConfigDict(
        env_prefix="KASS_BACKLOG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    space_url: str = Field(description="https://<space>.backlog.com (or .backlog.jp)")
    api_key: SecretStr | None = None
    oauth_token: SecretStr | None = Field(default=None, description="Bearer token, if no key")
    projects: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Project keys to ingest (comma-separated in env)"
    )
    include_wikis: bool = False
    overlap_days: int = Field(default=1, ge=1, le=30, description="updatedSince is date-only")
    max_retries: int = Field(default=5, ge=0, le=20)

    @field_validator("space_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (e.g. https://example.backlog.com)")
        return value.rstrip("/")

    @field_validator("projects", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @model_validator(mode="after")
    def _credential(self) -> BacklogSettings:
        if self.api_key is None and self.oauth_token is None:
            raise ValueError("set KASS_BACKLOG_API_KEY (or KASS_BACKLOG_OAUTH_TOKEN)")
        return self


def make_client(settings: BacklogSettings) -> BacklogClient:
    return BacklogClient(
        settings.space_url,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
        oauth_token=settings.oauth_token.get_secret_value() if settings.oauth_token else None,
        max_retries=settings.max_retries,
    )


def from_settings(settings: Settings) -> BacklogConnector:
    """The registry's factory (`kass.connectors.CONNECTORS["backlog"]`)."""
    backlog = connector_settings(BacklogSettings, SOURCE, settings)
    if not backlog.projects:
        raise InvalidInput("backlog connector setting projects: name at least one project key")
    return BacklogConnector(
        make_client(backlog),
        backlog.projects,
        include_wikis=backlog.include_wikis,
        overlap_days=backlog.overlap_days,
    )


def ticket_tracker(settings: Settings) -> TicketTracker:
    """The Report agent's Backlog: files issues in any project the key can write to."""
    return BacklogTickets(make_client(connector_settings(BacklogSettings, SOURCE, settings)))


# -- documents --------------------------------------------------------------------------------
def issue_doc_id(key: str) -> str:
    return f"{SOURCE}:{key}"


def wiki_doc_id(wiki_id: int) -> str:
    return f"{SOURCE}:wiki:{wiki_id}"


def issue_document(
    space_url: str, project_key: str, issue: Issue, comments: Sequence[Comment]
) -> Document:
    """The issue's description, then each comment under a line naming its author, time and own
    link (citations resolve a claim to the nearest preceding link). Change-log-only comments
    (a status change, an assignment) carry no words and are dropped."""
    url = f"{space_url}/view/{issue.issue_key}"
    parts = [issue.description.strip()] if issue.description and issue.description.strip() else []
    for comment in comments:
        content = (comment.content or "").strip()
        if not content:
            continue
        author = comment.created_user.name if comment.created_user else "unknown"
        when = comment.created.strftime("%Y-%m-%d %H:%M UTC")
        parts.append(f"{author} — {when} — {url}#comment-{comment.id}\n{content}")
    return Document(
        id=issue_doc_id(issue.issue_key),
        source=SOURCE,
        url=url,
        title=f"{issue.issue_key} {issue.summary}",
        text="\n\n".join(parts) or issue.summary,
        metadata=_metadata(
            project=project_key,
            kind="issue",
            key=issue.issue_key,
            status=_name(issue.status),
            issue_type=_name(issue.issue_type),
            priority=_name(issue.priority),
            assignee=issue.assignee.name if issue.assignee else None,
            author=issue.created_user.name if issue.created_user else None,
        ),
        created_at=issue.created,
        updated_at=issue.updated,
    )


def wiki_document(space_url: str, project_key: str, page: WikiPage) -> Document:
    return Document(
        id=wiki_doc_id(page.id),
        source=SOURCE,
        url=f"{space_url}/alias/wiki/{page.id}",
        title=page.name,
        text=(page.content or "").strip() or page.name,
        metadata=_metadata(
            project=project_key,
            kind="wiki",
            author=page.created_user.name if page.created_user else None,
            tags=", ".join(tag.name for tag in page.tags) or None,
        ),
        created_at=page.created,
        updated_at=page.updated,
    )


def _name(value: Named | None) -> str | None:
    return value.name if value else None


def _metadata(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


# -- the connector ----------------------------------------------------------------------------
class BacklogConnector:
    """kass.ports.Connector over the projects of one Backlog space.

    Checkpoint: `{"issues": {KEY: watermark}, "wikis": {KEY: watermark}}`, saved after every
    page of issues (and every batch of wiki pages), so a crashed run resumes where it stopped.
    """

    source = SOURCE

    def __init__(
        self,
        client: BacklogClient,
        projects: Sequence[str],
        *,
        include_wikis: bool = False,
        overlap_days: int = 1,
    ) -> None:
        self.client = client
        self.projects = list(projects)
        self.include_wikis = include_wikis
        self.overlap = timedelta(days=overlap_days)
        self._project_cache: dict[str, Project] = {}

    def fetch(self, checkpoint: Mapping[str, Any] | None) -> Iterator[ConnectorBatch]:
        state: dict[str, dict[str, Any]] = {"issues": {}, "wikis": {}}
        for part in state:
            state[part].update((checkpoint or {}).get(part, {}))
        for key in self.projects:
            project = self._project(key)
            yield from self._issue_batches(project, state)
            if self.include_wikis:
                yield from self._wiki_batches(project, state)

    def live_ids(self, stored: Iterable[str] = ()) -> Iterable[str]:
        ids: list[str] = []
        for key in self.projects:
            project = self._project(key)
            ids += [issue_doc_id(issue.issue_key) for issue in self._all_issues(project)]
            if self.include_wikis:
                ids += [wiki_doc_id(page.id) for page in self.client.wikis(project.project_key)]
        return ids

    # -- issues -----------------------------------------------------------------------------
    def _issue_batches(
        self, project: Project, state: dict[str, dict[str, Any]]
    ) -> Iterator[ConnectorBatch]:
        key = project.project_key
        for _ in range(MAX_RESTARTS + 1):
            mark = Watermark.load(state["issues"], key)
            since = mark.since(self.overlap)
            pages = self._pages(project, "updated", since.date() if since else None)
            for page in pages:
                fresh = [
                    i for i in page if not mark.is_stored(issue_doc_id(i.issue_key), i.updated)
                ]
                if not fresh:
                    continue
                documents = [doc for issue in fresh if (doc := self._issue(key, issue))]
                mark = mark.advanced(
                    ((issue_doc_id(i.issue_key), i.updated) for i in fresh), self.overlap
                )
                state["issues"][key] = mark.dump()
                yield ConnectorBatch(documents=documents, checkpoint=copy.deepcopy(state))
            if pages.complete:
                return
        raise SourceError(f"Backlog issue list of {key} kept shifting during the sync; run again")

    def _all_issues(self, project: Project) -> list[Issue]:
        """Every issue, by creation (edits do not reorder it; a deletion mid-listing restarts)."""
        for _ in range(MAX_RESTARTS + 1):
            pages = self._pages(project, "created", None)
            issues = [issue for page in pages for issue in page]
            if pages.complete:
                return issues
        raise SourceError(
            f"Backlog issue list of {project.project_key} kept shifting; deletions not synced"
        )

    def _pages(self, project: Project, sort: str, since: date | None) -> _Pages:
        return _Pages(self.client, project.id, sort, since)

    # -- wikis ------------------------------------------------------------------------------
    def _wiki_batches(
        self, project: Project, state: dict[str, dict[str, Any]]
    ) -> Iterator[ConnectorBatch]:
        key = project.project_key
        mark = Watermark.load(state["wikis"], key)
        listed = sorted(self.client.wikis(key), key=lambda page: (page.updated, page.id))
        fresh = [page for page in listed if not mark.is_stored(wiki_doc_id(page.id), page.updated)]
        for start in range(0, len(fresh), WIKI_BATCH):
            chunk = fresh[start : start + WIKI_BATCH]
            documents = [doc for page in chunk if (doc := self._wiki(key, page.id))]
            # The listed `updated` is what the next listing compares with.
            mark = mark.advanced(
                ((wiki_doc_id(page.id), page.updated) for page in chunk), self.overlap
            )
            state["wikis"][key] = mark.dump()
            yield ConnectorBatch(documents=documents, checkpoint=copy.deepcopy(state))

    # An item deleted between the listing and its own request is skipped, not fatal: the
    # deletion sync at the end of the run removes what was stored of it.
    def _issue(self, project_key: str, issue: Issue) -> Document | None:
        try:
            comments = self.client.all_comments(issue.issue_key)
        except NotFound:
            return None
        return issue_document(self.client.space_url, project_key, issue, comments)

    def _wiki(self, project_key: str, wiki_id: int) -> Document | None:
        try:
            page = self.client.wiki(wiki_id)
        except NotFound:
            return None
        return wiki_document(self.client.space_url, project_key, page)

    def _project(self, key: str) -> Project:
        if key not in self._project_cache:
            self._project_cache[key] = self.client.project(key)
        return self._project_cache[key]


class _Pages:
    """Pages of a project's issues by offset. Each page after the first starts one issue early,
    on the previous page's last: when that issue is not there any more, the list has shifted
    (an earlier issue was edited or deleted) and iteration stops with `complete` False."""

    def __init__(self, client: BacklogClient, project_id: int, sort: str, since: date | None):
        self.client, self.project_id, self.sort, self.since = client, project_id, sort, since
        self.complete = False

    def __iter__(self) -> Iterator[list[Issue]]:
        offset, anchor = 0, None
        while True:
            start = offset - 1 if anchor is not None else offset
            page = self.client.issues(
                [self.project_id], updated_since=self.since, sort=self.sort, offset=start
            )
            if anchor is not None:
                if not page or page[0].id != anchor:
                    return
                fresh = page[1:]
            else:
                fresh = page
            yield fresh
            if len(page) < MAX_COUNT:
                self.complete = True
                return
            offset, anchor = start + len(page), page[-1].id


# -- tickets ----------------------------------------------------------------------------------
class BacklogTickets:
    """kass.ports.TicketTracker: files a Backlog issue from a confirmed draft."""

    def __init__(self, client: BacklogClient) -> None:
        self.client = client

    def check_project(self, project_key: str) -> None:
        self.client.project(project_key)  # NotFound names the key

    def create_issue(self, draft: TicketDraft) -> CreatedTicket:
        project = self.client.project(draft.project_key)  # NotFound names the key
        issue_type = _pick(
            self.client.issue_types(project.project_key),
            draft.issue_type,
            default=None,
            what=f"issue type for project {project.project_key}",
        )
        priority = _pick(
            self.client.priorities(), draft.priority, default=NORMAL_PRIORITY_ID, what="priority"
        )
        issue = self.client.create_issue(
            project_id=project.id,
            summary=draft.summary,
            issue_type_id=issue_type.id,
            priority_id=priority.id,
            description=draft.description,
        )
        return CreatedTicket(
            key=issue.issue_key, url=f"{self.client.space_url}/view/{issue.issue_key}"
        )


def _pick(options: list[Named], name: str | None, *, default: int | None, what: str) -> Named:
    """The option named `name` (case-insensitive); without a name the one with id `default`,
    else the first."""
    if not options:
        raise SourceError(f"Backlog lists no {what}")
    if name is None:
        return next((o for o in options if o.id == default), options[0])
    wanted = name.strip().casefold()
    for option in options:
        if option.name.casefold() == wanted:
            return option
    valid = ", ".join(option.name for option in options)
    raise InvalidInput(f"unknown Backlog {what}: {name!r} (valid: {valid})")
