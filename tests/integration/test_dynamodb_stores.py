"""The state stores' behaviour, one suite run against DynamoDB (under moto) and SQLite alike.

Where the two must agree, the tests here take the parametrized `stores` fixture; what only
DynamoDB has (item layout, size limit, missing tables) is tested at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
from aws_fixtures import REGION, create_tables, serialize_moto_requests, set_moto_env
from moto import mock_aws

from kass.adapters.aws.dynamodb import (
    MAX_ITEM_BYTES,
    DynamoCheckpointStore,
    DynamoConversationStore,
    DynamoResponseCache,
    item_size,
)
from kass.adapters.local.state import (
    SqliteCheckpointStore,
    SqliteConversationStore,
    SqliteResponseCache,
)
from kass.errors import InvalidInput, KassError
from kass.ids import new_message_id
from kass.models import Answer, Citation, Message

TTL_DAYS = 30
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NAMES = {
    "conversations": "test-conversations",
    "cache": "test-cache",
    "checkpoints": "test-checkpoints",
}


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Stores:
    """One world's stores; `open_*` make more instances (connections) of the same data."""

    clock: FakeClock
    open_conversations: Callable[[], Any]
    open_cache: Callable[[], Any]
    open_checkpoints: Callable[[], Any]

    def __post_init__(self) -> None:
        self.conversations = self.open_conversations()
        self.cache = self.open_cache()
        self.checkpoints = self.open_checkpoints()


@pytest.fixture(params=["dynamodb", "sqlite"])
def stores(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stores]:
    clock = FakeClock(T0)
    if request.param == "sqlite":
        db = tmp_path / "state" / "state.db"
        opened: list[Any] = []

        def track(store: Any) -> Any:
            opened.append(store)
            return store

        yield Stores(
            clock,
            lambda: track(SqliteConversationStore(db, ttl_days=TTL_DAYS, clock=clock)),
            lambda: track(SqliteResponseCache(db, clock=clock)),
            lambda: track(SqliteCheckpointStore(db, clock=clock)),
        )
        for store in opened:
            store.close()
        return
    set_moto_env(monkeypatch)
    serialize_moto_requests(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client, NAMES)
        yield Stores(
            clock,
            lambda: DynamoConversationStore(
                NAMES["conversations"], ttl_days=TTL_DAYS, client=client, clock=clock
            ),
            lambda: DynamoResponseCache(NAMES["cache"], client=client, clock=clock),
            lambda: DynamoCheckpointStore(NAMES["checkpoints"], client=client, clock=clock),
        )


def message(
    conversation_id: str = "c1",
    text: str = "How do I deploy?",
    *,
    role: Literal["user", "assistant"] = "user",
    user_id: str = "u1",
    at: datetime = T0,
    citations: list[Citation] | None = None,
    tier: str | None = None,
) -> Message:
    return Message(
        id=new_message_id(at),
        conversation_id=conversation_id,
        user_id=user_id,
        role=role,
        text=text,
        citations=citations or [],
        tier=tier,
        created_at=at,
    )


def answer(text: str = "Run make deploy [1].") -> Answer:
    citation = Citation(
        n=1,
        chunk_id="k1",
        doc_id="gitlab:1",
        title="Deploy",
        source="gitlab",
        location="https://gitlab.example/1",
        link="https://gitlab.example/1#note_2",
        snippet="make deploy",
    )
    return Answer(question="how to deploy?", text=text, citations=[citation], tier="extractive")


# -- conversations ---------------------------------------------------------------------------
def test_given_messages_appended_out_of_order_when_read_then_oldest_first(stores):
    later = message(text="second", at=T0 + timedelta(seconds=5))
    earlier = message(text="first", at=T0)
    stores.conversations.append(later)
    stores.conversations.append(earlier)

    got = stores.conversations.messages("c1")

    assert [m.text for m in got] == ["first", "second"]


def test_given_a_question_and_answer_in_the_same_millisecond_when_read_then_question_first(
    stores,
):
    turns = []
    for n in range(20):  # random ids would put about half of these answers first
        turns += [message(f"c{n}", "question"), message(f"c{n}", "answer", role="assistant")]
    for turn in reversed(turns):
        stores.conversations.append(turn)

    orders = {tuple(m.text for m in stores.conversations.messages(f"c{n}")) for n in range(20)}

    assert orders == {("question", "answer")}


def test_given_more_messages_than_the_limit_when_read_then_the_latest_oldest_first(stores):
    for i in range(7):
        stores.conversations.append(message(text=f"m{i}", at=T0 + timedelta(seconds=i)))

    got = stores.conversations.messages("c1", limit=3)

    assert [m.text for m in got] == ["m4", "m5", "m6"]


