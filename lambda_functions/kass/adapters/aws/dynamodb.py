"""DynamoDB adapters of the state ports: conversations, response cache, checkpoints.

Low-level boto3 client, one small item per message. TTL deletion is lazy (DynamoDB removes
expired items within days), so every read also skips items whose `expires_at` has passed.

The `*_table_definition()` functions are the tables' single description: tests create tables
from them, and the Terraform module mirrors them (names below are shared constants).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, NoCredentialsError
from pydantic import ValidationError

from kass.adapters.records import (
    check_message_keys,
    citations_json,
    conversation_title,
    dump_state,
    epoch_seconds,
    ledger_fields,
    ledger_json,
    parse_state,
    require_key,
    sort_time,
)
from kass.errors import InvalidInput, KassError
from kass.models import Answer, ConversationSummary, Message

Clock = Callable[[], datetime]
Item = dict[str, dict[str, Any]]

TTL_ATTRIBUTE = "expires_at"  # TTL attribute of the conversations and cache tables
MAX_ITEM_BYTES = 400_000  # "400 KB" read decimally: below the real limit (about 409 600)

CONVERSATIONS_PARTITION_KEY = "conversation_id"
CONVERSATIONS_SORT_KEY = "sk"
MESSAGE_PREFIX = "msg#"
META_SORT_KEY = "meta"
OWNER_INDEX = "by-owner"
OWNER_INDEX_PARTITION_KEY = "owner_id"
OWNER_INDEX_SORT_KEY = "updated_at"

CACHE_KEY = "cache_key"
CHECKPOINTS_KEY = "name"
# Powertools' DynamoDBPersistenceLayer defaults (key "id", TTL attribute "expiration").
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
ACTIONS_PARTITION_KEY = "pk"
ACTIONS_SORT_KEY = "sk"
CONNECTIONS_KEY = "connection_id"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _string_keys(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": "S"} for name in names]


def conversation_table_definition(table_name: str) -> dict[str, Any]:
    """`create_table` arguments: messages and a sparse meta item per conversation, GSI by owner."""
    return {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": CONVERSATIONS_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": CONVERSATIONS_SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": _string_keys(
            CONVERSATIONS_PARTITION_KEY,
            CONVERSATIONS_SORT_KEY,
            OWNER_INDEX_PARTITION_KEY,
            OWNER_INDEX_SORT_KEY,
        ),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": OWNER_INDEX,
                "KeySchema": [
                    {"AttributeName": OWNER_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": OWNER_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["title", TTL_ATTRIBUTE],
                },
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def cache_table_definition(table_name: str) -> dict[str, Any]:
    return _single_key_table(table_name, CACHE_KEY)


def checkpoint_table_definition(table_name: str) -> dict[str, Any]:
    return _single_key_table(table_name, CHECKPOINTS_KEY)


def idempotency_table_definition(table_name: str) -> dict[str, Any]:
    """The table Powertools' DynamoDBPersistenceLayer expects with its default attributes."""
    return _single_key_table(table_name, IDEMPOTENCY_KEY)


def actions_table_definition(table_name: str) -> dict[str, Any]:
    """Proposed actions (`action#<id>`) and audit entries (`audit#<user>`), see
    `kass.adapters.aws.actions`; items expire through the TTL attribute."""
    return {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": ACTIONS_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": ACTIONS_SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": _string_keys(ACTIONS_PARTITION_KEY, ACTIONS_SORT_KEY),
        "BillingMode": "PAY_PER_REQUEST",
    }


def connections_table_definition(table_name: str) -> dict[str, Any]:
    """Open WebSocket connections (`kass.adapters.aws.connections`); items expire by TTL."""
    return _single_key_table(table_name, CONNECTIONS_KEY)


def _single_key_table(table_name: str, key: str) -> dict[str, Any]:
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "AttributeDefinitions": _string_keys(key),
        "BillingMode": "PAY_PER_REQUEST",
    }


