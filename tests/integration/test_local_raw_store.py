"""What only the folder raw store has: readable files, atomic replace, hand edits, stray files.

Its behaviour as a port is tested with S3's, in test_s3_raw_store.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kass.adapters.local.raw_store import FolderRawDocumentStore
from kass.errors import InvalidInput
from kass.models import Document
from kass.raw_keys import doc_key


def document(doc_id: str = "BL-12", text: str = "プッシュ通知が届かない") -> Document:
    return Document(id=doc_id, source="backlog", title="通知", text=text)


def test_given_a_put_document_when_the_file_is_read_then_pretty_json_with_plain_unicode(tmp_path):
    store = FolderRawDocumentStore(tmp_path)

    key = store.put(document())

    path = tmp_path / key
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "raw" / "backlog" / "BL-12.json"
    assert "プッシュ通知が届かない" in text
    assert '\n  "id": "BL-12"' in text
    assert json.loads(text)["text"] == "プッシュ通知が届かない"
    assert store.location == str(tmp_path)


def test_given_a_hand_edited_file_when_got_then_the_edit_is_read(tmp_path):
    store = FolderRawDocumentStore(tmp_path)
    key = store.put(document())
    path = tmp_path / key
    data = json.loads(path.read_text(encoding="utf-8"))
    data["text"] = "edited by hand"
    path.write_text(json.dumps(data), encoding="utf-8")

    assert store.get(key).text == "edited by hand"


@pytest.mark.parametrize("content", [b"{broken", b'{"id": "x"}', b"\xff\xfe"])
def test_given_a_file_that_is_not_a_document_when_got_then_invalid_input_naming_the_key(
    tmp_path, content
):
    store = FolderRawDocumentStore(tmp_path)
    key = doc_key("backlog", "bad")
    (tmp_path / "raw" / "backlog").mkdir(parents=True)
    (tmp_path / key).write_bytes(content)

    with pytest.raises(InvalidInput, match="raw/backlog/bad.json") as caught:
        store.get(key)

    assert "\n" not in str(caught.value)


def test_given_temp_lock_and_other_files_when_listing_then_only_document_keys(tmp_path):
    store = FolderRawDocumentStore(tmp_path)
    key = store.put(document())
    folder = tmp_path / "raw" / "backlog"
    (folder / ".BL-12.json.abc123.tmp").write_text("{", encoding="utf-8")
    (folder / ".#BL-12.json").write_text("lock", encoding="utf-8")
    (folder / "notes.txt").write_text("hi", encoding="utf-8")
    (folder / "nested.json").mkdir()
    (tmp_path / "raw" / "README.json").write_text("{}", encoding="utf-8")

    assert list(store.keys()) == [key]
    assert list(store.keys("backlog")) == [key]


def test_given_a_write_that_fails_when_replacing_then_the_old_file_stays_and_no_temp_is_left(
    tmp_path, monkeypatch
):
    store = FolderRawDocumentStore(tmp_path)
    key = store.put(document(text="old"))

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(document(text="new"))

    assert store.get(key).text == "old"
    assert sorted(p.name for p in (tmp_path / "raw" / "backlog").iterdir()) == ["BL-12.json"]


@pytest.mark.parametrize("key", ["raw/../x.json", "raw/./x.json", "raw/backlog/.#x.json"])
def test_given_a_key_outside_the_layout_when_used_then_invalid_input(tmp_path, key):
    store = FolderRawDocumentStore(tmp_path)

    with pytest.raises(InvalidInput, match="not a raw document key"):
        store.get(key)
    with pytest.raises(InvalidInput, match="not a raw document key"):
        store.delete(key)


def test_given_no_raw_folder_when_listing_then_nothing_and_nothing_created(tmp_path: Path):
    store = FolderRawDocumentStore(tmp_path / "home")

    assert list(store.keys()) == []
    assert list(store.keys("backlog")) == []
    assert not (tmp_path / "home").exists()