def test_given_an_unknown_or_unstorable_id_when_read_then_empty(stores):
    stores.conversations.append(message())

    assert stores.conversations.messages("nope") == []
    assert stores.conversations.messages("") == []
    assert stores.conversations.messages("c1", limit=0) == []
    assert stores.conversations.conversations("nobody") == []


def test_given_a_message_with_citations_when_read_back_then_it_is_equal(stores):
    original = message(
        text="デプロイは make deploy で行います [1]。",
        role="assistant",
        citations=answer().citations,
        tier="haiku",
    )
    stores.conversations.append(original)

    (got,) = stores.conversations.messages("c1")

    assert got == original


def test_given_the_same_message_appended_twice_when_read_then_it_is_stored_once(stores):
    first = message()

    assert stores.conversations.put_message(first) is True
    stores.conversations.append(first)
    assert stores.conversations.put_message(first) is False

    assert stores.conversations.messages("c1") == [first]
    assert len(stores.conversations.conversations("u1")) == 1


def test_given_two_users_when_listing_then_own_conversations_most_recent_first(stores):
    conversations = stores.conversations
    conversations.append(message("old", "first question", at=T0))
    conversations.append(message("new", "newer question", at=T0 + timedelta(minutes=1)))
    conversations.append(message("theirs", "not yours", user_id="u2", at=T0))
    # Activity moves "old" to the top; its title stays its first question.
    conversations.append(
        message("old", "an answer", role="assistant", at=T0 + timedelta(minutes=2))
    )
    conversations.append(message("old", "follow-up", at=T0 + timedelta(minutes=3)))

    listed = conversations.conversations("u1")

    assert [(c.conversation_id, c.title) for c in listed] == [
        ("old", "first question"),
        ("new", "newer question"),
    ]
    assert listed[0].updated_at == T0 + timedelta(minutes=3)
    assert all(c.user_id == "u1" for c in listed)
    assert [c.conversation_id for c in conversations.conversations("u1", limit=1)] == ["old"]


def test_given_an_older_message_appended_late_when_listing_then_activity_is_not_moved_back(
    stores,
):
    stores.conversations.append(message("a", "newest", at=T0 + timedelta(hours=1)))
    stores.conversations.append(message("b", "middle", at=T0 + timedelta(minutes=30)))
    stores.conversations.append(message("a", "replayed old one", at=T0))

    listed = stores.conversations.conversations("u1")

    assert [c.conversation_id for c in listed] == ["a", "b"]
    assert listed[0].updated_at == T0 + timedelta(hours=1)


def test_given_a_long_multiline_first_question_when_listing_then_the_title_is_one_short_line(
    stores,
):
    stores.conversations.append(message(text="why\n\n" + "word " * 100))

    (summary,) = stores.conversations.conversations("u1")

    assert "\n" not in summary.title
    assert summary.title.startswith("why word word")
    assert len(summary.title) <= 80


def test_given_the_ttl_has_passed_when_read_then_messages_and_listing_are_gone(stores):
    stores.conversations.append(message("c1", "old", at=T0))
    stores.conversations.append(message("c2", "recent", at=T0 + timedelta(days=20)))
    stores.clock.advance(days=TTL_DAYS - 1)
    assert len(stores.conversations.messages("c1")) == 1

    stores.clock.advance(days=2)

    assert stores.conversations.messages("c1") == []
    assert [c.conversation_id for c in stores.conversations.conversations("u1")] == ["c2"]
    assert [m.text for m in stores.conversations.messages("c2")] == ["recent"]


def test_given_expired_messages_when_reading_with_a_limit_then_the_live_ones_fill_it(stores):
    stores.conversations.append(message(text="expired", at=T0 - timedelta(days=TTL_DAYS + 1)))
    for i in range(3):
        stores.conversations.append(message(text=f"live{i}", at=T0 + timedelta(seconds=i)))

    got = stores.conversations.messages("c1", limit=5)

    assert [m.text for m in got] == ["live0", "live1", "live2"]


@pytest.mark.parametrize("field", ["conversation_id", "user_id", "id"])
def test_given_an_empty_key_when_appending_then_invalid_input_and_nothing_stored(stores, field):
    bad = message().model_copy(update={field: ""})

    with pytest.raises(InvalidInput, match=field):
        stores.conversations.append(bad)

    assert stores.conversations.messages("c1") == []
    assert stores.conversations.conversations("u1") == []