# Table kind (as in AwsSettings.<kind>_table) -> (definition, TTL attribute or None).
TABLES: dict[str, tuple[Callable[[str], dict[str, Any]], str | None]] = {
    "conversations": (conversation_table_definition, TTL_ATTRIBUTE),
    "cache": (cache_table_definition, TTL_ATTRIBUTE),
    "checkpoints": (checkpoint_table_definition, None),
    "idempotency": (idempotency_table_definition, IDEMPOTENCY_TTL_ATTRIBUTE),
    "actions": (actions_table_definition, TTL_ATTRIBUTE),
    "connections": (connections_table_definition, TTL_ATTRIBUTE),
}


class _Table:
    """A table name and client, with the errors every store maps alike."""

    def __init__(self, table_name: str, client: Any, clock: Clock) -> None:
        self.table_name = table_name
        self.client = client
        self.clock = clock

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                raise KassError(
                    f"DynamoDB table {self.table_name!r} does not exist "
                    "(check KASS_AWS_REGION and the KASS_AWS_*_TABLE settings)"
                ) from None
            raise
        except NoCredentialsError:
            raise KassError("no AWS credentials found for DynamoDB") from None

    def _now(self) -> int:
        return epoch_seconds(self.clock())

    def _put_sized(self, item: Item, what: str, **kwargs: Any) -> None:
        size = item_size(item)
        if size > MAX_ITEM_BYTES:
            raise InvalidInput(
                f"{what} is too large to store: {size} bytes, DynamoDB holds {MAX_ITEM_BYTES}"
            )
        self.client.put_item(TableName=self.table_name, Item=item, **kwargs)


