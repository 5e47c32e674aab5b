"""The embedded chunk index: BM25 (SQLite FTS5) + cosine k-NN, fused like OpenSearch.

One SQLite file (WAL) is the source of truth: documents, chunks with their vectors, the
full-text table, metadata. Everything else is derived and rebuilt from it on open: the
in-memory vectors and, above `hnsw_threshold` chunks, the HNSW graph file (see knn.py). One
call to `replace_documents`/`delete_documents` is one SQLite transaction, so a crash at any
point leaves either the old or the new state, and the next open catches the graph up.

Single writer: one process writes at a time (the CLI, or the dev server).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from kass.adapters.local.knn import HnswCache, VectorStore, Watermark
from kass.adapters.local.text_analysis import index_text, query_terms
from kass.errors import CorruptIndex, IndexMismatch, InvalidInput
from kass.models import FILTER_KEYS, Chunk, Document, SearchHit
from kass.ports import IndexStats, SearchRequest
from kass.retrieval.fusion import minmax_fuse, rrf_fuse
from kass.settings import IndexSettings, RetrievalSettings
from kass.vectors import unit_rows

DB_NAME = "index.sqlite3"
FORMAT = "kass-chunk-index"
VERSION = "1"
_SQLITE_MAGIC = b"SQLite format 3\x00"

# FTS5 scores every document matching any query term (no WAND), ~1.3 us per posting. A query
# keeps its rarest terms while their summed document frequencies stay within this budget
# (the rarest one always stays); very common terms add little BM25 and most of the cost.
# 5,000 keeps 99.1% of the uncapped hybrid top-10 on the 100K real bench (ADR 0001).
LEXICAL_MAX_POSTINGS = 5_000
# Save the HNSW graph after this many unsaved changes, bounding the catch-up after a crash.
GRAPH_CHECKPOINT_OPS = 100_000

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, origin TEXT NOT NULL,
    content_hash TEXT NOT NULL, title TEXT NOT NULL, url TEXT, metadata TEXT NOT NULL);
CREATE INDEX documents_origin ON documents (origin);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the HNSW graph is keyed on it
    chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL, position INTEGER NOT NULL,
    text TEXT NOT NULL, title TEXT NOT NULL, url TEXT, metadata TEXT NOT NULL,
    {", ".join(f"{key} TEXT" for key in FILTER_KEYS)},
    vector BLOB NOT NULL);
CREATE INDEX chunks_doc ON chunks (doc_id);
CREATE VIRTUAL TABLE chunks_fts USING fts5 (terms, tokenize = 'ascii');
-- chunks per term: FTS5 has no cheap document frequency (fts5vocab walks the postings)
CREATE TABLE term_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
-- chunks deleted since the saved HNSW graph was written, replayed onto it on open
CREATE TABLE tombstones (seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL);
"""
_CHUNK_COLUMNS = "id, chunk_id, doc_id, position, text, title, url, metadata, source"


