"""The data fetcher handler on the local profile, with a scripted connector under the contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from connector_contract import (
    check_full_load,
    check_incremental_after_edit,
    check_resume_from_every_checkpoint,
)
from lambda_harness import context, load_event, load_handler
from scripted_connector import ScriptedSource

from kass import connectors
from kass.raw_keys import doc_key

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture()
def source(monkeypatch) -> ScriptedSource:
    scripted = ScriptedSource()
    monkeypatch.setitem(connectors.CONNECTORS, "scripted", lambda settings: scripted)
    return scripted


@pytest.fixture()
def handler(tmp_path, monkeypatch, source):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KASS_HOME", str(tmp_path))
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "data_fetcher")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "kass-test")
    module = load_handler("data_fetcher")
    yield module
    module.runtime.close()


def run(handler, event, timeout_ms=900_000):
    return handler.lambda_handler(event, context("data_fetcher", timeout_ms=timeout_ms))


def raw_ids(handler) -> list[str]:
    return sorted(
        k.rsplit("/", 1)[1].removesuffix(".json")
        for k in handler.runtime.raw_store.keys("scripted")
    )


def test_the_scripted_connector_keeps_the_contract():
    check_full_load(ScriptedSource())
    check_resume_from_every_checkpoint(ScriptedSource)
    scripted = ScriptedSource()
    check_incremental_after_edit(scripted, lambda: scripted.edit("item-3", "edited"))


def test_given_a_schedule_when_run_twice_then_full_load_then_only_changes(handler, source):
    first = run(handler, {"connector": "scripted"})
    source.edit("item-2", "item 2, edited")
    second = run(handler, {"connector": "scripted"})

    assert first["complete"] and first["documents_written"] == 7 and first["batches"] == 4
    assert second["complete"] and second["documents_written"] == 1
    assert raw_ids(handler) == sorted(source.items)
    stored = handler.runtime.raw_store.get(doc_key("scripted", "item-2"))
    assert stored is not None and stored.text == "item 2, edited"


def test_given_little_time_left_when_running_then_stops_with_checkpoint_and_resumes(
    handler, source
):
    partial = run(handler, {"connector": "scripted"}, timeout_ms=30_000)  # < the 60 s reserve

    assert partial["complete"] is False and partial["batches"] == 1
    resumed = run(handler, {"connector": "scripted"})
    assert resumed["complete"] is True and resumed["documents_written"] == 5
    assert raw_ids(handler) == sorted(source.items)


def test_given_items_deleted_at_the_source_when_run_then_raw_documents_deleted(handler, source):
    run(handler, {"connector": "scripted"})
    del source.items["item-4"]

    report = run(handler, {"connector": "scripted"})

    assert report["deleted"] == 1
    assert "item-4" not in raw_ids(handler)


def test_given_full_flag_when_run_then_checkpoint_ignored(handler, source):
    run(handler, {"connector": "scripted"})

    report = run(handler, {"connector": "scripted", "full": True})

    assert report["documents_written"] == 7


@pytest.mark.parametrize(
    "event",
    [load_event("schedule_gitlab.json"), {"connector": ""}, {"connectr": "x"}, {}],
)
def test_given_bad_schedule_input_when_run_then_error_reported_and_nothing_written(handler, event):
    report = run(handler, event)

    assert report["error"] == "invalid_input" and report["message"]
    assert raw_ids(handler) == []
