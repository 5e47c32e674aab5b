"""Reading documents from disk: a folder of Markdown/text/JSON files, or a BEIR `corpus.jsonl`.

Loaders read and validate everything before returning, so a bad file stops ingestion before the
index is touched. Every problem is one line naming the file (and line, for JSONL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from kass.errors import DatasetError, InvalidInput
from kass.models import Document

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
JSON_SUFFIXES = frozenset({".json"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | JSON_SUFFIXES
BEIR_CORPUS = "corpus.jsonl"

_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def load_path(path: Path) -> list[Document]:
    """Documents at `path`: a BEIR corpus (file or folder holding one), a folder, or one file."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or directory")
    if path.is_dir():
        corpus = path / BEIR_CORPUS
        return load_beir_corpus(corpus) if corpus.is_file() else load_folder(path)
    if path.suffix.lower() == ".jsonl":
        return load_beir_corpus(path)
    return load_file(path, path.parent)


def load_folder(root: Path) -> list[Document]:
    """Every supported file under `root` (hidden files and folders skipped), in path order."""
    documents: list[Document] = []
    seen: dict[str, Path] = {}  # doc id -> file that defined it
    for file in _visible_files(root):
        for document in load_file(file, root):
            if document.id in seen:
                raise InvalidInput(
                    f"{file}: document id {document.id!r} is also defined in {seen[document.id]}"
                )
            seen[document.id] = file
            documents.append(document)
    return documents


def load_file(file: Path, root: Path) -> list[Document]:
    """The document(s) in one file; ids of text files are their path under `root`."""
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise InvalidInput(f"{file}: unsupported file type {suffix or '(none)'!r}; use {supported}")
    text = _read_text(file)
    if suffix in JSON_SUFFIXES:
        return _json_documents(file, text)
    heading = _markdown_title(text) if suffix in MARKDOWN_SUFFIXES else None
    title = heading or file.stem
    doc_id = file.relative_to(root).as_posix()
    return [Document(id=doc_id, source="file", title=title, text=text)]


def load_beir_corpus(path: Path) -> list[Document]:
    """A BEIR `corpus.jsonl`: one `{"_id", "title", "text", "metadata"?}` object per line."""
    documents: list[Document] = []
    first_line: dict[str, int] = {}
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        try:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                document = _beir_document(path, line_no, line)
                if document.id in first_line:
                    raise DatasetError(
                        f"{path}:{line_no}: _id {document.id!r} repeats line "
                        f"{first_line[document.id]}"
                    )
                first_line[document.id] = line_no
                documents.append(document)
        except UnicodeDecodeError:
            raise DatasetError(f"{path}: not UTF-8 text") from None
    return documents


def _beir_document(path: Path, line_no: int, line: str) -> Document:
    where = f"{path}:{line_no}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: invalid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: expected a JSON object with _id, title and text")
    doc_id, title, text = record.get("_id"), record.get("title", ""), record.get("text")
    if not isinstance(doc_id, str | int) or not str(doc_id).strip():
        raise DatasetError(f"{where}: missing or empty _id")
    if not isinstance(text, str):
        raise DatasetError(f"{where}: missing text (must be a string)")
    if not isinstance(title, str):
        raise DatasetError(f"{where}: title must be a string")
    metadata = record.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise DatasetError(f"{where}: metadata must be an object")
    return Document(
        id=str(doc_id),
        source="beir",
        title=title,
        text=text,
        url=_beir_url(metadata.get("url")),
        metadata=metadata,
    )


def _beir_url(value: object) -> str | None:
    # DBpedia writes URLs as RDF IRIs: "<http://...>".
    if not isinstance(value, str):
        return None
    url = value.strip().removeprefix("<").removesuffix(">")
    return url if url.startswith(("http://", "https://")) else None


def _visible_files(root: Path) -> Iterator[Path]:
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue  # .git, .DS_Store, editor swap files: never content
        if entry.is_dir():
            yield from _visible_files(entry)
        elif entry.is_file():
            yield entry


def _read_text(file: Path) -> str:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read ({exc.strerror})") from None
    if b"\x00" in data:
        raise InvalidInput(f"{file}: binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{file}: not UTF-8 text (invalid byte at offset {exc.start})") from None


def _json_documents(file: Path, text: str) -> list[Document]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{file}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
        ) from None
    items = data if isinstance(data, list) else [data]
    documents: list[Document] = []
    for position, item in enumerate(items):
        where = f"{file}" if not isinstance(data, list) else f"{file}: item {position}"
        try:
            documents.append(Document.model_validate(item))
        except ValidationError as exc:
            raise InvalidInput(f"{where}: not a kass Document ({_first_error(exc)})") from None
    return documents


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "document"
    more = f"; {exc.error_count() - 1} more" if exc.error_count() > 1 else ""
    return f"{field}: {error['msg']}{more}"


def _markdown_title(text: str) -> str | None:
    """The first ATX heading (`# Title`) outside fenced code blocks."""
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _ATX_HEADING.match(line)):
            return match.group(1).strip()
    return None
