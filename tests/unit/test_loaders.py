"""Loading documents from folders, single files and BEIR corpora; every bad input is one line
naming the file (and the line, for JSONL)."""

import json
from pathlib import Path

import pytest

from kass.errors import DatasetError, InvalidInput
from kass.ingest.loaders import load_beir_corpus, load_folder, load_path
from kass.models import Document


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def raw_document(doc_id: str, **extra) -> dict:
    return {"id": doc_id, "source": "slack", "text": f"text of {doc_id}", **extra}


def one_line(message: str) -> bool:
    return "\n" not in message


# --- folder: Markdown and text ---------------------------------------------------------------


def test_given_markdown_with_heading_when_loaded_then_title_is_heading_and_id_is_relative_path(
    tmp_path,
):
    write(tmp_path / "guides" / "login.md", "Intro line\n\n## Login after 2.3 ##\n\nBody.\n")
    [doc] = load_folder(tmp_path)
    assert doc.id == "guides/login.md"
    assert doc.title == "Login after 2.3"
    assert (doc.source, doc.url) == ("file", None)
    assert doc.text == "Intro line\n\n## Login after 2.3 ##\n\nBody.\n"


def test_given_markdown_heading_only_inside_code_fence_when_loaded_then_title_is_file_stem(
    tmp_path,
):
    write(tmp_path / "setup.markdown", "```bash\n# install deps\npip install x\n```\nplain text\n")
    [doc] = load_folder(tmp_path)
    assert doc.title == "setup"


def test_given_text_file_with_hash_line_when_loaded_then_title_is_stem_not_the_line(tmp_path):
    write(tmp_path / "notes.txt", "# not a heading in plain text\nhello")
    [doc] = load_folder(tmp_path)
    assert (doc.id, doc.title) == ("notes.txt", "notes")


def test_given_japanese_markdown_with_bom_when_loaded_then_text_is_decoded(tmp_path):
    write(tmp_path / "jp.md", "\ufeff# 障害報告\n\nプッシュ通知が届かない。".encode())
    [doc] = load_folder(tmp_path)
    assert doc.title == "障害報告"
    assert doc.text.startswith("# 障害報告")


def test_given_hidden_files_and_folders_when_loaded_then_they_are_skipped(tmp_path):
    write(tmp_path / "a.md", "# A")
    write(tmp_path / ".git" / "config.md", "# hidden")
    write(tmp_path / ".DS_Store", b"\x00\x01binary")
    write(tmp_path / "sub" / ".draft.md", "# hidden too")
    assert [doc.id for doc in load_folder(tmp_path)] == ["a.md"]


def test_given_nested_folders_when_loaded_then_documents_come_in_path_order(tmp_path):
    for name in ["b.md", "a/z.txt", "a/b/c.md", "c.txt"]:
        write(tmp_path / name, "x")
    assert [doc.id for doc in load_folder(tmp_path)] == ["a/b/c.md", "a/z.txt", "b.md", "c.txt"]


# --- folder: JSON raw documents ---------------------------------------------------------------


def test_given_json_document_when_loaded_then_it_is_taken_as_is(tmp_path):
    raw = raw_document(
        "slack:C1/1700000000.1", url="https://slack.example/x", metadata={"channel": "ops"}
    )
    write(tmp_path / "raw" / "slack" / "t.json", json.dumps(raw))
    [doc] = load_folder(tmp_path)
    assert doc == Document.model_validate(raw)


def test_given_json_list_of_documents_when_loaded_then_all_are_returned(tmp_path):
    write(tmp_path / "batch.json", json.dumps([raw_document("x1"), raw_document("x2")]))
    assert [doc.id for doc in load_folder(tmp_path)] == ["x1", "x2"]


# --- folder: bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("latin1.txt", "café".encode("latin-1"), "not UTF-8"),
        ("report.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
        ("Makefile", "all:", "unsupported file type '(none)'"),
        ("broken.json", '{"id": "a", ', "invalid JSON at line 1"),
        (
            "nodoc.json",
            json.dumps({"id": "a", "source": "file"}),
            "not a kass Document (text: Field required)",
        ),
        ("extra.json", json.dumps(raw_document("a", colour="red")), "colour: Extra inputs"),
        ("list.json", json.dumps([raw_document("a"), {"id": ""}]), "item 1: not a kass Document"),
        ("scalar.json", "42", "not a kass Document"),
    ],
)
def test_given_bad_file_in_folder_when_loaded_then_one_line_error_names_file_and_problem(
    tmp_path, name, content, problem
):
    write(tmp_path / "good.md", "# fine")
    bad = write(tmp_path / "sub" / name, content)
    with pytest.raises(InvalidInput) as caught:
        load_folder(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(bad))
    assert problem in message
    assert one_line(message)


