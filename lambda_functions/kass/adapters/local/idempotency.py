"""Powertools idempotency records in the local state database (the `idempotency` table).

Semantics follow Powertools' DynamoDBPersistenceLayer: a record may be (re)written only when
none exists, it has expired, or it is INPROGRESS past its in-progress expiry; otherwise
`_put_record` raises IdempotencyItemAlreadyExistsError carrying the record that is there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (
    STATUS_CONSTANTS,
    DataRecord,
)

from kass.adapters.local.state import Clock, SqliteDatabase


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqlitePersistenceLayer(BasePersistenceLayer):
    def __init__(self, path: Path, *, clock: Clock = _utcnow) -> None:
        super().__init__()
        self._db = SqliteDatabase(path, clock)
        # What DynamoDB's TTL sweeper does, done when the layer opens.
        self._db.execute("DELETE FROM idempotency WHERE expiration < ?", (self._db.now(),))

    def _get_record(self, idempotency_key: str) -> DataRecord:
        rows = self._db.rows("SELECT * FROM idempotency WHERE id = ?", (idempotency_key,))
        if not rows:
            raise IdempotencyItemNotFoundError
        row = rows[0]
        return DataRecord(
            idempotency_key=row["id"],
            status=row["status"],
            expiry_timestamp=row["expiration"],
            in_progress_expiry_timestamp=row["in_progress_expiration"],
            response_data=row["data"] or "",
            payload_hash=row["validation"] or "",
        )

    def _put_record(self, data_record: DataRecord) -> None:
        now = self._db.clock().timestamp()
        validation = data_record.payload_hash if self.payload_validation_enabled else None
        # One conditional upsert, like DynamoDB's conditional PutItem: atomic across threads
        # and processes. RETURNING yields a row only when the write happened.
        written = self._db.rows(
            "INSERT INTO idempotency VALUES (:id, :status, :expiry, :in_progress, NULL, :hash) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
            "expiration = excluded.expiration, "
            "in_progress_expiration = excluded.in_progress_expiration, "
            "data = NULL, validation = excluded.validation "
            "WHERE idempotency.expiration < :now OR (idempotency.status = :inprogress "
            "AND idempotency.in_progress_expiration IS NOT NULL "
            "AND idempotency.in_progress_expiration < :now_ms) "
            "RETURNING id",
            {
                "id": data_record.idempotency_key,
                "status": data_record.status,
                "expiry": data_record.expiry_timestamp,
                "in_progress": data_record.in_progress_expiry_timestamp,
                "hash": validation or None,
                "now": int(now),
                "now_ms": int(now * 1000),
                "inprogress": STATUS_CONSTANTS["INPROGRESS"],
            },
        )
        if written:
            return
        try:
            existing = self._get_record(data_record.idempotency_key)
        except IdempotencyItemNotFoundError:
            raise IdempotencyItemAlreadyExistsError() from None  # deleted in between
        # As DynamoDB's ReturnValuesOnConditionCheckFailure path: check the payload, cache it.
        self._validate_payload(data_payload=data_record, stored_data_record=existing)
        self._save_to_cache(data_record=existing)
        raise IdempotencyItemAlreadyExistsError(old_data_record=existing)

    def _update_record(self, data_record: DataRecord) -> None:
        # UpdateItem creates a missing item; so does this upsert.
        validation = data_record.payload_hash if self.payload_validation_enabled else None
        self._db.execute(
            "INSERT INTO idempotency (id, status, expiration, data, validation) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
            "expiration = excluded.expiration, data = excluded.data, "
            "validation = COALESCE(excluded.validation, idempotency.validation)",
            (
                data_record.idempotency_key,
                data_record.status,
                data_record.expiry_timestamp,
                data_record.response_data,
                validation,
            ),
        )

    def _delete_record(self, data_record: DataRecord) -> None:
        self._db.execute("DELETE FROM idempotency WHERE id = ?", (data_record.idempotency_key,))

    def close(self) -> None:
        self._db.close()
