"""The SQLite idempotency layer, driven through Powertools' real `idempotent_function`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from kass.adapters.local.idempotency import SqlitePersistenceLayer

EXPIRES_AFTER = 60


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class FakeLambdaContext:
    """What the idempotency utility reads of a Lambda context."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Harness:
    """A function made idempotent on `event_id`, counting how often its body runs."""

    def __init__(self, path: Path, clock: FakeClock, payload_validation_jmespath: str = "") -> None:
        self.layer = SqlitePersistenceLayer(path, clock=clock)
        self.config = IdempotencyConfig(
            event_key_jmespath="event_id",
            expires_after_seconds=EXPIRES_AFTER,
            payload_validation_jmespath=payload_validation_jmespath,
        )
        self.config.register_lambda_context(cast(Any, FakeLambdaContext(remaining_ms=30_000)))
        self.runs: list[dict] = []

        @idempotent_function(
            data_keyword_argument="event", persistence_store=self.layer, config=self.config
        )
        def process(event: dict) -> dict:
            self.runs.append(event)
            if event.get("fail"):
                raise RuntimeError("boom")
            return {"processed": event["event_id"], "run": len(self.runs)}

        self.process = process

    def other_invocation(self) -> SqlitePersistenceLayer:
        """Another container's layer on the same file, keyed like this function."""
        layer = SqlitePersistenceLayer(self.layer._db.path, clock=self.layer._db.clock)
        body = self.process.__wrapped__  # type: ignore[attr-defined]
        layer.configure(self.config, function_name=f"{body.__module__}.{body.__qualname__}")
        return layer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def harness(tmp_path: Path, clock: FakeClock) -> Harness:
    return Harness(tmp_path / "state.db", clock)


def test_given_the_same_event_twice_when_processed_then_the_body_runs_once(harness):
    first = harness.process(event={"event_id": "e1"})

    second = harness.process(event={"event_id": "e1"})

    assert second == first == {"processed": "e1", "run": 1}
    assert len(harness.runs) == 1


def test_given_a_different_event_when_processed_then_the_body_runs_again(harness):
    harness.process(event={"event_id": "e1"})

    result = harness.process(event={"event_id": "e2"})

    assert result == {"processed": "e2", "run": 2}


def test_given_an_expired_record_when_processed_again_then_the_body_runs_again(harness, clock):
    harness.process(event={"event_id": "e1"})
    clock.now += timedelta(seconds=EXPIRES_AFTER + 30)  # margin: Powertools stamps real time

    result = harness.process(event={"event_id": "e1"})

    assert result == {"processed": "e1", "run": 2}


def test_given_a_failed_run_when_retried_then_the_body_runs_again(harness):
    with pytest.raises(RuntimeError, match="boom"):
        harness.process(event={"event_id": "e1", "fail": True})

    with pytest.raises(RuntimeError, match="boom"):
        harness.process(event={"event_id": "e1", "fail": True})

    assert len(harness.runs) == 2


def test_given_a_run_in_progress_elsewhere_when_the_same_event_comes_then_it_is_refused(
    harness,
):
    harness.other_invocation().save_inprogress(
        data={"event_id": "e1"}, remaining_time_in_millis=30_000
    )

    with pytest.raises(IdempotencyAlreadyInProgressError):
        harness.process(event={"event_id": "e1"})

    assert harness.runs == []


def test_given_a_run_in_progress_past_its_lambda_timeout_when_retried_then_the_body_runs(
    harness, clock
):
    other = harness.other_invocation()
    other.save_inprogress(data={"event_id": "e1"}, remaining_time_in_millis=1_000)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        harness.process(event={"event_id": "e1"})
    # The first invocation timed out without cleaning up; its record itself has not expired.
    clock.now += timedelta(seconds=30)

    result = harness.process(event={"event_id": "e1"})

    assert result == {"processed": "e1", "run": 1}


def test_given_a_completed_record_when_a_new_layer_opens_the_file_then_it_is_replayed(
    tmp_path, clock
):
    first = Harness(tmp_path / "state.db", clock)
    first.process(event={"event_id": "e1"})

    second = Harness(tmp_path / "state.db", clock)
    result = second.process(event={"event_id": "e1"})

    assert result == {"processed": "e1", "run": 1}
    assert second.runs == []


def test_given_payload_validation_when_the_payload_changes_then_a_validation_error(tmp_path, clock):
    harness = Harness(tmp_path / "state.db", clock, payload_validation_jmespath="body")
    harness.process(event={"event_id": "e1", "body": "a"})

    with pytest.raises(IdempotencyValidationError):
        harness.process(event={"event_id": "e1", "body": "b"})

    assert len(harness.runs) == 1
