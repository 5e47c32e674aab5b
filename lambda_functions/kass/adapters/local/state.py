"""SQLite adapters of the state ports: conversations, response cache, checkpoints, connections.

All of them (and the idempotency records, `kass.adapters.local.idempotency`) share one file,
`settings.state_db`, with the same items and semantics as the DynamoDB tables: TTL honoured on
read, idempotent append, atomic increment. WAL mode lets readers run beside one writer; each
store holds one connection guarded by a lock (`kass serve` calls handlers from threads), and
separate processes wait on SQLite's busy timeout.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kass.adapters.records import (
    check_message_keys,
    citations_json,
    connection_expiry,
    conversation_title,
    dump_state,
    epoch_seconds,
    ledger_fields,
    ledger_json,
    parse_state,
    require_key,
    sort_time,
)
from kass.errors import KassError
from kass.models import Answer, ConversationSummary, Message
from kass.ports import StreamConnection

Clock = Callable[[], datetime]
Params = tuple[Any, ...] | dict[str, Any]
BUSY_TIMEOUT_SECONDS = 30.0
_PAGE = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    citations TEXT NOT NULL,
    tier TEXT,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    ledger TEXT,
    PRIMARY KEY (conversation_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    title TEXT,
    updated_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner_id, updated_at);
CREATE TABLE IF NOT EXISTS response_cache (
    cache_key TEXT PRIMARY KEY,
    answer TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    name TEXT PRIMARY KEY,
    state TEXT,
    counter INTEGER,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS connections (
    connection_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    connected_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expiration INTEGER NOT NULL,
    in_progress_expiration INTEGER,
    data TEXT,
    validation TEXT
);
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqliteDatabase:
    """One connection to the shared state file; every statement runs under the lock."""

    def __init__(self, path: Path, clock: Clock = _utcnow) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit (isolation_level=None): transactions are the explicit BEGIN IMMEDIATE
            # of `transaction`, which takes the write lock up front instead of upgrading later.
            self._conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except (sqlite3.DatabaseError, OSError) as exc:
            raise KassError(f"cannot open the state database {path}: {exc}") from None
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints in WAL
            self._conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise KassError(f"cannot open the state database {path}: {exc}") from None

    def now(self) -> int:
        return epoch_seconds(self.clock())

    def rows(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SqliteConversationStore:
    """Messages one row each, plus a conversations row (owner, title, last activity)."""

    def __init__(self, path: Path, *, ttl_days: int, clock: Clock = _utcnow) -> None:
        self._db = SqliteDatabase(path, clock)
        self.ttl = timedelta(days=ttl_days)
        # What DynamoDB's TTL sweeper does, done when the store opens.
        with self._db.transaction() as conn:
            columns = {row["name"] for row in conn.execute("PRAGMA table_info(messages)")}
            if "ledger" not in columns:  # a state.db from before the cost ledger
                conn.execute("ALTER TABLE messages ADD COLUMN ledger TEXT")
            now = self._db.now()
            conn.execute("DELETE FROM messages WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM conversations WHERE expires_at <= ?", (now,))

    def append(self, message: Message) -> None:
        self.put_message(message)

    def put_message(self, message: Message) -> bool:
        """Store `message` unless its id is already there; True when it was written."""
        check_message_keys(message)
        expires_at = epoch_seconds(message.created_at + self.ttl)  # as DynamoDB: from created_at
        updated_at = sort_time(message.created_at)
        title = conversation_title(message.text) if message.role == "user" else None
        with self._db.transaction() as conn:
            written = conn.execute(
                "INSERT INTO messages (conversation_id, id, user_id, role, text, citations, tier, "
                "created_at, expires_at, ledger) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (
                    message.conversation_id,
                    message.id,
                    message.user_id,
                    message.role,
                    message.text,
                    citations_json(message),
                    message.tier,
                    updated_at,
                    expires_at,
                    ledger_json(message),
                ),
            ).rowcount
            # Same rules as the DynamoDB meta item: the first owner and user question stay,
            # and an older message never moves the activity time back.
            conn.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (conversation_id) DO UPDATE SET "
                "updated_at = excluded.updated_at, expires_at = excluded.expires_at, "
                "title = COALESCE(conversations.title, excluded.title) "
                "WHERE excluded.updated_at >= conversations.updated_at",
                (message.conversation_id, message.user_id, title, updated_at, expires_at),
            )
        return written == 1

    def has_message(self, conversation_id: str, message_id: str) -> bool:
        return bool(
            self._db.rows(
                "SELECT 1 FROM messages WHERE conversation_id = ? AND id = ?",
                (conversation_id, message_id),
            )
        )

    def messages(self, conversation_id: str, limit: int = 50) -> list[Message]:
        if limit <= 0:
            return []
        rows = self._db.rows(
            "SELECT * FROM messages WHERE conversation_id = ? AND expires_at > ? "
            "ORDER BY id DESC LIMIT ?",
            (conversation_id, self._db.now(), limit),
        )
        return [_message(row) for row in reversed(rows)]

    def conversations(self, user_id: str, limit: int = 50) -> list[ConversationSummary]:
        if limit <= 0:
            return []
        rows = self._db.rows(
            "SELECT * FROM conversations WHERE owner_id = ? AND expires_at > ? "
            "ORDER BY updated_at DESC, conversation_id DESC LIMIT ?",
            (user_id, self._db.now(), limit),
        )
        return [
            ConversationSummary(
                conversation_id=row["conversation_id"],
                user_id=row["owner_id"],
                title=row["title"] or "",
                updated_at=datetime.fromisoformat(row["updated_at"]),
            )
            for row in rows
        ]

    def all_messages(self) -> Iterator[Message]:
        """Every unexpired message, by conversation then time (for `kass migrate`)."""
        after = ("", "")
        now = self._db.now()
        while True:
            rows = self._db.rows(
                "SELECT * FROM messages WHERE (conversation_id, id) > (?, ?) AND expires_at > ? "
                "ORDER BY conversation_id, id LIMIT ?",
                (*after, now, _PAGE),
            )
            yield from (_message(row) for row in rows)
            if len(rows) < _PAGE:
                return
            after = (rows[-1]["conversation_id"], rows[-1]["id"])

    def close(self) -> None:
        self._db.close()


class SqliteResponseCache:
    def __init__(self, path: Path, *, clock: Clock = _utcnow) -> None:
        self._db = SqliteDatabase(path, clock)
        self._db.execute("DELETE FROM response_cache WHERE expires_at <= ?", (self._db.now(),))

    def get(self, key: str) -> Answer | None:
        require_key(key, "cache key")
        rows = self._db.rows(
            "SELECT answer FROM response_cache WHERE cache_key = ? AND expires_at > ?",
            (key, self._db.now()),
        )
        if not rows:
            return None
        try:
            return Answer.model_validate_json(rows[0]["answer"])
        except ValidationError:
            return None  # written by an older Answer model: a miss, not an error

    def put(self, key: str, answer: Answer, ttl_seconds: int) -> None:
        require_key(key, "cache key")
        if ttl_seconds <= 0:
            return
        self._db.execute(
            "INSERT OR REPLACE INTO response_cache VALUES (?, ?, ?)",
            (key, answer.model_dump_json(), self._db.now() + ttl_seconds),
        )

    def close(self) -> None:
        self._db.close()


class SqliteCheckpointStore:
    """JSON states and atomic counters, a row per name (like the DynamoDB items)."""

    def __init__(self, path: Path, *, clock: Clock = _utcnow) -> None:
        self._db = SqliteDatabase(path, clock)

    def load(self, name: str) -> dict[str, Any] | None:
        require_key(name, "checkpoint name")
        rows = self._db.rows("SELECT state FROM checkpoints WHERE name = ?", (name,))
        if not rows or rows[0]["state"] is None:
            return None
        return parse_state(name, rows[0]["state"])

    def save(self, name: str, state: Mapping[str, Any]) -> None:
        require_key(name, "checkpoint name")
        self._db.execute(
            "INSERT INTO checkpoints (name, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (name, dump_state(name, state), sort_time(self._db.clock())),
        )

    def counter(self, name: str) -> int:
        require_key(name, "counter name")
        rows = self._db.rows("SELECT counter FROM checkpoints WHERE name = ?", (name,))
        return int(rows[0]["counter"] or 0) if rows else 0

    def increment(self, name: str) -> int:
        require_key(name, "counter name")
        # One statement: SQLite applies it under its write lock, so bumps from other threads
        # and processes are never lost.
        rows = self._db.rows(
            "INSERT INTO checkpoints (name, counter) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET counter = COALESCE(counter, 0) + 1 "
            "RETURNING counter",
            (name,),
        )
        return int(rows[0]["counter"])

    def all_states(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(name, state) of every saved checkpoint, by name (for `kass migrate`)."""
        rows = self._db.rows(
            "SELECT name, state FROM checkpoints WHERE state IS NOT NULL ORDER BY name"
        )
        for row in rows:
            yield row["name"], parse_state(row["name"], row["state"])

    def all_counters(self) -> Iterator[tuple[str, int]]:
        """(name, value) of every counter, by name (for `kass migrate`)."""
        rows = self._db.rows(
            "SELECT name, counter FROM checkpoints WHERE counter IS NOT NULL ORDER BY name"
        )
        for row in rows:
            yield row["name"], int(row["counter"])

    def close(self) -> None:
        self._db.close()


