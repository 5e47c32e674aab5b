"""GitLab connector: issues and merge requests with their notes, polled by `updated_after`.

- One document per issue/MR (see `gitlab_documents`); ids `gitlab:<project path>#<iid>` and
  `gitlab:<project path>!<iid>`. A new note bumps its issue's `updated_at` in GitLab, so notes
  come in with their issue.
- Each (project, kind) is a stream read with `updated_after=<cursor>&order_by=updated_at&
  sort=asc`, one page per batch. The cursor moves by time, not by page number: every page is
  the first page after the last `updated_at` seen, so an item edited during the run moves
  later in the stream instead of shifting an unread item onto a page already read. The page
  number only advances inside a run of more than `per_page` items with one identical time.
- The checkpoint holds, per stream, the watermark (newest `updated_at` stored) and the items
  stored inside the overlap window. A poll starts `overlap_minutes` before the watermark, and
  skips an item only when that same version was stored: an update that a lagging replica
  showed late, with a time before the watermark, is still fetched.
- `live_ids` lists every iid (per_page=100, seeking by the immutable `created_at`, so a
  deletion during the listing cannot hide a live item).
- Retries are python-gitlab's: 429 waits `Retry-After` (else until `RateLimit-Reset`, else
  0.1·2^n s), 5xx and connection errors back off 0.1·2^n s, up to `max_retries`; then, and on
  401/403, a `SourceError` ends the run before the batch of the failing page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import gitlab
import requests
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kass.connectors.common import Watermark, connector_settings
from kass.connectors.gitlab_documents import (
    ENDPOINTS,
    KINDS,
    SEPARATORS,
    SOURCE,
    Kind,
    doc_id,
    format_time,
    item_document,
    merge_request_diff,
    parse_time,
)
from kass.errors import InvalidInput, KassError, NotFound, SourceError
from kass.ports import ConnectorBatch, MergeRequestDiff, MergeRequestReader
from kass.settings import Settings

CHECKPOINT_VERSION = 1
LIST_PAGE = 100  # GitLab's largest page: live_ids and notes always use it
DEFAULT_MAX_RETRIES = 5


class GitLabSettings(BaseSettings):
    """`KASS_GITLAB_*` (or the `kass/<env>/connectors/gitlab` secret on the aws profile)."""

    model_config = SettingsConfigDict(
        env_prefix="KASS_GITLAB_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_parse_none_str="none",
    )

    url: str = Field(default="https://gitlab.com", description="GitLab base URL (no /api/v4)")
    token: SecretStr | None = Field(
        default=None, description="Access token with read_api scope; required to run"
    )
    projects: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Project paths (team/app) or numeric ids; comma-separated or a JSON list",
    )
    groups: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Group paths or ids: every project of the group and of its subgroups",
    )
    overlap_minutes: float = Field(
        default=10, ge=0, le=7 * 24 * 60, description="Re-read window before the watermark"
    )
    per_page: int = Field(default=100, ge=1, le=100, description="Items per page and batch")
    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES,
        ge=0,
        le=50,
        description="python-gitlab retries after 429/5xx per request",
    )
    timeout: float = Field(default=30.0, gt=0, le=300, description="Seconds per HTTP request")

    @field_validator("url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.removesuffix("/api/v4")

    @field_validator("projects", "groups", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list | tuple):
            names = [str(v).strip().strip("/") for v in value]
            return list(dict.fromkeys(name for name in names if name))
        return value

    def require_token(self) -> str:
        """The token; InvalidInput when it is not set."""
        if self.token is None or not self.token.get_secret_value().strip():
            raise InvalidInput(
                "GitLab token is not set (KASS_GITLAB_TOKEN, or `token` in the connector secret)"
            )
        return self.token.get_secret_value().strip()


def make_client(settings: GitLabSettings) -> gitlab.Gitlab:
    """python-gitlab client; transient errors (5xx, timeouts) retried, 429 obeyed."""
    return gitlab.Gitlab(
        settings.url,
        private_token=settings.require_token(),
        retry_transient_errors=True,
        timeout=settings.timeout,
        user_agent="kass-gitlab-connector",
    )


# ---------------------------------------------------------------------------------------------
# REST calls with the errors mapped
# ---------------------------------------------------------------------------------------------
class _Missing(Exception):
    """A 404 the caller handles."""


class _Api:
    def __init__(self, gl: gitlab.Gitlab, max_retries: int) -> None:
        self.gl = gl
        self.url = gl.url
        self._opts: dict[str, Any] = {"max_retries": max_retries, "obey_rate_limit": True}

    def get(self, path: str, what: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        with self._errors(what):
            result = self.gl.http_get(path, query_data=query, **self._opts)
        if not isinstance(result, dict):
            raise SourceError(f"GitLab at {self.url} answered {what} with something not JSON")
        return result

    def page(self, path: str, query: dict[str, Any], what: str) -> list[dict[str, Any]]:
        with self._errors(what):
            result = self.gl.http_list(path, query_data=query, get_all=False, **self._opts)
        return list(result)

    def all(self, path: str, query: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
        """Every item, following the `Link: rel="next"` headers page by page."""
        with self._errors(what):
            yield from self.gl.http_list(path, query_data=query, iterator=True, **self._opts)

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except gitlab.GitlabError as error:
            code = error.response_code
            message = error.error_message or str(error)
            if code in (401, 403):
                raise SourceError(f"GitLab rejected the token for {self.url}: {message}") from None
            if code == 404:
                raise _Missing(what) from None
            if code == 429:
                raise SourceError(
                    f"GitLab at {self.url} is still rate limiting {what} after "
                    f"{self._opts['max_retries']} retries: {message}"
                ) from None
            raise SourceError(f"GitLab at {self.url} failed {what}: {code} {message}") from None
        except requests.RequestException as error:
            raise SourceError(f"GitLab at {self.url} unreachable ({what}): {error}") from None


def _ref(project: str | int) -> str:
    """A project or group in a URL: numeric id as is, path URL-encoded (`team%2Fapp`)."""
    return quote(str(project), safe="")


# ---------------------------------------------------------------------------------------------
# Checkpoint
# ---------------------------------------------------------------------------------------------
class _State:
    """The connector checkpoint: `{"version", "url", "projects": {path: {kind: stream}}}`."""

    def __init__(self, url: str, streams: dict[str, dict[str, Watermark]]) -> None:
        self.url = url
        self.streams = streams

    @classmethod
    def load(cls, checkpoint: Mapping[str, Any] | None, url: str) -> _State:
        if (
            not checkpoint
            or checkpoint.get("version") != CHECKPOINT_VERSION
            or checkpoint.get("url") != url
        ):
            return cls(url, {})
        try:
            streams = {
                path: {kind: Watermark.model_validate(s) for kind, s in kinds.items()}
                for path, kinds in dict(checkpoint.get("projects") or {}).items()
            }
        except (ValidationError, AttributeError, TypeError):
            raise InvalidInput(
                "the GitLab checkpoint is damaged; run a full load (data_fetcher "
                '{"connector": "gitlab", "full": true})'
            ) from None
        return cls(url, streams)

    def keep_only(self, projects: list[_Project]) -> None:
        """Forget streams of projects (or disabled kinds) no longer synced: if they come back,
        they load in full (their raw documents are deleted by the deletion sync meanwhile)."""
        self.streams = {
            p.path: {k: self.streams[p.path][k] for k in p.kinds if k in self.streams[p.path]}
            for p in projects
            if p.path in self.streams
        }
        self.streams = {path: kinds for path, kinds in self.streams.items() if kinds}

    def stream(self, path: str, kind: Kind) -> Watermark:
        return self.streams.get(path, {}).get(kind) or Watermark()

    def set(self, path: str, kind: Kind, stream: Watermark) -> None:
        self.streams.setdefault(path, {})[kind] = stream

    def dump(self) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION,
            "url": self.url,
            "projects": {
                path: {kind: s.model_dump(mode="json") for kind, s in kinds.items()}
                for path, kinds in self.streams.items()
            },
        }


# ---------------------------------------------------------------------------------------------
# The connector
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Project:
    id: int
    path: str
    kinds: tuple[Kind, ...]

    @classmethod
    def from_api(cls, project: Mapping[str, Any]) -> _Project:
        kinds = tuple(kind for kind in KINDS if _enabled(project, ENDPOINTS[kind]))
        return cls(int(project["id"]), str(project["path_with_namespace"]), kinds)


def _enabled(project: Mapping[str, Any], feature: str) -> bool:
    level = project.get(f"{feature}_access_level")
    if level is not None:
        return level != "disabled"
    return project.get(f"{feature}_enabled") is not False


class GitLabConnector:
    """kass.ports.Connector over GitLab REST v4 (python-gitlab)."""

    source = SOURCE

    def __init__(self, settings: GitLabSettings, *, client: gitlab.Gitlab | None = None) -> None:
        if not settings.projects and not settings.groups:
            raise InvalidInput(
                "GitLab connector has nothing to sync: set KASS_GITLAB_PROJECTS (project paths "
                "or ids, comma-separated) and/or KASS_GITLAB_GROUPS"
            )
        self.settings = settings
        self._api = _Api(client or make_client(settings), settings.max_retries)
        self._overlap = timedelta(minutes=settings.overlap_minutes)
        self._projects: list[_Project] | None = None

    # -- Connector --------------------------------------------------------------------------
    def fetch(self, checkpoint: Mapping[str, Any] | None) -> Iterator[ConnectorBatch]:
        projects = self._resolve()
        state = _State.load(checkpoint, self._api.url)
        state.keep_only(projects)
        if checkpoint is not None and state.dump() != checkpoint:
            yield ConnectorBatch(documents=[], checkpoint=state.dump())
        for project in projects:
            for kind in project.kinds:
                yield from self._stream(project, kind, state)

    def live_ids(self, stored: Iterable[str] = ()) -> Iterator[str]:
        projects = self._projects if self._projects is not None else self._resolve()
        for project in projects:
            for kind in project.kinds:
                seen: set[int] = set()
                for page in self._pages(project, kind, "created", None, LIST_PAGE):
                    for item in page:
                        if item["iid"] not in seen:
                            seen.add(item["iid"])
                            yield doc_id(project.path, kind, item["iid"])

    # -- streams ----------------------------------------------------------------------------
    def _stream(self, project: _Project, kind: Kind, state: _State) -> Iterator[ConnectorBatch]:
        stream = state.stream(project.path, kind)
        since = stream.since(self._overlap)
        for items in self._pages(project, kind, "updated", since, self.settings.per_page):
            versions = [(str(item["iid"]), _updated(item)) for item in items]
            fresh = [
                item
                for item, (iid, at) in zip(items, versions, strict=True)
                if not stream.is_stored(iid, at)
            ]
            documents = [
                item_document(project.path, kind, item, notes)
                for item in fresh
                if (notes := self._notes(project, kind, item)) is not None
            ]
            advanced = stream.advanced(versions, self._overlap)
            if documents or advanced != stream:
                stream = advanced
                state.set(project.path, kind, stream)
                yield ConnectorBatch(documents=documents, checkpoint=state.dump())

    def _pages(
        self, project: _Project, kind: Kind, field: str, since: datetime | None, per_page: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of `<field>_after=<cursor>` ordered by `<field>_at` ascending; the cursor moves
        to the last time of each full page (items at the cursor come again: callers skip them)."""
        path = f"/projects/{project.id}/{ENDPOINTS[kind]}"
        what = f"listing {ENDPOINTS[kind].replace('_', ' ')} of {project.path}"
        cursor, page = since, 1
        while True:
            query: dict[str, Any] = {
                "order_by": f"{field}_at",
                "sort": "asc",
                "per_page": per_page,
                "page": page,
            }
            if cursor is not None:
                query[f"{field}_after"] = format_time(cursor)
            try:
                items = self._api.page(path, query, what)
            except _Missing:
                raise SourceError(
                    f"GitLab project {project.path} is gone from {self._api.url} ({what})"
                ) from None
            yield items
            if len(items) < per_page:
                return
            first, last = (parse_time(items[i][f"{field}_at"]) for i in (0, -1))
            if first == last == cursor:
                page += 1  # more than a page of items at one instant: step through them
            else:
                cursor, page = last, 1

    def _notes(
        self, project: _Project, kind: Kind, item: Mapping[str, Any]
    ) -> list[dict[str, Any]] | None:
        """The item's notes, oldest first; [] without a request when it has no user notes;
        None when the item was deleted since it was listed."""
        if item.get("user_notes_count") == 0:
            return []
        iid = item["iid"]
        path = f"/projects/{project.id}/{ENDPOINTS[kind]}/{iid}/notes"
        query = {"sort": "asc", "order_by": "created_at", "per_page": LIST_PAGE}
        try:
            return list(
                self._api.all(path, query, f"reading notes of {project.path}{_sep(kind)}{iid}")
            )
        except _Missing:
            return None

    # -- projects ---------------------------------------------------------------------------
    def _resolve(self) -> list[_Project]:
        """The configured projects, then the groups' projects (subgroups included), once each."""
        found: dict[str, _Project] = {}
        for ref in self.settings.projects:
            try:
                answer = self._api.get(f"/projects/{_ref(ref)}", f"reading project {ref}")
            except _Missing:
                raise SourceError(
                    f"GitLab project {ref!r} not found at {self._api.url} "
                    "(or the token cannot see it)"
                ) from None
            resolved = _Project.from_api(answer)
            found.setdefault(resolved.path, resolved)
        for group in self.settings.groups:
            query = {"include_subgroups": "true", "with_shared": "false", "per_page": LIST_PAGE}
            what = f"listing projects of group {group}"
            try:
                members = [
                    _Project.from_api(p)
                    for p in self._api.all(f"/groups/{_ref(group)}/projects", query, what)
                ]
            except _Missing:
                raise SourceError(
                    f"GitLab group {group!r} not found at {self._api.url} "
                    "(or the token cannot see it)"
                ) from None
            for project in sorted(members, key=lambda p: p.path):
                found.setdefault(project.path, project)
        self._projects = list(found.values())
        return self._projects


