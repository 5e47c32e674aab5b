"""An HTTP-level Backlog (Nulab) API v2 double: the endpoints kass's Backlog client calls.

A real HTTP server on 127.0.0.1 (stdlib), answering with the documented JSON shapes
(https://developer.nulab.com/docs/backlog/): projects, issue types, priorities, issues (list
with `projectId[]`, date-only `updatedSince`/`updatedUntil`, `sort`, `order`, `offset`,
`count` ≤ 100; create by form), comments (`minId`, `maxId`, `count`, `order`), wikis.

- Auth: the `apiKey` query parameter (or `Authorization: Bearer`); else 401 with Backlog's
  error body `{"errors": [{"message", "code", "moreInfo"}]}`.
- Rate limit: `X-RateLimit-Limit/-Remaining/-Reset` (epoch seconds) on every response, a
  window of `rate_limit` requests per minute on `clock` (inject a simulated clock to run
  thousands of requests), 429 when exhausted; `fail_next` scripts any status.
- Time: issue and comment timestamps come from a deterministic clock (`tick`), so tests can
  place several edits on one day and across days.
- Inspection: `requests` (every request), `created` (issues created through the API).

Run alone with `python -m tests.doubles.backlog_api --port N --issues 50`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.doubles.served import ServedDouble

API = "/api/v2"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
WINDOW_SECONDS = 60

USERS = [
    {"id": 1, "userId": "taro", "name": "山田 太郎", "roleType": 1, "lang": "ja"},
    {"id": 2, "userId": "alice", "name": "Alice Smith", "roleType": 2, "lang": "en"},
    {"id": 3, "userId": "kenji", "name": "佐藤 健二", "roleType": 2, "lang": "ja"},
]
PRIORITIES = [{"id": 2, "name": "High"}, {"id": 3, "name": "Normal"}, {"id": 4, "name": "Low"}]
STATUSES = ["Open", "In Progress", "Resolved", "Closed"]

_TOPICS = [
    ("ログイン画面でエラーが発生する", "本番環境でログインすると500エラーになります。"),
    ("Deploy pipeline is slow", "The staging deploy takes 40 minutes since the last change."),
    ("検索結果の並び順がおかしい", "更新日順で並ばず、作成日順になっています。"),
    ("Add CSV export to reports", "Finance asked for a CSV export of the monthly report."),
]


def iso(moment: datetime) -> str:
    """Backlog's timestamp format: `2024-05-01T09:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _errors(message: str, code: int) -> dict[str, Any]:
    return {"errors": [{"message": message, "code": code, "moreInfo": ""}]}


class FakeTime:
    """A simulated clock: `sleep` records the wait and advances time; nothing really sleeps."""

    START = 1_899_999_400.0

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, list[str]]
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class Failure:
    status: int
    path_contains: str
    headers: dict[str, str]
    body: dict[str, Any]
    skip: int = 0  # matching requests to let through first