def test_given_same_id_in_two_json_files_when_loaded_then_error_names_both_files(tmp_path):
    first = write(tmp_path / "a.json", json.dumps(raw_document("dup")))
    second = write(tmp_path / "b.json", json.dumps(raw_document("dup")))
    with pytest.raises(InvalidInput) as caught:
        load_folder(tmp_path)
    assert str(second) in str(caught.value) and str(first) in str(caught.value)


# --- BEIR --------------------------------------------------------------------------------------


def beir_line(**record) -> str:
    return json.dumps(record) + "\n"


def test_given_beir_corpus_when_loaded_then_documents_have_source_beir_and_metadata(tmp_path):
    corpus = write(
        tmp_path / "corpus.jsonl",
        beir_line(
            _id="d1",
            title="Oceanic",
            text="An airline.",
            metadata={"url": "<http://dbpedia.org/x>"},
        )
        + "\n"
        + beir_line(_id=7, text="No title."),
    )
    first, second = load_beir_corpus(corpus)
    assert (first.id, first.source, first.title, first.text) == (
        "d1",
        "beir",
        "Oceanic",
        "An airline.",
    )
    assert first.url == "http://dbpedia.org/x"
    assert first.metadata == {"url": "<http://dbpedia.org/x>"}
    assert (second.id, second.title, second.url) == ("7", "", None)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (beir_line(title="t", text="x"), "missing or empty _id"),
        (beir_line(_id=" ", text="x"), "missing or empty _id"),
        (beir_line(_id="d2"), "missing text"),
        (beir_line(_id="d2", text="x", title=3), "title must be a string"),
        (beir_line(_id="d2", text="x", metadata=[1]), "metadata must be an object"),
        (beir_line(_id="d1", text="again"), "_id 'd1' repeats line 1"),
    ],
)
def test_given_malformed_beir_line_when_loaded_then_error_names_file_and_line(
    tmp_path, line, problem
):
    corpus = write(
        tmp_path / "corpus.jsonl", beir_line(_id="d1", text="ok") + line.rstrip("\n") + "\n"
    )
    with pytest.raises(DatasetError) as caught:
        load_beir_corpus(corpus)
    assert str(caught.value).startswith(f"{corpus}:2: ")
    assert problem in str(caught.value)
    assert one_line(str(caught.value))


def test_given_non_utf8_beir_corpus_when_loaded_then_dataset_error(tmp_path):
    corpus = write(tmp_path / "corpus.jsonl", b'{"_id": "a", "text": "caf\xe9"}\n')
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_beir_corpus(corpus)


# --- load_path dispatch ------------------------------------------------------------------------


def test_given_missing_path_when_loaded_then_invalid_input_names_it(tmp_path):
    with pytest.raises(InvalidInput, match="nowhere: no such file or directory"):
        load_path(tmp_path / "nowhere")


def test_given_folder_holding_corpus_jsonl_when_loaded_then_it_is_read_as_beir(tmp_path):
    write(tmp_path / "corpus.jsonl", beir_line(_id="d1", text="x"))
    write(tmp_path / "queries.jsonl", beir_line(_id="q1", text="not a document"))
    assert [(d.id, d.source) for d in load_path(tmp_path)] == [("d1", "beir")]


def test_given_corpus_jsonl_file_when_loaded_then_it_is_read_as_beir(tmp_path):
    corpus = write(tmp_path / "corpus.jsonl", beir_line(_id="d1", text="x"))
    assert [d.source for d in load_path(corpus)] == ["beir"]


def test_given_plain_folder_when_loaded_then_it_is_read_as_files(tmp_path):
    write(tmp_path / "a.md", "# A")
    assert [(d.id, d.source) for d in load_path(tmp_path)] == [("a.md", "file")]


def test_given_single_markdown_file_when_loaded_then_its_id_is_the_file_name(tmp_path):
    file = write(tmp_path / "docs" / "faq.md", "# FAQ\nq")
    assert [(d.id, d.title) for d in load_path(file)] == [("faq.md", "FAQ")]


def test_given_single_unsupported_file_when_loaded_then_invalid_input(tmp_path):
    file = write(tmp_path / "logo.png", b"\x89PNG")
    with pytest.raises(InvalidInput, match="unsupported file type '.png'"):
        load_path(file)