def _sep(kind: Kind) -> str:
    return SEPARATORS[kind]


def _updated(item: Mapping[str, Any]) -> datetime:
    moment = parse_time(item.get("updated_at"))
    if moment is None:
        raise SourceError(f"GitLab item {item.get('web_url') or item.get('iid')} has no updated_at")
    return moment


# ---------------------------------------------------------------------------------------------
# Merge requests for the review agent
# ---------------------------------------------------------------------------------------------
class GitLabMergeRequests:
    """kass.ports.MergeRequestReader: an MR's metadata and its file diffs."""

    def __init__(self, gl_or_settings: gitlab.Gitlab | GitLabSettings) -> None:
        if isinstance(gl_or_settings, GitLabSettings):
            self._api = _Api(make_client(gl_or_settings), gl_or_settings.max_retries)
        else:
            self._api = _Api(gl_or_settings, DEFAULT_MAX_RETRIES)

    def merge_request(self, project: str, iid: int) -> MergeRequestDiff:
        base = f"/projects/{_ref(project)}/merge_requests/{int(iid)}"
        name = f"{project}!{iid}"

        def not_found() -> KassError:
            return NotFound(f"merge request {name} not found")

        merge_request = self._or(not_found, lambda: self._api.get(base, f"reading {name}"))
        try:
            diffs = list(
                self._api.all(f"{base}/diffs", {"per_page": LIST_PAGE}, f"diffs of {name}")
            )
        except _Missing:  # GitLab before 15.7 has no /diffs: the deprecated /changes has them
            changes = self._or(not_found, lambda: self._api.get(f"{base}/changes", name))
            diffs = list(changes.get("changes") or [])
        return merge_request_diff(project, merge_request, diffs)

    @staticmethod
    def _or(error: Callable[[], KassError], call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return call()
        except _Missing:
            raise error() from None


def merge_request_reader(settings: Settings) -> MergeRequestReader:
    """The reader the MR review tool uses, from the connector's settings (token required)."""
    gitlab_settings = connector_settings(GitLabSettings, SOURCE, settings)
    gitlab_settings.require_token()
    return GitLabMergeRequests(gitlab_settings)


def from_settings(settings: Settings) -> GitLabConnector:
    """The connector registry's factory (`kass.connectors.make_connector("gitlab", ...)`)."""
    gitlab_settings = connector_settings(GitLabSettings, SOURCE, settings)
    gitlab_settings.require_token()
    return GitLabConnector(gitlab_settings)
