"""Bedrock Titan Text Embeddings v2 as the `Embedder` of the AWS profile, on boto3 alone.

Not langchain-aws `BedrockEmbeddings`: it makes the same `InvokeModel` call, but importing it
costs about a second of cold start and ~190 MB of layer (langchain-core, pydantic models,
tenacity, ...), and the vector_search and document_processor functions must not carry langchain.

`bedrock_error` maps the Bedrock runtime's errors to `kass.errors`; the chat tiers share it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError

from kass.errors import InvalidInput, KassError, ModelUnavailable

MAX_TOKENS = 8192  # Titan Text Embeddings v2 input limit
MAX_CHARS = 50_000  # ... and its character limit
DIMENSIONS = (256, 512, 1024)
# One text per InvokeModel call, so a batch is many calls: a few in flight hide the latency
# without tripping the account's requests-per-minute quota (the client retries throttling).
WORKERS = 4

_THROTTLED = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
_UNAVAILABLE = frozenset(
    {
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "InternalServerException",
        "ModelErrorException",
        "ModelStreamErrorException",
        "ResourceNotFoundException",
    }
)

# Token count estimate (the Titan tokenizer is not published): CJK characters count one token
# each, ASCII letter runs one per 4 letters, other letter runs one per 2, digit runs one per 2,
# every other symbol one. Subword tokenizers produce fewer on ordinary text, so chunks sized by
# this never exceed the model's limit; they are only somewhat shorter than they could be.
_PIECE = re.compile(
    r"(?P<cjk>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af々ー])"
    r"|(?P<ascii>[A-Za-z]+)"
    r"|(?P<digits>[0-9]+)"
    r"|(?P<letters>[^\W\d_]+)"
    r"|(?P<other>\S)"
)
_PER_TOKEN = {"cjk": 1, "ascii": 4, "digits": 2, "letters": 2, "other": 1}


class TitanEmbedder:
    """`Embedder` over `bedrock-runtime` InvokeModel; vectors are float32 and unit length."""

    def __init__(self, client: Any, *, model_id: str, dimension: int, workers: int = WORKERS):
        if dimension not in DIMENSIONS:
            raise KassError(f"Titan v2 embeds in {DIMENSIONS} dimensions, not {dimension}")
        self._client = client
        self._model_id = model_id
        self._dimension = dimension
        self._workers = max(1, workers)

    @property
    def name(self) -> str:
        # The index records this: another model or dimension must read as a different embedder.
        return f"bedrock:{self._model_id}@{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS

    def count_tokens(self, text: str) -> int:
        """A conservative estimate (over, not under, the real count); see `_PIECE`."""
        return sum(
            math.ceil(len(m.group()) / _PER_TOKEN[m.lastgroup or "other"])
            for m in _PIECE.finditer(text)
        )

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self._dimension), dtype=np.float32)
        for text in texts:
            _check_text(text)
        if len(texts) == 1:
            return self._embed_one(texts[0])[np.newaxis, :]
        # boto3 clients are thread-safe; map() keeps the input order.
        pool = ThreadPoolExecutor(max_workers=min(self._workers, len(texts)))
        try:
            vectors = list(pool.map(self._embed_one, texts))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # on error, start no more calls
        return np.stack(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        _check_text(text)
        return self._embed_one(text)

    def _embed_one(self, text: str) -> np.ndarray:
        body = {"inputText": text, "dimensions": self._dimension, "normalize": True}
        try:
            response = self._client.invoke_model(
                modelId=self._model_id,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            payload = json.loads(response["body"].read())
        except (ClientError, BotoCoreError) as exc:
            raise bedrock_error(exc, self._model_id) from exc
        vector = np.asarray(payload.get("embedding") or [], dtype=np.float32)
        if vector.shape != (self._dimension,):
            raise KassError(
                f"{self._model_id} returned {vector.size} dimensions, expected {self._dimension}"
            )
        # Titan normalises already; re-normalising in float32 makes dot products exact cosines.
        norm = float(np.linalg.norm(vector))
        if not math.isfinite(norm) or norm == 0.0:
            raise KassError(f"{self._model_id} returned a zero or non-finite embedding")
        return vector / np.float32(norm)


def _check_text(text: str) -> None:
    # Bedrock rejects an empty inputText; embedding a placeholder instead would index a vector
    # that matches nothing meaningful, so the caller hears about it.
    if not text.strip():
        raise InvalidInput("cannot embed empty text")
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"text of {len(text)} characters exceeds Titan's {MAX_CHARS}")


def bedrock_error(exc: ClientError | BotoCoreError, model_id: str) -> KassError:
    """The one-line `KassError` for a Bedrock runtime call that failed after the client's retries.

    Everything that means "this model cannot answer now" is `ModelUnavailable`, so a router can
    fall through to another tier; a rejected request (ValidationException) is a plain KassError.
    """
    if isinstance(exc, BotoCoreError):
        return ModelUnavailable(f"cannot reach Bedrock for {model_id}: {exc}")
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    code = code[:1].upper() + code[1:]  # stream error events are camelCase (throttlingException)
    message = " ".join(str(error.get("Message", "")).split())
    if code in _THROTTLED:
        return ModelUnavailable(
            f"Bedrock is throttling {model_id} (retries exhausted); try again shortly or raise "
            "the account's quota"
        )
    if code == "AccessDeniedException":
        return ModelUnavailable(
            f"no access to {model_id}: enable model access in the Bedrock console for this "
            "account and region, and allow bedrock:InvokeModel in IAM"
        )
    if code in _UNAVAILABLE:
        return ModelUnavailable(f"Bedrock model {model_id} is unavailable ({code}): {message}")
    return KassError(f"Bedrock rejected the request to {model_id} ({code}): {message}")