class LocalChunkIndex:
    """`ChunkIndex` on one machine. Open with `LocalChunkIndex.open(...)`."""

    def __init__(
        self,
        directory: Path,
        conn: sqlite3.Connection,
        *,
        dimension: int,
        index_settings: IndexSettings,
        retrieval_settings: RetrievalSettings,
        max_postings: int = LEXICAL_MAX_POSTINGS,
    ) -> None:
        self.directory = directory
        self.dimension = dimension
        self._conn = conn
        self._index = index_settings
        self._retrieval = retrieval_settings
        self._max_postings = max_postings
        self._vectors = VectorStore(dimension, len(FILTER_KEYS))
        self._graph = HnswCache(directory, dimension, index_settings)
        self._lock = threading.RLock()
        self._closed = False
        self._data_version = 0  # SQLite's counter of commits by other connections
        self._last_id = 0  # highest chunk row id mirrored in memory

    # -- opening --------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        embedder_name: str,
        dimension: int,
        index_settings: IndexSettings,
        retrieval_settings: RetrievalSettings,
        max_postings: int = LEXICAL_MAX_POSTINGS,
    ) -> LocalChunkIndex:
        """Open the index in `directory`, creating it if absent.

        Raises IndexMismatch when it was built for another embedder, CorruptIndex when the
        file is not a kass index or is damaged (the file is then left untouched).
        """
        directory = Path(directory)
        db_path = directory / DB_NAME
        if directory.exists() and not directory.is_dir():
            raise CorruptIndex(f"{directory} is a file, not a kass index directory")
        if db_path.exists():
            _probe(db_path, embedder_name, dimension)
        directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a process crash loses nothing
            if not _has_table(conn, "meta"):
                _create(conn, embedder_name, dimension)
            index = cls(
                directory,
                conn,
                dimension=dimension,
                index_settings=index_settings,
                retrieval_settings=retrieval_settings,
                max_postings=max_postings,
            )
            index._load()
        except sqlite3.DatabaseError as error:
            conn.close()
            raise CorruptIndex(f"{db_path} is damaged ({_one_line(error)})") from error
        return index

    def _load(self) -> None:
        """Read every vector into memory, then bring the HNSW graph up to date."""
        self._data_version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        self._append_rows_after(0)
        self._reconcile_graph()

    def _append_rows_after(self, last_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Load the chunks with ids above `last_id` into memory; returns their ids and vectors."""
        select = f"SELECT id, vector, {', '.join(FILTER_KEYS)} FROM chunks WHERE id > ? ORDER BY id"
        cursor = self._conn.execute(select, (last_id,))
        all_ids, all_vectors = [np.zeros(0, np.int64)], [np.zeros((0, self.dimension), np.float32)]
        while rows := cursor.fetchmany(10_000):
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4")
            vectors = vectors.reshape(len(rows), self.dimension)
            self._vectors.append(ids, vectors, [row[2:] for row in rows])
            all_ids.append(ids)
            all_vectors.append(vectors)
        if len(all_ids) > 1:
            self._last_id = int(all_ids[-1][-1])
        return np.concatenate(all_ids), np.concatenate(all_vectors)

    def _follow_other_writers(self) -> None:
        """Mirror in memory what other connections committed since we last looked.

        Several instances may share the file (`kass serve` runs the processor and the search
        functions side by side; `kass ingest` may run meanwhile). SQLite's data_version moves
        only when another connection commits, so the common case costs one pragma. Chunk ids
        only grow, so new rows are those above the last id seen; deletions are found by
        comparing ids.
        """
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        self._data_version = version
        stored = np.fromiter(
            (
                row[0]
                for row in self._conn.execute(
                    "SELECT id FROM chunks WHERE id <= ?", (self._last_id,)
                )
            ),
            dtype=np.int64,
        )
        known, _ = self._vectors.live_rows()
        self._forget(np.setdiff1d(known, stored, assume_unique=True))
        ids, vectors = self._append_rows_after(self._last_id)
        self._graph.add(ids, vectors)
        self._maybe_build_or_checkpoint()

    def _reconcile_graph(self) -> None:
        if self._vectors.live < self._index.hnsw_threshold:
            self._graph.drop()
            self._conn.execute("DELETE FROM tombstones")
            return
        current = self._watermark()
        saved = self._graph.saved()
        loaded = False
        if saved is not None:
            path, mark = saved
            # A graph newer than the database (restored backup, say) cannot be caught up.
            if mark.max_id <= current.max_id and mark.max_seq <= current.max_seq:
                loaded = self._graph.load(path, mark, capacity=2 * self._vectors.size + 1024)
        if loaded:
            mark = self._graph.watermark
            gone = self._conn.execute(
                "SELECT id FROM tombstones WHERE seq > ? AND id <= ?", (mark.max_seq, mark.max_id)
            ).fetchall()
            self._graph.remove(np.array([row[0] for row in gone], dtype=np.int64))
            ids, vectors = self._vectors.live_rows()
            newer = ids > mark.max_id
            self._graph.add(ids[newer], vectors[newer])
        else:
            self._graph.build(*self._vectors.live_rows(), mark=current)
        if self._graph.unsaved:
            self._checkpoint()

    # -- writing --------------------------------------------------------------------------
    def replace_documents(
        self,
        batch: Sequence[tuple[Document, Sequence[Chunk], np.ndarray]],
        origin: str = "",
        *,
        content_hashes: Mapping[str, str] | None = None,
    ) -> None:
        """Replace each document's chunks and vectors as a unit, all in one transaction.

        `content_hashes` overrides the stored hash per doc id (default `doc.content_hash()`).
        """
        prepared = [
            (doc, chunks, unit_rows(doc, chunks, v, self.dimension)) for doc, chunks, v in batch
        ]
        ids_in_batch = [doc.id for doc, _, _ in prepared]
        if len(set(ids_in_batch)) != len(ids_in_batch):
            raise InvalidInput("a batch names the same document twice")
        hashes = content_hashes or {}
        with self._lock:
            with self._transaction() as conn:
                self._follow_other_writers()  # under the write lock: nobody commits meanwhile
                gone = self._delete_rows(conn, ids_in_batch)
                added = [
                    row
                    for doc, chunks, vectors in prepared
                    for row in _insert(conn, doc, chunks, vectors, origin, hashes.get(doc.id))
                ]
            # Committed: mirror it in memory (a crash from here on is caught up on open).
            self._forget(gone)
            if added:
                ids = np.array([row_id for row_id, _ in added], dtype=np.int64)
                vectors = np.concatenate([vectors for _, _, vectors in prepared])
                self._vectors.append(ids, vectors, [attrs for _, attrs in added])
                self._last_id = int(ids[-1])
                self._graph.add(ids, vectors)
            self._maybe_build_or_checkpoint()

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        doc_ids = list(dict.fromkeys(doc_ids))
        with self._lock:
            with self._transaction() as conn:
                self._follow_other_writers()
                count = "SELECT count(*) FROM documents WHERE doc_id = ?"
                existed = sum(conn.execute(count, (d,)).fetchone()[0] for d in doc_ids)
                gone = self._delete_rows(conn, doc_ids)
            self._forget(gone)
            self._maybe_build_or_checkpoint()
        return existed

    def _delete_rows(self, conn: sqlite3.Connection, doc_ids: Sequence[str]) -> np.ndarray:
        """Delete documents with their chunks and full-text rows; returns the chunk row ids."""
        gone: list[int] = []
        for doc_id in doc_ids:
            ids = [r[0] for r in conn.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
            if ids:
                marks = ",".join("?" * len(ids))
                stored = conn.execute(f"SELECT terms FROM chunks_fts WHERE rowid IN ({marks})", ids)
                _count_terms(conn, [row[0] for row in stored], -1)
                conn.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", ids)
                conn.execute(f"DELETE FROM chunks WHERE id IN ({marks})", ids)
                if self._graph.graph is not None:
                    conn.executemany("INSERT INTO tombstones (id) VALUES (?)", [(i,) for i in ids])
                gone.extend(ids)
            conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        return np.array(gone, dtype=np.int64)

    def _forget(self, ids: np.ndarray) -> None:
        if len(ids):
            self._vectors.remove(ids)
            self._graph.remove(ids)

    def _maybe_build_or_checkpoint(self) -> None:
        if self._graph.graph is None and self._vectors.live >= self._index.hnsw_threshold:
            self._graph.build(*self._vectors.live_rows(), mark=self._watermark())
            self._checkpoint()
        elif self._graph.unsaved >= GRAPH_CHECKPOINT_OPS:
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Save the graph with what it contains in its name, then drop replayed tombstones."""
        mark = self._watermark()
        self._graph.save(mark)
        self._conn.execute("DELETE FROM tombstones WHERE seq <= ?", (mark.max_seq,))

    def _watermark(self) -> Watermark:
        seqs = dict(self._conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
        return Watermark(int(seqs.get("chunks", 0)), int(seqs.get("tombstones", 0)))

    def _transaction(self):
        return _Transaction(self._conn)

    # -- reading --------------------------------------------------------------------------
    def document_hashes(self, origin: str | None = None) -> Mapping[str, str]:
        with self._lock:
            if origin is None:
                rows = self._conn.execute("SELECT doc_id, content_hash FROM documents")
            else:
                rows = self._conn.execute(
                    "SELECT doc_id, content_hash FROM documents WHERE origin = ?", (origin,)
                )
            return dict(rows.fetchall())

    def search(self, request: SearchRequest) -> list[SearchHit]:
        wanted = _filter_codes(request.filters)
        candidates = max(self._retrieval.candidates, request.k)
        with self._lock:
            self._follow_other_writers()
            lexical: list[tuple[int, float]] = []
            dense: list[tuple[int, float]] = []
            if request.mode in ("bm25", "hybrid"):
                lexical = self._lexical(request.text, candidates, request.filters)
            if request.mode in ("dense", "hybrid"):
                dense = self._dense(request.vector, candidates, wanted)
            if request.mode == "bm25":
                ranked = lexical
            elif request.mode == "dense":
                ranked = dense
            else:
                ranked = self._fuse(lexical, dense, request.lexical_weight)
            return self._hits(ranked[: request.k], dict(lexical), dict(dense))

    def _fuse(self, lexical, dense, lexical_weight: float | None) -> list[tuple[int, float]]:
        if lexical_weight is None:
            weights = (self._retrieval.lexical_weight, self._retrieval.dense_weight)
        else:  # per-request override: dense gets the rest
            weights = (lexical_weight, 1.0 - lexical_weight)
        if self._retrieval.fusion == "rrf":
            return rrf_fuse((lexical, dense), weights, self._retrieval.rrf_k)
        return minmax_fuse((lexical, dense), weights)

    def _lexical(
        self, text: str, limit: int, filters: Mapping[str, str]
    ) -> list[tuple[int, float]]:
        terms = self._affordable(query_terms(text))
        if not terms:
            return []
        match = " OR ".join(f'"{term}"' for term in terms)
        where = "".join(f" AND c.{key} = ?" for key in filters)
        join = " JOIN chunks c ON c.id = f.rowid" if filters else ""
        rows = self._conn.execute(
            # bm25() is lower-is-better; negate to the usual positive BM25 score
            f"SELECT f.rowid, -bm25(chunks_fts) AS s FROM chunks_fts f{join} "
            f"WHERE chunks_fts MATCH ?{where} ORDER BY s DESC, f.rowid LIMIT ?",
            (match, *filters.values(), limit),
        ).fetchall()
        return [(row_id, float(score)) for row_id, score in rows]

    def _affordable(self, terms: list[str]) -> list[str]:
        """The rarest indexed terms whose postings fit the budget (see LEXICAL_MAX_POSTINGS)."""
        if not terms:
            return []
        marks = ",".join("?" * len(terms))
        frequencies = self._conn.execute(
            f"SELECT term, df FROM term_df WHERE term IN ({marks}) AND df > 0", terms
        ).fetchall()
        kept: list[str] = []
        spent = 0
        for term, frequency in sorted(frequencies, key=lambda row: (row[1], row[0])):
            if kept and spent + frequency > self._max_postings:
                break
            kept.append(term)
            spent += frequency
        return kept

    def _dense(
        self, vector: list[float] | None, limit: int, wanted: dict[int, str]
    ) -> list[tuple[int, float]]:
        query = self._query_vector(vector)
        mask = self._vectors.mask(wanted) if wanted else None
        eligible = self._vectors.live if mask is None else int(mask.sum())
        found = None
        if self._graph.graph is not None and eligible >= self._index.hnsw_threshold:
            allowed = None if mask is None else self._allowed(mask)
            found = self._graph.search(query, min(limit, eligible), allowed)
        if found is None:  # small (or small filtered) sets: exact is fast and exact
            found = self._vectors.exact(query, limit, mask)
        ids, scores = found
        order = np.lexsort((ids, -scores))
        return [(int(i), float(s)) for i, s in zip(ids[order], scores[order], strict=True)]

    def _allowed(self, mask: np.ndarray):
        """hnswlib's filter callback: a byte per chunk id, 1 where the filters match."""
        size = self._vectors.size
        flags = np.zeros(int(self._vectors.ids[size - 1]) + 1, dtype=np.uint8)
        flags[self._vectors.ids[:size][mask]] = 1
        return flags.tobytes().__getitem__

    def _query_vector(self, vector: list[float] | None) -> np.ndarray:
        if vector is None:
            raise InvalidInput("dense and hybrid search need a query vector")
        query = np.asarray(vector, dtype=np.float32)
        if query.shape != (self.dimension,):
            raise InvalidInput(
                f"the query vector has {query.size} dimensions; the index has {self.dimension}"
            )
        norm = float(np.linalg.norm(query))
        if not np.isfinite(norm) or norm == 0:
            raise InvalidInput("the query vector is zero or not finite")
        return query / norm

    def _hits(self, ranked, lexical: dict[int, float], dense: dict[int, float]) -> list[SearchHit]:
        if not ranked:
            return []
        ids = [row_id for row_id, _ in ranked]
        rows = self._conn.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids
        ).fetchall()
        chunks = {row[0]: _chunk(row) for row in rows}
        return [
            SearchHit(
                chunk=chunks[row_id],
                score=score,
                lexical_score=lexical.get(row_id),
                dense_score=dense.get(row_id),
            )
            for row_id, score in ranked
            if row_id in chunks
        ]

    def stats(self) -> IndexStats:
        with self._lock:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            sources = dict(
                self._conn.execute("SELECT source, count(*) FROM documents GROUP BY source")
            )
            return IndexStats(
                documents=sum(sources.values()),
                chunks=self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0],
                embedder=meta["embedder"],
                dimension=int(meta["dimension"]),
                sources=sources,
                size_bytes=sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file()),
                location=str(self.directory),
            )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._graph.graph is not None and self._graph.unsaved:
                self._checkpoint()
            self._conn.close()
            self._closed = True

    def __enter__(self) -> LocalChunkIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


