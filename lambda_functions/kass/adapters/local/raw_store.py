"""The raw document store as a folder laid out like the S3 bucket: `<home>/raw/<source>/<id>.json`.

Files are pretty-printed so people can read and edit them by hand; the document processor
treats a hand edit like any other write.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from pydantic import ValidationError

from kass.errors import InvalidInput
from kass.models import Document
from kass.raw_keys import PREFIX, doc_key, parse_key

_TEMP_SUFFIX = ".tmp"  # not ".json": a half-written file is never listed as a document


class FolderRawDocumentStore:
    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def location(self) -> str:
        return str(self.home)

    def put(self, document: Document) -> str:
        key = doc_key(document.source, document.id)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
        # Write beside the target, then rename: os.replace is atomic within a file system.
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=_TEMP_SUFFIX)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> Document | None:
        path = self._path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise InvalidInput(f"raw document {key} is not UTF-8 text") from None
        try:
            return Document.model_validate_json(text)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise InvalidInput(f"raw document {key} is not a valid document: {problem}") from None

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self, source: str | None = None) -> Iterator[str]:
        root = self.home / PREFIX
        if source is None:
            folders = [entry for entry in _listing(root) if entry.is_dir()]
        else:
            folders = [root / quote(source, safe="")]
        found = [
            f"{PREFIX}{folder.name}/{entry.name}"
            for folder in folders
            for entry in _listing(folder)
            if is_document_key(f"{PREFIX}{folder.name}/{entry.name}") and entry.is_file()
        ]
        return iter(sorted(found))

    def _path(self, key: str) -> Path:
        if not is_document_key(key):
            raise InvalidInput(f"not a raw document key: {key!r}")
        return self.home / key


def _listing(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def is_document_key(key: str) -> bool:
    """A key `doc_key` can make, as a path that stays in its folder.

    Temp files (`.tmp`) and editor lock files (`.#name.json`: `doc_key` quotes `#`) are not keys;
    other dot files are, since document ids may start with a dot.
    """
    try:
        parse_key(key)
    except InvalidInput:
        return False
    folder, name = key[len(PREFIX) :].split("/")
    return folder not in (".", "..") and not name.startswith(".#")
