"""GitLab REST v4 payloads -> kass documents and merge request diffs. Pure functions, no I/O.

One document per issue and per merge request: the description, then each user note with its
author, time and deep link (`<web_url>#note_<id>`) on a heading line, so a citation of a claim
made in a note links to that note (`kass.chat.citations` takes the last same-site link before
the claim). System notes ("changed the description", "added ~bug label") are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from kass.connectors.common import as_utc
from kass.models import Document
from kass.ports import FileChange, MergeRequestDiff

SOURCE = "gitlab"
Kind = Literal["issue", "merge_request"]
KINDS: tuple[Kind, ...] = ("issue", "merge_request")
# The REST collection of each kind, and the character GitLab writes between a project and an iid
# in references (`team/app#12` is an issue, `team/app!12` a merge request).
ENDPOINTS: dict[Kind, str] = {"issue": "issues", "merge_request": "merge_requests"}
SEPARATORS: dict[Kind, str] = {"issue": "#", "merge_request": "!"}


def doc_id(project: str, kind: Kind, iid: int | str) -> str:
    """`gitlab:team/app#12` (issue) or `gitlab:team/app!12` (merge request)."""
    return f"{SOURCE}:{project}{SEPARATORS[kind]}{iid}"


def parse_time(value: Any) -> datetime | None:
    """GitLab's ISO 8601 times (`2016-01-04T15:31:51.081Z`) as aware UTC datetimes."""
    if not value:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def format_time(moment: datetime) -> str:
    """A query value for `updated_after`/`created_after`: UTC, milliseconds, `Z`.

    GitLab shows times to the millisecond and compares them inclusively ("on or after"), so
    truncating (never rounding up) keeps every item at the cursor in the next answer.
    """
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def username(user: Mapping[str, Any] | None) -> str | None:
    if not user:
        return None
    name = user.get("username") or user.get("name")
    return str(name) if name else None


def note_block(item_url: str, note: Mapping[str, Any]) -> str | None:
    """A note as `author (YYYY-MM-DD HH:MM UTC[, on path]) <deep link>` + its body; None for a
    system note or an empty one."""
    body = str(note.get("body") or "").strip()
    if note.get("system") or not body:
        return None
    when = parse_time(note.get("created_at"))
    stamp = f"{when:%Y-%m-%d %H:%M} UTC" if when else "unknown time"
    position = note.get("position") or {}
    path = position.get("new_path") or position.get("old_path")
    where = f", on {path}" if path else ""
    author = username(note.get("author")) or "unknown"
    return f"{author} ({stamp}{where}) {item_url}#note_{note['id']}\n{body}"


def item_text(item: Mapping[str, Any], notes: Iterable[Mapping[str, Any]]) -> str:
    """The description, then the user notes oldest first, separated by blank lines."""
    url = str(item.get("web_url") or "")
    ordered = sorted(notes, key=lambda n: (parse_time(n.get("created_at")) or _EPOCH, n["id"]))
    blocks = [str(item.get("description") or "").strip()]
    blocks += [block for note in ordered if (block := note_block(url, note))]
    return "\n\n".join(block for block in blocks if block)


def item_document(
    project: str, kind: Kind, item: Mapping[str, Any], notes: Iterable[Mapping[str, Any]]
) -> Document:
    """The document of an issue or merge request (`item` as the list endpoints return it)."""
    labels = item.get("labels") or []
    names = [label["name"] if isinstance(label, Mapping) else str(label) for label in labels]
    return Document(
        id=doc_id(project, kind, item["iid"]),
        source=SOURCE,
        url=item.get("web_url"),
        title=str(item.get("title") or ""),
        text=item_text(item, notes),
        metadata=_metadata(
            project=project,
            kind=kind,
            state=item.get("state"),
            labels=",".join(names),
            author=username(item.get("author")),
        ),
        created_at=parse_time(item.get("created_at")),
        updated_at=parse_time(item.get("updated_at")),
    )


def _metadata(**values: Any) -> dict[str, str]:
    """Metadata without the values GitLab left empty (Document metadata is str -> str)."""
    return {key: str(value) for key, value in values.items() if value is not None}


def file_change(diff: Mapping[str, Any]) -> FileChange:
    """One entry of `/merge_requests/:iid/diffs` (or of `changes` in `/changes`)."""
    return FileChange(
        old_path=str(diff.get("old_path") or diff.get("new_path") or ""),
        new_path=str(diff.get("new_path") or diff.get("old_path") or ""),
        diff=str(diff.get("diff") or ""),
        new_file=bool(diff.get("new_file")),
        deleted_file=bool(diff.get("deleted_file")),
    )


def merge_request_diff(
    project: str, merge_request: Mapping[str, Any], diffs: Sequence[Mapping[str, Any]]
) -> MergeRequestDiff:
    """The MR's metadata and file changes. `project` is used when the MR carries no
    `references.full` (which names the project by path even when it was asked for by id)."""
    full = str((merge_request.get("references") or {}).get("full") or "")
    path = full.rsplit("!", 1)[0] if "!" in full else project
    return MergeRequestDiff(
        project=path,
        iid=int(merge_request["iid"]),
        title=str(merge_request.get("title") or ""),
        description=str(merge_request.get("description") or ""),
        url=str(merge_request.get("web_url") or ""),
        author=username(merge_request.get("author")),
        changes=[file_change(diff) for diff in diffs],
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
