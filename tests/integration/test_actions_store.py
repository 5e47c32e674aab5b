"""The ActionStore adapters and the confirmation flow on them: SQLite and DynamoDB (moto) alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import REGION, create_tables, serialize_moto_requests, set_moto_env
from moto import mock_aws
from tests.doubles.agent_ports import RecordingTickets

from kass.adapters.aws.actions import DynamoActionStore
from kass.adapters.aws.dynamodb import TABLES
from kass.adapters.local.actions import SqliteActionStore
from kass.chat.actions import Actions, AuditEntry, ProposedAction, default_executors
from kass.errors import InvalidInput, NotFound
from kass.ports import CreatedTicket, TicketDraft

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
RETENTION_DAYS = 30
TABLE = "test-actions"


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    clock: FakeClock
    open_store: Callable[[], Any]

    def __post_init__(self) -> None:
        self.store = self.open_store()
        self.actions = Actions(self.store, ttl=timedelta(minutes=30), clock=self.clock)


@pytest.fixture(params=["sqlite", "dynamodb"])
def world(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = FakeClock()
    if request.param == "sqlite":
        opened: list[SqliteActionStore] = []

        def open_sqlite() -> SqliteActionStore:
            store = SqliteActionStore(
                tmp_path / "state.db", retention_days=RETENTION_DAYS, clock=clock
            )
            opened.append(store)
            return store

        yield World(clock, open_sqlite)
        for store in opened:
            store.close()
        return
    set_moto_env(monkeypatch)
    serialize_moto_requests(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client, {"actions": TABLE})
        yield World(
            clock,
            lambda: DynamoActionStore(
                TABLE, retention_days=RETENTION_DAYS, client=client, clock=clock
            ),
        )


def _propose(world: World, user: str = "u1", project: str = "APP") -> ProposedAction:
    return world.actions.propose(
        "create_backlog_issue",
        TicketDraft(project_key=project, summary="Login fails").model_dump(mode="json"),
        user_id=user,
        preview=f"create a Backlog issue in {project}",
    )


def test_given_proposal_when_read_from_another_connection_then_same_action(world):
    action = _propose(world)

    again = world.open_store().get(action.id)

    assert again == action
    assert again.status == "proposed"
    assert again.expires_at == T0 + timedelta(minutes=30)


def test_given_status_when_transition_from_another_status_then_refused_and_unchanged(world):
    action = _propose(world)

    moved = world.store.transition(action.id, from_status="proposed", to_status="confirmed", at=T0)
    again = world.store.transition(action.id, from_status="proposed", to_status="confirmed", at=T0)
    done = world.store.transition(
        action.id, from_status="confirmed", to_status="executed", at=T0, result={"key": "APP-1"}
    )

    assert (moved, again, done) == (True, False, True)
    stored = world.store.get(action.id)
    assert stored.status == "executed" and stored.result == {"key": "APP-1"}
    assert (
        world.store.transition("act_missing", from_status="proposed", to_status="executed", at=T0)
        is False
    )


def test_given_concurrent_confirms_when_racing_then_executed_exactly_once(world):
    action = _propose(world)
    tickets = RecordingTickets()
    executors = default_executors(tickets=tickets)
    outcomes: list[Any] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def confirm() -> None:
        flow = Actions(world.open_store(), clock=world.clock)
        barrier.wait()
        try:
            outcomes.append(flow.confirm(action.id, "u1", executors))
        except InvalidInput as exc:  # "being executed already" for a loser that came too early
            errors.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(tickets.created) == 1
    assert sum(o.executed_now for o in outcomes) == 1
    assert all("being executed" in str(e) for e in errors)
    assert world.store.get(action.id).status == "executed"


def test_given_executed_action_when_confirmed_again_then_earlier_result_no_second_call(world):
    action = _propose(world)
    calls: list[dict[str, Any]] = []

    def execute(arguments: Any) -> dict[str, Any]:
        calls.append(dict(arguments))
        return CreatedTicket(key="APP-9", url="https://b/APP-9").model_dump()

    first = world.actions.confirm(action.id, "u1", {"create_backlog_issue": execute})
    second = world.actions.confirm(action.id, "u1", {"create_backlog_issue": execute})

    assert len(calls) == 1
    assert (first.executed_now, second.executed_now) == (True, False)
    assert second.action.result == {"key": "APP-9", "url": "https://b/APP-9"}


def test_given_other_user_when_confirming_or_cancelling_then_not_found_and_audited(world):
    action = _propose(world, user="u1")

    with pytest.raises(NotFound):
        world.actions.confirm(action.id, "u2", default_executors(tickets=RecordingTickets()))
    with pytest.raises(NotFound):
        world.actions.cancel(action.id, "u2")

    assert world.store.get(action.id).status == "proposed"
    assert [e.event for e in world.store.audit("u2")] == ["refused", "refused"]


def test_given_expired_proposal_when_confirmed_then_refused_and_not_executed(world):
    action = _propose(world)
    tickets = RecordingTickets()
    world.clock.advance(minutes=30)

    with pytest.raises(InvalidInput, match="expired"):
        world.actions.confirm(action.id, "u1", default_executors(tickets=tickets))

    assert tickets.created == []
    assert world.store.get(action.id).status == "proposed"


def test_given_unknown_project_when_confirmed_then_failed_with_error_and_audited(world):
    action = _propose(world, project="NOPE")

    with pytest.raises(NotFound):
        world.actions.confirm(action.id, "u1", default_executors(tickets=RecordingTickets()))

    stored = world.store.get(action.id)
    assert stored.status == "failed" and "NOPE" in (stored.error or "")
    failed = world.store.audit("u1")[0]
    assert (failed.event, failed.arguments["project_key"]) == ("failed", "NOPE")


def test_given_audit_entries_when_listed_then_newest_first_per_user_and_limited(world):
    for i in range(5):
        world.store.append_audit(
            AuditEntry(
                at=T0 + timedelta(seconds=i),
                user_id="u1",
                action_id=f"act_{i}",
                kind="create_backlog_issue",
                event="executed",
                arguments={"i": i},
                result={"key": f"APP-{i}"},
            )
        )
    world.store.append_audit(
        AuditEntry(at=T0, user_id="u2", action_id="act_x", kind="k", event="refused")
    )

    entries = world.store.audit("u1", limit=3)

    assert [e.action_id for e in entries] == ["act_4", "act_3", "act_2"]
    assert entries[0].result == {"key": "APP-4"} and entries[0].arguments == {"i": 4}
    assert [e.action_id for e in world.store.audit("u2")] == ["act_x"]
    assert world.store.audit("nobody") == []


def test_given_retention_passed_when_read_then_action_and_audit_gone(world):
    action = _propose(world)
    world.clock.advance(days=RETENTION_DAYS, seconds=1)

    assert world.store.get(action.id) is None
    assert world.store.audit("u1") == []
    with pytest.raises(NotFound):
        world.actions.cancel(action.id, "u1")


def test_given_table_definition_then_fixed_key_schema_and_ttl():
    definition, ttl = TABLES["actions"]

    table = definition("t")

    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert table["BillingMode"] == "PAY_PER_REQUEST" and "GlobalSecondaryIndexes" not in table
    assert ttl == "expires_at"


def test_given_local_profile_when_runtime_builds_actions_then_sqlite_store_in_state_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from kass.settings import load_settings
    from kass.wiring import Runtime

    monkeypatch.setenv("KASS_HOME", str(tmp_path))
    monkeypatch.setenv("KASS_PROFILE", "local")
    runtime = Runtime(load_settings())
    try:
        store = runtime.actions
        flow = Actions(store)
        action = flow.propose("create_backlog_issue", {}, user_id="u1", preview="p")
        assert isinstance(store, SqliteActionStore)
        assert (tmp_path / "state.db").exists()
        assert store.get(action.id) == action
    finally:
        runtime.close()
