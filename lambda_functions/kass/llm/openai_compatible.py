"""The `openai` tier: langchain-openai's ChatOpenAI against any OpenAI-compatible chat server.

LM Studio, Ollama, vLLM, llama.cpp's server and OpenAI itself serve `POST /chat/completions`
under a base URL such as `http://127.0.0.1:1234/v1` (`KASS_OPENAI_BASE_URL`). Only
`kass.wiring` imports `make_openai_chat` (lazily: langchain-openai loads the openai SDK), and
`kass.llm.generative` calls `openai_error` only for exceptions that come from the openai SDK.
"""

from __future__ import annotations

from typing import Any

from kass.errors import KassError, ModelUnavailable
from kass.settings import OpenAISettings

# Local servers need no key, but the openai SDK insists on one (and would otherwise read
# OPENAI_API_KEY from the environment, which is not ours to read).
_NO_KEY = "not-needed"


def make_openai_chat(settings: OpenAISettings) -> Any:
    """A ChatOpenAI on `settings.base_url`, with usage reported when streaming too."""
    from langchain_openai import ChatOpenAI

    if not settings.base_url or not settings.model:
        raise KassError("KASS_OPENAI_BASE_URL and KASS_OPENAI_MODEL are not set; the tier is off")
    key = settings.api_key.get_secret_value() if settings.api_key else _NO_KEY
    return ChatOpenAI(
        base_url=settings.base_url,
        model=settings.model,
        api_key=key,  # type: ignore[arg-type]  # SecretStr or str, both accepted
        timeout=settings.timeout_seconds,
        max_retries=settings.max_retries,
        temperature=settings.temperature,
        stream_usage=True,
        # `max_tokens` in the body: ChatOpenAI's own field is sent as `max_completion_tokens`,
        # which older OpenAI-compatible servers ignore.
        extra_body={"max_tokens": settings.max_tokens},
    )


def openai_error(exc: BaseException, model: str) -> KassError | None:
    """The one-line `KassError` for an openai SDK error (after the client's own retries).

    Whatever means "this server cannot answer now" (refused or dropped connection, timeout,
    429, 5xx) is `ModelUnavailable`, so the router falls through to the next tier; a rejected
    request (400, bad key, unknown model) is a plain KassError. None for anything else (a bug).
    """
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return ModelUnavailable(f"the OpenAI-compatible server timed out answering with {model}")
    if isinstance(exc, openai.APIConnectionError):
        return ModelUnavailable(f"cannot reach the OpenAI-compatible server for {model}: {exc}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = " ".join(str(exc.message).split())
        if status == 429:
            return ModelUnavailable(
                f"the OpenAI-compatible server is rate limiting {model} (retries exhausted)"
            )
        if status >= 500:
            return ModelUnavailable(
                f"the OpenAI-compatible server failed for {model} ({status}): {detail}"
            )
        return KassError(f"the OpenAI-compatible server rejected {model} ({status}): {detail}")
    return None
