"""Proposed actions: a write tool never acts, it proposes; a person confirms; we execute once.

Flow: `propose` stores a `ProposedAction` (status `proposed`, who asked, a confirmation
deadline). `confirm(action_id, user_id, executors)` lets only the proposing user go on, refuses
an expired proposal, moves `proposed -> confirmed` with a conditional update (of two concurrent
confirms exactly one wins), runs the executor, and records `executed` with its result or `failed`
with the error. A later confirm of an executed action returns the earlier result without running
it again. A crash between `confirmed` and `executed` leaves the action `confirmed`: at most once,
on purpose (a duplicate ticket is worse than asking again).

Every decision (proposed, executed, failed, cancelled, refused) is an audit entry in the store and
a Powertools log line.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from kass.errors import InvalidInput, KassError, NotFound
from kass.ports import TicketDraft, TicketTracker

Clock = Callable[[], datetime]
ActionStatus = Literal["proposed", "confirmed", "executed", "failed", "cancelled"]
AuditEvent = Literal["proposed", "executed", "failed", "cancelled", "refused"]
Executor = Callable[[Mapping[str, Any]], dict[str, Any]]

CREATE_BACKLOG_ISSUE = "create_backlog_issue"
ACTION_ID_PREFIX = "act_"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ProposedAction(BaseModel):
    """A write a tool asked for; nothing happens outside until its user confirms it."""

    id: str
    kind: str = Field(description="What to do, e.g. create_backlog_issue (the executor's key)")
    user_id: str = Field(description="Who asked; the only one who may confirm or cancel")
    arguments: dict[str, Any]
    preview: str = Field(description="One line for the confirmation prompt")
    status: ActionStatus = "proposed"
    conversation_id: str | None = None
    created_at: datetime
    expires_at: datetime = Field(description="Confirm before this, or propose again")
    updated_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def moved(
        self,
        to_status: ActionStatus,
        at: datetime,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> ProposedAction:
        """This action in `to_status` as of `at` (what every ActionStore's transition stores);
        a result or error given replaces the earlier one."""
        changes: dict[str, Any] = {"status": to_status, "updated_at": at}
        if result is not None:
            changes["result"] = result
        if error is not None:
            changes["error"] = error
        return self.model_copy(update=changes)


class AuditEntry(BaseModel):
    """Who did what to which action, when, with which arguments and result."""

    at: datetime
    user_id: str
    action_id: str
    kind: str
    event: AuditEvent
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    reason: str | None = None


class ActionStore(Protocol):
    """Proposals and the audit log (DynamoDB in AWS, SQLite locally)."""

    def save(self, action: ProposedAction) -> None:
        """Store a new proposal (ids are random; an existing id is an error of the caller)."""
        ...

    def get(self, action_id: str) -> ProposedAction | None:
        """The action, or None when unknown (or past its retention)."""
        ...

    def transition(
        self,
        action_id: str,
        *,
        from_status: ActionStatus,
        to_status: ActionStatus,
        at: datetime,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        """Atomically move the action from `from_status` to `to_status`; False (and nothing
        written) when it is not in `from_status` any more."""
        ...

    def append_audit(self, entry: AuditEntry) -> None: ...

    def audit(self, user_id: str, limit: int = 50) -> list[AuditEntry]:
        """The user's audit entries, newest first."""
        ...


class ActionOutcome(BaseModel):
    """What `confirm` returns: the action as it now stands and whether this call executed it."""

    action: ProposedAction
    executed_now: bool


def new_action_id() -> str:
    return ACTION_ID_PREFIX + secrets.token_urlsafe(12)


class Actions:
    """The confirmation flow over an `ActionStore` (one per process; stateless besides it)."""

    def __init__(
        self,
        store: ActionStore,
        *,
        ttl: timedelta = timedelta(minutes=30),
        clock: Clock = _utcnow,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock

    def propose(
        self,
        kind: str,
        arguments: Mapping[str, Any],
        *,
        user_id: str,
        preview: str,
        conversation_id: str | None = None,
    ) -> ProposedAction:
        if not user_id.strip():
            raise InvalidInput("an action needs the id of the user who asks for it")
        now = self.clock()
        action = ProposedAction(
            id=new_action_id(),
            kind=kind,
            user_id=user_id,
            arguments=dict(arguments),
            preview=preview,
            conversation_id=conversation_id,
            created_at=now,
            expires_at=now + self.ttl,
        )
        self.store.save(action)
        self._audit(action, "proposed", user_id=user_id)
        return action

    def confirm(
        self, action_id: str, user_id: str, executors: Mapping[str, Executor]
    ) -> ActionOutcome:
        """Execute the user's proposal once; see the module docstring for every case."""
        action = self._own(action_id, user_id)
        if action.status == "executed":
            return ActionOutcome(action=action, executed_now=False)
        if action.status != "proposed":
            reason = _not_confirmable(action)
            self._audit(action, "refused", user_id=user_id, reason=reason)
            raise InvalidInput(reason)
        now = self.clock()
        if now >= action.expires_at:
            reason = (
                f"action {action.id} expired at {action.expires_at:%Y-%m-%d %H:%M} UTC; "
                "ask again to get a new proposal"
            )
            self._audit(action, "refused", user_id=user_id, reason=reason)
            raise InvalidInput(reason)
        executor = executors.get(action.kind)
        if executor is None:
            reason = f"actions of kind {action.kind!r} cannot be executed here"
            self._audit(action, "refused", user_id=user_id, reason=reason)
            raise InvalidInput(reason)
        if not self.store.transition(
            action.id, from_status="proposed", to_status="confirmed", at=now
        ):
            return self._lost_race(action.id, user_id)
        try:
            result = executor(action.arguments)
        except Exception as exc:
            message = str(exc) if isinstance(exc, KassError) else f"{type(exc).__name__}: {exc}"
            self.store.transition(
                action.id,
                from_status="confirmed",
                to_status="failed",
                at=self.clock(),
                error=message,
            )
            self._audit(action, "failed", user_id=user_id, reason=message)
            raise
        done_at = self.clock()
        self.store.transition(
            action.id, from_status="confirmed", to_status="executed", at=done_at, result=result
        )
        self._audit(action, "executed", user_id=user_id, result=result)
        executed = action.model_copy(
            update={"status": "executed", "result": result, "updated_at": done_at}
        )
        return ActionOutcome(action=executed, executed_now=True)

    def cancel(self, action_id: str, user_id: str) -> ProposedAction:
        action = self._own(action_id, user_id)
        if action.status == "cancelled":
            return action
        now = self.clock()
        if action.status != "proposed" or not self.store.transition(
            action.id, from_status="proposed", to_status="cancelled", at=now
        ):
            current = self.store.get(action.id) or action
            reason = _not_confirmable(current, verb="cancelled")
            self._audit(action, "refused", user_id=user_id, reason=reason)
            raise InvalidInput(reason)
        self._audit(action, "cancelled", user_id=user_id)
        return action.model_copy(update={"status": "cancelled", "updated_at": now})

    def _own(self, action_id: str, user_id: str) -> ProposedAction:
        """The action if `user_id` proposed it. Someone else's action and an unknown id get the
        same NotFound, so ids cannot be probed; the attempt is audited under the caller."""
        action = self.store.get(action_id) if action_id.startswith(ACTION_ID_PREFIX) else None
        if action is None or action.user_id != user_id:
            reason = "unknown action" if action is None else "action of another user"
            entry = AuditEntry(
                at=self.clock(),
                user_id=user_id,
                action_id=action_id[:100],
                kind=action.kind if action else "unknown",
                event="refused",
                reason=reason,
            )
            self._record(entry)
            raise NotFound(f"no pending action {action_id[:100]!r} of yours")
        return action

    def _lost_race(self, action_id: str, user_id: str) -> ActionOutcome:
        """Another confirm moved the action first: report what it did, never run it again."""
        current = self.store.get(action_id)
        if current is not None and current.status == "executed":
            return ActionOutcome(action=current, executed_now=False)
        reason = (
            _not_confirmable(current) if current else f"action {action_id} disappeared meanwhile"
        )
        if current is not None:
            self._audit(current, "refused", user_id=user_id, reason=reason)
        raise InvalidInput(reason)

    def _audit(
        self,
        action: ProposedAction,
        event: AuditEvent,
        *,
        user_id: str,
        result: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        self._record(
            AuditEntry(
                at=self.clock(),
                user_id=user_id,
                action_id=action.id,
                kind=action.kind,
                event=event,
                arguments=action.arguments,
                result=result,
                reason=reason,
            )
        )

    def _record(self, entry: AuditEntry) -> None:
        from kass.observability import logger

        # The log line first: if the store write fails, the decision is still on record.
        logger.info(f"action {entry.event}", extra={"audit": entry.model_dump(mode="json")})
        self.store.append_audit(entry)


def _not_confirmable(action: ProposedAction, verb: str = "confirmed") -> str:
    if action.status == "confirmed":
        return f"action {action.id} is being executed already"
    if action.status == "executed":
        return f"action {action.id} was executed already and cannot be {verb}"
    if action.status == "cancelled":
        return f"action {action.id} was cancelled; ask again to get a new proposal"
    if action.status == "failed":
        return f"action {action.id} failed ({action.error}); ask again to get a new proposal"
    return f"action {action.id} cannot be {verb} (status {action.status})"


# -- executors: action kinds -> the ports that carry them out --------------------------------------


def ticket_executor(tickets: TicketTracker) -> Executor:
    """create_backlog_issue -> TicketTracker.create_issue (NotFound for an unknown project)."""

    def execute(arguments: Mapping[str, Any]) -> dict[str, Any]:
        try:
            draft = TicketDraft.model_validate(arguments)
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            raise InvalidInput(f"the stored ticket draft is invalid: {message}") from None
        return tickets.create_issue(draft).model_dump(mode="json")

    return execute


def default_executors(*, tickets: TicketTracker | None) -> dict[str, Executor]:
    """The executors the configured ports allow (no ticket tracker, no ticket execution)."""
    executors: dict[str, Executor] = {}
    if tickets is not None:
        executors[CREATE_BACKLOG_ISSUE] = ticket_executor(tickets)
    return executors


def describe(action: ProposedAction) -> str:
    """A user-facing line: what would happen and how to confirm it."""
    if action.status == "executed" and action.result:
        made = action.result.get("key") or action.id
        url = action.result.get("url")
        return f"Done: {made}" + (f" {url}" if url else "")
    return (
        f"Proposed (not done yet): {action.preview}\n"
        f"Confirm with `/confirm {action.id}` or cancel with `/cancel {action.id}` "
        f"before {action.expires_at:%Y-%m-%d %H:%M} UTC."
    )