def test_given_appends_from_several_threads_when_read_then_none_is_lost(stores):
    def write(thread: int) -> None:
        store = stores.open_conversations()
        for i in range(10):
            at = T0 + timedelta(seconds=thread * 10 + i)
            store.append(message(text=f"{thread}-{i}", at=at))

    run_threads(write, 4)

    assert len(stores.conversations.messages("c1", limit=100)) == 40


def test_given_ids_made_over_time_when_sorted_as_text_then_in_time_order_and_unique():
    moments = [T0 + timedelta(milliseconds=n * 7) for n in range(300)] + [T0] * 300
    ids = [new_message_id(moment) for moment in moments]

    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 and set(i) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for i in ids)
    assert sorted(ids[:300]) == ids[:300]
    assert max(ids[300:]) < ids[1]  # the same millisecond stays before the next one


# -- response cache ----------------------------------------------------------------------------
def test_given_a_cached_answer_when_read_then_equal_until_it_expires(stores):
    stores.cache.put("k", answer(), ttl_seconds=60)

    assert stores.cache.get("k") == answer()
    stores.clock.advance(seconds=59)
    assert stores.cache.get("k") == answer()
    stores.clock.advance(seconds=1)
    assert stores.cache.get("k") is None


def test_given_an_unknown_key_or_zero_ttl_when_read_then_none(stores):
    stores.cache.put("zero", answer(), ttl_seconds=0)

    assert stores.cache.get("zero") is None
    assert stores.cache.get("unknown") is None


def test_given_a_key_cached_twice_when_read_then_the_latest_answer(stores):
    stores.cache.put("k", answer("old"), ttl_seconds=60)
    stores.cache.put("k", answer("new"), ttl_seconds=60)

    assert stores.cache.get("k").text == "new"


def test_given_an_empty_cache_key_when_used_then_invalid_input(stores):
    with pytest.raises(InvalidInput, match="cache key"):
        stores.cache.put("", answer(), ttl_seconds=60)
    with pytest.raises(InvalidInput, match="cache key"):
        stores.cache.get("")


# -- checkpoints -------------------------------------------------------------------------------
def test_given_a_saved_checkpoint_when_loaded_then_equal_and_replaced_by_the_next_save(stores):
    state = {"updated_after": "2025-03-01T00:00:00Z", "seen": ["a/b", "日本"], "n": 3.5}
    assert stores.checkpoints.load("gitlab") is None

    stores.checkpoints.save("gitlab", state)
    assert stores.checkpoints.load("gitlab") == state
    stores.checkpoints.save("gitlab", {"page": 2})

    assert stores.checkpoints.load("gitlab") == {"page": 2}
    assert stores.open_checkpoints().load("gitlab") == {"page": 2}


def test_given_a_state_that_is_not_json_when_saved_then_invalid_input_and_old_state_kept(stores):
    stores.checkpoints.save("slack", {"cursor": "x"})

    with pytest.raises(InvalidInput, match="slack"):
        stores.checkpoints.save("slack", {"when": datetime.now(UTC)})

    assert stores.checkpoints.load("slack") == {"cursor": "x"}


def test_given_a_counter_when_incremented_then_it_counts_from_zero_beside_a_state(stores):
    stores.checkpoints.save("index-version", {"note": "kept"})
    assert stores.checkpoints.counter("index-version") == 0

    assert stores.checkpoints.increment("index-version") == 1
    assert stores.checkpoints.increment("index-version") == 2
    stores.checkpoints.save("index-version", {"note": "still kept"})

    assert stores.checkpoints.counter("index-version") == 2
    assert stores.checkpoints.load("index-version") == {"note": "still kept"}


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "store-per-thread"])
def test_given_increments_from_several_threads_when_counted_then_no_bump_is_lost(stores, shared):
    threads, bumps = 6, 25
    seen: list[int] = []
    lock = threading.Lock()

    def bump(_: int) -> None:
        store = stores.checkpoints if shared else stores.open_checkpoints()
        for _ in range(bumps):
            value = store.increment("index-version")
            with lock:
                seen.append(value)

    run_threads(bump, threads)

    assert stores.checkpoints.counter("index-version") == threads * bumps
    assert sorted(seen) == list(range(1, threads * bumps + 1))  # each value handed out once


def run_threads(work: Callable[[int], None], count: int) -> None:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # surfaced below: a thread's failure fails the test
            errors.append(exc)

    workers = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


# -- DynamoDB only -----------------------------------------------------------------------------
@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    set_moto_env(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client, NAMES)
        yield client


