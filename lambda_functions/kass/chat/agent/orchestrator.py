"""The tool-calling agent: LangChain's `create_agent` over any tool-calling chat model.

One turn: the system prompt, the recent history, the question; the model calls tools (search,
propose a ticket, summarize a thread, review an MR) until it answers or the step bound ends the
turn. Whatever the model writes, write tools only propose (see `kass.chat.actions`), so a
prompt injected in a passage can at most produce a proposal the user sees and may refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import before_model
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage

from kass.chat.agent.prompts import AGENT_SYSTEM_PROMPT
from kass.chat.agent.state import AgentResult
from kass.chat.citations import MARKER, resolve_citations
from kass.chat.tools import build_tools
from kass.chat.tools.context import ToolDeps, Turn
from kass.errors import KassError
from kass.llm.errors import model_error
from kass.models import Message
from kass.retrieval.search import validate_query

STOPPED = (
    "I stopped after {n} steps without finishing. Ask again more narrowly, or split the request."
)


def run_agent(
    question: str,
    *,
    user_id: str,
    deps: ToolDeps,
    model: BaseChatModel | None = None,
    tier: str = "agent",
    history: Sequence[Message] = (),
    conversation_id: str | None = None,
    on_text: Callable[[str], None] | None = None,
) -> AgentResult:
    """Answer `question` for `user_id` with the tools `deps` configures.

    `model` defaults to `deps.chat_model`. `on_text` receives the model's text as it streams (all
    model calls of the turn). Model failures raise `ModelUnavailable` (throttled, endpoint down:
    the router may fall back to another tier) or `KassError` (request rejected).
    """
    chat_model = model or deps.chat_model
    if chat_model is None:
        raise KassError("no chat model is configured for the agent; use the slash commands")
    question = validate_query(question, deps.answer_settings.max_question_chars)
    turn = Turn(user_id=user_id, conversation_id=conversation_id)
    limit = deps.agent_settings.max_model_calls
    state = {"calls": 0, "stopped": False}

    @before_model(can_jump_to=["end"])
    def bound_steps(agent_state: Any, runtime: Any) -> dict[str, Any] | None:
        if state["calls"] >= limit:
            state["stopped"] = True
            return {"jump_to": "end", "messages": [AIMessage(STOPPED.format(n=limit))]}
        state["calls"] += 1
        return None

    agent = create_agent(
        chat_model,
        build_tools(turn, deps),
        system_prompt=AGENT_SYSTEM_PROMPT,
        middleware=[bound_steps],
    )
    messages = [*_history(history), HumanMessage(question)]
    # Each step is a model node and a tools node (plus middleware): far below this bound.
    config: Any = {"recursion_limit": 4 * limit + 10}
    try:
        final = _run(agent, {"messages": messages}, config, on_text)
    except Exception as exc:
        error = model_error(exc, getattr(chat_model, "model_id", None) or tier)
        if error is None:
            raise
        raise error from exc
    produced = final["messages"][len(messages) :]
    for message in produced:
        if isinstance(message, AIMessage) and message.usage_metadata:
            turn.usage.add(dict(message.usage_metadata))
    raw = _final_text(produced)
    cited = resolve_citations(raw, turn.passages)
    return AgentResult(
        text=cited.text,
        citations=cited.citations,
        passages=turn.passages,
        raw_text=raw,
        actions=turn.actions,
        tool_calls=turn.tool_calls,
        usage=turn.usage,
        tier=tier,
        stopped=bool(state["stopped"]),
        removed_citations=cited.dropped,
    )


def _run(
    agent: Any, inputs: dict[str, Any], config: Any, on_text: Callable[[str], None] | None
) -> dict[str, Any]:
    if on_text is None:
        result: dict[str, Any] = agent.invoke(inputs, config)
        return result
    final: dict[str, Any] = {}
    for mode, payload in agent.stream(inputs, config, stream_mode=["messages", "values"]):
        if mode == "values":
            final = payload
        else:
            chunk, _ = payload
            if isinstance(chunk, AIMessageChunk) and chunk.text:
                on_text(chunk.text)
    return final


def _final_text(produced: list[BaseMessage]) -> str:
    """The last AI message's text (the answer, or the step-limit notice)."""
    for message in reversed(produced):
        if isinstance(message, AIMessage) and message.text.strip():
            return message.text.strip()
    return ""


def _history(history: Sequence[Message]) -> list[BaseMessage]:
    """Earlier turns as chat messages. Their [n] markers are removed: numbers are per turn, and
    an old [2] must not be copied into this answer to mean this turn's passage 2."""
    messages: list[BaseMessage] = []
    for message in history:
        if message.role == "user":
            messages.append(HumanMessage(message.text))
        else:
            messages.append(AIMessage(MARKER.sub("", message.text).strip()))
    return messages
