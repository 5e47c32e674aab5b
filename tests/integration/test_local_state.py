"""What only the SQLite state stores have: the shared file, processes, and the migration reads.

Their behaviour as ports is tested with DynamoDB's, in test_dynamodb_stores.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kass.adapters.local.state import (
    SqliteCheckpointStore,
    SqliteConversationStore,
    SqliteResponseCache,
)
from kass.errors import InvalidInput, KassError
from kass.ids import new_message_id
from kass.models import Answer, Message

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(moment: datetime):
    return lambda: moment


def message(conversation_id: str, text: str, moment: datetime) -> Message:
    return Message(
        id=new_message_id(moment),
        conversation_id=conversation_id,
        user_id="u1",
        role="user",
        text=text,
        created_at=moment,
    )


def test_given_a_missing_folder_when_a_store_opens_then_it_creates_the_file_in_wal_mode(tmp_path):
    db = tmp_path / "new" / "home" / "state.db"

    SqliteCheckpointStore(db).close()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"messages", "conversations", "response_cache", "checkpoints", "idempotency"} <= tables


def test_given_three_stores_on_one_file_when_reopened_then_everything_is_there(tmp_path):
    db = tmp_path / "state.db"
    clock = at(T0)
    conversations = SqliteConversationStore(db, ttl_days=30, clock=clock)
    cache = SqliteResponseCache(db, clock=clock)
    checkpoints = SqliteCheckpointStore(db, clock=clock)
    stored = message("c1", "hello", T0)
    conversations.append(stored)
    cache.put("k", Answer(question="q", text="a", tier="extractive"), ttl_seconds=60)
    checkpoints.save("gitlab", {"page": 3})
    checkpoints.increment("index-version")
    for store in (conversations, cache, checkpoints):
        store.close()

    assert SqliteConversationStore(db, ttl_days=30, clock=clock).messages("c1") == [stored]
    assert SqliteResponseCache(db, clock=clock).get("k").text == "a"
    reopened = SqliteCheckpointStore(db, clock=clock)
    assert reopened.load("gitlab") == {"page": 3}
    assert reopened.counter("index-version") == 1


def test_given_increments_from_several_processes_when_counted_then_no_bump_is_lost(tmp_path):
    db = tmp_path / "state.db"
    SqliteCheckpointStore(db).close()
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from kass.adapters.local.state import SqliteCheckpointStore
        store = SqliteCheckpointStore(Path({str(db)!r}))
        for _ in range(40):
            store.increment("index-version")
        """
    )

    workers = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]

    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]
    assert SqliteCheckpointStore(db).counter("index-version") == 120


def test_given_many_conversations_when_all_messages_listed_then_each_once_in_order(tmp_path):
    store = SqliteConversationStore(tmp_path / "state.db", ttl_days=30, clock=at(T0))
    written = []
    for n in range(1100):  # more than one page of the keyset walk
        moment = T0 + timedelta(seconds=n)
        written.append(message(f"c{n % 7}", f"m{n}", moment))
    for item in written:
        store.append(item)
    store.append(message("old", "expired", T0 - timedelta(days=31)))

    listed = list(store.all_messages())

    assert listed == sorted(written, key=lambda m: (m.conversation_id, m.id))


def test_given_states_and_counters_when_listed_for_migration_then_each_by_name(tmp_path):
    store = SqliteCheckpointStore(tmp_path / "state.db")
    store.save("slack", {"cursor": "b"})
    store.save("backlog", {"since": "2025-03-01"})
    store.increment("index-version")
    store.increment("index-version")
    store.increment("slack")

    assert list(store.all_states()) == [
        ("backlog", {"since": "2025-03-01"}),
        ("slack", {"cursor": "b"}),
    ]
    assert list(store.all_counters()) == [("index-version", 2), ("slack", 1)]


def test_given_expired_rows_when_a_store_opens_then_they_are_purged(tmp_path):
    db = tmp_path / "state.db"
    SqliteConversationStore(db, ttl_days=1, clock=at(T0)).append(message("c1", "x", T0))
    SqliteResponseCache(db, clock=at(T0)).put(
        "k", Answer(question="q", text="a", tier="extractive"), ttl_seconds=60
    )

    later = at(T0 + timedelta(days=2))
    SqliteConversationStore(db, ttl_days=1, clock=later)
    SqliteResponseCache(db, clock=later)

    with sqlite3.connect(db) as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("messages", "conversations", "response_cache")
        ]
    assert counts == [0, 0, 0]


def test_given_a_file_that_is_not_a_database_when_opened_then_a_one_line_error_naming_it(
    tmp_path: Path,
):
    db = tmp_path / "state.db"
    db.write_bytes(b"this is not sqlite" * 100)

    with pytest.raises(KassError, match="state.db") as caught:
        SqliteCheckpointStore(db)

    assert "\n" not in str(caught.value)
    assert db.read_bytes() == b"this is not sqlite" * 100


def test_given_a_hand_broken_checkpoint_when_loaded_then_invalid_input_naming_it(tmp_path):
    db = tmp_path / "state.db"
    store = SqliteCheckpointStore(db)
    store.save("gitlab", {"page": 1})
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE checkpoints SET state = '[1, 2' WHERE name = 'gitlab'")

    with pytest.raises(InvalidInput, match="'gitlab'"):
        store.load("gitlab")


def test_given_a_cached_answer_of_an_older_model_when_read_then_a_miss(tmp_path):
    db = tmp_path / "state.db"
    cache = SqliteResponseCache(db, clock=at(T0))
    cache.put("k", Answer(question="q", text="a", tier="extractive"), ttl_seconds=60)
    with sqlite3.connect(db) as conn:
        conn.execute("""UPDATE response_cache SET answer = '{"text": "no tier"}'""")

    assert cache.get("k") is None
