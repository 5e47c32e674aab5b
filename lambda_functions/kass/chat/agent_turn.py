"""Turns that go past plain question answering: slash commands and the tool-calling agent.

`POST /chat` sends a message here when it is a slash command (`/ticket APP ...`), or when it
asks for an action (file a ticket, summarize a thread, review a merge request) and a model tier
is available to drive the tools. Both run through the router's fallback chain: a throttled
tier hands the turn to the next one, and the extractive end of the chain answers without a
model (commands run their deterministic forms; an action request gets a plain cited answer
plus a hint to use the command). Write tools only ever propose: see kass.chat.actions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from kass.chat.actions import Actions, ProposedAction, default_executors
from kass.chat.router import EXTRACTIVE, run_with_fallback
from kass.chat.telemetry import record_fallback
from kass.chat.tools.context import TokenUsage, ToolDeps
from kass.models import Answer, Message, ModelReply

if TYPE_CHECKING:
    from kass.wiring import Runtime

# Requests the tools serve. Plain questions stay on the cheaper, cached answer path.
_ACTION_REQUEST = re.compile(
    r"\b(?:(?:file|create|open|raise|make|add)\s+(?:a\s+|an\s+|the\s+)?(?:backlog\s+)?"
    r"(?:ticket|issue|bug)|summari[sz]e|tl;?dr|review)\b"
    r"|merge[ _-]?request|\bMR\s*!?\d+|![0-9]+\b|/-/merge_requests/\d+|slack\.com/archives/"
    r"|チケット|起票|課題を(?:作成|登録|追加)|要約|まとめて|レビュー",
    re.IGNORECASE,
)
COMMAND_HINT = (
    "\n\n(No model is available to act on this request; use /ticket, /summarize or /review.)"
)


def is_command(message: str) -> bool:
    return message.lstrip().startswith("/")


def wants_tools(message: str) -> bool:
    """True when the message asks for an action the tools perform."""
    return bool(_ACTION_REQUEST.search(message))


@dataclass
class TurnResult:
    """What a command or agent turn produced, in the shape the chat use case stores."""

    answer: Answer
    actions: list[ProposedAction] = field(default_factory=list)


def tool_deps(runtime: Runtime, chat_model: object | None = None) -> ToolDeps:
    settings = runtime.settings
    return ToolDeps(
        actions=actions_flow(runtime),
        searcher=runtime.searcher,
        answerer=runtime.router,  # /ask routes and falls back like POST /chat
        tickets=runtime.tickets,
        threads=runtime.threads,
        merge_requests=runtime.merge_requests,
        chat_model=chat_model,
        answer_settings=settings.answer,
        agent_settings=settings.agent,
    )


def actions_flow(runtime: Runtime) -> Actions:
    ttl = timedelta(minutes=runtime.settings.agent.proposal_ttl_minutes)
    return Actions(runtime.actions, ttl=ttl)


def command_turn(
    message: str,
    *,
    user_id: str,
    conversation_id: str,
    runtime: Runtime,
    confidential: bool = False,
) -> TurnResult:
    """A slash command, with the first model tier that answers (or none: deterministic)."""
    from kass.chat.commands import handle_command

    route = runtime.router.plan(message, confidential=confidential)

    def attempt(tier: str) -> TurnResult:
        model = None if tier == EXTRACTIVE else runtime.chat_model(tier)
        result = handle_command(
            message,
            user_id=user_id,
            deps=tool_deps(runtime, model),
            executors=default_executors(tickets=runtime.tickets),
            conversation_id=conversation_id,
            tier=tier,
        )
        answer = _answer(
            message, result.text, result.tier, runtime, route.tiers, result.usage, tier
        )
        answer.citations = result.citations
        answer.removed_citations = result.removed_citations
        return TurnResult(answer, [result.action] if result.action else [])

    ran = run_with_fallback(route, attempt, on_failure=record_fallback)
    ran.value.answer.fallbacks = [failure.tier for failure in ran.failures]
    return ran.value


def agent_turn(
    message: str,
    *,
    user_id: str,
    conversation_id: str,
    history: Sequence[Message],
    runtime: Runtime,
    confidential: bool = False,
) -> TurnResult | None:
    """The tool-calling agent on the first model tier that answers; None when the chain
    reaches the extractive tier (no model: the caller answers the plain way)."""
    from kass.chat.agent import run_agent

    route = runtime.router.plan(message, confidential=confidential, needs_tools=True)

    def attempt(tier: str) -> TurnResult | None:
        if tier == EXTRACTIVE:
            return None
        model = runtime.chat_model(tier)
        result = run_agent(
            message,
            user_id=user_id,
            deps=tool_deps(runtime, model),
            model=model,
            tier=tier,
            history=history,
            conversation_id=conversation_id,
        )
        answer = _answer(message, result.text, tier, runtime, route.tiers, result.usage, tier)
        answer.citations = result.citations
        answer.removed_citations = result.removed_citations
        return TurnResult(answer, result.actions)

    ran = run_with_fallback(route, attempt, on_failure=record_fallback)
    if ran.value is not None:
        ran.value.answer.fallbacks = [failure.tier for failure in ran.failures]
    return ran.value


def _answer(
    question: str,
    text: str,
    tier: str,
    runtime: Runtime,
    route: Sequence[str],
    usage: TokenUsage,
    model_tier: str,
) -> Answer:
    """An `Answer` with the turn's cost ledger (no model call: no model id, $0)."""
    model_id = runtime.model_id(model_tier) if usage.model_calls else None
    spent = ModelReply(
        text=text,
        model_id=model_id,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
    )
    return Answer(
        question=question,
        text=text,
        tier=tier,
        route=list(route),
        model_id=model_id,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=runtime.router.cost(spent, model_tier),
    )
