"""A small typed client for the Backlog (Nulab) API v2: only the calls kass makes.

No maintained Backlog SDK exists, so this is httpx plus pydantic models of the documented JSON
(https://developer.nulab.com/docs/backlog/). It authenticates with the `apiKey` query parameter
(or an OAuth 2.0 bearer token), waits out rate limits (`429`, `X-RateLimit-*`), retries 5xx and
transport errors with backoff, and maps refusals to kass errors with Backlog's own message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from kass.connectors.common import retry_after_seconds
from kass.errors import InvalidInput, NotFound, SourceError

MAX_COUNT = 100  # Backlog's largest `count` for list calls
BACKOFF_CAP_SECONDS = 60.0

Sleep = Callable[[float], None]
Clock = Callable[[], float]  # epoch seconds, to compare with X-RateLimit-Reset


# -- the JSON shapes we read (Backlog sends camelCase; unknown fields are ignored) --------------
class BacklogModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Named(BacklogModel):
    """Status, issue type, priority: `{id, name}` (names are in the space's language)."""

    id: int
    name: str


class User(BacklogModel):
    id: int
    name: str = ""
    user_id: str | None = None


class Project(BacklogModel):
    id: int
    project_key: str
    name: str = ""


class Issue(BacklogModel):
    id: int
    issue_key: str
    key_id: int
    project_id: int
    summary: str
    description: str | None = None
    status: Named | None = None
    issue_type: Named | None = None
    priority: Named | None = None
    assignee: User | None = None
    created_user: User | None = None
    created: datetime
    updated: datetime


class ChangeLog(BacklogModel):
    field: str
    new_value: str | None = None
    original_value: str | None = None


class Comment(BacklogModel):
    id: int
    content: str | None = None
    change_log: list[ChangeLog] = Field(default_factory=list)
    created_user: User | None = None
    created: datetime
    updated: datetime | None = None


class Tag(BacklogModel):
    id: int
    name: str


class WikiPage(BacklogModel):
    """A wiki page; the list call omits `content`, the single-page call has it."""

    id: int
    project_id: int
    name: str
    content: str | None = None
    tags: list[Tag] = Field(default_factory=list)
    created_user: User | None = None
    created: datetime
    updated: datetime


M = TypeVar("M", bound=BaseModel)


class BacklogClient:
    """Sync client of one Backlog space (`https://<space>.backlog.com` or `.backlog.jp`)."""

    def __init__(
        self,
        space_url: str,
        *,
        api_key: str | None = None,
        oauth_token: str | None = None,
        max_retries: int = 5,
        timeout: float = 30.0,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not (api_key or oauth_token):
            raise InvalidInput("Backlog needs an API key (or an OAuth token)")
        self.space_url = space_url.rstrip("/")
        self.space = httpx.URL(self.space_url).host or self.space_url
        self.max_retries = max_retries
        self._sleep = sleep
        self._clock = clock
        self._not_before = 0.0  # epoch seconds: X-RateLimit-Remaining hit 0 until Reset
        params = {"apiKey": api_key} if api_key else {}
        headers = {"Authorization": f"Bearer {oauth_token}"} if oauth_token and not api_key else {}
        self._http = httpx.Client(
            base_url=f"{self.space_url}/api/v2",
            params=params,
            headers=headers,
            timeout=timeout,
            transport=transport,
        )
        self.requests = 0  # sent, retries included (figures, tests)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BacklogClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls ------------------------------------------------------------------------------
    def project(self, key: str) -> Project:
        """The project by key (or id); NotFound when the space has none by that key."""
        return _parse(Project, self._call("GET", f"/projects/{key}", not_found=f"project {key!r}"))

    def issue_types(self, project: str) -> list[Named]:
        return _parse_list(Named, self._call("GET", f"/projects/{project}/issueTypes"))

    def priorities(self) -> list[Named]:
        return _parse_list(Named, self._call("GET", "/priorities"))

    def issues(
        self,
        project_ids: Sequence[int],
        *,
        updated_since: date | None = None,
        updated_until: date | None = None,
        sort: str = "updated",
        order: str = "asc",
        offset: int = 0,
        count: int = MAX_COUNT,
    ) -> list[Issue]:
        """One page of issues. `updatedSince`/`Until` are dates: Backlog takes no time of day."""
        params: list[tuple[str, str | int]] = [("projectId[]", pid) for pid in project_ids]
        params += [("sort", sort), ("order", order), ("offset", offset), ("count", count)]
        if updated_since is not None:
            params.append(("updatedSince", updated_since.isoformat()))
        if updated_until is not None:
            params.append(("updatedUntil", updated_until.isoformat()))
        return _parse_list(Issue, self._call("GET", "/issues", params=params))

    def comments(
        self, issue: str, *, min_id: int | None = None, count: int = MAX_COUNT
    ) -> list[Comment]:
        """One page of an issue's comments, oldest first, from `min_id` on."""
        params: list[tuple[str, str | int]] = [("order", "asc"), ("count", count)]
        if min_id is not None:
            params.append(("minId", min_id))
        data = self._call("GET", f"/issues/{issue}/comments", params=params, not_found=issue)
        return _parse_list(Comment, data)

    def all_comments(self, issue: str) -> list[Comment]:
        """Every comment of an issue (pages of 100 by `minId`), oldest first."""
        out: list[Comment] = []
        last_id: int | None = None
        while True:
            page = self.comments(issue, min_id=last_id)
            # Whether minId is inclusive is not documented: keep only ids past the last seen.
            fresh = [c for c in page if last_id is None or c.id > last_id]
            out.extend(fresh)
            if len(page) < MAX_COUNT or not fresh:
                return out
            last_id = out[-1].id

    def wikis(self, project: str) -> list[WikiPage]:
        data = self._call("GET", "/wikis", params=[("projectIdOrKey", project)])
        return _parse_list(WikiPage, data)

    def wiki(self, wiki_id: int) -> WikiPage:
        return _parse(WikiPage, self._call("GET", f"/wikis/{wiki_id}", not_found=f"wiki {wiki_id}"))

    def create_issue(
        self,
        *,
        project_id: int,
        summary: str,
        issue_type_id: int,
        priority_id: int,
        description: str = "",
    ) -> Issue:
        form = {
            "projectId": str(project_id),
            "summary": summary,
            "issueTypeId": str(issue_type_id),
            "priorityId": str(priority_id),
            "description": description,
        }
        # Not retried on 5xx: the issue may have been created; a duplicate ticket is worse.
        return _parse(Issue, self._call("POST", "/issues", data=form, idempotent=False))

    # -- transport --------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str | int]] = (),
        data: Mapping[str, str] | None = None,
        not_found: str | None = None,
        idempotent: bool = True,
    ) -> Any:
        for attempt in range(self.max_retries + 1):
            self._wait_for_quota()
            last = attempt == self.max_retries
            self.requests += 1
            try:
                response = self._http.request(method, path, params=list(params), data=data)
            except httpx.TransportError as error:
                if last or not idempotent:
                    raise SourceError(f"cannot reach Backlog at {self.space}: {error}") from None
                self._sleep(_backoff(attempt))
                continue
            self._note_quota(response.headers)
            status = response.status_code
            if status == 429 and not last:
                self._sleep(self._rate_limit_wait(response.headers, attempt))
                continue
            if status >= 500 and not last and idempotent:
                self._sleep(_backoff(attempt))
                continue
            if status >= 400:
                raise self._error(response, not_found)
            return response.json()
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _rate_limit_wait(self, headers: Mapping[str, str], attempt: int) -> float:
        """Retry-After when sent, else until X-RateLimit-Reset, else exponential backoff."""
        until_reset = self._until_reset(headers)
        default = until_reset if until_reset is not None else _backoff(attempt)
        return retry_after_seconds(headers, default=default)

    def _until_reset(self, headers: Mapping[str, str]) -> float | None:
        try:
            reset = float(headers["X-RateLimit-Reset"])
        except (KeyError, ValueError):
            return None
        return max(0.0, reset - self._clock())

    def _note_quota(self, headers: Mapping[str, str]) -> None:
        """No request left in this window: the next one waits for the reset, not for a 429."""
        if headers.get("X-RateLimit-Remaining") == "0":
            wait = self._until_reset(headers)
            if wait:
                self._not_before = self._clock() + wait

    def _wait_for_quota(self) -> None:
        if self._not_before:
            wait, self._not_before = self._not_before - self._clock(), 0.0
            if wait > 0:
                self._sleep(wait)

    def _error(self, response: httpx.Response, not_found: str | None) -> Exception:
        status, message = response.status_code, _message(response)
        if status == 401:
            return SourceError(f"Backlog rejected the API key for {self.space}: {message}")
        if status == 403:
            return SourceError(f"Backlog denied access on {self.space}: {message}")
        if status == 404 and not_found:
            return NotFound(f"no Backlog {not_found} on {self.space}: {message}")
        if status == 429:
            return SourceError(f"Backlog rate limit on {self.space} persisted: {message}")
        if 400 <= status < 500:
            return InvalidInput(f"Backlog refused the request ({status}): {message}")
        return SourceError(f"Backlog {self.space} failed ({status}): {message}")


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_CAP_SECONDS, 2**attempt))


def _message(response: httpx.Response) -> str:
    """Backlog's `{"errors": [{"message", "code", "moreInfo"}]}` as one line."""
    try:
        errors = response.json()["errors"]
        text = "; ".join(str(e["message"]) for e in errors if e.get("message"))
    except (ValueError, KeyError, TypeError):
        text = response.text[:200]
    return " ".join(text.split()) or response.reason_phrase


def _parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise SourceError(f"Backlog sent an unexpected {model.__name__}: {_first(error)}") from None


def _parse_list(model: type[M], data: Any) -> list[M]:
    try:
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
    except ValidationError as error:
        raise SourceError(
            f"Backlog sent an unexpected {model.__name__} list: {_first(error)}"
        ) from None


def _first(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