class BacklogDouble(ServedDouble):
    def __init__(
        self,
        *,
        api_key: str = "test-api-key",
        oauth_token: str | None = None,
        rate_limit: int = 600,
        clock: Callable[[], float] = time.time,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.api_key = api_key
        self.oauth_token = oauth_token
        self.rate_limit = rate_limit
        self.clock = clock
        self.now = T0  # the deterministic clock of issue and comment timestamps
        self.projects: dict[int, dict[str, Any]] = {}
        self.issue_types: dict[int, list[dict[str, Any]]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.wikis: dict[int, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self._failures: list[Failure] = []
        self._key_ids: dict[int, int] = {}  # project id -> last issue number
        self._ids = {"project": 100, "issue": 1000, "comment": 50000, "wiki": 300, "type": 10}
        self._window_start: float | None = None
        self._used = 0
        self._lock = threading.RLock()
        self._serve(host, port, self._handler_class())

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The space URL (what `https://<space>.backlog.com` is in production)."""
        return f"http://127.0.0.1:{self.port}"

    # -- fault injection / inspection -------------------------------------------------------
    def fail_next(
        self,
        status: int,
        path_contains: str = "",
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str | None = None,
        after: int = 0,
    ) -> None:
        """The next `times` requests whose path contains `path_contains` (after letting `after`
        of them through) answer `status`, with the usual rate-limit headers overridden by
        `headers` (e.g. `X-RateLimit-Reset`)."""
        body = _errors(message or f"injected {status}", 12 if status == 429 else 1)
        self._failures.extend(
            Failure(status, path_contains, headers or {}, body, skip=after if n == 0 else 0)
            for n in range(times)
        )

    def calls(self, method: str = "GET", path_contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_contains in r.path]

    # -- data -------------------------------------------------------------------------------
    def tick(self, step: timedelta = timedelta(minutes=1)) -> datetime:
        """Advance the data clock and return the new time."""
        self.now += step
        return self.now

    def add_project(
        self, key: str, name: str = "", issue_types: tuple[str, ...] = ("Bug", "Task")
    ) -> dict[str, Any]:
        with self._lock:
            pid = self._next("project")
            project = {
                "id": pid,
                "projectKey": key,
                "name": name or key,
                "chartEnabled": False,
                "subtaskingEnabled": False,
                "textFormattingRule": "markdown",
                "archived": False,
            }
            self.projects[pid] = project
            self.issue_types[pid] = [
                {
                    "id": self._next("type"),
                    "projectId": pid,
                    "name": type_name,
                    "color": "#e30000",
                    "displayOrder": order,
                }
                for order, type_name in enumerate(issue_types)
            ]
            return project

    def add_issue(
        self,
        project_key: str,
        summary: str,
        description: str = "",
        *,
        issue_type: str | None = None,
        priority_id: int = 3,
        assignee: int | None = None,
        author: int = 1,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            project = self._project(project_key)
            assert project is not None, f"no project {project_key}"
            pid = project["id"]
            types = self.issue_types[pid]
            kind = next((t for t in types if t["name"] == issue_type), types[0])
            key_id = self._key_ids[pid] = self._key_ids.get(pid, 0) + 1  # keys never reused
            moment = at or self.tick()
            issue = {
                "id": self._next("issue"),
                "projectId": pid,
                "issueKey": f"{project_key}-{key_id}",
                "keyId": key_id,
                "issueType": kind,
                "summary": summary,
                "description": description,
                "resolution": None,
                "priority": next(p for p in PRIORITIES if p["id"] == priority_id),
                "status": {"id": 1, "projectId": pid, "name": STATUSES[0], "displayOrder": 1000},
                "assignee": self._user(assignee),
                "category": [],
                "versions": [],
                "milestone": [],
                "startDate": None,
                "dueDate": None,
                "estimatedHours": None,
                "actualHours": None,
                "parentIssueId": None,
                "createdUser": self._user(author),
                "created": iso(moment),
                "updatedUser": self._user(author),
                "updated": iso(moment),
                "customFields": [],
                "attachments": [],
                "sharedFiles": [],
                "stars": [],
            }
            self.issues[issue["id"]] = issue
            self.comments[issue["id"]] = []
            return issue

    def edit_issue(
        self,
        key: str,
        *,
        summary: str | None = None,
        description: str | None = None,
        status: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Edit an issue; its `updated` moves to `at` (default: the next tick)."""
        with self._lock:
            issue = self._issue(key)
            assert issue is not None, f"no issue {key}"
            if summary is not None:
                issue["summary"] = summary
            if description is not None:
                issue["description"] = description
            if status is not None:
                issue["status"] = {**issue["status"], "id": STATUSES.index(status) + 1}
                issue["status"]["name"] = status
            issue["updated"] = iso(at or self.tick())
            return issue

    def add_comment(
        self,
        key: str,
        content: str | None,
        *,
        change_log: list[dict[str, Any]] | None = None,
        author: int = 2,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Comment on an issue (content None + change_log = a change-log-only comment); like
        Backlog, this updates the issue too."""
        with self._lock:
            issue = self._issue(key)
            assert issue is not None, f"no issue {key}"
            moment = iso(at or self.tick())
            comment = {
                "id": self._next("comment"),
                "projectId": issue["projectId"],
                "issueId": issue["id"],
                "content": content,
                "changeLog": [
                    {
                        "field": entry.get("field", "status"),
                        "newValue": entry.get("newValue"),
                        "originalValue": entry.get("originalValue"),
                        "attachmentInfo": None,
                        "attributeInfo": None,
                        "notificationInfo": None,
                    }
                    for entry in change_log or []
                ],
                "createdUser": self._user(author),
                "created": moment,
                "updated": moment,
                "stars": [],
                "notifications": [],
            }
            self.comments[issue["id"]].append(comment)
            issue["updated"] = moment
            return comment

    def delete_issue(self, key: str) -> None:
        with self._lock:
            issue = self._issue(key)
            assert issue is not None, f"no issue {key}"
            del self.issues[issue["id"]]
            del self.comments[issue["id"]]

    def add_wiki(
        self, project_key: str, name: str, content: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        with self._lock:
            project = self._project(project_key)
            assert project is not None, f"no project {project_key}"
            moment = iso(at or self.tick())
            page = {
                "id": self._next("wiki"),
                "projectId": project["id"],
                "name": name,
                "content": content,
                "tags": [{"id": 1, "name": "guide"}],
                "attachments": [],
                "sharedFiles": [],
                "stars": [],
                "createdUser": self._user(1),
                "created": moment,
                "updatedUser": self._user(1),
                "updated": moment,
            }
            self.wikis[page["id"]] = page
            return page

    def edit_wiki(self, wiki_id: int, content: str, *, at: datetime | None = None) -> None:
        with self._lock:
            self.wikis[wiki_id]["content"] = content
            self.wikis[wiki_id]["updated"] = iso(at or self.tick())

    def generate(
        self, project_key: str, count: int, *, comments: int = 3, step: timedelta | None = None
    ) -> list[str]:
        """`count` deterministic issues (English and Japanese), each with `comments` comments,
        every third of them change-log only. Returns their keys."""
        if self._project(project_key) is None:
            self.add_project(project_key)
        step = step or timedelta(minutes=1)
        keys = []
        for n in range(count):
            title, body = _TOPICS[n % len(_TOPICS)]
            issue = self.add_issue(
                project_key,
                f"{title} #{n}",
                f"{body}\n\n詳細 {n}: 再現手順は以下の通りです。",
                assignee=USERS[n % len(USERS)]["id"] if n % 2 else None,
                author=USERS[n % len(USERS)]["id"],
                at=self.tick(step),
            )
            for c in range(comments):
                if c % 3 == 2:
                    self.add_comment(
                        issue["issueKey"],
                        None,
                        change_log=[{"field": "status", "newValue": "In Progress"}],
                        at=self.tick(timedelta(seconds=1)),
                    )
                else:
                    text = f"コメント {c}: 確認しました。" if c % 2 else f"Comment {c}: reproduced."
                    self.add_comment(issue["issueKey"], text, at=self.tick(timedelta(seconds=1)))
            keys.append(issue["issueKey"])
        return keys

    # -- lookup helpers ---------------------------------------------------------------------
    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _user(self, user_id: int | None) -> dict[str, Any] | None:
        user = next((u for u in USERS if u["id"] == user_id), None)
        return None if user is None else {**user, "mailAddress": f"{user['userId']}@example.com"}

    def _project(self, id_or_key: str) -> dict[str, Any] | None:
        return next(
            (p for p in self.projects.values() if id_or_key in (p["projectKey"], str(p["id"]))),
            None,
        )

    def _issue(self, id_or_key: str) -> dict[str, Any] | None:
        return next(
            (i for i in self.issues.values() if id_or_key in (i["issueKey"], str(i["id"]))), None
        )

    # -- HTTP -------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                params = parse_qs(url.query, keep_blank_values=True)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                with double._lock:
                    double.requests.append(Recorded(self.command, url.path, params, form))
                    status, payload, headers = double._respond(
                        self.command, unquote(url.path), params, form, bearer
                    )
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        return Handler

    def _respond(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        form: dict[str, str],
        bearer: str,
    ) -> tuple[int, Any, dict[str, str]]:
        headers = self._rate_headers()
        for i, failure in enumerate(self._failures):
            if failure.path_contains in path:
                if failure.skip:
                    failure.skip -= 1
                    break
                del self._failures[i]
                return failure.status, failure.body, {**headers, **failure.headers}
        if headers["X-RateLimit-Remaining"] == "-1":
            headers["X-RateLimit-Remaining"] = "0"
            return 429, _errors("API rate limit exceeded.", 12), headers
        key = (params.get("apiKey") or [""])[-1]
        if not (key == self.api_key or (self.oauth_token and bearer == self.oauth_token)):
            return 401, _errors("Authentication failure.", 11), headers
        status, payload = self._route(method, path, params, form)
        return status, payload, headers

    def _rate_headers(self) -> dict[str, str]:
        """Count this request in the current one-minute window (-1 remaining: over the limit)."""
        now = self.clock()
        if self._window_start is None or now >= self._window_start + WINDOW_SECONDS:
            self._window_start, self._used = now, 0
        self._used += 1
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(-1, self.rate_limit - self._used)),
            "X-RateLimit-Reset": str(int(self._window_start + WINDOW_SECONDS)),
        }

    def _route(
        self, method: str, path: str, params: dict[str, list[str]], form: dict[str, str]
    ) -> tuple[int, Any]:
        if not path.startswith(API + "/"):
            return 404, _errors("No such API.", 6)
        parts = path[len(API) + 1 :].split("/")
        one = {k: v[-1] for k, v in params.items()}
        if method == "GET" and parts == ["priorities"]:
            return 200, PRIORITIES
        if method == "GET" and parts[0] == "projects" and len(parts) in (2, 3):
            project = self._project(parts[1])
            if project is None:
                return 404, _errors("No project.", 6)
            if len(parts) == 2:
                return 200, project
            if parts[2] == "issueTypes":
                return 200, self.issue_types[project["id"]]
        if parts == ["issues"] and method == "GET":
            return self._list_issues(params, one)
        if parts == ["issues"] and method == "POST":
            return self._create_issue(form)
        if method == "GET" and parts[0] == "issues" and len(parts) == 3 and parts[2] == "comments":
            return self._list_comments(parts[1], one)
        if method == "GET" and parts == ["wikis"]:
            project = self._project(one.get("projectIdOrKey", ""))
            if project is None:
                return 404, _errors("No project.", 6)
            listed = [w for w in self.wikis.values() if w["projectId"] == project["id"]]
            return 200, [{k: v for k, v in w.items() if k != "content"} for w in listed]
        if method == "GET" and parts[0] == "wikis" and len(parts) == 2:
            page = self.wikis.get(int(parts[1])) if parts[1].isdigit() else None
            return (200, page) if page else (404, _errors("No wiki.", 6))
        return 404, _errors(f"No such API: {method} {path}", 6)

    def _list_issues(self, params: dict[str, list[str]], one: dict[str, str]) -> tuple[int, Any]:
        try:
            count = int(one.get("count", "20"))
            offset = int(one.get("offset", "0"))
            project_ids = {int(p) for p in params.get("projectId[]", [])}
            since = _day(one.get("updatedSince"))
            until = _day(one.get("updatedUntil"))
        except ValueError as error:
            return 400, _errors(f"Invalid parameter: {error}", 7)
        if not 1 <= count <= 100:
            return 400, _errors("count must be between 1 and 100.", 7)
        sort, order = one.get("sort", "created"), one.get("order", "desc")
        if sort not in ("created", "updated") or order not in ("asc", "desc"):
            return 400, _errors(f"Unsupported sort/order: {sort}/{order}", 7)
        issues = [
            i
            for i in self.issues.values()
            if (not project_ids or i["projectId"] in project_ids)
            and (since is None or i["updated"][:10] >= since.isoformat())
            and (until is None or i["updated"][:10] <= until.isoformat())
        ]
        issues.sort(key=lambda i: (i[sort], i["id"]), reverse=order == "desc")
        return 200, issues[offset : offset + count]

    def _list_comments(self, id_or_key: str, one: dict[str, str]) -> tuple[int, Any]:
        issue = self._issue(id_or_key)
        if issue is None:
            return 404, _errors("No issue.", 6)
        count = int(one.get("count", "20"))
        if not 1 <= count <= 100:
            return 400, _errors("count must be between 1 and 100.", 7)
        min_id, max_id = int(one.get("minId", "0")), int(one.get("maxId", str(2**62)))
        comments = [c for c in self.comments[issue["id"]] if min_id <= c["id"] <= max_id]
        comments.sort(key=lambda c: c["id"], reverse=one.get("order", "desc") == "desc")
        return 200, comments[:count]

    def _create_issue(self, form: dict[str, str]) -> tuple[int, Any]:
        missing = [
            f for f in ("projectId", "summary", "issueTypeId", "priorityId") if not form.get(f)
        ]
        if missing:
            return 400, _errors(f"Missing parameter: {', '.join(missing)}", 7)
        project = self.projects.get(int(form["projectId"]))
        if project is None:
            return 400, _errors("No project.", 7)
        kind = next(
            (t for t in self.issue_types[project["id"]] if str(t["id"]) == form["issueTypeId"]),
            None,
        )
        if kind is None or form["priorityId"] not in {str(p["id"]) for p in PRIORITIES}:
            return 400, _errors("Invalid issueTypeId or priorityId.", 7)
        issue = self.add_issue(
            project["projectKey"],
            form["summary"],
            form.get("description", ""),
            issue_type=kind["name"],
            priority_id=int(form["priorityId"]),
        )
        self.created.append(issue)
        return 201, issue


def _day(value: str | None) -> date | None:
    """Backlog's date parameters: `yyyy-MM-dd`, nothing else."""
    return None if value is None else date.fromisoformat(value) if len(value) == 10 else _bad(value)


def _bad(value: str) -> date:
    raise ValueError(f"{value!r} is not yyyy-MM-dd")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument("--issues", type=int, default=20)
    args = parser.parse_args()
    double = BacklogDouble(port=args.port, rate_limit=100_000)
    double.generate("APP", args.issues)
    double.start()
    print(f"Backlog double on {double.url} (project APP, apiKey {double.api_key})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
