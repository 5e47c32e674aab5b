"""Turns `[n]` markers in an answer into citations of the passages that were actually retrieved.

Whatever wrote the answer (a model or the extractive answerer), the markers are checked here: a
marker whose number is not a passage is removed from the text, so an answer can never point at
something that was not retrieved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from kass.models import Chunk, Citation, SearchHit

# `[1]`, `[1, 2]`, `[1,2]`, `[1-3]`, and the full-width forms models write in Japanese (`［１］`,
# `【1】`, `[1、2]`); adjacent markers (`[1][2]`) are separate matches. Anything of this shape
# is a citation claim, so it either names a passage or goes.
_ITEM = r"\d+(?:\s*[-–〜~]\s*\d+)?"
MARKER = re.compile(rf"[\[［【]\s*({_ITEM}(?:\s*[,，、]\s*{_ITEM})*)\s*[\]］】]")
_RANGE = re.compile(r"(\d+)(?:\s*[-–〜~]\s*(\d+))?")
SNIPPET_CHARS = 200
_URL = re.compile(r"https?://[^\s<>)\]]+")
_CLAIM_START = re.compile(r"(?:[.!?](?=\s)|[。！？\n]|\])\s*")


class CitedText(BaseModel):
    text: str
    citations: list[Citation] = Field(default_factory=list)
    dropped: int = 0  # marker numbers that matched no passage and were removed (the
    # UnsupportedCitations metric counts them)


def resolve_citations(text: str, passages: Sequence[SearchHit]) -> CitedText:
    """Keep the markers that name a passage (1-based), remove the others, list what is cited.

    Citations come in order of first appearance, each passage once, renumbered 1, 2, 3, ... in
    that order (markers in the text are rewritten to match), so a reader sees [1] [2], not [1] [5].
    """
    citations: dict[int, Citation] = {}  # passage number -> citation (with its display number)
    dropped = 0
    parts: list[str] = []
    cursor = 0
    for match in MARKER.finditer(text):
        numbers = _marker_numbers(match.group(1), len(passages))
        valid = [n for n in numbers if 1 <= n <= len(passages)]
        dropped += len(numbers) - len(valid)
        before = text[cursor : match.start()]
        for n in valid:
            if n not in citations:
                claim = _claim_before(text, match.start())
                citations[n] = _citation(len(citations) + 1, passages[n - 1].chunk, claim)
        cursor = match.end()
        if valid:
            shown = ", ".join(str(citations[n].n) for n in valid)
            parts.append(before + "[" + shown + "]")
        elif _has_words_on_last_line("".join(parts) + before):
            # Drop the spaces that separated the marker, so "done [9]." becomes "done.".
            parts.append(before.rstrip(" \t"))
        else:
            # A marker opening a line: drop the spaces after it instead, keeping the line break.
            parts.append(before)
            while cursor < len(text) and text[cursor] in " \t":
                cursor += 1
    parts.append(text[cursor:])
    cleaned = "".join(parts)
    return CitedText(text=cleaned.strip(), citations=list(citations.values()), dropped=dropped)


def _marker_numbers(inside: str, passages: int) -> list[int]:
    """The numbers a marker names, in order, each once; a short range `a-b` names a..b."""
    numbers: list[int] = []
    for match in _RANGE.finditer(inside):
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if 0 <= last - first <= passages:
            numbers.extend(range(first, last + 1))
        else:  # a reversed or implausibly long range: its ends, which will not resolve
            numbers.extend((first, last))
    return list(dict.fromkeys(numbers))


def _has_words_on_last_line(written: str) -> bool:
    """True when a removed marker follows words on its line (rather than opening the line)."""
    return bool(written.rsplit("\n", 1)[-1].strip())


def _claim_before(text: str, end: int) -> str:
    """The sentence a marker is attached to: from the previous sentence end or marker to `end`."""
    head = text[:end]
    starts = [m.end() for m in _CLAIM_START.finditer(head.rstrip(" .。"))]
    return head[starts[-1] if starts else 0 :].strip()


def _citation(n: int, chunk: Chunk, claim: str) -> Citation:
    return Citation(
        n=n,
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        title=chunk.title,
        source=chunk.source,
        location=chunk.url or chunk.doc_id,
        link=_deep_link(chunk, claim) or chunk.url or chunk.doc_id,
        snippet=_snippet(chunk.body, claim),
    )


def _deep_link(chunk: Chunk, claim: str) -> str | None:
    """The URL of the note/message holding the claim: the last link into the same document
    (same URL, or its `#note_…`/permalink siblings) that precedes the claim in the chunk."""
    if not chunk.url:
        return None
    body = chunk.body
    probe = claim.rstrip(".。!！?？ ")[:40]
    end = body.find(probe) if len(probe) >= 8 else -1
    if end < 0:
        return None
    site = chunk.url.split("/")[2] if "://" in chunk.url else ""
    links = [m.group(0) for m in _URL.finditer(body, 0, end) if site and site in m.group(0)]
    return links[-1] if links else None


def _snippet(body: str, claim: str) -> str:
    """About SNIPPET_CHARS of the chunk, starting at the cited sentence when it is found verbatim.

    Extractive answers quote the chunk, so the reader sees the exact supporting text; for a
    paraphrase (a model's answer) the chunk's beginning is the honest fallback.
    """
    flat = " ".join(body.split())
    probe = " ".join(claim.split()).rstrip(".。!！?？ ")
    start = flat.find(probe) if len(probe) >= 8 else -1
    if start > 0:
        # Back up to the start of the word so the snippet does not begin mid-word.
        while start > 0 and not flat[start - 1].isspace() and flat[start - 1] not in "。！？":
            start -= 1
    flat = flat[max(start, 0) :]
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat[:SNIPPET_CHARS]
    space = cut.rfind(" ")
    if space > SNIPPET_CHARS // 2:  # cut at a word boundary unless the text has no spaces (ja)
        cut = cut[:space]
    return cut.rstrip(" ,.;、") + "…"