_INSERT_CHUNK = (
    f"INSERT INTO chunks (chunk_id, doc_id, position, text, title, url, metadata, "
    f"{', '.join(FILTER_KEYS)}, vector) VALUES (?, ?, ?, ?, ?, ?, ?, "
    f"{', '.join('?' * len(FILTER_KEYS))}, ?)"
)


def _insert(
    conn: sqlite3.Connection,
    doc: Document,
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    origin: str,
    content_hash: str | None,
) -> list[tuple[int, tuple[str | None, ...]]]:
    """Insert a document, its chunks and their full-text rows; returns (row id, filter values)."""
    conn.execute(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            doc.id,
            doc.source,
            origin,
            content_hash or doc.content_hash(),
            doc.title,
            doc.url,
            json.dumps(doc.metadata, ensure_ascii=False),
        ),
    )
    rows = []
    for chunk, vector in zip(chunks, vectors, strict=True):
        attrs = tuple(chunk.filter_value(key) for key in FILTER_KEYS)
        metadata = json.dumps(chunk.metadata, ensure_ascii=False)
        row_id = conn.execute(
            _INSERT_CHUNK,
            (
                chunk.id,
                doc.id,
                chunk.position,
                chunk.text,
                chunk.title,
                chunk.url,
                metadata,
                *attrs,
                vector.astype("<f4").tobytes(),
            ),
        ).lastrowid
        assert row_id is not None  # an INSERT into a rowid table always sets it
        terms = index_text(chunk.text)
        conn.execute("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", (row_id, terms))
        _count_terms(conn, [terms], +1)
        rows.append((row_id, attrs))
    return rows


