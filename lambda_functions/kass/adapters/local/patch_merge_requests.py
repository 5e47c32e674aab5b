"""`MergeRequestReader` of the local profile: merge requests as patch files.

`<folder>/<group>/<project>/<iid>.patch` is what `git format-patch -1 --stdout` (or `git
format-patch --stdout` of one squashed commit) writes: a mail header whose Subject is the merge
request's title and From its author, the message body as its description, then the diff.
A plain `git diff` (`<iid>.diff`) works too, titled by its reference. The diff is split per file
into `FileChange`s the way GitLab's API returns them (hunks only; new, deleted and renamed files
flagged), so the review checks read it exactly as they read GitLab's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import HeaderParser
from email.policy import default as default_policy
from email.utils import parseaddr
from pathlib import Path

from kass.errors import InvalidInput, NotFound
from kass.ports import FileChange, MergeRequestDiff

_MBOX_FROM = re.compile(r"^From [0-9a-f]{7,64} ", re.MULTILINE)
_SUBJECT_TAG = re.compile(r"^\[[^\]]*PATCH[^\]]*\]\s*", re.IGNORECASE)
_DIFF_START = re.compile(r"^diff --git ", re.MULTILINE)
_SIGNATURE = re.compile(r"\n-- \n[^\n]*\n*\Z")  # format-patch's "-- \n<git version>" trailer
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass
class Patch:
    title: str | None
    author: str | None
    description: str
    changes: list[FileChange] = field(default_factory=list)


def parse_patch(text: str) -> Patch:
    """A format-patch mail (header, message, diff) or a bare `git diff`; InvalidInput if neither."""
    text = text.replace("\r\n", "\n")
    title = author = None
    description = ""
    diff_at = _DIFF_START.search(text)
    if len(_MBOX_FROM.findall(text)) > 1:
        raise InvalidInput(
            "the patch holds several commits; one merge request is one patch (squash them, or "
            "use `git diff <base>...<branch>`)"
        )
    if diff_at is None:
        raise InvalidInput("no `diff --git` in the patch")
    head = text[: diff_at.start()]
    if head.strip():
        title, author, description = _mail(head)
    diff = _SIGNATURE.sub("\n", text[diff_at.start() :])
    changes = [_file_change(section) for section in _sections(diff)]
    return Patch(title=title, author=author, description=description, changes=changes)


def _mail(head: str) -> tuple[str | None, str | None, str]:
    """(title, author, description) of format-patch's mail part."""
    if head.startswith("From "):
        head = head.split("\n", 1)[1] if "\n" in head else ""
    header_text, _, body = head.partition("\n\n")
    message = HeaderParser(policy=default_policy).parsestr(header_text + "\n\n")
    subject = message.get("Subject")
    if subject is None:
        raise InvalidInput("the patch has text before its diff but no Subject header")
    title = _SUBJECT_TAG.sub("", " ".join(str(subject).split())) or None
    name, address = parseaddr(str(message.get("From") or ""))
    # format-patch ends the message with a "---" line before the diffstat.
    description = re.split(r"^---$", body, maxsplit=1, flags=re.MULTILINE)[0].strip()
    return title, (name or address or None), description


def _sections(diff: str) -> list[str]:
    starts = [m.start() for m in _DIFF_START.finditer(diff)]
    return [diff[a:b] for a, b in zip(starts, [*starts[1:], len(diff)], strict=True)]


def _file_change(section: str) -> FileChange:
    lines = section.split("\n")
    git_old, git_new = _git_line_paths(lines[0][len("diff --git ") :])
    old = new = None
    new_file = deleted_file = False
    body_at = len(lines)
    for index, line in enumerate(lines[1:], start=1):
        if line.startswith("@@"):
            body_at = index
            break
        if line.startswith("new file mode"):
            new_file = True
        elif line.startswith("deleted file mode"):
            deleted_file = True
        elif line.startswith(("rename from ", "copy from ")):
            old = _unquote(line.split(" ", 2)[2])
        elif line.startswith(("rename to ", "copy to ")):
            new = _unquote(line.split(" ", 2)[2])
        elif line.startswith("--- "):
            old = old or _side_path(line[4:], "a/")
        elif line.startswith("+++ "):
            new = new or _side_path(line[4:], "b/")
    hunks = "\n".join(lines[body_at:]).rstrip("\n")
    old_path = old or git_old or new or git_new
    new_path = new or git_new or old_path
    if old_path is None or new_path is None:
        raise InvalidInput(f"cannot tell which file this diff changes: {lines[0]!r}")
    return FileChange(
        old_path=old_path,
        new_path=new_path,
        diff=hunks + "\n" if hunks else "",
        new_file=new_file,
        deleted_file=deleted_file,
    )


def _side_path(value: str, prefix: str) -> str | None:
    """The path of a `---`/`+++` line; None for /dev/null (the file's other side)."""
    value = value.split("\t", 1)[0]
    if value == "/dev/null":
        return None
    path = _unquote(value)
    return path[len(prefix) :] if path.startswith(prefix) else path


def _git_line_paths(value: str) -> tuple[str | None, str | None]:
    """The two paths of `diff --git a/x b/y`; quoted paths, or equal unquoted ones (the only
    unambiguous cases when names hold spaces). The ---/+++ lines take precedence anyway."""
    if value.startswith('"') or value.endswith('"'):
        parts = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', value)
        if len(parts) == 2:
            return _strip(_unquote(parts[0]), "a/"), _strip(_unquote(parts[1]), "b/")
        return None, None
    half = (len(value) - 1) // 2
    if len(value) % 2 == 1 and value[half] == " " and value[2:half] == value[half + 3 :]:
        return _strip(value[:half], "a/"), _strip(value[half + 1 :], "b/")
    if " b/" in value:
        old, _, new = value.partition(" b/")
        return _strip(old, "a/"), new
    return None, None


def _strip(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _unquote(value: str) -> str:
    """Git's C-style quoting of unusual names ("a/na\\303\\257ve.py" → a/naïve.py)."""
    if not (len(value) >= 2 and value.startswith('"') and value.endswith('"')):
        return value
    out = bytearray()
    body = value[1:-1]
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out += char.encode("utf-8")
            index += 1
            continue
        following = body[index + 1 : index + 2]
        if following in _ESCAPES:
            out.append(_ESCAPES[following])
            index += 2
        elif re.match(r"[0-7]{3}", body[index + 1 : index + 4]):
            out.append(int(body[index + 1 : index + 4], 8))
            index += 4
        else:
            out += b"\\"
            index += 1
    return out.decode("utf-8", errors="replace")


class PatchMergeRequests:
    """Merge request `group/project!iid` from `<folder>/group/project/<iid>.patch` (or `.diff`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def merge_request(self, project: str, iid: int) -> MergeRequestDiff:
        parts = project.strip("/").split("/")
        if len(parts) < 2 or any(part in ("", ".", "..") for part in parts):
            raise InvalidInput(f"{project!r} is not a GitLab project path (group/project)")
        candidates = [
            self.folder.joinpath(*parts, f"{iid}{suffix}") for suffix in (".patch", ".diff")
        ]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise NotFound(f"no merge request {project}!{iid}: {candidates[0]} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{path} is not UTF-8 text") from None
        try:
            patch = parse_patch(text)
        except InvalidInput as error:
            raise InvalidInput(f"{path}: {error}") from None
        return MergeRequestDiff(
            project=project,
            iid=iid,
            title=patch.title or f"{project}!{iid}",
            description=patch.description,
            url=path.resolve().as_uri(),
            author=patch.author,
            changes=patch.changes,
        )
