"""The vector side of the local index: cosine k-NN over unit vectors, with metadata pre-filters.

Vectors live in memory, rows sorted by chunk id (ids only grow, so appends keep the order and
lookups are a binary search). Search is exact (one matrix-vector product) below
`hnsw_threshold` rows; above it an HNSW graph (hnswlib) answers. The graph is a *cache*: SQLite
is the source of truth, the graph file on disk carries in its name the last chunk id and the
last tombstone it includes, and `HnswCache.reconcile` brings it up to date on open.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kass.settings import IndexSettings

log = logging.getLogger(__name__)

NO_CODE = -1  # a chunk without a value for a filter key


class VectorStore:
    """Growable arrays: chunk ids, unit vectors, liveness, and per-row filter-value codes."""

    def __init__(self, dimension: int, filter_keys: int) -> None:
        self.dimension = dimension
        self.ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, dimension), dtype=np.float32)
        self.alive = np.zeros(0, dtype=bool)
        self.codes = np.zeros((0, filter_keys), dtype=np.int32)
        self.size = 0  # rows used (alive or not)
        self.live = 0
        self._values: list[dict[str, int]] = [{} for _ in range(filter_keys)]

    def append(self, ids: np.ndarray, vectors: np.ndarray, attrs: list[tuple[str | None, ...]]):
        n = len(ids)
        if n == 0:
            return
        if self.size and ids[0] <= self.ids[self.size - 1]:
            raise ValueError("chunk ids must be appended in increasing order")
        self._reserve(self.size + n)
        end = self.size + n
        self.ids[self.size : end] = ids
        self.vectors[self.size : end] = vectors
        self.alive[self.size : end] = True
        self.codes[self.size : end] = [[self.code(k, v) for k, v in enumerate(r)] for r in attrs]
        self.size, self.live = end, self.live + n

    def remove(self, ids: np.ndarray) -> None:
        rows = self.rows_of(ids)
        rows = rows[self.alive[rows]]
        self.alive[rows] = False
        self.live -= len(rows)
        if self.size > 1024 and self.live < self.size // 2:
            self._compact()

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Rows holding `ids`; ids not present are skipped."""
        ids = np.asarray(ids, dtype=np.int64)
        rows = np.searchsorted(self.ids[: self.size], ids)
        inside = rows < self.size
        rows, ids = rows[inside], ids[inside]
        return rows[self.ids[rows] == ids]

    def code(self, key: int, value: str | None) -> int:
        if value is None:
            return NO_CODE
        return self._values[key].setdefault(value, len(self._values[key]))

    def mask(self, wanted: dict[int, str]) -> np.ndarray:
        """Live rows whose filter values equal all of `wanted` (key index -> value)."""
        mask = self.alive[: self.size].copy()
        for key, value in wanted.items():
            code = self._values[key].get(value)
            if code is None:
                return np.zeros(self.size, dtype=bool)
            mask &= self.codes[: self.size, key] == code
        return mask

    def exact(self, query: np.ndarray, k: int, mask: np.ndarray | None = None):
        """Top-k (ids, cosines) by brute force over the live (and `mask`ed) rows."""
        rows = np.flatnonzero(self.alive[: self.size] if mask is None else mask)
        if len(rows) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        dense = len(rows) == self.size  # skip the gather copy when nothing is excluded
        scores = self.vectors[: self.size] @ query if dense else self.vectors[rows] @ query
        k = min(k, len(rows))
        top = np.argpartition(-scores, k - 1)[:k]
        ids = self.ids[rows[top]]
        order = np.lexsort((ids, -scores[top]))  # score desc, then id: deterministic
        return ids[order], scores[top][order]

    def live_rows(self) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(self.alive[: self.size])
        return self.ids[rows], self.vectors[rows]

    def _reserve(self, needed: int) -> None:
        if needed <= len(self.ids):
            return
        capacity = max(needed, 2 * len(self.ids), 1024)
        self.ids = _grow(self.ids, capacity)
        self.vectors = _grow(self.vectors, capacity)
        self.alive = _grow(self.alive, capacity)
        self.codes = _grow(self.codes, capacity)

    def _compact(self) -> None:
        keep = np.flatnonzero(self.alive[: self.size])
        self.ids = self.ids[keep]
        self.vectors = self.vectors[keep]
        self.codes = self.codes[keep]
        self.alive = np.ones(len(keep), dtype=bool)
        self.size = self.live = len(keep)


def _grow(array: np.ndarray, capacity: int) -> np.ndarray:
    grown = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


