"""Slash commands: the agents' work without a model (the offline profile), or with one.

`handle_command("/review team/app!42", user_id=..., deps=...)` parses, runs and returns a
`CommandResult`. Without `deps.chat_model` nothing here imports LangChain: /ask searches and
cites with the configured answerer (the extractive one offline), /summarize picks the key
messages, /review runs the deterministic checks, /ticket proposes. With a model, /summarize and
/review add the model's summary or review. /confirm and /cancel settle a proposal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field

from kass.chat.actions import Executor, ProposedAction, default_executors, describe
from kass.chat.ask import ask
from kass.chat.citations import resolve_citations
from kass.chat.review_checks import Finding, render_findings, run_checks
from kass.chat.thread_summary import summarize_thread, thread_passages
from kass.chat.tools.backlog import propose_ticket
from kass.chat.tools.context import TokenUsage, ToolDeps, Turn
from kass.chat.tools.gitlab import fetch_merge_request, mr_passage, review_limits
from kass.chat.tools.slack import read_thread
from kass.errors import InvalidInput
from kass.models import Citation

USAGES: dict[str, str] = {
    "ask": "/ask <question>",
    "ticket": "/ticket <PROJECT> <summary> [-- description]",
    "summarize": "/summarize <channel> <ts> | /summarize <permalink>",
    "review": "/review <group/project>!<iid> | /review <merge request URL>",
    "confirm": "/confirm <action id>",
    "cancel": "/cancel <action id>",
}
USAGE = "Commands:\n" + "\n".join(f"  {usage}" for usage in USAGES.values())
_DESCRIPTION_SEPARATOR = re.compile(r"\s--(?:\s|$)")


class CommandResult(BaseModel):
    command: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    action: ProposedAction | None = None
    findings: list[Finding] = Field(default_factory=list)
    tier: str = Field(description="extractive, deterministic, or the model tier that wrote it")
    usage: TokenUsage = Field(default_factory=TokenUsage)
    removed_citations: int = Field(default=0, description="[n] markers that named no passage")


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    argument: str  # everything after the command name, stripped


def parse_command(text: str) -> ParsedCommand:
    """`/name argument...`; an unknown command or a missing argument is InvalidInput with usage."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        raise InvalidInput(f"not a command (they start with /).\n{USAGE}")
    head, _, rest = stripped[1:].partition(" ")
    name = head.strip().lower()
    if name not in USAGES:
        raise InvalidInput(f"unknown command /{name}.\n{USAGE}")
    argument = rest.strip()
    if not argument:
        raise InvalidInput(f"/{name} needs an argument: {USAGES[name]}")
    return ParsedCommand(name, argument)


def handle_command(
    text: str,
    *,
    user_id: str,
    deps: ToolDeps,
    executors: Mapping[str, Executor] | None = None,
    conversation_id: str | None = None,
    tier: str = "model",
) -> CommandResult:
    """Run one slash command for `user_id`. `executors` default to the configured ports';
    `tier` names `deps.chat_model` in results (for the cost ledger)."""
    command = parse_command(text)
    handler = _HANDLERS[command.name]
    turn = Turn(user_id=user_id, conversation_id=conversation_id)
    context = _Context(deps, turn, tier, executors)
    return handler(command.argument, context)


@dataclass
class _Context:
    deps: ToolDeps
    turn: Turn
    tier: str
    executors: Mapping[str, Executor] | None

    def all_executors(self) -> Mapping[str, Executor]:
        if self.executors is not None:
            return self.executors
        return default_executors(tickets=self.deps.tickets)


def _ask(argument: str, context: _Context) -> CommandResult:
    deps = context.deps
    searcher = deps.require("searcher", "Knowledge search", "no index is open")
    answerer = deps.require("answerer", "An answerer", "no answer tier configured")
    answer = ask(argument, searcher=searcher, answerer=answerer, settings=deps.answer_settings)
    return CommandResult(
        command="ask", text=answer.text, citations=answer.citations, tier=answer.tier
    )


