"""DynamoDB `ActionStore`: proposed actions and the audit log in one table (pk, sk, TTL).

Items:
- an action: pk `action#<id>`, sk `action`, `status` (the attribute conditional updates test),
  `body` (the action as JSON), `expires_at` (retention, the table's TTL attribute);
- an audit entry: pk `audit#<user_id>`, sk a ULID of its time (newest first by a reverse
  query), `body`, `expires_at`.

The confirmation deadline of a proposal lives in the body and is checked by the use case; TTL only
bounds how long records are kept (DynamoDB deletes expired items lazily, so reads skip them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from kass.adapters.aws.dynamodb import (
    ACTIONS_PARTITION_KEY,
    ACTIONS_SORT_KEY,
    TTL_ATTRIBUTE,
    Item,
    _code,
    _Table,
)
from kass.adapters.records import epoch_seconds
from kass.chat.actions import ActionStatus, AuditEntry, ProposedAction
from kass.ids import new_message_id

Clock = Callable[[], datetime]
ACTION_PREFIX = "action#"
ACTION_SORT_KEY = "action"
AUDIT_PREFIX = "audit#"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DynamoActionStore(_Table):
    def __init__(
        self, table_name: str, *, retention_days: int, client: Any, clock: Clock = _utcnow
    ) -> None:
        super().__init__(table_name, client, clock)
        self.retention = timedelta(days=retention_days)

    def save(self, action: ProposedAction) -> None:
        item: Item = {
            **self._action_key(action.id),
            "user_id": {"S": action.user_id},
            "status": {"S": action.status},
            "body": {"S": action.model_dump_json()},
            TTL_ATTRIBUTE: {"N": str(epoch_seconds(action.created_at + self.retention))},
        }
        with self._errors():
            self._put_sized(
                item,
                f"action {action.id}",
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": ACTIONS_PARTITION_KEY},
            )

    def get(self, action_id: str) -> ProposedAction | None:
        if not 0 < len(action_id.encode("utf-8")) <= 1000:
            return None
        with self._errors():
            response = self.client.get_item(
                TableName=self.table_name, Key=self._action_key(action_id), ConsistentRead=True
            )
        item = response.get("Item")
        if item is None or int(item[TTL_ATTRIBUTE]["N"]) <= self._now():
            return None
        return ProposedAction.model_validate_json(item["body"]["S"])

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
        current = self.get(action_id)
        if current is None or current.status != from_status:
            return False
        body = current.moved(to_status, at, result, error).model_dump_json()
        with self._errors():
            try:
                # The condition is what makes a double confirm execute once: the body read above
                # is replaced only if the status is still the one it was read with.
                self.client.update_item(
                    TableName=self.table_name,
                    Key=self._action_key(action_id),
                    UpdateExpression="SET #s = :to, #b = :b",
                    ConditionExpression="#s = :from",
                    ExpressionAttributeNames={"#s": "status", "#b": "body"},
                    ExpressionAttributeValues={
                        ":to": {"S": to_status},
                        ":from": {"S": from_status},
                        ":b": {"S": body},
                    },
                )
            except ClientError as exc:
                if _code(exc) != "ConditionalCheckFailedException":
                    raise
                return False
        return True

    def append_audit(self, entry: AuditEntry) -> None:
        item: Item = {
            ACTIONS_PARTITION_KEY: {"S": AUDIT_PREFIX + entry.user_id},
            # A ULID of the entry's time: entries of one millisecond still sort as written.
            ACTIONS_SORT_KEY: {"S": new_message_id(entry.at)},
            "body": {"S": entry.model_dump_json()},
            TTL_ATTRIBUTE: {"N": str(epoch_seconds(entry.at + self.retention))},
        }
        with self._errors():
            self._put_sized(item, f"audit entry of {entry.action_id}")

    def audit(self, user_id: str, limit: int = 50) -> list[AuditEntry]:
        if limit <= 0 or not user_id:
            return []
        entries: list[AuditEntry] = []
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "#ttl > :now",
            "ExpressionAttributeNames": {"#pk": ACTIONS_PARTITION_KEY, "#ttl": TTL_ATTRIBUTE},
            "ExpressionAttributeValues": {
                ":pk": {"S": AUDIT_PREFIX + user_id},
                ":now": {"N": str(self._now())},
            },
            "ScanIndexForward": False,
            "Limit": limit,
        }
        with self._errors():
            while len(entries) < limit:
                response = self.client.query(**query)
                entries.extend(
                    AuditEntry.model_validate_json(item["body"]["S"]) for item in response["Items"]
                )
                if "LastEvaluatedKey" not in response:
                    break
                query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return entries[:limit]

    @staticmethod
    def _action_key(action_id: str) -> Item:
        return {
            ACTIONS_PARTITION_KEY: {"S": ACTION_PREFIX + action_id},
            ACTIONS_SORT_KEY: {"S": ACTION_SORT_KEY},
        }