class CountingClient:
    """Passes calls to the real client and records the operations called."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


def test_given_appended_messages_when_scanning_then_only_the_meta_item_carries_the_owner(
    dynamodb,
):
    store = DynamoConversationStore(NAMES["conversations"], ttl_days=TTL_DAYS, client=dynamodb)
    store.append(message(at=T0))
    store.append(message(role="assistant", text="answer", at=T0 + timedelta(seconds=1)))

    items = dynamodb.scan(TableName=NAMES["conversations"])["Items"]

    owners = [item for item in items if "owner_id" in item]
    assert [item["sk"]["S"] for item in owners] == ["meta"]
    messages = [item for item in items if item["sk"]["S"].startswith("msg#")]
    assert len(messages) == 2
    expected_expiry = int((T0 + timedelta(days=TTL_DAYS, seconds=1)).timestamp())
    assert owners[0]["expires_at"]["N"] == str(expected_expiry)  # refreshed by the last append
    assert all("N" in item["expires_at"] for item in items)


def test_given_the_tables_when_described_then_ttl_is_on_the_expiry_attribute(dynamodb):
    ttl = dynamodb.describe_time_to_live(TableName=NAMES["conversations"])

    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    description = dynamodb.describe_table(TableName=NAMES["conversations"])["Table"]
    assert [index["IndexName"] for index in description["GlobalSecondaryIndexes"]] == ["by-owner"]


def test_given_a_message_over_the_item_limit_when_appended_then_invalid_input_before_any_call(
    dynamodb,
):
    spy = CountingClient(dynamodb)
    store = DynamoConversationStore(NAMES["conversations"], ttl_days=TTL_DAYS, client=spy)
    huge = message(text="あ" * (MAX_ITEM_BYTES // 3 + 1))

    with pytest.raises(InvalidInput, match="too large"):
        store.append(huge)

    assert spy.calls == []
    assert store.messages("c1") == []


def test_given_a_message_just_under_the_item_limit_when_appended_then_it_is_stored(dynamodb):
    store = DynamoConversationStore(
        NAMES["conversations"], ttl_days=TTL_DAYS, client=dynamodb, clock=FakeClock(T0)
    )
    big = message(text="x" * (MAX_ITEM_BYTES - 1000))

    store.append(big)

    assert store.messages("c1") == [big]


def test_given_an_item_when_sized_then_names_and_utf8_values_count():
    assert item_size({"ab": {"S": "日本"}, "n": {"N": "1234"}}) == 2 + 6 + 1 + 4


@pytest.mark.parametrize(
    "use",
    [
        lambda c: DynamoConversationStore("missing", ttl_days=1, client=c).messages("c1"),
        lambda c: DynamoConversationStore("missing", ttl_days=1, client=c).append(message()),
        lambda c: DynamoResponseCache("missing", client=c).get("k"),
        lambda c: DynamoCheckpointStore("missing", client=c).increment("n"),
    ],
    ids=["messages", "append", "cache", "counter"],
)
def test_given_a_missing_table_when_used_then_a_one_line_error_naming_it(dynamodb, use):
    with pytest.raises(KassError, match="'missing' does not exist") as caught:
        use(dynamodb)

    assert "\n" not in str(caught.value)


def test_given_a_cache_item_of_an_older_answer_model_when_read_then_a_miss(dynamodb):
    cache = DynamoResponseCache(NAMES["cache"], client=dynamodb)
    cache.put("k", answer(), ttl_seconds=60)
    dynamodb.update_item(
        TableName=NAMES["cache"],
        Key={"cache_key": {"S": "k"}},
        UpdateExpression="SET answer = :a",
        ExpressionAttributeValues={":a": {"S": '{"text": "no tier"}'}},
    )

    assert cache.get("k") is None


def test_given_a_counter_when_raised_then_it_only_grows(dynamodb):
    store = DynamoCheckpointStore(NAMES["checkpoints"], client=dynamodb)

    assert store.raise_counter("index-version", 5) is True
    assert store.raise_counter("index-version", 3) is False
    assert store.raise_counter("index-version", 5) is False

    assert store.counter("index-version") == 5
    assert store.increment("index-version") == 6


def test_given_a_stored_message_when_asked_then_has_message_tells(dynamodb):
    store = DynamoConversationStore(NAMES["conversations"], ttl_days=TTL_DAYS, client=dynamodb)
    stored = message()
    store.append(stored)

    assert store.has_message("c1", stored.id) is True
    assert store.has_message("c1", new_message_id()) is False
