"""An HTTP-level GitLab double: the part of REST v4 the kass GitLab connector and MR reader use.

A real HTTP server on 127.0.0.1 (stdlib `ThreadingHTTPServer`), so python-gitlab's own
requests, pagination, retries and error mapping are exercised. It follows the documented API
(docs.gitlab.com/api/ issues, merge_requests, notes, projects, groups):

- `GET /api/v4/projects/:id` (numeric id or URL-encoded path, `team%2Fapp`);
- `GET /projects/:id/issues` and `/merge_requests`: `updated_after`/`updated_before`/
  `created_after`/`created_before` (inclusive: "on or after"), `state`, `order_by`
  (`created_at` default, `updated_at`), `sort` (`desc` default), `page`, `per_page` (20 by
  default, at most 100); ties are ordered by id, as GitLab does;
- `GET .../:iid`, `.../:iid/notes` (`sort`, `order_by`), `/merge_requests/:iid/diffs`
  (paginated) and the deprecated `/merge_requests/:iid/changes`;
- `GET /groups/:id` and `/groups/:id/projects` (`include_subgroups`);
- pagination headers `X-Page`, `X-Per-Page`, `X-Next-Page`, `X-Prev-Page`, `X-Total`,
  `X-Total-Pages` and `Link` (`rel="next"`, `"prev"`, `"first"`, `"last"`), the header
  python-gitlab follows;
- `PRIVATE-TOKEN` (or `Authorization: Bearer`) auth: a wrong token gets
  401 `{"message": "401 Unauthorized"}`; unknown resources 404 `{"message": "404 ... Not Found"}`.

Times come from a logical clock (`now`), so generated data and edits are deterministic: every
mutation moves the clock forward one second (or by what it is told) and stamps the item, as
GitLab stamps `updated_at` when an issue, or a note on it, changes.

Tests script failures with `fail_next(status, headers)` (e.g. 429 with `Retry-After: 0`), read
the request log (`requests`, `calls`), and change data with `add_issue`, `add_merge_request`,
`add_note`, `edit`, `delete`, `set_diffs`, or `generate(...)` for N projects/issues/MRs/notes.
Run it alone with `python -m tests.doubles.gitlab_api --port N --issues 50`.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.doubles.served import ServedDouble

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOKEN = "glpat-kass-test-token"
KINDS = ("issue", "merge_request")
_COLLECTION = {"issues": "issue", "merge_requests": "merge_request"}
_WEB = {"issue": "issues", "merge_request": "merge_requests"}
_REF = {"issue": "#", "merge_request": "!"}
_LABELS = ("bug", "feature", "backend", "frontend", "ops", "docs", "security", "perf")
_USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
_WORDS = (
    "login",
    "timeout",
    "cache",
    "deploy",
    "token",
    "retry",
    "webhook",
    "index",
    "search",
    "release",
    "crash",
    "billing",
    "invoice",
    "latency",
    "queue",
    "worker",
    "migration",
    "schema",
    "rollback",
    "push",
    "notification",
    "calendar",
)


def gitlab_time(moment: datetime) -> str:
    """GitLab's rendering: UTC, milliseconds, `Z` (`2016-01-04T15:31:51.081Z`)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class Recorded:
    method: str
    path: str  # decoded (`/api/v4/projects/team/app/issues`)
    raw_path: str  # as sent (`/api/v4/projects/team%2Fapp/issues`)
    params: dict[str, str]
    status: int = 0


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    path_contains: str
    body: Any