def _count_terms(conn: sqlite3.Connection, texts: Sequence[str], delta: int) -> None:
    """Add `delta` to the document frequency of each distinct term of each text."""
    conn.executemany(
        "INSERT INTO term_df VALUES (?1, ?2) ON CONFLICT (term) DO UPDATE SET df = df + ?2",
        [(term, delta) for text in texts for term in set(text.split())],
    )


def _filter_codes(filters: Mapping[str, str]) -> dict[int, str]:
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        keys = ", ".join(FILTER_KEYS)
        raise InvalidInput(f"unknown filter key {unknown[0]!r}; use one of: {keys}")
    return {FILTER_KEYS.index(key): value for key, value in filters.items()}


def _chunk(row: tuple) -> Chunk:
    row_id, chunk_id, doc_id, position, text, title, url, metadata, source = row
    return Chunk(
        id=chunk_id,
        doc_id=doc_id,
        position=position,
        text=text,
        source=source,
        title=title,
        url=url,
        metadata=json.loads(metadata),
    )


def _create(conn: sqlite3.Connection, embedder_name: str, dimension: int) -> None:
    with _Transaction(conn):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("format", FORMAT),
                ("version", VERSION),
                ("embedder", embedder_name),
                ("dimension", str(dimension)),
            ],
        )


