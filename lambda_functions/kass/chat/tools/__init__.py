"""The agent's tools, one module per outside system. Read-only tools act; write tools propose.

Each tool is a plain function `(turn, deps, **arguments) -> str` whose docstring is the model's
contract, with a pydantic model of its arguments. `build_tools` binds them to one turn as
LangChain tools (importing LangChain only then), so the offline commands can use the same
functions without it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kass.chat.tools.backlog import CreateBacklogIssueArgs, create_backlog_issue
from kass.chat.tools.context import ToolCallRecord, ToolDeps, Turn
from kass.chat.tools.gitlab import ReviewMergeRequestArgs, review_merge_request
from kass.chat.tools.knowledge import SearchKnowledgeArgs, search_knowledge
from kass.chat.tools.slack import SummarizeSlackThreadArgs, summarize_slack_thread
from kass.errors import KassError, ModelUnavailable

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

ToolFunction = Callable[..., str]

# name -> (function, arguments model, needs which port). Write tools only propose.
TOOLS: dict[str, tuple[ToolFunction, type[BaseModel], str]] = {
    "search_knowledge": (search_knowledge, SearchKnowledgeArgs, "searcher"),
    "create_backlog_issue": (create_backlog_issue, CreateBacklogIssueArgs, "tickets"),
    "summarize_slack_thread": (summarize_slack_thread, SummarizeSlackThreadArgs, "threads"),
    "review_merge_request": (review_merge_request, ReviewMergeRequestArgs, "merge_requests"),
}


def run_tool(name: str, turn: Turn, deps: ToolDeps, arguments: dict[str, Any]) -> str:
    """Run a tool for the model. A `KassError` (bad input, not found, source down) becomes the
    tool's answer, so the model can tell the user; ModelUnavailable goes up to the router."""
    function, _, _ = TOOLS[name]
    try:
        output = function(turn, deps, **arguments)
    except ModelUnavailable:
        raise
    except KassError as exc:
        record = ToolCallRecord(name=name, arguments=arguments, ok=False, error=str(exc))
        turn.tool_calls.append(record)
        return f"Error: {exc}"
    turn.tool_calls.append(ToolCallRecord(name=name, arguments=arguments, ok=True))
    return output


def build_tools(turn: Turn, deps: ToolDeps) -> list[BaseTool]:
    """The tools whose ports are configured, bound to `turn` as LangChain StructuredTools."""
    from langchain_core.tools import StructuredTool

    tools: list[BaseTool] = []
    for name, (function, args_schema, port) in TOOLS.items():
        if getattr(deps, port) is None:
            continue  # not configured here: the model is not offered it

        def call(_name: str = name, **arguments: Any) -> str:
            given = {key: value for key, value in arguments.items() if value is not None}
            return run_tool(_name, turn, deps, given)

        tools.append(
            StructuredTool.from_function(
                func=call,
                name=name,
                description=inspect.getdoc(function) or name,
                args_schema=args_schema,
            )
        )
    return tools


__all__ = ["TOOLS", "ToolDeps", "Turn", "build_tools", "run_tool"]
