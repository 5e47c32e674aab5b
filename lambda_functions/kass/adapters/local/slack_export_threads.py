"""`ThreadReader` of the local profile: threads read from a Slack workspace export.

The export (a zip from Settings → Import/Export, or the folder it unzips to) is the same one
`kass import-slack-export` indexes: `channels.json` (and `groups.json`), `users.json`, and
`<channel name>/<YYYY-MM-DD>.json` per channel and day, replies included. A thread is found by
channel id or name and the ts of its parent or of any reply (as `conversations.replies` does),
and comes back as `SlackThreads` (the API reader) returns it: human messages only, authors by
display name, mrkdwn rendered, permalinks in Slack's format. The export holds no workspace URL,
so permalinks need `KASS_LOCAL_SLACK_WORKSPACE_URL` (or `KASS_SLACK_WORKSPACE_URL`).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from kass.connectors.slack_documents import check_ts, display_name, thread_of, ts_time
from kass.errors import InvalidInput, NotFound, SourceError
from kass.ports import Thread

_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
Message = Mapping[str, Any]


class _ExportFiles:
    """The export's files by their path inside the export, from a folder or a zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            names = [p.relative_to(path).as_posix() for p in path.rglob("*.json") if p.is_file()]
            self._zip: zipfile.ZipFile | None = None
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as error:
                raise SourceError(f"Slack export {path} is not a zip file: {error}") from None
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
        else:
            raise SourceError(f"Slack export {path}: no such folder or zip file")
        root = self._root(names)
        self.names = {n[len(root) :]: n for n in names if n.startswith(root)}

    def _root(self, names: list[str]) -> str:
        """ "" for a flat export, "<folder>/" for one inside a single top folder."""
        if "channels.json" in names:
            return ""
        tops = {PurePosixPath(n).parts[0] for n in names}
        if len(tops) == 1 and f"{next(iter(tops))}/channels.json" in names:
            return f"{next(iter(tops))}/"
        raise SourceError(f"{self.path} is not a Slack export: it has no channels.json")

    def read_list(self, name: str) -> list[dict[str, Any]]:
        """A JSON list of objects; [] when the file is absent."""
        if name not in self.names:
            return []
        try:
            if self._zip is not None:
                data = self._zip.read(self.names[name])
            else:
                data = (self.path / self.names[name]).read_bytes()
            value = json.loads(data.decode("utf-8"))
        except (OSError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as error:
            raise SourceError(f"Slack export {self.path}: cannot read {name}: {error}") from None
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise SourceError(f"Slack export {self.path}: {name} is not a list of objects")
        return value

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


class SlackExportThreads:
    """Reads the export on first use and keeps it (a CLI run or a server process)."""

    def __init__(self, export: Path, *, workspace_url: str) -> None:
        if not workspace_url.startswith(("https://", "http://")):
            raise InvalidInput(
                f"Slack workspace URL {workspace_url!r} is not a URL (e.g. https://team.slack.com/)"
            )
        self.export = export
        self.workspace_url = workspace_url
        self._files: _ExportFiles | None = None
        self._channels: dict[str, str] | None = None  # id -> name
        self._users: dict[str, str] = {}
        self._messages: dict[str, dict[str, Message]] = {}  # channel id -> ts -> message

    def thread(self, channel: str, ts: str) -> Thread:
        ts = check_ts(ts)
        channel_id, name = self._channel(channel.strip().lstrip("#"))
        messages = self._channel_messages(channel_id, name)
        found = messages.get(ts)
        if found is None:
            raise NotFound(f"no Slack message {ts} in #{name} of the export {self.export}")
        thread_ts = str(found.get("thread_ts") or ts)
        kept = sorted(
            (m for m in messages.values() if str(m.get("thread_ts") or m["ts"]) == thread_ts),
            key=lambda m: ts_time(str(m["ts"])),
        )
        return thread_of(
            channel_id,
            name,
            thread_ts,
            kept,
            workspace_url=self.workspace_url,
            user_name=self._user_name,
        )

    def _files_(self) -> _ExportFiles:
        if self._files is None:
            self._files = _ExportFiles(self.export)
            self._users = {
                str(u.get("id")): display_name(u) for u in self._files.read_list("users.json")
            }
        return self._files

    def _channel(self, wanted: str) -> tuple[str, str]:
        """(id, name) of a channel given by id or name."""
        if self._channels is None:
            files = self._files_()
            self._channels = {}
            for listed in ("channels.json", "groups.json"):
                for entry in files.read_list(listed):
                    if isinstance(entry.get("id"), str) and isinstance(entry.get("name"), str):
                        self._channels[entry["id"]] = entry["name"]
        if wanted in self._channels:
            return wanted, self._channels[wanted]
        for channel_id, name in self._channels.items():
            if name == wanted:
                return channel_id, name
        names = ", ".join(f"#{n}" for n in sorted(self._channels.values()))
        raise NotFound(f"no channel {wanted!r} in the Slack export {self.export} ({names})")

    def _channel_messages(self, channel_id: str, name: str) -> dict[str, Message]:
        """Every message of the channel by ts, from all of its day files."""
        if channel_id not in self._messages:
            files = self._files_()
            prefix = f"{name}/"
            by_ts: dict[str, Message] = {}
            for file in sorted(files.names):
                if file.startswith(prefix) and _DAY_FILE.match(file[len(prefix) :]):
                    for message in files.read_list(file):
                        if isinstance(message.get("ts"), str):
                            by_ts[message["ts"]] = message
            self._messages[channel_id] = by_ts
        return self._messages[channel_id]

    def _user_name(self, user_id: str) -> str:
        return self._users.get(user_id, user_id)

    def close(self) -> None:
        if self._files is not None:
            self._files.close()
