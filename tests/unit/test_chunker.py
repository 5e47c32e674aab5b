"""Chunking: token budget (title included), overlap, Japanese text, deterministic ids, metadata.

Token counts come from a tiny stand-in tokenizer (an ASCII word, or any other non-space
character, is one token), so these tests need no model files; the real tokenizer is exercised
in tests/integration/test_minilm.py.
"""

import re

import pytest

from kass.ingest.chunker import Chunker
from kass.models import Chunk, Document
from kass.settings import ChunkerSettings

_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def make_chunker(size: int = 32, overlap: int = 0) -> Chunker:
    return Chunker(count_tokens, ChunkerSettings(size=size, overlap=overlap))


def numbered_words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def body(chunk: Chunk) -> str:
    """The chunk's text without its title prefix."""
    return chunk.text.split("\n\n", 1)[1] if chunk.title else chunk.text


def word_numbers(text: str) -> list[int]:
    return [int(word[1:]) for word in re.findall(r"w\d+", text)]


def test_given_short_document_when_chunked_then_one_chunk_with_title_prefixed():
    doc = Document(id="a.md", source="file", title="Release notes", text="Login fixed in 2.3.")
    chunks = make_chunker().chunk(doc)
    assert len(chunks) == 1
    assert chunks[0].text == "Release notes\n\nLogin fixed in 2.3."
    assert chunks[0].position == 0


def test_given_long_document_when_chunked_then_every_chunk_within_size_including_title():
    doc = Document(
        id="d", source="file", title="A fairly long title here", text=numbered_words(500)
    )
    chunks = make_chunker(size=32).chunk(doc)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.startswith("A fairly long title here\n\n")
        assert count_tokens(chunk.text) <= 32


def test_given_no_overlap_when_chunked_then_every_word_appears_exactly_once_in_order():
    doc = Document(id="d", source="file", text=numbered_words(300))
    numbers = [
        n for chunk in make_chunker(size=40, overlap=0).chunk(doc) for n in word_numbers(chunk.text)
    ]
    assert numbers == list(range(300))


def test_given_overlap_when_chunked_then_neighbours_share_at_most_overlap_tokens():
    doc = Document(id="d", source="file", title="T", text=numbered_words(300))
    chunks = make_chunker(size=40, overlap=8).chunk(doc)
    assert len(chunks) > 2
    for previous, following in zip(chunks, chunks[1:], strict=False):
        before, after = word_numbers(body(previous)), word_numbers(body(following))
        shared = set(before) & set(after)
        assert 0 < len(shared) <= 8
        assert after[0] == min(shared)  # the overlap is the previous chunk's tail
    covered = {n for chunk in chunks for n in word_numbers(chunk.text)}
    assert covered == set(range(300))


def test_given_japanese_text_when_chunked_then_split_at_sentence_ends_within_budget():
    sentences = [f"これは{i}番目の文です。" for i in range(40)]  # 9 tokens each, no spaces
    doc = Document(id="ja", source="slack", title="議事録", text="".join(sentences))
    chunks = make_chunker(size=48, overlap=0).chunk(doc)
    assert len(chunks) > 1
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 48
        assert chunk.text.endswith("。")  # cut between sentences, not inside one
    assert "".join(body(chunk) for chunk in chunks) == "".join(sentences)


def test_given_japanese_clauses_without_full_stops_when_chunked_then_split_at_commas():
    doc = Document(id="ja", source="slack", text="、".join(["東京の天気は晴れ"] * 30))
    chunks = make_chunker(size=20, overlap=0).chunk(doc)
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        assert chunk.text.endswith("、")
        assert count_tokens(chunk.text) <= 20


def test_given_run_without_any_separator_when_chunked_then_still_cut_within_budget():
    doc = Document(id="d", source="file", title="Blob", text="あ" * 500)
    chunks = make_chunker(size=32).chunk(doc)
    assert all(count_tokens(chunk.text) <= 32 for chunk in chunks)
    assert "".join(body(chunk) for chunk in chunks) == "あ" * 500


def test_given_title_longer_than_half_the_size_when_chunked_then_prefix_is_cut_and_text_fits():
    title = numbered_words(100)
    doc = Document(id="d", source="file", title=title, text=numbered_words(50))
    chunks = make_chunker(size=32).chunk(doc)
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 32
        assert chunk.title == title  # the full title is kept on the chunk itself
        assert count_tokens(chunk.text.split("\n\n", 1)[0]) <= 16


def test_given_same_document_when_chunked_twice_then_ids_are_identical_and_made_by_chunk_make_id():
    doc = Document(id="d", source="file", title="T", text=numbered_words(200))
    first, second = make_chunker().chunk(doc), make_chunker().chunk(doc)
    assert [c.id for c in first] == [c.id for c in second]
    assert [c.id for c in first] == [Chunk.make_id("d", c.position, c.text) for c in first]
    assert len({c.id for c in first}) == len(first)


def test_given_other_document_id_when_chunked_then_chunk_ids_differ():
    text = numbered_words(20)
    one = make_chunker().chunk(Document(id="a", source="file", text=text))
    other = make_chunker().chunk(Document(id="b", source="file", text=text))
    assert one[0].id != other[0].id


def test_given_document_with_metadata_when_chunked_then_every_chunk_carries_it():
    doc = Document(
        id="gitlab:grp/app#12",
        source="gitlab",
        url="https://gitlab.example/grp/app/-/issues/12",
        title="Crash on login",
        text=numbered_words(200),
        metadata={"project": "app", "state": "opened"},
    )
    chunks = make_chunker().chunk(doc)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert (chunk.doc_id, chunk.source, chunk.url, chunk.title) == (
            doc.id,
            "gitlab",
            doc.url,
            "Crash on login",
        )
        assert chunk.metadata == {"project": "app", "state": "opened"}
        assert chunk.filter_value("project") == "app"


def test_given_chunk_metadata_changed_when_chunking_then_document_metadata_is_untouched():
    doc = Document(id="d", source="file", text="x", metadata={"project": "app"})
    make_chunker().chunk(doc)[0].metadata["project"] = "other"
    assert doc.metadata == {"project": "app"}


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [("Only a title", "   ", ["Only a title"]), ("", "  \n ", []), ("", "hello", ["hello"])],
)
def test_given_empty_body_or_title_when_chunked_then_no_empty_or_prefix_only_noise(
    title, text, expected
):
    doc = Document(id="d", source="file", title=title, text=text)
    assert [c.text for c in make_chunker().chunk(doc)] == expected


def test_given_different_settings_when_signature_compared_then_it_differs():
    assert make_chunker(size=32, overlap=0).signature != make_chunker(size=32, overlap=4).signature
    assert make_chunker(size=32).signature != make_chunker(size=64).signature
    assert make_chunker(size=32).signature == make_chunker(size=32).signature
