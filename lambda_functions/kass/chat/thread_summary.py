"""Extractive Slack thread summary (no model): pick the messages that carry the thread.

Picks, in thread order: the opening message (the topic), questions, decisions, conclusions, and
the last messages (where a thread usually lands). Each pick keeps its author and permalink, so
the summary cites the messages themselves. Cue words cover English and Japanese.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel

from kass.language import is_japanese
from kass.models import Chunk, SearchHit
from kass.ports import Thread, ThreadMessage

Role = Literal["topic", "question", "decision", "conclusion", "latest"]
# Higher first when the summary must drop picks to stay within `max_points`.
_PRIORITY: dict[Role, int] = {
    "topic": 0,
    "conclusion": 1,
    "decision": 2,
    "latest": 3,
    "question": 4,
}
_QUESTION = re.compile(
    r"\?\s*$|？|(?:でしょうか|ですか|ますか|ませんか|かな)[。\s]*$|\b(?:anyone know|any idea)\b",
    re.IGNORECASE | re.MULTILINE,
)
_DECISION = re.compile(
    r"\b(?:decided|decision|let'?s (?:go|do|use|ship)|we(?:'ll| will) (?:go|use|ship|do)|"
    r"agreed|going with|approved|lgtm|plan is)\b|決定|決まり|決めました|にしましょう|にします|"
    r"で行きましょう|でいきましょう|で進め|合意|採用|承認",
    re.IGNORECASE,
)
_CONCLUSION = re.compile(
    r"\b(?:fixed|resolved|solved|root cause|turns out|the cause|works now|done|deployed|"
    r"released|merged|closing)\b|解決|修正しました|直りました|直しました|原因は|原因が|完了|"
    r"対応済み|デプロイしました|リリースしました|結論",
    re.IGNORECASE,
)
_LABELS_EN: dict[Role, str] = {
    "topic": "Topic",
    "question": "Question",
    "decision": "Decision",
    "conclusion": "Outcome",
    "latest": "Latest",
}
_LABELS_JA: dict[Role, str] = {
    "topic": "話題",
    "question": "質問",
    "decision": "決定",
    "conclusion": "結論",
    "latest": "最新",
}
SNIPPET_CHARS = 160


class SummaryPoint(BaseModel):
    role: Role
    index: int  # position in the thread (0 = the parent message)
    author: str
    text: str
    link: str | None


class ThreadSummary(BaseModel):
    channel: str
    channel_name: str | None
    url: str | None
    messages: int
    participants: int
    japanese: bool
    points: list[SummaryPoint]

    def render(self, numbers: Mapping[int, int] | None = None) -> str:
        """Markdown: a header, then one bullet per pick with a link to the message, or, given
        `numbers` (message index -> passage number), a `[n]` citation of it instead."""
        labels = _LABELS_JA if self.japanese else _LABELS_EN
        where = f"#{self.channel_name}" if self.channel_name else self.channel
        if self.japanese:
            header = f"{where} のスレッド({self.messages}件、参加者{self.participants}人)の要約:"
        else:
            header = (
                f"Summary of the thread in {where} ({self.messages} messages, "
                f"{self.participants} people):"
            )
        lines = [header]
        for point in self.points:
            if numbers is not None and point.index in numbers:
                link = f" [{numbers[point.index]}]"
            else:
                link = f" ({point.link})" if point.link else ""
            lines.append(f"- {labels[point.role]}: {point.author}: {point.text}{link}")
        if self.url:
            lines.append(("スレッド: " if self.japanese else "Thread: ") + self.url)
        return "\n".join(lines)


def classify(message: ThreadMessage) -> Role | None:
    """The strongest cue in the message: conclusion, then decision, then question."""
    text = message.text
    if _CONCLUSION.search(text):
        return "conclusion"
    if _DECISION.search(text):
        return "decision"
    if _QUESTION.search(text):
        return "question"
    return None


def summarize_thread(thread: Thread, *, max_points: int = 8, latest: int = 2) -> ThreadSummary:
    messages = [m for m in thread.messages if m.text.strip()]
    picks: dict[int, Role] = {}
    if messages:
        picks[0] = "topic"
    for index, message in enumerate(messages[1:], start=1):
        role = classify(message)
        if role is not None:
            picks[index] = role
    for index in range(max(1, len(messages) - latest), len(messages)):
        picks.setdefault(index, "latest")
    if len(picks) > max_points:
        # Keep the most telling picks; among equals, the later ones (threads converge late).
        ranked = sorted(picks, key=lambda i: (_PRIORITY[picks[i]], -i))[:max_points]
        picks = {i: picks[i] for i in ranked}
    points = [
        SummaryPoint(
            role=picks[i],
            index=i,
            author=messages[i].author,
            text=_snippet(messages[i].text),
            link=messages[i].permalink or (thread.url if i == 0 else None),
        )
        for i in sorted(picks)
    ]
    return ThreadSummary(
        channel=thread.channel,
        channel_name=thread.channel_name,
        url=thread.url,
        messages=len(messages),
        participants=len({m.author for m in messages}),
        japanese=is_japanese(" ".join(m.text for m in messages)),
        points=points,
    )


def thread_passages(thread: Thread) -> list[SearchHit]:
    """The thread's non-empty messages as passages (one per message, linked by permalink), in
    the same order `summarize_thread` indexes them, so `[index + 1]` cites message `index`."""
    where = f"#{thread.channel_name}" if thread.channel_name else thread.channel
    doc_id = f"slack:{thread.channel}:{thread.ts}"
    return [
        SearchHit(
            chunk=Chunk(
                id=f"{doc_id}:{message.ts}",
                doc_id=doc_id,
                position=index,
                text=f"{message.author}: {message.text.strip()}",
                source="slack",
                title=f"{where} thread",
                url=message.permalink or thread.url,
                metadata={"channel": thread.channel},
            ),
            score=1.0,
        )
        for index, message in enumerate(m for m in thread.messages if m.text.strip())
    ]


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"
