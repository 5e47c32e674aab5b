"""The data fetcher use case: run one connector from its checkpoint into the raw store.

Each batch's documents are written before its checkpoint is saved, so a crash or a timeout
repeats at most one batch, never skips one. Deletions are synced only after a complete run
(the list of live ids is trustworthy only then): raw objects whose ids the source no longer has
are deleted, and the processor's Object Deleted events take them out of the index.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from kass.ports import CheckpointStore, Connector, RawDocumentStore
from kass.raw_keys import doc_key, parse_key

TimeLeft = Callable[[], float]  # seconds left before the function is stopped


class FetchReport(BaseModel):
    source: str
    full: bool
    batches: int = 0
    documents_written: int = 0
    deleted: int = 0
    complete: bool = False  # False: stopped early to beat the timeout; the next run resumes


def checkpoint_name(source: str) -> str:
    return f"connector/{source}"


def run_connector(
    connector: Connector,
    *,
    raw_store: RawDocumentStore,
    checkpoints: CheckpointStore,
    full: bool = False,
    time_left: TimeLeft | None = None,
    reserve_seconds: float = 60.0,
) -> FetchReport:
    source = connector.source
    name = checkpoint_name(source)
    report = FetchReport(source=source, full=full)
    checkpoint = None if full else checkpoints.load(name)
    for batch in connector.fetch(checkpoint):
        for document in batch.documents:
            raw_store.put(document)
        checkpoints.save(name, batch.checkpoint)
        report.batches += 1
        report.documents_written += len(batch.documents)
        if time_left is not None and time_left() < reserve_seconds:
            return report
    report.deleted = _sync_deletions(connector, raw_store)
    report.complete = True
    return report


def _sync_deletions(connector: Connector, raw_store: RawDocumentStore) -> int:
    stored = list(raw_store.keys(connector.source))
    live_ids = connector.live_ids(parse_key(key)[1] for key in stored)
    live = {doc_key(connector.source, doc_id) for doc_id in live_ids}
    gone = [key for key in stored if key not in live]
    for key in gone:
        raw_store.delete(key)
    return len(gone)
