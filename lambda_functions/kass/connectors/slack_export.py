"""Import a Slack workspace export (the zip from Settings → Import/Export) offline.

The export holds `channels.json` (and `groups.json` for private channels, when exported),
`users.json`, and one `<channel name>/<YYYY-MM-DD>.json` list of messages per channel and day,
replies included. They become the Documents the API connector makes from the same messages
(same ids, text and URLs), so a later `kass sync slack` overwrites them instead of adding
copies. The whole zip is read and validated before anything is written.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel

from kass.connectors.slack_documents import display_name, thread_document, ts_time
from kass.errors import InvalidInput
from kass.models import Document
from kass.ports import RawDocumentStore

_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_CHANNEL_LISTS = ("channels.json", "groups.json")


class ExportReport(BaseModel):
    channels: int
    messages: int
    documents: int


def read_export(path: Path, *, workspace_url: str) -> tuple[list[Document], ExportReport]:
    """Every thread of the export as a Document; InvalidInput for anything not a sound export."""
    if not workspace_url.startswith(("https://", "http://")):
        raise InvalidInput(
            f"workspace URL {workspace_url!r} is not a URL (e.g. https://team.slack.com/)"
        )
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidInput(f"{path} is not a zip file: {error}") from None
    with archive:
        reader = _Reader(path, archive)
        return reader.documents(workspace_url)


def import_export(
    path: Path,
    raw_store: RawDocumentStore,
    *,
    workspace_url: str,
    on_written: Callable[[str], None] | None = None,
) -> ExportReport:
    """Validate the whole export, then write its documents to the raw store."""
    documents, report = read_export(path, workspace_url=workspace_url)
    for document in documents:
        key = raw_store.put(document)
        if on_written is not None:
            on_written(key)
    return report


class _Reader:
    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive
        names = [n for n in archive.namelist() if not n.endswith("/")]
        self.root = self._root(names)
        self.files = {n[len(self.root) :]: n for n in names if n.startswith(self.root)}

    def _root(self, names: list[str]) -> str:
        """ "" for a flat export, "<folder>/" for one zipped inside a folder."""
        if "channels.json" in names:
            return ""
        tops = {PurePosixPath(n).parts[0] for n in names}
        if len(tops) == 1 and f"{next(iter(tops))}/channels.json" in names:
            return f"{next(iter(tops))}/"
        raise InvalidInput(
            f"{self.path} is not a Slack export: channels.json is missing at its top level"
        )

    def _json(self, name: str) -> Any:
        try:
            data = self.archive.read(self.files[name])
        except (zipfile.BadZipFile, OSError, ValueError) as error:  # CRC or truncation
            raise InvalidInput(f"{self.path}: {name} is damaged: {error}") from None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise InvalidInput(f"{self.path}: {name} is not valid JSON: {error}") from None

    def _list(self, name: str, *, required: bool = True) -> list[dict[str, Any]]:
        if name not in self.files:
            if required:
                raise InvalidInput(f"{self.path} is not a Slack export: {name} is missing")
            return []
        value = self._json(name)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise InvalidInput(f"{self.path}: {name} is not a list of objects")
        return value

    def documents(self, workspace_url: str) -> tuple[list[Document], ExportReport]:
        channels: list[dict[str, Any]] = []
        for name in _CHANNEL_LISTS:
            channels += self._list(name, required=name == "channels.json")
        for channel in channels:
            if not isinstance(channel.get("id"), str) or not isinstance(channel.get("name"), str):
                raise InvalidInput(f"{self.path}: a channel entry lacks its id or name")
        users = {str(u.get("id")): display_name(u) for u in self._list("users.json")}

        def user_name(user_id: str) -> str:
            return users.get(user_id, user_id)

        documents: list[Document] = []
        total = 0
        for channel in channels:
            threads = self._threads(channel["name"])
            total += sum(len(messages) for messages in threads.values())
            for thread_ts, messages in sorted(threads.items(), key=lambda t: ts_time(t[0])):
                document = thread_document(
                    channel=channel["id"],
                    channel_name=channel["name"],
                    thread_ts=thread_ts,
                    messages=list(messages.values()),
                    workspace_url=workspace_url,
                    user_name=user_name,
                )
                if document is not None:
                    documents.append(document)
        report = ExportReport(channels=len(channels), messages=total, documents=len(documents))
        return documents, report

    def _threads(self, channel_name: str) -> dict[str, dict[str, Mapping[str, Any]]]:
        """thread ts -> (message ts -> message), from every day file of the channel."""
        threads: dict[str, dict[str, Mapping[str, Any]]] = {}
        prefix = f"{channel_name}/"
        for name in sorted(self.files):
            if not name.startswith(prefix) or not _DAY_FILE.match(name[len(prefix) :]):
                continue
            for message in self._list(name):
                ts = message.get("ts")
                if not isinstance(ts, str):
                    raise InvalidInput(f"{self.path}: {name} holds a message without a ts")
                try:
                    ts_time(ts)
                except ValueError:
                    raise InvalidInput(f"{self.path}: {name} has a bad ts {ts!r}") from None
                thread = str(message.get("thread_ts") or ts)
                threads.setdefault(thread, {})[ts] = message
        return threads
