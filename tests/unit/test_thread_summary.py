"""Extractive thread summaries: which messages are picked, and how they are cited."""

from __future__ import annotations

import pytest

from kass.chat.citations import resolve_citations
from kass.chat.thread_summary import classify, summarize_thread, thread_passages
from kass.ports import Thread, ThreadMessage

LINK = "https://team.slack.com/archives/C0TEAM/p{ts}"


def _thread(*messages: tuple[str, str], channel_name: str | None = "dev") -> Thread:
    built = []
    for i, (author, text) in enumerate(messages):
        ts = f"17000000{i:02d}.000100"
        built.append(
            ThreadMessage(
                author=author, text=text, ts=ts, permalink=LINK.format(ts=ts.replace(".", ""))
            )
        )
    return Thread(
        channel="C0TEAM",
        channel_name=channel_name,
        ts=built[0].ts,
        url=built[0].permalink,
        messages=built,
    )


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("Does anyone know why login fails?", "question"),
        ("We decided to roll back 2.3.", "decision"),
        ("Let's go with option B.", "decision"),
        ("Fixed in 2.3.1, the root cause was the cookie flag.", "conclusion"),
        ("ログインが失敗するのはなぜでしょうか", "question"),
        ("原因は Cookie の SameSite 属性でした。", "conclusion"),
        ("来週リリースすることに決定しました。", "decision"),
        ("B案で進めましょう", "decision"),
        ("I had lunch.", None),
    ],
)
def test_given_message_when_classified_then_strongest_cue_wins(text, role):
    assert classify(ThreadMessage(author="a", text=text, ts="1.1")) == role


def test_given_discussion_when_summarized_then_topic_decisions_outcome_and_latest_picked():
    thread = _thread(
        ("alice", "Login fails for some users after 2.3"),
        ("bob", "I see it too"),
        ("carol", "Is it only Safari?"),
        ("bob", "Seems so"),
        ("dave", "ok"),
        ("alice", "We decided to roll back to 2.2 for now."),
        ("erin", "thanks"),
        ("bob", "Fixed in 2.3.1: the root cause was the SameSite flag."),
        ("alice", "Closing this, thanks all"),
    )

    summary = summarize_thread(thread)

    picked = [(p.index, p.role) for p in summary.points]
    assert picked == [
        (0, "topic"),
        (2, "question"),
        (5, "decision"),
        (7, "conclusion"),
        (8, "conclusion"),
    ]
    assert all(p.link and p.link.startswith("https://team.slack.com/") for p in summary.points)
    assert (summary.messages, summary.participants) == (9, 5)


def test_given_plain_chat_when_summarized_then_topic_and_last_messages_kept():
    thread = _thread(("a", "Deploy window today"), ("b", "ok"), ("c", "sure"), ("d", "noted"))

    summary = summarize_thread(thread, latest=2)

    assert [(p.index, p.role) for p in summary.points] == [
        (0, "topic"),
        (2, "latest"),
        (3, "latest"),
    ]


def test_given_many_cues_when_summarized_then_capped_keeping_topic_and_outcomes():
    messages = [("alice", "Release plan for 3.0")]
    messages += [(f"u{i}", f"Question {i}?") for i in range(10)]
    messages += [("bob", "We decided to ship on Friday."), ("carol", "Deployed, done.")]
    thread = _thread(*messages)

    summary = summarize_thread(thread, max_points=4)

    roles = [p.role for p in summary.points]
    assert len(roles) == 4
    assert roles[0] == "topic"
    assert {"decision", "conclusion"} <= set(roles)
    assert [p.index for p in summary.points] == sorted(p.index for p in summary.points)


def test_given_japanese_thread_when_rendered_then_japanese_labels_and_permalinks():
    thread = _thread(
        ("山田", "本番でログインできない人がいます"),
        ("佐藤", "Safari だけでしょうか？"),
        ("山田", "原因は Cookie の SameSite 属性でした。修正しました。"),
    )

    text = summarize_thread(thread).render()

    assert text.startswith("#dev のスレッド(3件、参加者2人)の要約:")
    assert "- 話題: 山田: 本番でログインできない人がいます" in text
    assert "- 結論: 山田:" in text
    assert thread.messages[2].permalink in text


def test_given_passage_numbers_when_rendered_then_citations_resolve_to_permalinks():
    thread = _thread(("alice", "Login broken?"), ("bob", "Fixed it, root cause was the flag."))
    passages = thread_passages(thread)

    summary = summarize_thread(thread)
    cited = resolve_citations(summary.render({i: i + 1 for i in range(len(passages))}), passages)

    assert [c.link for c in cited.citations] == [m.permalink for m in thread.messages]
    assert "[1]" in cited.text and "[2]" in cited.text


def test_given_empty_messages_when_summarized_then_skipped():
    thread = _thread(("alice", "Topic"), ("bob", "   "), ("carol", "Done, merged."))

    summary = summarize_thread(thread)

    assert summary.messages == 2
    assert [p.author for p in summary.points] == ["alice", "carol"]
    assert len(thread_passages(thread)) == 2