def _probe(db_path: Path, embedder_name: str, dimension: int) -> None:
    """Check, read-only, that `db_path` is an intact kass index built for this embedder."""
    with open(db_path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise CorruptIndex(f"{db_path} is not a kass index (not an SQLite database)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = (int.from_bytes(header[i : i + 4], "big") for i in (28, 24, 92))
    if counter == valid_for and pages * page_size > db_path.stat().st_size:
        raise CorruptIndex(f"{db_path} is truncated ({db_path.stat().st_size} bytes)")
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            meta = (
                dict(conn.execute("SELECT key, value FROM meta").fetchall())
                if _has_table(conn, "meta")
                else {}
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise CorruptIndex(f"{db_path} is damaged ({_one_line(error)})") from error
    if meta.get("format") != FORMAT:
        raise CorruptIndex(f"{db_path} is an SQLite database but not a kass index")
    if meta.get("version") != VERSION:
        raise CorruptIndex(f"{db_path} has index format {meta.get('version')}; expected {VERSION}")
    if (meta.get("embedder"), meta.get("dimension")) != (embedder_name, str(dimension)):
        raise IndexMismatch(
            f"the index at {db_path.parent} was built with embedder {meta.get('embedder')!r} "
            f"(dimension {meta.get('dimension')}) but {embedder_name!r} (dimension {dimension}) "
            "is configured; re-ingest into a new index directory or configure the original embedder"
        )


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
