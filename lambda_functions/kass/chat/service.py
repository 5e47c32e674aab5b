"""The conversation use case behind `POST /chat`: cache, ask, remember the turn.

A cache hit needs neither the embedder nor the index, so it costs two small reads and two
writes; only a miss opens the search path (which in Lambda is the first expensive import).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kass.api.schemas import ChatRequest, ChatResponse, ConversationResponse
from kass.chat.ask import ask
from kass.chat.cache import INDEX_VERSION, cache_key
from kass.errors import NotFound
from kass.ids import new_message_id
from kass.models import Answer, Message
from kass.retrieval.search import validate_filters, validate_query

if TYPE_CHECKING:
    from kass.wiring import Runtime

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def chat(
    request: ChatRequest, *, user_id: str, runtime: Runtime, clock: Clock = _utcnow
) -> ChatResponse:
    settings = runtime.settings
    question = validate_query(request.message, settings.answer.max_question_chars)
    validate_filters(request.filters)
    conversation_id = request.conversation_id or uuid.uuid4().hex
    if request.conversation_id:
        _require_owned(request.conversation_id, user_id, runtime)

    tier = settings.chat.tier
    ttl = settings.chat.cache_ttl_seconds
    key = cache_key(question, request.filters, runtime.checkpoints.counter(INDEX_VERSION), tier)
    answer = runtime.cache.get(key) if ttl else None
    cached = answer is not None
    if answer is None:
        answer = ask(
            question,
            searcher=runtime.searcher,
            answerer=runtime.answerer,
            settings=settings.answer,
            filters=request.filters,
        )
        if ttl:
            runtime.cache.put(key, answer, ttl)

    store = runtime.conversations
    store.append(_message(conversation_id, user_id, question, clock))
    reply = _message(conversation_id, user_id, answer.text, clock, answer)
    store.append(reply)
    return ChatResponse(
        conversation_id=conversation_id,
        message_id=reply.id,
        text=answer.text,
        citations=answer.citations,
        found=answer.found,
        tier=answer.tier,
        cached=cached,
    )


def conversation(conversation_id: str, *, user_id: str, runtime: Runtime) -> ConversationResponse:
    limit = runtime.settings.chat.history_messages
    messages = runtime.conversations.messages(conversation_id, limit=max(limit, 1))
    if not messages or messages[0].user_id != user_id:
        raise NotFound(f"unknown conversation id {conversation_id!r}")
    return ConversationResponse(conversation_id=conversation_id, messages=messages[-limit:])


def _require_owned(conversation_id: str, user_id: str, runtime: Runtime) -> None:
    """Someone else's conversation is reported exactly like a missing one (no id probing)."""
    latest = runtime.conversations.messages(conversation_id, limit=1)
    if not latest or latest[0].user_id != user_id:
        raise NotFound(f"unknown conversation id {conversation_id!r}")


def _message(
    conversation_id: str, user_id: str, text: str, clock: Clock, answer: Answer | None = None
) -> Message:
    """The user's turn, or with `answer` the assistant's."""
    now = clock()
    return Message(
        id=new_message_id(now),
        conversation_id=conversation_id,
        user_id=user_id,
        role="assistant" if answer else "user",
        text=text,
        citations=answer.citations if answer else [],
        tier=answer.tier if answer else None,
        created_at=now,
    )
