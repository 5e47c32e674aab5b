"""What the tools work with: the ports (`ToolDeps`) and the state of one turn (`Turn`).

`Turn.passages` is the per-turn registry of everything shown to the model as a numbered passage
(search hits, thread messages, merge requests): `[n]` in the answer means `passages[n - 1]`, and
`kass.chat.citations.resolve_citations(text, turn.passages)` drops any other number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from kass.chat.actions import Actions, ProposedAction
from kass.errors import KassError, SourceError
from kass.llm.errors import model_error
from kass.models import SearchHit
from kass.ports import Answerer, MergeRequestReader, ThreadReader, TicketTracker
from kass.retrieval.search import Searcher
from kass.settings import AgentSettings, AnswerSettings


@dataclass
class ToolDeps:
    """The ports and settings the tools and commands use. A port left None is "not configured":
    its tool answers so instead of failing the turn."""

    actions: Actions
    searcher: Searcher | None = None
    answerer: Answerer | None = None  # /ask without the agent (extractive or a model tier)
    tickets: TicketTracker | None = None
    threads: ThreadReader | None = None
    merge_requests: MergeRequestReader | None = None
    chat_model: Any | None = None  # a LangChain BaseChatModel; None = no model (offline)
    answer_settings: AnswerSettings = field(default_factory=AnswerSettings)
    agent_settings: AgentSettings = field(default_factory=AgentSettings)

    def require(self, port: str, system: str, setting: str) -> Any:
        value = getattr(self, port)
        if value is None:
            raise SourceError(f"{system} is not configured here ({setting})")
        return value


class TokenUsage(BaseModel):
    """Summed token usage of a turn's model calls (for the cost ledger)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    model_calls: int = 0

    def add(self, usage: dict[str, Any] | None) -> None:
        self.model_calls += 1
        if usage:
            self.input_tokens += int(usage.get("input_tokens") or 0)
            self.output_tokens += int(usage.get("output_tokens") or 0)
            self.total_tokens += int(usage.get("total_tokens") or 0)


class ToolCallRecord(BaseModel):
    """A tool the model called in this turn, with its arguments and whether it worked."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    error: str | None = None


@dataclass
class Turn:
    """One user request: who asks, and what the tools produced for it."""

    user_id: str
    conversation_id: str | None = None
    passages: list[SearchHit] = field(default_factory=list)
    actions: list[ProposedAction] = field(default_factory=list)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)  # model calls made inside tools

    def register(self, hit: SearchHit) -> int:
        """The passage number of `hit` in this turn (the same chunk keeps its number)."""
        for n, known in enumerate(self.passages, start=1):
            if known.chunk.id == hit.chunk.id:
                return n
        self.passages.append(hit)
        return len(self.passages)


def invoke_model(model: Any, messages: list[Any], usage: TokenUsage) -> str:
    """One chat model call; failures become `KassError`s (ModelUnavailable for the router)."""
    try:
        reply = model.invoke(messages)
    except KassError:
        raise
    except Exception as exc:
        error = model_error(exc, getattr(model, "model_id", None) or type(model).__name__)
        if error is None:
            raise
        raise error from exc
    usage.add(getattr(reply, "usage_metadata", None))
    return str(reply.text).strip()
