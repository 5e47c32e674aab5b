"""The bundled sample workspace and its question set (used by `make demo` and the tests)."""

import json
import re
from pathlib import Path

import pytest

from kass.models import Document

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
WORKSPACE = SAMPLES / "workspace"
FILES = sorted(WORKSPACE.rglob("*.json"))
URL_PREFIX = {
    "gitlab": "https://gitlab.example.com/tsubame/",
    "slack": "https://tsubame.slack.com/archives/",
    "backlog": "https://tsubame.backlog.jp/view/",
}
REQUIRED_METADATA = {
    "gitlab": {"project", "kind", "author", "state", "labels"},
    "slack": {"channel", "author"},
    "backlog": {"project", "status", "assignee", "issue_type"},
}
_URL = re.compile(r"https?://\S+")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def load(path: Path) -> Document:
    return Document.model_validate_json(path.read_text(encoding="utf-8"))


def is_japanese(document: Document) -> bool:
    """Mostly Japanese prose: CJK is at least 30% of the visible characters outside URLs."""
    visible = re.sub(r"\s", "", _URL.sub("", document.text))
    return len(_JAPANESE.findall(visible)) >= 0.3 * len(visible)


@pytest.fixture(scope="module")
def documents() -> dict[Path, Document]:
    return {path: load(path) for path in FILES}


def test_given_the_workspace_then_it_holds_36_to_45_documents():
    assert 36 <= len(FILES) <= 45


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_given_a_sample_file_when_validated_then_it_is_one_document_in_its_source_folder(path):
    document = load(path)

    assert document.source == path.parent.name
    assert document.id.startswith(f"{document.source}:")
    assert document.url and document.url.startswith(URL_PREFIX[document.source])
    assert document.title.strip() and document.text.strip()
    assert REQUIRED_METADATA[document.source] <= document.metadata.keys()
    assert document.created_at and document.updated_at
    assert document.created_at <= document.updated_at


def test_given_all_samples_then_ids_and_urls_are_unique(documents):
    ids = [d.id for d in documents.values()]
    urls = [d.url for d in documents.values()]

    assert len(set(ids)) == len(ids)
    assert len(set(urls)) == len(urls)


def test_given_all_samples_then_every_source_is_represented(documents):
    assert {d.source for d in documents.values()} == set(URL_PREFIX)


def test_given_all_samples_then_at_least_30_percent_are_japanese(documents):
    japanese = [d for d in documents.values() if is_japanese(d)]

    assert len(japanese) >= 0.3 * len(documents)
    assert {d.source for d in japanese} >= {"backlog", "slack"}


def test_given_gitlab_and_backlog_samples_then_notes_carry_deep_links(documents):
    for document in documents.values():
        if document.source == "gitlab" and "JST)" in document.text:
            assert f"{document.url}#note_" in document.text, document.id
        if document.source == "backlog" and "JST)" in document.text:
            assert f"{document.url}#comment-" in document.text, document.id


def test_given_the_questions_file_then_each_question_names_existing_documents(documents):
    questions = json.loads((SAMPLES / "questions.json").read_text(encoding="utf-8"))
    known = {d.id for d in documents.values()}

    assert len(questions) >= 10
    for entry in questions:
        assert entry["question"].strip()
        assert entry["doc_ids"], entry["question"]
        assert set(entry["doc_ids"]) <= known, entry["question"]


def test_given_the_questions_file_then_the_demo_question_comes_first_and_some_are_japanese():
    questions = json.loads((SAMPLES / "questions.json").read_text(encoding="utf-8"))

    assert questions[0]["question"] == "Why did login fail after the 2.3 release?"
    assert sum(bool(_JAPANESE.search(q["question"])) for q in questions) >= 3