class SqliteConnectionStore:
    """Open WebSocket connections of `kass serve`, a row each (like the DynamoDB items)."""

    def __init__(self, path: Path, *, clock: Clock = _utcnow) -> None:
        self._db = SqliteDatabase(path, clock)
        self._db.execute("DELETE FROM connections WHERE expires_at <= ?", (self._db.now(),))

    def put(self, connection: StreamConnection) -> None:
        require_key(connection.connection_id, "connection id")
        self._db.execute(
            "INSERT OR REPLACE INTO connections VALUES (?, ?, ?, ?)",
            (
                connection.connection_id,
                connection.user_id,
                connection.connected_at.isoformat(),
                connection_expiry(connection.connected_at),
            ),
        )

    def get(self, connection_id: str) -> StreamConnection | None:
        rows = self._db.rows(
            "SELECT * FROM connections WHERE connection_id = ? AND expires_at > ?",
            (connection_id, self._db.now()),
        )
        if not rows:
            return None
        return StreamConnection(
            connection_id=rows[0]["connection_id"],
            user_id=rows[0]["user_id"],
            connected_at=datetime.fromisoformat(rows[0]["connected_at"]),
        )

    def delete(self, connection_id: str) -> None:
        self._db.execute("DELETE FROM connections WHERE connection_id = ?", (connection_id,))

    def close(self) -> None:
        self._db.close()


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        user_id=row["user_id"],
        role=row["role"],
        text=row["text"],
        citations=json.loads(row["citations"]),
        tier=row["tier"],
        created_at=datetime.fromisoformat(row["created_at"]),
        **ledger_fields(row["ledger"]),
    )
