"""The tool-calling agent: state (`state`), prompts (`prompts`), the graph (`orchestrator`).

Importing this package loads nothing heavy; `run_agent` imports LangChain on first call, so
functions that never run the agent do not pay for it at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kass.chat.agent.state import AgentResult


def run_agent(question: str, **kwargs: Any) -> AgentResult:
    """See `kass.chat.agent.orchestrator.run_agent`."""
    from kass.chat.agent.orchestrator import run_agent as run

    return run(question, **kwargs)


__all__ = ["run_agent"]
