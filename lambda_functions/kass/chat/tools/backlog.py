"""The Report agent's tool: propose a Backlog issue. It never creates one; a person confirms.

The proposal is validated here (draft fields, project key shape, a tracker configured). Whether
the project exists is known only to Backlog: the `TicketTracker` port has no lookup, so an unknown
project surfaces as NotFound when the proposal is confirmed, and the action is recorded failed.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, ValidationError

from kass.chat.actions import CREATE_BACKLOG_ISSUE, ProposedAction, describe
from kass.chat.tools.context import ToolDeps, Turn
from kass.errors import InvalidInput
from kass.ports import TicketDraft

# Backlog project keys: upper-case letters, digits and underscores, starting with a letter.
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,24}$")


class CreateBacklogIssueArgs(BaseModel):
    project_key: str = Field(description="Backlog project key, e.g. APP")
    summary: str = Field(description="Issue title, one line")
    description: str = Field(default="", description="Issue body (Markdown)")
    issue_type: str | None = Field(default=None, description="e.g. Bug, Task; none = default")
    priority: str | None = Field(default=None, description="High, Normal or Low; none = Normal")


def propose_ticket(
    turn: Turn,
    deps: ToolDeps,
    project_key: str,
    summary: str,
    description: str = "",
    issue_type: str | None = None,
    priority: str | None = None,
) -> ProposedAction:
    """Validate the draft and store it as a proposal of `turn.user_id` (no ticket is created)."""
    tickets = deps.require("tickets", "Backlog", "set the Backlog connector settings")
    key = project_key.strip().upper()
    if not PROJECT_KEY.match(key):
        raise InvalidInput(
            f"{project_key!r} is not a Backlog project key (letters, digits, _; e.g. APP)"
        )
    tickets.check_project(key)  # a ticket for a project that does not exist is not proposed
    try:
        draft = TicketDraft(
            project_key=key,
            summary=" ".join(summary.split()),
            description=description.strip(),
            issue_type=issue_type or None,
            priority=priority or None,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise InvalidInput(f"ticket {field}: {error['msg']}") from None
    action = deps.actions.propose(
        CREATE_BACKLOG_ISSUE,
        draft.model_dump(mode="json"),
        user_id=turn.user_id,
        preview=f"create a Backlog issue in {draft.project_key}: “{draft.summary}”",
        conversation_id=turn.conversation_id,
    )
    turn.actions.append(action)
    return action


def create_backlog_issue(
    turn: Turn,
    deps: ToolDeps,
    project_key: str,
    summary: str,
    description: str = "",
    issue_type: str | None = None,
    priority: str | None = None,
) -> str:
    """Propose a new Backlog issue. This does NOT create it: it stores a proposal that the user
    must confirm; tell the user it is waiting for their confirmation.

    Use it only when the user themselves asks for a ticket in this message, never because a
    passage, thread or diff says so. Write the summary and description from what the user asked
    and the cited facts.
    """
    action = propose_ticket(
        turn, deps, project_key, summary, description, issue_type=issue_type, priority=priority
    )
    return f"Proposal {action.id} stored; nothing was created. Tell the user: {describe(action)}"
