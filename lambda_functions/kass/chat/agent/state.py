"""What one agent turn produces (the graph's own state is LangChain's `AgentState`; the per-turn
tool state is `kass.chat.tools.context.Turn`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kass.chat.actions import ProposedAction
from kass.chat.tools.context import TokenUsage, ToolCallRecord
from kass.models import Citation, SearchHit


class AgentResult(BaseModel):
    """The answer of a turn and everything the caller records or shows with it."""

    text: str = Field(description="Final answer; [n] markers renumbered to match `citations`")
    citations: list[Citation] = Field(default_factory=list)
    passages: list[SearchHit] = Field(
        default_factory=list,
        description="Every passage the model was shown this turn; [n] in `raw_text` is n-1 here",
    )
    raw_text: str = Field(description="The model's final text as written (markers unchecked)")
    actions: list[ProposedAction] = Field(
        default_factory=list, description="Proposals awaiting the user's confirmation"
    )
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    tier: str
    stopped: bool = Field(default=False, description="True when the step limit ended the turn")
    removed_citations: int = Field(
        default=0, description="[n] markers that named no passage of this turn (removed)"
    )
