"""`Answerer` over any LangChain chat model (Bedrock Converse, the SageMaker 7B endpoint, ...).

The model gets the numbered passages in delimited blocks and writes an answer citing them as
`[n]`; `kass.chat.citations` later checks every marker against the passages actually given.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from kass.errors import KassError
from kass.language import is_japanese
from kass.llm.prompts import (
    ANSWER_SYSTEM_PROMPT,
    ANSWER_USER_TEMPLATE,
    JAPANESE_HINT,
    PASSAGE_TEMPLATE,
)
from kass.models import SearchHit

# Only the tags that delimit passages are neutralised, so code in passages stays readable.
_PASSAGE_TAG = re.compile(r"<(?=\s*/?\s*passages?\b)", re.IGNORECASE)


class ChatModelAnswerer:
    """Writes answers with a chat model; `last_usage` holds the token usage of the last call."""

    def __init__(self, chat_model: BaseChatModel, *, tier: str):
        self._model = chat_model
        self._tier = tier
        # AIMessage.usage_metadata of the last answer (input/output/total tokens), for the cost
        # ledger; None when the model reported none or no model was called.
        self.last_usage: dict[str, Any] | None = None

    @property
    def tier(self) -> str:
        return self._tier

    def answer(self, question: str, passages: Sequence[SearchHit]) -> str:
        self.last_usage = None
        if not passages:
            return ""  # nothing to answer from: the caller says so without spending tokens
        try:
            reply = self._model.invoke(answer_messages(question, passages))
        except KassError:
            raise
        except Exception as exc:
            error = _model_error(exc, getattr(self._model, "model_id", None) or self._tier)
            if error is None:
                raise
            raise error from exc
        usage = getattr(reply, "usage_metadata", None)
        self.last_usage = dict(usage) if usage else None
        return reply.text.strip()


def answer_messages(question: str, passages: Sequence[SearchHit]) -> list[BaseMessage]:
    """The system prompt, then the passages and the question as the user's message."""
    user = ANSWER_USER_TEMPLATE.format(
        passages="\n".join(format_passage(n, hit) for n, hit in enumerate(passages, start=1)),
        question=question.strip(),
        language_hint=JAPANESE_HINT if is_japanese(question) else "",
    )
    return [SystemMessage(ANSWER_SYSTEM_PROMPT), HumanMessage(user.rstrip())]


def format_passage(n: int, hit: SearchHit) -> str:
    chunk = hit.chunk
    url = f' url="{_attribute(chunk.url)}"' if chunk.url else ""
    return PASSAGE_TEMPLATE.format(
        n=n,
        source=_attribute(chunk.source),
        title=_attribute(chunk.title),
        url=url,
        text=_PASSAGE_TAG.sub("&lt;", chunk.text.strip()),
    )


def _attribute(value: str) -> str:
    return html.escape(" ".join(value.split()), quote=True)


def _model_error(exc: Exception, model: str) -> KassError | None:
    """A `KassError` for a failed model call, or None when `exc` is a bug to let through.

    botocore errors (and langchain-aws's subclasses of them) come from the Bedrock tiers; the
    SageMaker tier maps its own. Checking module names avoids importing botocore where no AWS
    model is in use.
    """
    if not any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__):
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    from kass.adapters.aws.titan import bedrock_error

    if isinstance(exc, ClientError | BotoCoreError):
        return bedrock_error(exc, model)
    return None
