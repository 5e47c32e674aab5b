"""SQLite `ActionStore`: proposed actions and the audit log, in the local state file (state.db).

Same semantics as the DynamoDB adapter: the status change is one conditional UPDATE (a second
confirm finds the row no longer `proposed`), and rows past their retention are deleted when the
store opens and skipped on read.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kass.adapters.local.state import Clock, SqliteDatabase, _utcnow
from kass.adapters.records import epoch_seconds, sort_time
from kass.chat.actions import ActionStatus, AuditEntry, ProposedAction
from kass.errors import KassError

SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS action_audit (
    user_id TEXT NOT NULL,
    at TEXT NOT NULL,
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS action_audit_by_user ON action_audit (user_id, at);
"""


class SqliteActionStore:
    """A row per action (its JSON body, plus the status column the conditional update tests)."""

    def __init__(self, path: Path, *, retention_days: int, clock: Clock = _utcnow) -> None:
        self._db = SqliteDatabase(path, clock)
        self.retention = timedelta(days=retention_days)
        try:
            with self._db.transaction() as conn:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    conn.execute(statement)
                now = self._db.now()
                conn.execute("DELETE FROM actions WHERE expires_at <= ?", (now,))
                conn.execute("DELETE FROM action_audit WHERE expires_at <= ?", (now,))
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise KassError(f"cannot open the action store in {path}: {exc}") from None

    def save(self, action: ProposedAction) -> None:
        self._db.execute(
            "INSERT INTO actions VALUES (?, ?, ?, ?, ?)",
            (
                action.id,
                action.user_id,
                action.status,
                action.model_dump_json(),
                self._expiry(action.created_at),
            ),
        )

    def get(self, action_id: str) -> ProposedAction | None:
        rows = self._db.rows(
            "SELECT body FROM actions WHERE id = ? AND expires_at > ?",
            (action_id, self._db.now()),
        )
        return ProposedAction.model_validate_json(rows[0]["body"]) if rows else None

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
        with self._db.transaction() as conn:
            rows = conn.execute(
                "SELECT body FROM actions WHERE id = ? AND status = ?", (action_id, from_status)
            ).fetchall()
            if not rows:
                return False
            action = ProposedAction.model_validate_json(rows[0]["body"])
            updated = action.moved(to_status, at, result, error)
            conn.execute(
                "UPDATE actions SET status = ?, body = ? WHERE id = ? AND status = ?",
                (to_status, updated.model_dump_json(), action_id, from_status),
            )
        return True

    def append_audit(self, entry: AuditEntry) -> None:
        self._db.execute(
            "INSERT INTO action_audit (user_id, at, body, expires_at) VALUES (?, ?, ?, ?)",
            (entry.user_id, sort_time(entry.at), entry.model_dump_json(), self._expiry(entry.at)),
        )

    def audit(self, user_id: str, limit: int = 50) -> list[AuditEntry]:
        if limit <= 0:
            return []
        rows = self._db.rows(
            "SELECT body FROM action_audit WHERE user_id = ? AND expires_at > ? "
            "ORDER BY at DESC, seq DESC LIMIT ?",
            (user_id, self._db.now(), limit),
        )
        return [AuditEntry.model_validate_json(row["body"]) for row in rows]

    def _expiry(self, start: datetime) -> int:
        return epoch_seconds(start + self.retention)

    def close(self) -> None:
        self._db.close()