@dataclass
class Project:
    id: int
    path: str
    issues_enabled: bool = True
    merge_requests_enabled: bool = True
    archived: bool = False
    items: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    notes: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    diffs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    next_iid: dict[str, int] = field(default_factory=lambda: {kind: 1 for kind in KINDS})

    @property
    def namespace(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


class GitLabDouble(ServedDouble):
    def __init__(
        self, token: str = TOKEN, *, port: int = 0, host: str = "127.0.0.1", start: datetime = T0
    ) -> None:
        self.token = token
        self.now = start
        self.projects: dict[str, Project] = {}
        self.groups: dict[str, int] = {}
        self.requests: list[Recorded] = []
        self.diffs_endpoint = True  # False: answer /diffs with 404, like GitLab before 15.7
        self._failures: list[Failure] = []
        self._ids = {"project": 0, "group": 0, "item": 0, "note": 1000, "user": 0}
        self._users: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._serve(host, port, self._handler_class())

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}"

    # -- fault injection / inspection -------------------------------------------------------
    def fail_next(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        *,
        path_contains: str = "",
        times: int = 1,
        body: Any = None,
    ) -> None:
        """The next `times` requests whose decoded path contains `path_contains` answer
        `status` with `headers` (e.g. `fail_next(429, {"Retry-After": "0"})`)."""
        payload = body if body is not None else {"message": f"{status} {_reason(status)}"}
        with self._lock:
            self._failures.extend(
                [Failure(status, dict(headers or {}), path_contains, payload)] * times
            )

    def calls(self, path_contains: str = "", method: str = "GET") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and path_contains in r.path]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- data -------------------------------------------------------------------------------
    def tick(self, by: timedelta = timedelta(seconds=1)) -> datetime:
        """Move the clock forward and return the new time."""
        with self._lock:
            self.now += by
            return self.now

    def add_project(
        self,
        path: str,
        *,
        issues_enabled: bool = True,
        merge_requests_enabled: bool = True,
        archived: bool = False,
    ) -> Project:
        with self._lock:
            if path in self.projects:
                return self.projects[path]
            parts = path.split("/")
            for depth in range(1, len(parts)):
                self.add_group("/".join(parts[:depth]))
            self._ids["project"] += 1
            project = Project(
                self._ids["project"], path, issues_enabled, merge_requests_enabled, archived
            )
            self.projects[path] = project
            return project

    def add_group(self, path: str) -> int:
        with self._lock:
            if path not in self.groups:
                self._ids["group"] += 1
                self.groups[path] = self._ids["group"]
            return self.groups[path]

    def add_issue(
        self,
        project: str,
        title: str,
        description: str = "",
        *,
        author: str = "alice",
        labels: Sequence[str] = (),
        state: str = "opened",
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        return self._add_item(
            project, "issue", title, description, author, labels, state, created_at
        )

    def add_merge_request(
        self,
        project: str,
        title: str,
        description: str = "",
        *,
        author: str = "alice",
        labels: Sequence[str] = (),
        state: str = "opened",
        created_at: datetime | None = None,
        diffs: Sequence[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        item = self._add_item(
            project, "merge_request", title, description, author, labels, state, created_at
        )
        if diffs is not None:
            self.set_diffs(project, item["iid"], diffs)
        return item

    def add_note(
        self,
        project: str,
        kind: str,
        iid: int,
        body: str,
        *,
        author: str = "bob",
        system: bool = False,
        position_path: str | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """A note on an issue or MR; its parent's `updated_at` moves to the note's time."""
        with self._lock:
            p = self.projects[project]
            item = p.items[kind][iid]
            at = created_at or self.tick()
            self.now = max(self.now, at)
            self._ids["note"] += 1
            note: dict[str, Any] = {
                "id": self._ids["note"],
                "type": "DiffNote" if position_path else None,
                "body": body,
                "attachment": None,
                "author": self._user(author),
                "created_at": gitlab_time(at),
                "updated_at": gitlab_time(at),
                "system": system,
                "noteable_id": item["id"],
                "noteable_type": "Issue" if kind == "issue" else "MergeRequest",
                "noteable_iid": iid,
                "project_id": p.id,
                "resolvable": False,
                "confidential": False,
                "internal": False,
            }
            if position_path:
                note["position"] = {"new_path": position_path, "old_path": position_path}
            p.notes.setdefault((kind, iid), []).append(note)
            if not system:
                item["user_notes_count"] += 1
            item["updated_at"] = gitlab_time(max(at, parse_time(item["updated_at"])))
            return note

    def edit(
        self,
        project: str,
        kind: str,
        iid: int,
        *,
        updated_at: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Change fields of an issue/MR (title, description, state, labels); stamps
        `updated_at` with the next clock tick, or with `updated_at` (to fake a late replica)."""
        with self._lock:
            item = self.projects[project].items[kind][iid]
            at = updated_at or self.tick()
            for name, value in fields.items():
                item[name] = list(value) if name == "labels" else value
            if fields.get("state") == "closed":
                item["closed_at"] = gitlab_time(at)
            if fields.get("state") == "merged":
                item["merged_at"] = gitlab_time(at)
            item["updated_at"] = gitlab_time(at)
            return item

    def edit_issue(self, project: str, iid: int, **fields: Any) -> dict[str, Any]:
        return self.edit(project, "issue", iid, **fields)

    def edit_merge_request(self, project: str, iid: int, **fields: Any) -> dict[str, Any]:
        return self.edit(project, "merge_request", iid, **fields)

    def delete(self, project: str, kind: str, iid: int) -> None:
        with self._lock:
            p = self.projects[project]
            del p.items[kind][iid]
            p.notes.pop((kind, iid), None)
            if kind == "merge_request":
                p.diffs.pop(iid, None)

    def delete_issue(self, project: str, iid: int) -> None:
        self.delete(project, "issue", iid)

    def set_diffs(self, project: str, iid: int, diffs: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self.projects[project].diffs[iid] = [_diff(d) for d in diffs]

    def item(self, project: str, kind: str, iid: int) -> dict[str, Any]:
        return self.projects[project].items[kind][iid]

    def iids(self, project: str, kind: str) -> list[int]:
        return sorted(self.projects[project].items[kind])

    def generate(
        self,
        projects: Sequence[str] = ("team/app",),
        *,
        issues: int = 20,
        merge_requests: int = 5,
        max_notes: int = 3,
        seed: int = 0,
        step: timedelta = timedelta(minutes=1),
    ) -> None:
        """Deterministic data: per project `issues` issues and `merge_requests` MRs, each with
        0..max_notes user notes (and now and then a system note), `step` apart in time."""
        rng = random.Random(seed)
        with self._lock:
            for path in projects:
                self.add_project(path)
                for kind, count in (("issue", issues), ("merge_request", merge_requests)):
                    for _ in range(count):
                        self._generate_item(path, kind, rng, max_notes, step)

    # -- internals --------------------------------------------------------------------------
    def _generate_item(
        self, path: str, kind: str, rng: random.Random, max_notes: int, step: timedelta
    ) -> None:
        created = self.tick(step)
        words = rng.sample(_WORDS, 4)
        title = f"{words[0].title()} {words[1]} fails after {words[2]} change"
        description = f"Steps: {' '.join(rng.sample(_WORDS, 8))}.\nExpected {words[3]} to work."
        labels = sorted(rng.sample(_LABELS, rng.randint(0, 3)))
        states = ("opened", "closed") if kind == "issue" else ("opened", "merged", "closed")
        item = self._add_item(
            path, kind, title, description, rng.choice(_USERS), labels, rng.choice(states), created
        )
        at = created
        for n in range(rng.randint(0, max_notes)):
            at += timedelta(seconds=7)
            text = f"Note {n + 1}: {' '.join(rng.sample(_WORDS, 6))}."
            self.add_note(path, kind, item["iid"], text, author=rng.choice(_USERS), created_at=at)
            if rng.random() < 0.2:
                at += timedelta(seconds=1)
                self.add_note(
                    path, kind, item["iid"], "added ~bug label", system=True, created_at=at
                )
        if kind == "merge_request":
            self.set_diffs(
                path,
                item["iid"],
                [
                    {
                        "new_path": f"src/{words[0]}.py",
                        "diff": f"@@ -1 +1 @@\n-{words[1]}\n+{words[2]}\n",
                    }
                ],
            )

    def _add_item(
        self,
        project: str,
        kind: str,
        title: str,
        description: str,
        author: str,
        labels: Sequence[str],
        state: str,
        created_at: datetime | None,
    ) -> dict[str, Any]:
        with self._lock:
            p = self.projects.get(project) or self.add_project(project)
            at = created_at or self.tick()
            if at > self.now:
                self.now = at
            iid = p.next_iid[kind]
            p.next_iid[kind] += 1
            self._ids["item"] += 1
            item: dict[str, Any] = {
                "id": self._ids["item"],
                "iid": iid,
                "project_id": p.id,
                "title": title,
                "description": description,
                "state": state,
                "created_at": gitlab_time(at),
                "updated_at": gitlab_time(at),
                "closed_at": gitlab_time(at) if state == "closed" else None,
                "labels": list(labels),
                "author": self._user(author),
                "assignees": [],
                "user_notes_count": 0,
                "upvotes": 0,
                "downvotes": 0,
                "web_url": f"{self.url}/{p.path}/-/{_WEB[kind]}/{iid}",
                "references": {
                    "short": f"{_REF[kind]}{iid}",
                    "relative": f"{_REF[kind]}{iid}",
                    "full": f"{p.path}{_REF[kind]}{iid}",
                },
            }
            if kind == "issue":
                item.update(confidential=False, issue_type="issue", type="ISSUE")
            else:
                item.update(
                    source_branch=f"feature-{iid}",
                    target_branch="main",
                    draft=False,
                    merged_at=gitlab_time(at) if state == "merged" else None,
                    merge_status="can_be_merged",
                    detailed_merge_status="mergeable",
                    sha=f"{iid:040x}",
                )
            p.items[kind][iid] = item
            return item

    def _user(self, username: str) -> dict[str, Any]:
        if username not in self._users:
            self._ids["user"] += 1
            self._users[username] = {
                "id": self._ids["user"],
                "username": username,
                "name": username.title(),
                "state": "active",
                "avatar_url": None,
                "web_url": f"{self.url}/{username}",
            }
        return dict(self._users[username])

    def _project_json(self, p: Project) -> dict[str, Any]:
        namespace = p.namespace
        return {
            "id": p.id,
            "name": p.path.rsplit("/", 1)[-1],
            "path": p.path.rsplit("/", 1)[-1],
            "path_with_namespace": p.path,
            "name_with_namespace": p.path.replace("/", " / "),
            "web_url": f"{self.url}/{p.path}",
            "default_branch": "main",
            "visibility": "private",
            "archived": p.archived,
            "namespace": {
                "id": self.groups.get(namespace),
                "path": namespace.rsplit("/", 1)[-1],
                "full_path": namespace,
                "kind": "group",
            },
            "issues_enabled": p.issues_enabled,
            "merge_requests_enabled": p.merge_requests_enabled,
            "issues_access_level": "enabled" if p.issues_enabled else "disabled",
            "merge_requests_access_level": "enabled" if p.merge_requests_enabled else "disabled",
        }

    # -- HTTP -------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                token = self.headers.get("PRIVATE-TOKEN") or (
                    self.headers.get("Authorization") or ""
                ).removeprefix("Bearer ")
                host = self.headers.get("Host") or f"127.0.0.1:{double.port}"
                with double._lock:
                    record = Recorded(self.command, unquote(url.path), url.path, params)
                    double.requests.append(record)
                    status, payload, headers = double._route(
                        self.command, url.path, params, token, f"http://{host}"
                    )
                    record.status = status
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        return Handler

    def _route(
        self, method: str, raw_path: str, params: dict[str, str], token: str, base: str
    ) -> tuple[int, Any, dict[str, str]]:
        decoded = unquote(raw_path)
        for i, failure in enumerate(self._failures):
            if failure.path_contains in decoded:
                del self._failures[i]
                return failure.status, failure.body, failure.headers
        if token != self.token:
            return 401, {"message": "401 Unauthorized"}, {}
        if not raw_path.startswith("/api/v4/"):
            return 404, {"error": "404 Not Found"}, {}
        parts = [unquote(part) for part in raw_path[len("/api/v4/") :].split("/") if part]
        if method != "GET":
            return 405, {"message": "405 Method Not Allowed"}, {}
        if parts and parts[0] == "projects" and len(parts) >= 2:
            return self._project_route(parts[1], parts[2:], params, base, raw_path)
        if parts and parts[0] == "groups" and len(parts) >= 2:
            return self._group_route(parts[1], parts[2:], params, base, raw_path)
        return 404, {"error": "404 Not Found"}, {}

    def _find_project(self, ref: str) -> Project | None:
        if ref.isdigit():
            return next((p for p in self.projects.values() if p.id == int(ref)), None)
        return self.projects.get(ref)

    def _project_route(
        self, ref: str, rest: list[str], params: dict[str, str], base: str, raw_path: str
    ) -> tuple[int, Any, dict[str, str]]:
        project = self._find_project(ref)
        if project is None:
            return 404, {"message": "404 Project Not Found"}, {}
        if not rest:
            return 200, self._project_json(project), {}
        kind = _COLLECTION.get(rest[0])
        if kind is None:
            return 404, {"error": "404 Not Found"}, {}
        enabled = project.issues_enabled if kind == "issue" else project.merge_requests_enabled
        if not enabled:
            return 403, {"message": "403 Forbidden"}, {}
        items = project.items[kind]
        if len(rest) == 1:
            return self._paginate(self._filtered(items.values(), params), params, base, raw_path)
        if not rest[1].isdigit() or int(rest[1]) not in items:
            what = "Issue" if kind == "issue" else "Merge Request"
            return 404, {"message": f"404 {what} Not Found"}, {}
        iid = int(rest[1])
        item = items[iid]
        if len(rest) == 2:
            return 200, item, {}
        if rest[2:] == ["notes"]:
            notes = _ordered(
                project.notes.get((kind, iid), []),
                params.get("order_by", "created_at"),
                params.get("sort", "desc"),
            )
            return self._paginate(notes, params, base, raw_path)
        if kind == "merge_request" and rest[2:] == ["diffs"] and self.diffs_endpoint:
            return self._paginate(project.diffs.get(iid, []), params, base, raw_path)
        if kind == "merge_request" and rest[2:] == ["changes"]:
            return 200, {**item, "changes": project.diffs.get(iid, []), "overflow": False}, {}
        return 404, {"error": "404 Not Found"}, {}

    def _group_route(
        self, ref: str, rest: list[str], params: dict[str, str], base: str, raw_path: str
    ) -> tuple[int, Any, dict[str, str]]:
        path = ref
        if ref.isdigit():
            path = next((g for g, gid in self.groups.items() if gid == int(ref)), "")
        if path not in self.groups:
            return 404, {"message": "404 Group Not Found"}, {}
        if not rest:
            return (
                200,
                {
                    "id": self.groups[path],
                    "path": path.rsplit("/", 1)[-1],
                    "full_path": path,
                    "web_url": f"{self.url}/groups/{path}",
                },
                {},
            )
        if rest != ["projects"]:
            return 404, {"error": "404 Not Found"}, {}
        subgroups = params.get("include_subgroups", "false").lower() == "true"
        members = [
            self._project_json(p)
            for p in sorted(self.projects.values(), key=lambda p: p.id, reverse=True)
            if p.namespace == path or (subgroups and p.namespace.startswith(path + "/"))
        ]
        return self._paginate(members, params, base, raw_path)

    def _filtered(
        self, items: Iterable[dict[str, Any]], params: dict[str, str]
    ) -> list[dict[str, Any]]:
        bounds = []
        for name in ("updated_after", "updated_before", "created_after", "created_before"):
            if params.get(name):
                bounds.append((name, parse_time(params[name])))
        state = params.get("state", "all")
        chosen = []
        for item in items:
            if state != "all" and item["state"] != state:
                continue
            keep = True
            for name, bound in bounds:
                value = parse_time(item[name.split("_")[0] + "_at"])
                keep = keep and (value >= bound if name.endswith("after") else value <= bound)
            if keep:
                chosen.append(item)
        return _ordered(chosen, params.get("order_by", "created_at"), params.get("sort", "desc"))

    def _paginate(
        self, items: list[dict[str, Any]], params: dict[str, str], base: str, raw_path: str
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(max(int(params.get("per_page") or 20), 1), 100)
        page = max(int(params.get("page") or 1), 1)
        total = len(items)
        pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(n: int) -> str:
            query = urlencode({**params, "page": str(n), "per_page": str(per_page)})
            return f"{base}{raw_path}?{query}"

        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "X-Total": str(total),
            "X-Total-Pages": str(pages),
        }
        links = []
        if page > 1:
            links.append(f'<{link(page - 1)}>; rel="prev"')
        if page < pages:
            links.append(f'<{link(page + 1)}>; rel="next"')
        links += [f'<{link(1)}>; rel="first"', f'<{link(pages)}>; rel="last"']
        headers["Link"] = ", ".join(links)
        return 200, chunk, headers


def _ordered(items: Iterable[dict[str, Any]], order_by: str, sort: str) -> list[dict[str, Any]]:
    key = order_by if order_by in ("created_at", "updated_at") else "created_at"
    return sorted(
        items, key=lambda item: (parse_time(item[key]), item["id"]), reverse=(sort != "asc")
    )


def _diff(entry: dict[str, Any]) -> dict[str, Any]:
    new_path = entry.get("new_path") or entry.get("old_path") or "file"
    return {
        "old_path": entry.get("old_path", new_path),
        "new_path": new_path,
        "a_mode": "100644",
        "b_mode": "100644",
        "diff": entry.get("diff", ""),
        "new_file": bool(entry.get("new_file", False)),
        "renamed_file": entry.get("old_path", new_path) != new_path,
        "deleted_file": bool(entry.get("deleted_file", False)),
        "generated_file": False,
    }


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--projects", default="team/app", help="comma-separated paths")
    parser.add_argument("--issues", type=int, default=20)
    parser.add_argument("--merge-requests", type=int, default=5)
    args = parser.parse_args()
    double = GitLabDouble(args.token, port=args.port, host=args.host)
    double.generate(
        args.projects.split(","), issues=args.issues, merge_requests=args.merge_requests
    )
    print(f"GitLab double listening on {double.url} (token {args.token})", flush=True)
    try:
        double._server.serve_forever(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        double._server.server_close()


if __name__ == "__main__":
    main()