def _ticket(argument: str, context: _Context) -> CommandResult:
    project, _, rest = argument.partition(" ")
    parts = _DESCRIPTION_SEPARATOR.split(" " + rest.strip() + " ", maxsplit=1)
    summary = parts[0].strip()
    description = parts[1].strip() if len(parts) > 1 else ""
    if not summary:
        raise InvalidInput(f"/ticket needs a summary: {USAGES['ticket']}")
    action = propose_ticket(context.turn, context.deps, project, summary, description)
    return CommandResult(
        command="ticket", text=describe(action), action=action, tier="deterministic"
    )


def _summarize(argument: str, context: _Context) -> CommandResult:
    words = argument.split()
    if len(words) > 2:
        raise InvalidInput(f"/summarize takes a channel and a ts, or a link: {USAGES['summarize']}")
    deps = context.deps
    thread = read_thread(deps, words[0], words[1] if len(words) == 2 else None)
    max_points = deps.agent_settings.summary_max_points
    if deps.chat_model is not None:
        from kass.chat.tools.slack import summarize_with_model

        usage = TokenUsage()
        text, passages = summarize_with_model(thread, deps.chat_model, usage, max_points=max_points)
        cited = resolve_citations(text, passages)
        return CommandResult(
            command="summarize",
            text=cited.text,
            citations=cited.citations,
            tier=context.tier,
            usage=usage,
            removed_citations=cited.dropped,
        )
    summary = summarize_thread(thread, max_points=max_points)
    passages = thread_passages(thread)
    cited = resolve_citations(summary.render({i: i + 1 for i in range(len(passages))}), passages)
    return CommandResult(
        command="summarize", text=cited.text, citations=cited.citations, tier="extractive"
    )


def _review(argument: str, context: _Context) -> CommandResult:
    words = argument.split()
    if len(words) > 2:
        raise InvalidInput(f"/review takes one merge request: {USAGES['review']}")
    deps = context.deps
    iid = _int(words[1]) if len(words) == 2 else None
    mr = fetch_merge_request(deps, words[0], iid)
    findings = run_checks(mr, review_limits(deps))
    text = render_findings(mr, findings)
    if deps.chat_model is None:
        return CommandResult(command="review", text=text, findings=findings, tier="deterministic")
    from kass.chat.tools.gitlab import review_with_model

    usage = TokenUsage()
    cited = resolve_citations(
        review_with_model(mr, findings, deps.chat_model, usage), [mr_passage(mr)]
    )
    return CommandResult(
        command="review",
        text=f"{text}\n\n{cited.text}",
        citations=cited.citations,
        findings=findings,
        tier=context.tier,
        usage=usage,
        removed_citations=cited.dropped,
    )


def _confirm(argument: str, context: _Context) -> CommandResult:
    outcome = context.deps.actions.confirm(
        argument.split()[0], context.turn.user_id, context.all_executors()
    )
    prefix = "" if outcome.executed_now else "Already done earlier. "
    return CommandResult(
        command="confirm",
        text=prefix + describe(outcome.action),
        action=outcome.action,
        tier="deterministic",
    )


def _cancel(argument: str, context: _Context) -> CommandResult:
    action = context.deps.actions.cancel(argument.split()[0], context.turn.user_id)
    return CommandResult(
        command="cancel",
        text=f"Cancelled: {action.preview}",
        action=action,
        tier="deterministic",
    )


def _int(value: str) -> int:
    if not value.isdigit():
        raise InvalidInput(f"{value!r} is not a merge request number")
    return int(value)


_HANDLERS: dict[str, Callable[[str, _Context], CommandResult]] = {
    "ask": _ask,
    "ticket": _ticket,
    "summarize": _summarize,
    "review": _review,
    "confirm": _confirm,
    "cancel": _cancel,
}
