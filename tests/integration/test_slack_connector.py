"""The Slack connector and thread reader against the Slack Web API double (real slack-sdk)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.doubles.slack_api import SlackApiDouble
from tests.integration import connector_contract as contract

from kass.adapters.local.raw_store import FolderRawDocumentStore
from kass.adapters.local.state import SqliteCheckpointStore
from kass.connectors.slack import SlackConnector, SlackSettings, SlackThreads
from kass.errors import InvalidInput, NotFound, SourceError
from kass.ingest.fetcher import checkpoint_name, run_connector

GENERAL, RANDOM = "C0GENERAL1", "C0RANDOM01"
ALICE, BOB = "U0ALICE001", "U0BOB00001"


@pytest.fixture
def slack() -> Iterator[SlackApiDouble]:
    double = SlackApiDouble().start()
    try:
        yield double
    finally:
        double.stop()


def settings(double: SlackApiDouble, **overrides) -> SlackSettings:
    values = {
        "token": double.token,
        "channels": [c for c in double.channels],
        "base_url": double.base_url,
        "max_retries": 2,
        "page_size": 20,
    }
    values.update(overrides)
    return SlackSettings(**values)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def small_workspace(double: SlackApiDouble) -> dict[str, str]:
    """Two channels, a thread with replies, a thread of one, a bot post and a join."""
    double.add_user(ALICE, "alice", "Alice A")
    double.add_user(BOB, "bob", "")
    double.add_channel(GENERAL, "general")
    double.add_channel(RANDOM, "random")
    parent = double.post(GENERAL, ALICE, "Should we <https://x.io/rfc|adopt the RFC>?")
    reply = double.reply(GENERAL, parent, BOB, "Yes, <@U0ALICE001> &amp; me agree")
    double.reply(GENERAL, parent, None, "CI passed", bot_id="B0CI", subtype="bot_message")
    alone = double.post(GENERAL, BOB, "lunch at noon")
    bot = double.post(GENERAL, None, "deploy done", subtype="bot_message", bot_id="B0CI")
    join = double.post(RANDOM, BOB, f"<@{BOB}> has joined the channel", subtype="channel_join")
    other = double.post(RANDOM, ALICE, "random thought")
    return {"parent": parent, "reply": reply, "alone": alone, "bot": bot, "join": join,
            "other": other}  # fmt: skip


def stores(tmp_path: Path) -> tuple[FolderRawDocumentStore, SqliteCheckpointStore]:
    return FolderRawDocumentStore(tmp_path / "home"), SqliteCheckpointStore(tmp_path / "state.db")


def stored(store: FolderRawDocumentStore) -> dict[str, dict]:
    documents = {}
    for key in store.keys("slack"):
        document = store.get(key)
        assert document is not None
        documents[document.id] = document.model_dump(mode="json")
    return documents


def connector_for(double, sleep=None, **overrides) -> SlackConnector:
    return SlackConnector(
        settings(double, **overrides), sleep=sleep if sleep is not None else Sleeps()
    )


# -- the connector contract ---------------------------------------------------------------------
def test_given_generated_workspace_when_full_load_then_contract_holds(slack):
    slack.generate(300, channels=2, users=5)
    contract.check_full_load(connector_for(slack))


def test_given_crash_after_any_batch_when_resumed_then_nothing_is_missing(slack):
    slack.generate(240, channels=2, users=5, span_days=30)
    contract.check_resume_from_every_checkpoint(lambda: connector_for(slack, page_size=25))


def test_given_full_load_when_parent_edited_then_incremental_poll_sees_it(slack):
    ids = small_workspace(slack)
    connector = connector_for(slack)

    def edit() -> str:
        slack.edit(GENERAL, ids["alone"], "lunch at one")
        return f"slack:{GENERAL}:{ids['alone']}"

    contract.check_incremental_after_edit(connector, edit)


# -- documents ----------------------------------------------------------------------------------
def test_given_thread_when_fetched_then_one_document_with_permalinks_and_names(slack):
    ids = small_workspace(slack)

    documents = contract.full_load(connector_for(slack))

    thread = documents[f"slack:{GENERAL}:{ids['parent']}"]
    base = "https://kass-test.slack.com/archives/"
    parent_link = f"{base}{GENERAL}/p{ids['parent'].replace('.', '')}"
    reply_link = (
        f"{base}{GENERAL}/p{ids['reply'].replace('.', '')}?thread_ts={ids['parent']}&cid={GENERAL}"
    )
    assert thread["url"] == parent_link
    assert thread["source"] == "slack"
    assert thread["metadata"]["channel"] == GENERAL
    assert thread["metadata"]["channel_name"] == "general"
    assert thread["title"] == "#general: Should we adopt the RFC (https://x.io/rfc)?"
    blocks = thread["text"].split("\n\n")
    assert blocks[0].startswith("Alice A (2026-") and parent_link in blocks[0]
    assert blocks[1].startswith("Bob (") and reply_link in blocks[1]  # no display name: real
    assert "Yes, @Alice A & me agree" in blocks[1]
    assert thread["created_at"].startswith("2026-")
    assert thread["updated_at"] > thread["created_at"]


def test_given_bots_and_joins_when_fetched_then_they_are_not_content(slack):
    ids = small_workspace(slack)

    documents = contract.full_load(connector_for(slack))

    assert set(documents) == {
        f"slack:{GENERAL}:{ids['parent']}",
        f"slack:{GENERAL}:{ids['alone']}",
        f"slack:{RANDOM}:{ids['other']}",
    }
    assert "CI passed" not in documents[f"slack:{GENERAL}:{ids['parent']}"]["text"]


def test_given_channel_names_in_settings_when_fetched_then_resolved_by_conversations_list(slack):
    small_workspace(slack)

    documents = contract.full_load(connector_for(slack, channels="#general, random"))

    assert {d["metadata"]["channel"] for d in documents.values()} == {GENERAL, RANDOM}
    assert slack.counts()["conversations.list"] == 1


# -- incremental polls and deletions ------------------------------------------------------------
def test_given_no_change_when_polled_again_then_overlap_yields_no_duplicates(slack):
    slack.generate(400, channels=2, users=5)
    connector = connector_for(slack)
    last = [b.checkpoint for b in connector.fetch(None)][-1]
    slack.reset_log()

    polled = [d for b in connector.fetch(last) for d in b.documents]

    assert polled == []
    assert "conversations.replies" not in slack.counts()
    assert slack.counts()["conversations.history"] >= 1  # the overlap window was re-read


def test_given_reply_and_deletions_when_synced_then_store_equals_fresh_full_sync(slack, tmp_path):
    ids = small_workspace(slack)
    store, checkpoints = stores(tmp_path)
    run_connector(connector_for(slack), raw_store=store, checkpoints=checkpoints)
    slack.reply(GENERAL, ids["alone"], ALICE, "count me in")  # a thread of one gains a reply
    slack.delete(GENERAL, ids["parent"])  # has replies: stays as a tombstone
    slack.delete(RANDOM, ids["other"])  # a thread of one: gone

    report = run_connector(connector_for(slack), raw_store=store, checkpoints=checkpoints)

    fresh_store, fresh_checkpoints = stores(tmp_path / "fresh")
    run_connector(connector_for(slack), raw_store=fresh_store, checkpoints=fresh_checkpoints)
    assert stored(store) == stored(fresh_store)
    assert report.deleted == 1
    tombstoned = stored(store)[f"slack:{GENERAL}:{ids['parent']}"]
    assert "Should we" not in tombstoned["text"] and "Yes, @Alice A" in tombstoned["text"]
    assert "count me in" in stored(store)[f"slack:{GENERAL}:{ids['alone']}"]["text"]


def test_given_old_thread_broadcast_reply_when_polled_then_the_old_thread_is_refetched(slack):
    ids = small_workspace(slack)
    connector = connector_for(slack, overlap_days=1)
    last = [b.checkpoint for b in connector.fetch(None)][-1]
    slack.tick(30 * 86_400)  # a month later, well past the overlap window
    slack.reply(GENERAL, ids["parent"], ALICE, "reviving this", broadcast=True)

    polled = {d.id: d for b in connector.fetch(last) for d in b.documents}

    assert "reviving this" in polled[f"slack:{GENERAL}:{ids['parent']}"].text


def test_given_crash_mid_run_when_resumed_after_new_posts_then_store_has_everything(
    slack, tmp_path
):
    slack.generate(300, channels=2, users=5, span_days=20)
    store, checkpoints = stores(tmp_path)
    for n, batch in enumerate(connector_for(slack).fetch(None)):
        for document in batch.documents:
            store.put(document)
        checkpoints.save(checkpoint_name("slack"), batch.checkpoint)
        if n == 2:
            break  # the process dies here
    late = slack.post("C000000000", "U00000001", "posted while we were down")

    run_connector(connector_for(slack), raw_store=store, checkpoints=checkpoints)
    resumed = stored(store)
    run_connector(connector_for(slack), raw_store=store, checkpoints=checkpoints)

    fresh_store, fresh_checkpoints = stores(tmp_path / "fresh")
    run_connector(connector_for(slack), raw_store=fresh_store, checkpoints=fresh_checkpoints)
    fresh = stored(fresh_store)
    late_id = f"slack:C000000000:{late}"
    # The resumed pass finishes the history below where it stopped; the next poll's overlap
    # window picks up what was posted meanwhile.
    assert resumed == {k: v for k, v in fresh.items() if k != late_id}
    assert stored(store) == fresh


# -- rate limits and errors ---------------------------------------------------------------------
def test_given_429_with_retry_after_when_fetched_then_waits_that_long_and_retries(slack):
    small_workspace(slack)
    slack.rate_limit("conversations.history", retry_after="7")
    sleeps = Sleeps()

    documents = contract.full_load(connector_for(slack, sleep=sleeps))

    assert sleeps == [7.0]
    history = slack.calls("conversations.history")
    assert history[0].args == history[1].args  # the same request, again
    assert len(documents) == 3


def test_given_rate_limited_past_retries_when_synced_then_source_error_and_checkpoint_kept(
    slack, tmp_path
):
    small_workspace(slack)
    store, checkpoints = stores(tmp_path)
    run_connector(connector_for(slack), raw_store=store, checkpoints=checkpoints)
    before = checkpoints.load(checkpoint_name("slack"))
    slack.post(GENERAL, ALICE, "new")
    slack.rate_limit("conversations.history", times=3)

    with pytest.raises(SourceError, match="rate limit on conversations.history"):
        run_connector(connector_for(slack), raw_store=store, checkpoints=checkpoints)

    assert checkpoints.load(checkpoint_name("slack")) == before


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked"])
def test_given_bad_token_when_synced_then_source_error_and_checkpoint_unchanged(
    slack, tmp_path, error
):
    small_workspace(slack)
    store, checkpoints = stores(tmp_path)
    run_connector(connector_for(slack), raw_store=store, checkpoints=checkpoints)
    before = checkpoints.load(checkpoint_name("slack"))
    keys = list(store.keys())
    if error == "token_revoked":
        slack.revoked = True
        connector = connector_for(slack)
    else:
        connector = connector_for(slack, token="xoxb-wrong")

    with pytest.raises(SourceError, match=f"Slack refused the token \\({error}\\)"):
        run_connector(connector, raw_store=store, checkpoints=checkpoints)

    assert checkpoints.load(checkpoint_name("slack")) == before
    assert list(store.keys()) == keys


def test_given_bot_not_in_channel_when_fetched_then_source_error_names_the_channel(slack):
    small_workspace(slack)
    slack.channels[RANDOM].is_member = False

    with pytest.raises(SourceError, match=f"{RANDOM} \\(#random\\).*not_in_channel"):
        contract.full_load(connector_for(slack))


def test_given_unknown_channel_when_fetched_then_source_error_names_it(slack):
    small_workspace(slack)

    with pytest.raises(SourceError, match="C0NOSUCH01"):
        contract.full_load(connector_for(slack, channels=["C0NOSUCH01"]))
    with pytest.raises(SourceError, match="#nosuch not found"):
        contract.full_load(connector_for(slack, channels=["nosuch"]))


def test_given_missing_scope_when_fetched_then_source_error_names_the_scope(slack):
    small_workspace(slack)
    slack.fail("conversations.history", "missing_scope", needed="channels:history")

    with pytest.raises(SourceError, match="lacks the scope channels:history"):
        contract.full_load(connector_for(slack))


def test_given_unreadable_checkpoint_when_fetched_then_invalid_input(slack):
    small_workspace(slack)

    with pytest.raises(InvalidInput, match="full sync"):
        list(connector_for(slack).fetch({"channels": {"C1": {"seen": 3}}}))


# -- the agent-facing thread reader -------------------------------------------------------------
def test_given_thread_when_read_then_messages_in_order_with_permalinks(slack):
    ids = small_workspace(slack)
    reader = SlackThreads(settings(slack))

    thread = reader.thread(GENERAL, ids["parent"])

    assert thread.channel == GENERAL and thread.channel_name == "general"
    assert [m.author for m in thread.messages] == ["Alice A", "Bob"]
    assert thread.messages[1].permalink.endswith(f"?thread_ts={ids['parent']}&cid={GENERAL}")
    assert thread.messages[1].text == "Yes, @Alice A & me agree"


def test_given_unknown_thread_or_channel_when_read_then_not_found(slack):
    small_workspace(slack)
    reader = SlackThreads(settings(slack))

    with pytest.raises(NotFound, match="thread"):
        reader.thread(GENERAL, "1111111111.000100")
    with pytest.raises(NotFound, match="channel"):
        reader.thread("C0NOSUCH01", "1111111111.000100")
    with pytest.raises(InvalidInput):
        reader.thread(GENERAL, "yesterday")


# -- the target: 10,000 messages, then 50 edits and 5 deletions ---------------------------------
def test_given_10k_messages_when_edits_and_deletions_polled_then_only_changes_fetched(
    slack, tmp_path
):
    slack.generate(10_000, channels=2, users=20, span_days=90)
    store, checkpoints = stores(tmp_path)
    started = time.perf_counter()
    full = run_connector(
        connector_for(slack, page_size=200), raw_store=store, checkpoints=checkpoints
    )
    full_seconds, full_requests = time.perf_counter() - started, slack.counts()
    recent = sorted(
        (
            (m["ts"], c.id, m)
            for c in slack.channels.values()
            for m in c.top.values()
            if not m.get("subtype") and float(m["ts"]) > slack.now / 1e6 - 6 * 86_400
        ),
        key=lambda t: t[0],
    )
    edited = recent[-50:]
    for ts, channel, _ in edited:
        slack.edit(channel, ts, f"edited {ts}")
    with_replies = [t for t in recent[:-50] if t[2].get("reply_count")]
    alone = [t for t in recent[:-50] if not t[2].get("reply_count")]
    deleted = [alone[0], alone[1], alone[2], with_replies[0]]
    for ts, channel, _ in deleted:
        slack.delete(channel, ts)
    reply_ts = next(iter(slack.channels[with_replies[1][1]].replies[with_replies[1][0]]))
    slack.delete(with_replies[1][1], reply_ts)  # the fifth: a reply
    slack.reset_log()

    started = time.perf_counter()
    poll = run_connector(
        connector_for(slack, page_size=200), raw_store=store, checkpoints=checkpoints
    )
    poll_seconds, poll_requests = time.perf_counter() - started, slack.counts()

    assert stored(store) == contract.full_load(connector_for(slack, page_size=200))
    assert poll.deleted == 3
    changed_threads = 50 + 2  # edited, plus the tombstoned parent and the thread losing a reply
    assert poll.documents_written == changed_threads
    replies_needed = sum(1 for _, _, m in edited if m.get("reply_count")) + 2
    assert poll_requests["conversations.replies"] == replies_needed
    assert poll_requests["conversations.history"] < full_requests["conversations.history"] / 4
    figures = {
        "full": {"seconds": round(full_seconds, 2), "documents": full.documents_written,
                 "requests": full_requests},
        "incremental": {"seconds": round(poll_seconds, 2), "documents": poll.documents_written,
                        "deleted": poll.deleted, "requests": poll_requests},
        "checkpoint_bytes": len(json.dumps(checkpoints.load(checkpoint_name("slack")))),
    }  # fmt: skip
    print("\nslack 10k target:", json.dumps(figures))
