"""The conversation use case behind `POST /chat`: route, cache, ask, remember the turn.

Slash commands and requests for an action (ticket, summary, review) go to the agent turn
(kass.chat.agent_turn); its write tools only propose, and `confirm_action` executes.

A cache hit needs neither the embedder nor the index, so it costs two small reads and two
writes; only a miss opens the search path (which in Lambda is the first expensive import).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from kass.api.schemas import (
    ActionResponse,
    ChatRequest,
    ChatResponse,
    ConversationResponse,
    TurnUsage,
)
from kass.chat.actions import ProposedAction, default_executors, describe
from kass.chat.agent_turn import (
    COMMAND_HINT,
    actions_flow,
    agent_turn,
    command_turn,
    is_command,
    wants_tools,
)
from kass.chat.ask import ask
from kass.chat.cache import INDEX_VERSION, cache_key
from kass.chat.telemetry import record_answer, record_fallback
from kass.errors import NotFound
from kass.ids import new_message_id
from kass.models import Answer, Message
from kass.retrieval.search import validate_filters, validate_query

if TYPE_CHECKING:
    from kass.ports import AnswerStream
    from kass.wiring import Runtime

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def chat(
    request: ChatRequest,
    *,
    user_id: str,
    runtime: Runtime,
    clock: Clock = _utcnow,
    stream: AnswerStream | None = None,
    default_conversation_id: str | None = None,
) -> ChatResponse:
    """One turn: the answer (or the agent's proposal), stored with the question.

    `stream` receives the answer text while it is written (a cache hit: at once, whole);
    slash commands and agent turns stream nothing: their reply is the response alone.
    `default_conversation_id` is the conversation to continue when the request names none, started
    under that id if it does not exist yet: a front end that keeps one conversation per place
    (Discord: per channel or thread and person) passes it.
    """
    settings = runtime.settings
    question = validate_query(request.message, settings.answer.max_question_chars)
    validate_filters(request.filters)
    ongoing = _continued(request.conversation_id or default_conversation_id, user_id, runtime)
    if request.conversation_id and ongoing is None:
        raise _unknown(request.conversation_id)
    conversation_id = ongoing or default_conversation_id or uuid.uuid4().hex

    actions: list[ProposedAction] = []
    cached = False
    turn = None
    if is_command(question):
        turn = command_turn(
            question,
            user_id=user_id,
            conversation_id=conversation_id,
            runtime=runtime,
            confidential=request.confidential,
        )
    elif wants_tools(question):
        history = _history(ongoing, runtime)
        turn = agent_turn(
            question,
            user_id=user_id,
            conversation_id=conversation_id,
            history=history,
            runtime=runtime,
            confidential=request.confidential,
        )
    if turn is not None:
        answer, actions = turn.answer, turn.actions
    else:
        answer, cached = _answer(question, request, runtime, stream)
        if wants_tools(question) and not is_command(question):
            answer.text += COMMAND_HINT
            if stream is not None:
                stream.delta(COMMAND_HINT)
    record_answer(answer, cached=cached)

    store = runtime.conversations
    store.append(_message(conversation_id, user_id, question, clock))
    reply = _message(conversation_id, user_id, answer.text, clock, answer, cached=cached)
    store.append(reply)
    return ChatResponse(
        conversation_id=conversation_id,
        message_id=reply.id,
        text=answer.text,
        citations=answer.citations,
        found=answer.found,
        tier=answer.tier,
        route=answer.route,
        fallbacks=[] if cached else answer.fallbacks,
        cached=cached,
        usage=TurnUsage(
            model_id=reply.model_id,
            input_tokens=reply.input_tokens or 0,
            output_tokens=reply.output_tokens or 0,
            cost_usd=reply.cost_usd or Decimal(0),
        ),
        removed_citations=answer.removed_citations,
        actions=actions,
    )


def _answer(
    question: str, request: ChatRequest, runtime: Runtime, stream: AnswerStream | None
) -> tuple[Answer, bool]:
    """A cited answer from the response cache, else retrieval and the routed tiers."""
    settings = runtime.settings
    router = runtime.router
    requested = router.plan(question, confidential=request.confidential)
    ttl = settings.chat.cache_ttl_seconds
    key = cache_key(
        question, request.filters, runtime.checkpoints.counter(INDEX_VERSION), requested.key
    )
    answer = runtime.cache.get(key) if ttl else None
    if answer is not None:
        if stream is not None:
            stream.delta(answer.text)
        return answer, True
    answer = ask(
        question,
        searcher=runtime.searcher,
        answerer=router,
        settings=settings.answer,
        filters=request.filters,
        confidential=request.confidential,
        on_failure=record_fallback,
        stream=stream,
    )
    # A fallback's answer is not cached: the next asker gets the better tier again.
    if ttl and not answer.fallbacks:
        runtime.cache.put(key, answer, ttl)
    return answer, False


def _history(conversation_id: str | None, runtime: Runtime) -> list[Message]:
    """The conversation so far, for the agent (none for a new conversation)."""
    if not conversation_id:
        return []
    limit = runtime.settings.chat.history_messages
    return runtime.conversations.messages(conversation_id, limit=max(limit, 1))[-limit:]


def confirm_action(action_id: str, *, user_id: str, runtime: Runtime) -> ActionResponse:
    """Execute a proposed action its proposer confirmed (once, however often confirmed)."""
    outcome = actions_flow(runtime).confirm(
        action_id, user_id, default_executors(tickets=runtime.tickets)
    )
    return ActionResponse(
        action=outcome.action, executed_now=outcome.executed_now, message=describe(outcome.action)
    )


def cancel_action(action_id: str, *, user_id: str, runtime: Runtime) -> ActionResponse:
    action = actions_flow(runtime).cancel(action_id, user_id)
    return ActionResponse(action=action, executed_now=False, message=describe(action))


def conversation(conversation_id: str, *, user_id: str, runtime: Runtime) -> ConversationResponse:
    limit = runtime.settings.chat.history_messages
    messages = runtime.conversations.messages(conversation_id, limit=max(limit, 1))
    if not messages or messages[0].user_id != user_id:
        raise _unknown(conversation_id)
    return ConversationResponse(conversation_id=conversation_id, messages=messages[-limit:])


def _continued(conversation_id: str | None, user_id: str, runtime: Runtime) -> str | None:
    """`conversation_id` if it has turns (None: no such conversation yet). Someone else's is
    NotFound, worded exactly like a missing one (no id probing)."""
    if not conversation_id:
        return None
    latest = runtime.conversations.messages(conversation_id, limit=1)
    if not latest:
        return None
    if latest[0].user_id != user_id:
        raise _unknown(conversation_id)
    return conversation_id


def _unknown(conversation_id: str) -> NotFound:
    return NotFound(f"unknown conversation id {conversation_id!r}")


def _message(
    conversation_id: str,
    user_id: str,
    text: str,
    clock: Clock,
    answer: Answer | None = None,
    *,
    cached: bool = False,
) -> Message:
    """The user's turn, or with `answer` the assistant's with its cost ledger (a cache hit
    called no model: 0 tokens, $0)."""
    now = clock()
    message = Message(
        id=new_message_id(now),
        conversation_id=conversation_id,
        user_id=user_id,
        role="assistant" if answer else "user",
        text=text,
        created_at=now,
    )
    if answer is None:
        return message
    spent = not cached
    return message.model_copy(
        update={
            "citations": answer.citations,
            "tier": answer.tier,
            "model_id": answer.model_id,
            "input_tokens": answer.input_tokens if spent else 0,
            "output_tokens": answer.output_tokens if spent else 0,
            "cost_usd": answer.cost_usd if spent else Decimal(0),
        }
    )
