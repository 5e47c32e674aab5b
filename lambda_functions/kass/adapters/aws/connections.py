"""DynamoDB `ConnectionStore`: one item per open WebSocket connection.

Item: `connection_id` (partition key), `user_id`, `connected_at` (ISO time), `expires_at`
(epoch seconds, the table's TTL attribute): API Gateway closes every connection after 2 hours,
so an item whose `$disconnect` never ran (a crashed invocation) is not kept, and reads skip it
before DynamoDB's lazy TTL sweep removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kass.adapters.aws.dynamodb import CONNECTIONS_KEY, TTL_ATTRIBUTE, Item, _Table
from kass.adapters.records import connection_expiry, require_key
from kass.ports import StreamConnection

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DynamoConnectionStore(_Table):
    def __init__(self, table_name: str, *, client: Any, clock: Clock = _utcnow) -> None:
        super().__init__(table_name, client, clock)

    def put(self, connection: StreamConnection) -> None:
        require_key(connection.connection_id, "connection id")
        item: Item = {
            CONNECTIONS_KEY: {"S": connection.connection_id},
            "user_id": {"S": connection.user_id},
            "connected_at": {"S": connection.connected_at.isoformat()},
            TTL_ATTRIBUTE: {"N": str(connection_expiry(connection.connected_at))},
        }
        with self._errors():
            self.client.put_item(TableName=self.table_name, Item=item)

    def get(self, connection_id: str) -> StreamConnection | None:
        if not connection_id:
            return None
        with self._errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={CONNECTIONS_KEY: {"S": connection_id}},
                ConsistentRead=True,  # a message may follow its $connect within milliseconds
            )
        item = response.get("Item")
        if item is None or int(item[TTL_ATTRIBUTE]["N"]) <= self._now():
            return None
        return StreamConnection(
            connection_id=connection_id,
            user_id=item["user_id"]["S"],
            connected_at=datetime.fromisoformat(item["connected_at"]["S"]),
        )

    def delete(self, connection_id: str) -> None:
        if not connection_id:
            return
        with self._errors():
            self.client.delete_item(
                TableName=self.table_name, Key={CONNECTIONS_KEY: {"S": connection_id}}
            )
