"""Builds the adapters the settings ask for. The only place that knows which world we are in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kass.errors import KassError
from kass.ingest.chunker import Chunker
from kass.ports import Answerer, ChunkIndex, Embedder
from kass.retrieval.search import Searcher
from kass.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    embedder: Embedder
    index: ChunkIndex
    chunker: Chunker
    searcher: Searcher
    answerer: Answerer

    def close(self) -> None:
        self.index.close()


def open_runtime(settings: Settings, index_dir: Path | None = None) -> Runtime:
    """Open the configured profile's adapters; `index_dir` overrides the workspace index."""
    if settings.app.profile != "local":
        raise KassError(
            f"profile {settings.app.profile!r} is not available in this build; "
            "set KASS_PROFILE=local"
        )
    # Imported here so that importing kass.wiring stays cheap (torch loads only when embedding).
    from kass.adapters.local.index import LocalChunkIndex
    from kass.adapters.local.minilm import MiniLMEmbedder
    from kass.llm.extractive import ExtractiveAnswerer

    embedder = MiniLMEmbedder(settings.embedder)
    if settings.chunker.size > embedder.max_tokens:
        raise KassError(
            f"KASS_CHUNK_SIZE={settings.chunker.size} exceeds what {embedder.name} reads "
            f"({embedder.max_tokens} tokens); set KASS_CHUNK_SIZE to at most {embedder.max_tokens}"
        )
    index = LocalChunkIndex.open(
        index_dir or settings.index_dir,
        embedder_name=embedder.name,
        dimension=embedder.dimension,
        index_settings=settings.index,
        retrieval_settings=settings.retrieval,
    )
    return Runtime(
        settings=settings,
        embedder=embedder,
        index=index,
        chunker=Chunker(embedder.count_tokens, settings.chunker),
        searcher=Searcher(
            index, embedder, settings.retrieval.mode, settings.retrieval.cjk_lexical_weight
        ),
        answerer=ExtractiveAnswerer(embedder, max_sentences=settings.answer.max_sentences),
    )
