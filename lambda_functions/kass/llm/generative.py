"""`Answerer` over any LangChain chat model (Bedrock Converse, the SageMaker 7B endpoint, ...).

The model gets the numbered passages in delimited blocks and writes an answer citing them as
`[n]`; `kass.chat.citations` later checks every marker against the passages actually given.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, SystemMessage

from kass.errors import KassError
from kass.language import is_japanese
from kass.llm.errors import model_error
from kass.llm.passages import format_passage
from kass.llm.prompts import (
    ANSWER_SYSTEM_PROMPT,
    ANSWER_USER_TEMPLATE,
    JAPANESE_HINT,
)
from kass.models import ModelReply, SearchHit
from kass.ports import AnswerStream


class ChatModelAnswerer:
    """Writes answers with a chat model. Stateless per call (safe to share between threads):
    `reply` returns the text with the token usage of that very call, for the cost ledger."""

    def __init__(self, chat_model: BaseChatModel, *, tier: str, model_id: str | None = None):
        self._model = chat_model
        self._tier = tier
        self._model_id = model_id or getattr(chat_model, "model_id", None) or tier

    @property
    def tier(self) -> str:
        return self._tier

    @property
    def model_id(self) -> str:
        return self._model_id

    def answer(self, question: str, passages: Sequence[SearchHit]) -> str:
        return self.reply(question, passages).text

    def reply(
        self,
        question: str,
        passages: Sequence[SearchHit],
        stream: AnswerStream | None = None,
    ) -> ModelReply:
        """The answer with its token usage; with `stream`, its text goes there as it comes."""
        if not passages:
            # Nothing to answer from: the caller says so without spending tokens.
            return ModelReply(text="")
        messages = answer_messages(question, passages)
        try:
            message = (
                self._model.invoke(messages)
                if stream is None
                else _streamed(self._model, messages, stream)
            )
        except KassError:
            raise
        except Exception as exc:
            error = model_error(exc, self._model_id)
            if error is None:
                raise
            raise error from exc
        usage = getattr(message, "usage_metadata", None) or {}
        return ModelReply(
            text=message.text.strip(),
            model_id=self._model_id,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
        )


def _streamed(
    model: BaseChatModel, messages: list[BaseMessage], stream: AnswerStream
) -> AIMessageChunk:
    """The model's streamed chunks summed into one message (text and usage_metadata add up,
    so the cost ledger is the same as `invoke`'s), each chunk's text passed on as it comes."""
    message = AIMessageChunk(content="")
    for chunk in model.stream(messages):
        message += chunk
        if text := chunk.text:
            stream.delta(text)
    return message


def answer_messages(question: str, passages: Sequence[SearchHit]) -> list[BaseMessage]:
    """The system prompt, then the passages and the question as the user's message."""
    user = ANSWER_USER_TEMPLATE.format(
        passages="\n".join(format_passage(n, hit) for n, hit in enumerate(passages, start=1)),
        question=question.strip(),
        language_hint=JAPANESE_HINT if is_japanese(question) else "",
    )
    return [SystemMessage(ANSWER_SYSTEM_PROMPT), HumanMessage(user.rstrip())]
