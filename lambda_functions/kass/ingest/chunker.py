"""Token-aware chunking: documents -> chunks that fit the embedder, each prefixed with its title.

Sizes are in the embedder's own tokens (its `count_tokens`), so a chunk never gets silently
truncated by the model. The title is repeated on every chunk because a chunk read alone (by BM25,
by the embedder, by the answerer) loses the context the title gives; its tokens come out of the
budget.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from kass.models import Chunk, Document
from kass.settings import ChunkerSettings

# Bump when the splitting changes: it is part of `signature`, so stored documents get re-chunked.
ALGORITHM_VERSION = "recursive-1"

# Coarsest first. Japanese sentence and clause marks come before spaces (Japanese has none), and
# "" (any character) is the last resort for a run with no break at all (URLs, base64, hashes).
SEPARATORS: tuple[str, ...] = (
    "\n\n",
    "\n",
    "。",
    "！",
    "？",
    ". ",
    "! ",
    "? ",
    "；",
    "; ",
    "、",
    "，",
    ", ",
    " ",
    "",
)

TITLE_SEPARATOR = "\n\n"
CACHED_CHARS = 4096


class Chunker:
    """Splits a document into chunks of at most `settings.size` tokens, title included."""

    def __init__(self, count_tokens: Callable[[str], int], settings: ChunkerSettings | None = None):
        self.settings = settings or ChunkerSettings()
        self._count_uncached = count_tokens
        # The splitter measures the same small pieces repeatedly while merging; tokenizing is the
        # cost. Only short strings are cached so that whole documents are not kept alive.
        self._count_cached = lru_cache(maxsize=8192)(count_tokens)
        self._splitters: dict[tuple[int, int], Any] = {}

    @property
    def signature(self) -> str:
        """Identifies how chunks are cut; stored hashes include it so a config change re-chunks."""
        return f"{ALGORITHM_VERSION};size={self.settings.size};overlap={self.settings.overlap}"

    def chunk(self, document: Document) -> list[Chunk]:
        prefix = self._title_prefix(document.title)
        budget = self.settings.size - self._count(prefix)
        pieces = self._split(document.text.strip(), budget)
        if not pieces and prefix:
            pieces = [""]  # a titled document with no body is still findable by its title
        texts = [(prefix + piece).strip() for piece in pieces]
        return [
            Chunk(
                id=Chunk.make_id(document.id, position, text),
                doc_id=document.id,
                position=position,
                text=text,
                source=document.source,
                title=document.title,
                url=document.url,
                metadata=dict(document.metadata),
            )
            for position, text in enumerate(texts)
        ]

    def _count(self, text: str) -> int:
        if len(text) <= CACHED_CHARS:
            return self._count_cached(text)
        return self._count_uncached(text)

    def _title_prefix(self, title: str) -> str:
        title = " ".join(title.split())  # a title is one line; stray newlines would look like text
        if not title:
            return ""
        # A title may take at most half the budget, so every chunk keeps room for its own text.
        title = self._longest_prefix(title, self.settings.size // 2)
        return title + TITLE_SEPARATOR

    def _split(self, text: str, budget: int) -> list[str]:
        if not text:
            return []
        if self._count(text) <= budget:
            return [text]  # the common case (a paragraph, a message): no splitter work at all
        overlap = min(self.settings.overlap, budget // 2)
        pieces = self._splitter(budget, overlap).split_text(text)
        return [part for piece in pieces for part in self._enforce_budget(piece, budget)]

    def _splitter(self, budget: int, overlap: int) -> Any:
        key = (budget, overlap)
        if key not in self._splitters:
            # Imported here: langchain is heavy and only ingestion needs it (not `ask`/`search`).
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            self._splitters[key] = RecursiveCharacterTextSplitter(
                chunk_size=budget,
                chunk_overlap=overlap,
                length_function=self._count,
                separators=list(SEPARATORS),
                keep_separator="end",  # "。" and "." stay with the sentence they end
                strip_whitespace=True,
            )
        return self._splitters[key]

    def _enforce_budget(self, piece: str, budget: int) -> list[str]:
        """Cut what the splitter let through over budget.

        The splitter adds up the token counts of the parts it merges; that is exact at spaces and
        punctuation but not inside a word split character by character (word pieces re-merge),
        so a merged piece can come out a token or two long.
        """
        parts: list[str] = []
        while piece and self._count(piece) > budget:
            head = self._longest_prefix(piece, budget)
            parts.append(head)
            piece = piece[len(head) :].lstrip()
        if piece:
            parts.append(piece)
        return parts

    def _longest_prefix(self, text: str, tokens: int) -> str:
        """The longest prefix of `text` within `tokens` tokens (at least one character)."""
        if self._count(text) <= tokens:
            return text
        low, high = 1, len(text)  # invariant: text[:low] fits or is one character; text[:high] not
        while high - low > 1:
            middle = (low + high) // 2
            if self._count(text[:middle]) <= tokens:
                low = middle
            else:
                high = middle
        return text[:low].rstrip() or text[:low]
