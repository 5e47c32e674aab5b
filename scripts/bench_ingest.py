"""Ingestion throughput: the whole pipeline vs the bare embedder on the same chunk texts.

The pipeline run is load -> chunk -> embed -> write into a fresh `LocalChunkIndex` in a temporary
directory (or, if that adapter is not importable, into a discarding index: the figure then stops
at the embedder, and the output says so). The bare run embeds exactly the chunk texts the pipeline
produced, in one call. Each side runs `--repeats` times and keeps its best, after a warm-up that
loads the model, so neither side pays for loading. The two sides alternate, so machine load
hits both alike. Target: pipeline >= 0.9 x bare.

    .venv/bin/python scripts/bench_ingest.py [--docs 2000] [--repeats 2] [--corpus PATH] [--discard]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from kass.adapters.local.minilm import MiniLMEmbedder
from kass.ingest.chunker import Chunker
from kass.ingest.loaders import load_path
from kass.ingest.pipeline import ingest
from kass.models import Chunk, Document
from kass.settings import ChunkerSettings, EmbedderSettings, IndexSettings, RetrievalSettings

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/datasets/msmarco-5k/corpus.jsonl"


class DiscardingIndex:
    """Stands in for the on-disk index when it is unavailable: keeps hashes, stores nothing."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}

    def replace_documents(
        self,
        batch: Sequence[tuple[Document, Sequence[Chunk], np.ndarray]],
        origin: str = "",
        *,
        content_hashes: Mapping[str, str] | None = None,
    ) -> None:
        for doc, _, _ in batch:
            self._hashes[doc.id] = (content_hashes or {})[doc.id]

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        return sum(self._hashes.pop(doc_id, None) is not None for doc_id in doc_ids)

    def document_hashes(self, origin: str | None = None) -> Mapping[str, str]:
        return dict(self._hashes)

    def close(self) -> None:
        pass


def open_index(directory: Path, embedder: MiniLMEmbedder, discard: bool):
    if discard:
        return DiscardingIndex(), False
    try:
        from kass.adapters.local.index import LocalChunkIndex
    except ImportError:
        return DiscardingIndex(), False
    index = LocalChunkIndex.open(
        directory,
        embedder_name=embedder.name,
        dimension=embedder.dimension,
        index_settings=IndexSettings(),
        retrieval_settings=RetrievalSettings(),
    )
    return index, True


def write_subset(source: Path, target: Path, docs: int) -> None:
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for count, line in enumerate(lines):
            if count >= docs:
                break
            out.write(line)


def run_pipeline(
    corpus: Path, workdir: Path, embedder: MiniLMEmbedder, chunker: Chunker, discard: bool
):
    index, real = open_index(workdir, embedder, discard)
    try:
        started = time.perf_counter()
        documents = load_path(corpus)
        report = ingest(documents, index=index, embedder=embedder, chunker=chunker, origin="bench")
        elapsed = time.perf_counter() - started
    finally:
        index.close()
    return elapsed, report, documents, real


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--discard", action="store_true", help="write into a discarding index (isolates the index)"
    )
    args = parser.parse_args()

    embedder_settings = EmbedderSettings()
    chunker_settings = ChunkerSettings()
    embedder = MiniLMEmbedder(embedder_settings)
    chunker = Chunker(embedder.count_tokens, chunker_settings)
    embedder.embed_documents(["warm-up: load the model and torch kernels"] * 8)

    pipeline_times, bare_times = [], []
    with tempfile.TemporaryDirectory(prefix="kass-bench-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        write_subset(args.corpus, corpus, args.docs)
        for repeat in range(args.repeats):
            elapsed, report, documents, real_index = run_pipeline(
                corpus, Path(tmp) / f"index-{repeat}", embedder, chunker, args.discard
            )
            pipeline_times.append(elapsed)
            texts = [chunk.text for doc in documents for chunk in chunker.chunk(doc)]
            assert len(texts) == report.chunks_written, (
                "pipeline and bare must embed the same texts"
            )
            started = time.perf_counter()
            embedder.embed_documents(texts)
            bare_times.append(time.perf_counter() - started)

    chunks = report.chunks_written
    pipeline_rate, bare_rate = chunks / min(pipeline_times), chunks / min(bare_times)
    print(f"command:   {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine:   {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}"
    )
    print(
        f"input:     {len(documents)} documents from {args.corpus} -> {chunks} chunks "
        f"(size {chunker_settings.size}, overlap {chunker_settings.overlap} tokens)"
    )
    print(
        f"embedder:  {embedder.name}, batch {embedder_settings.batch_size}, "
        f"threads {embedder_settings.threads or 'all'}"
    )
    target = "LocalChunkIndex (temp dir)" if real_index else "a discarding index (embedder only)"
    print(f"pipeline:  load -> chunk -> embed -> write into {target}")
    print(
        f"pipeline:  {pipeline_rate:8.1f} chunks/s  (best of {args.repeats}: "
        f"{', '.join(f'{t:.2f}' for t in pipeline_times)} s)"
    )
    print(
        f"bare:      {bare_rate:8.1f} chunks/s  (best of {args.repeats}: "
        f"{', '.join(f'{t:.2f}' for t in bare_times)} s)"
    )
    ratio = pipeline_rate / bare_rate
    # Runs alternate, so each pair saw similar machine load; on a busy machine they are the
    # steadier figure.
    pairs = sorted(
        bare / pipeline for pipeline, bare in zip(pipeline_times, bare_times, strict=True)
    )
    print(
        f"ratio:     {ratio:.3f} best vs best; per run pair: {', '.join(f'{r:.3f}' for r in pairs)}"
        f"  (target >= 0.9: {'met' if ratio >= 0.9 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