class DynamoConversationStore(_Table):
    """One item per message (sk `msg#<id>`) plus a `meta` item that alone carries `owner_id`."""

    def __init__(
        self, table_name: str, *, ttl_days: int, client: Any, clock: Clock = _utcnow
    ) -> None:
        super().__init__(table_name, client, clock)
        self.ttl = timedelta(days=ttl_days)

    def append(self, message: Message) -> None:
        self.put_message(message)

    def put_message(self, message: Message) -> bool:
        """Store `message` unless its id is already there; True when it was written."""
        check_message_keys(message)
        # Expiry counts from created_at, not from now: a replayed or migrated message keeps
        # its original lifetime, and writing it again changes nothing.
        expires_at = epoch_seconds(message.created_at + self.ttl)
        item: Item = {
            CONVERSATIONS_PARTITION_KEY: {"S": message.conversation_id},
            CONVERSATIONS_SORT_KEY: {"S": MESSAGE_PREFIX + message.id},
            "user_id": {"S": message.user_id},
            "role": {"S": message.role},
            "text": {"S": message.text},
            "citations": {"S": citations_json(message)},
            "created_at": {"S": sort_time(message.created_at)},
            TTL_ATTRIBUTE: {"N": str(expires_at)},
        }
        if message.tier is not None:
            item["tier"] = {"S": message.tier}
        ledger = ledger_json(message)
        if ledger is not None:
            item["ledger"] = {"S": ledger}
        written = True
        with self._errors():
            try:
                self._put_sized(
                    item,
                    f"message {message.id}",
                    ConditionExpression="attribute_not_exists(#sk)",
                    ExpressionAttributeNames={"#sk": CONVERSATIONS_SORT_KEY},
                )
            except ClientError as exc:
                if _code(exc) != "ConditionalCheckFailedException":
                    raise
                written = False
            # Also after a duplicate: a run that died between the two writes is completed here.
            self._touch_meta(message, expires_at)
        return written

    def _touch_meta(self, message: Message, expires_at: int) -> None:
        names = {"#o": "owner_id", "#u": OWNER_INDEX_SORT_KEY, "#e": TTL_ATTRIBUTE}
        values: Item = {
            ":o": {"S": message.user_id},
            ":u": {"S": sort_time(message.created_at)},
            ":e": {"N": str(expires_at)},
        }
        update = "SET #o = if_not_exists(#o, :o), #u = :u, #e = :e"
        if message.role == "user":
            names["#t"] = "title"
            values[":t"] = {"S": conversation_title(message.text)}
            update += ", #t = if_not_exists(#t, :t)"
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(message.conversation_id, META_SORT_KEY),
                UpdateExpression=update,
                # An older message (replayed, migrated late) must not move the activity back.
                ConditionExpression="attribute_not_exists(#u) OR #u <= :u",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise

    def has_message(self, conversation_id: str, message_id: str) -> bool:
        with self._errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key=self._key(conversation_id, MESSAGE_PREFIX + message_id),
                ProjectionExpression="#sk",
                ExpressionAttributeNames={"#sk": CONVERSATIONS_SORT_KEY},
                ConsistentRead=True,
            )
        return "Item" in response

    def messages(self, conversation_id: str, limit: int = 50) -> list[Message]:
        if limit <= 0 or not _storable_key(conversation_id):
            return []
        items = self._query_live(
            limit,
            KeyConditionExpression="#c = :c AND begins_with(#sk, :p)",
            ExpressionAttributeNames={
                "#c": CONVERSATIONS_PARTITION_KEY,
                "#sk": CONVERSATIONS_SORT_KEY,
            },
            ExpressionAttributeValues={
                ":c": {"S": conversation_id},
                ":p": {"S": MESSAGE_PREFIX},
            },
            ConsistentRead=True,
        )
        return [_message(item) for item in reversed(items)]

    def conversations(self, user_id: str, limit: int = 50) -> list[ConversationSummary]:
        if limit <= 0 or not _storable_key(user_id):
            return []
        items = self._query_live(
            limit,
            IndexName=OWNER_INDEX,
            KeyConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": OWNER_INDEX_PARTITION_KEY},
            ExpressionAttributeValues={":o": {"S": user_id}},
        )
        return [
            ConversationSummary(
                conversation_id=item[CONVERSATIONS_PARTITION_KEY]["S"],
                user_id=item[OWNER_INDEX_PARTITION_KEY]["S"],
                title=item.get("title", {}).get("S", ""),
                updated_at=datetime.fromisoformat(item[OWNER_INDEX_SORT_KEY]["S"]),
            )
            for item in items
        ]

    def _query_live(self, limit: int, **query: Any) -> list[Item]:
        """Newest first, the first `limit` unexpired items (pages until it has them)."""
        query["ExpressionAttributeNames"]["#ttl"] = TTL_ATTRIBUTE
        query["ExpressionAttributeValues"][":now"] = {"N": str(self._now())}
        items: list[Item] = []
        with self._errors():
            while len(items) < limit:
                response = self.client.query(
                    TableName=self.table_name,
                    FilterExpression="#ttl > :now",
                    ScanIndexForward=False,
                    Limit=limit,
                    **query,
                )
                items.extend(response["Items"])
                if "LastEvaluatedKey" not in response:
                    break
                query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return items[:limit]

    @staticmethod
    def _key(conversation_id: str, sort_key: str) -> Item:
        return {
            CONVERSATIONS_PARTITION_KEY: {"S": conversation_id},
            CONVERSATIONS_SORT_KEY: {"S": sort_key},
        }


class DynamoResponseCache(_Table):
    def __init__(self, table_name: str, *, client: Any, clock: Clock = _utcnow) -> None:
        super().__init__(table_name, client, clock)

    def get(self, key: str) -> Answer | None:
        require_key(key, "cache key")
        with self._errors():
            response = self.client.get_item(TableName=self.table_name, Key={CACHE_KEY: {"S": key}})
        item = response.get("Item")
        if item is None or int(item[TTL_ATTRIBUTE]["N"]) <= self._now():
            return None
        try:
            return Answer.model_validate_json(item["answer"]["S"])
        except ValidationError:
            return None  # written by an older Answer model: a miss, not an error

    def put(self, key: str, answer: Answer, ttl_seconds: int) -> None:
        require_key(key, "cache key")
        if ttl_seconds <= 0:
            return
        item: Item = {
            CACHE_KEY: {"S": key},
            "answer": {"S": answer.model_dump_json()},
            TTL_ATTRIBUTE: {"N": str(self._now() + ttl_seconds)},
        }
        with self._errors():
            self._put_sized(item, "answer")