@dataclass(frozen=True)
class Watermark:
    """What a saved graph contains: chunks with id <= max_id, tombstones with seq <= max_seq."""

    max_id: int
    max_seq: int


_FILE = re.compile(r"hnsw-(\d+)-(\d+)-(\d+)\.bin")


class HnswCache:
    """An hnswlib graph over the live vectors, saved as `hnsw-<max_id>-<max_seq>-<bytes>.bin`.

    The byte count in the name detects a truncated file (hnswlib itself would crash on one);
    any unreadable graph is rebuilt, never reported: it holds nothing SQLite does not.
    """

    def __init__(self, directory: Path, dimension: int, settings: IndexSettings) -> None:
        self.directory = directory
        self.dimension = dimension
        self.settings = settings
        self.graph = None
        self.watermark = Watermark(0, 0)
        self.unsaved = 0  # operations applied since the last save

    # -- lifecycle ------------------------------------------------------------------------
    def saved(self) -> tuple[Path, Watermark] | None:
        found = []
        for path in self.directory.glob("hnsw-*.bin"):
            match = _FILE.fullmatch(path.name)
            if match and path.stat().st_size == int(match[3]):
                found.append((Watermark(int(match[1]), int(match[2])), path))
        if not found:
            return None
        mark, path = max(found, key=lambda item: (item[0].max_id, item[0].max_seq))
        return path, mark

    def load(self, path: Path, mark: Watermark, capacity: int) -> bool:
        import hnswlib

        graph = hnswlib.Index(space="ip", dim=self.dimension)
        try:
            graph.load_index(str(path), max_elements=capacity, allow_replace_deleted=True)
        except (RuntimeError, ValueError) as error:
            log.warning("rebuilding the vector graph: %s is unreadable (%s)", path, error)
            return False
        self.graph, self.watermark, self.unsaved = graph, mark, 0
        return True

    def build(self, ids: np.ndarray, vectors: np.ndarray, mark: Watermark) -> None:
        import hnswlib

        graph = hnswlib.Index(space="ip", dim=self.dimension)
        graph.init_index(
            max_elements=max(2 * len(ids), 1024),
            M=self.settings.hnsw_m,
            ef_construction=self.settings.hnsw_ef_construction,
            allow_replace_deleted=True,
        )
        if len(ids):
            graph.add_items(vectors, ids, num_threads=-1)
        self.graph, self.watermark, self.unsaved = graph, mark, len(ids) or 1

    def save(self, mark: Watermark) -> None:
        """Write atomically (temp file, fsync, rename), then drop older graph files."""
        assert self.graph is not None
        tmp = self.directory / "hnsw.tmp"
        self.graph.save_index(str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        final = self.directory / f"hnsw-{mark.max_id}-{mark.max_seq}-{tmp.stat().st_size}.bin"
        os.replace(tmp, final)
        _fsync_dir(self.directory)
        for path in self.directory.glob("hnsw-*.bin"):
            if path != final:
                path.unlink(missing_ok=True)
        self.watermark, self.unsaved = mark, 0

    def drop(self) -> None:
        self.graph = None
        self.unsaved = 0
        for path in self.directory.glob("hnsw*"):
            path.unlink(missing_ok=True)

    # -- changes --------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self.graph is None or len(ids) == 0:
            return
        needed = self.graph.get_current_count() + len(ids)
        if needed > self.graph.get_max_elements():
            self.graph.resize_index(max(needed, 2 * self.graph.get_max_elements()))
        # replace_deleted reuses the slots of deleted chunks, so re-ingesting does not grow it
        self.graph.add_items(vectors, ids, num_threads=-1, replace_deleted=True)
        self.unsaved += len(ids)

    def remove(self, ids: np.ndarray) -> None:
        if self.graph is None:
            return
        for chunk_id in ids.tolist():
            try:
                self.graph.mark_deleted(chunk_id)
            except RuntimeError:  # not in the graph, or already deleted: nothing to undo
                continue
            self.unsaved += 1

    # -- search ---------------------------------------------------------------------------
    def search(
        self, query: np.ndarray, k: int, allowed: Callable[[int], bool] | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Approximate top-k (ids, cosines); None when the graph cannot return k (caller goes
        exact)."""
        assert self.graph is not None
        self.graph.set_ef(max(self.settings.hnsw_ef_search, k))
        try:
            labels, distances = self.graph.knn_query(query, k=k, num_threads=1, filter=allowed)
        except RuntimeError:  # fewer than k reachable (tiny or heavily deleted graph)
            return None
        return labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