class DynamoCheckpointStore(_Table):
    """JSON states (`state`) and atomic counters (`counter`) of one item per name."""

    def __init__(self, table_name: str, *, client: Any, clock: Clock = _utcnow) -> None:
        super().__init__(table_name, client, clock)

    def load(self, name: str) -> dict[str, Any] | None:
        item = self._get(name)
        if item is None or "state" not in item:
            return None
        return parse_state(name, item["state"]["S"])

    def save(self, name: str, state: Mapping[str, Any]) -> None:
        require_key(name, "checkpoint name")
        text = dump_state(name, state)
        size = item_size({CHECKPOINTS_KEY: {"S": name}, "state": {"S": text}})
        if size > MAX_ITEM_BYTES:
            raise InvalidInput(f"checkpoint {name!r} is too large to store: {size} bytes")
        with self._errors():
            # UpdateItem, not PutItem: a counter of the same name survives.
            self.client.update_item(
                TableName=self.table_name,
                Key={CHECKPOINTS_KEY: {"S": name}},
                UpdateExpression="SET #s = :s, #u = :u",
                ExpressionAttributeNames={"#s": "state", "#u": "updated_at"},
                ExpressionAttributeValues={
                    ":s": {"S": text},
                    ":u": {"S": sort_time(self.clock())},
                },
            )

    def counter(self, name: str) -> int:
        item = self._get(name)
        return int(item["counter"]["N"]) if item and "counter" in item else 0

    def increment(self, name: str) -> int:
        require_key(name, "counter name")
        with self._errors():
            response = self.client.update_item(
                TableName=self.table_name,
                Key={CHECKPOINTS_KEY: {"S": name}},
                UpdateExpression="ADD #c :one",  # applied by DynamoDB itself: no lost bumps
                ExpressionAttributeNames={"#c": "counter"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"]["counter"]["N"])

    def raise_counter(self, name: str, value: int) -> bool:
        """Set the counter to `value` unless it is already there or higher; True when set."""
        require_key(name, "counter name")
        with self._errors():
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key={CHECKPOINTS_KEY: {"S": name}},
                    UpdateExpression="SET #c = :v",
                    ConditionExpression="attribute_not_exists(#c) OR #c < :v",
                    ExpressionAttributeNames={"#c": "counter"},
                    ExpressionAttributeValues={":v": {"N": str(value)}},
                )
            except ClientError as exc:
                if _code(exc) != "ConditionalCheckFailedException":
                    raise
                return False
        return True

    def _get(self, name: str) -> Item | None:
        require_key(name, "checkpoint name")
        with self._errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={CHECKPOINTS_KEY: {"S": name}},
                ConsistentRead=True,
            )
        item: Item | None = response.get("Item")
        return item


def item_size(item: Item) -> int:
    """DynamoDB's size of an item of strings and numbers (names count as well as values)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode("utf-8"))
        if "S" in value:
            size += len(value["S"].encode("utf-8"))
        else:  # numbers: about one byte per two significant digits, plus one
            size += len(value["N"].lstrip("-").replace(".", "")) // 2 + 2
    return size


def _message(item: Item) -> Message:
    return Message(
        id=item[CONVERSATIONS_SORT_KEY]["S"].removeprefix(MESSAGE_PREFIX),
        conversation_id=item[CONVERSATIONS_PARTITION_KEY]["S"],
        user_id=item["user_id"]["S"],
        role=item["role"]["S"],
        text=item["text"]["S"],
        citations=json.loads(item["citations"]["S"]),
        tier=item["tier"]["S"] if "tier" in item else None,
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        **ledger_fields(item["ledger"]["S"] if "ledger" in item else None),
    )


def _storable_key(value: str) -> bool:
    """False for what DynamoDB rejects as a key value (empty, too long): it cannot exist."""
    return 0 < len(value.encode("utf-8")) <= 1024


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
