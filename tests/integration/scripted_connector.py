"""A source system in memory, for tests of the connector frame (data_fetcher, the contract)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kass.models import Document
from kass.ports import ConnectorBatch

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class ScriptedSource:
    """A source system in memory: items with update times, editable and deletable by tests."""

    source = "scripted"

    def __init__(self, count: int = 7, batch_size: int = 2) -> None:
        self.items = {
            f"item-{n}": {"text": f"item {n} body", "updated": T0 + timedelta(minutes=n)}
            for n in range(count)
        }
        self.batch_size = batch_size
        self.fetches = 0

    def edit(self, item_id: str, text: str) -> str:
        latest = max(item["updated"] for item in self.items.values())
        self.items[item_id] = {"text": text, "updated": latest + timedelta(minutes=1)}
        return item_id

    def fetch(self, checkpoint: Mapping[str, Any] | None) -> Iterator[ConnectorBatch]:
        self.fetches += 1
        since = datetime.fromisoformat(checkpoint["updated_after"]) if checkpoint else None
        ordered = sorted(self.items.items(), key=lambda pair: pair[1]["updated"])
        fresh = [(i, item) for i, item in ordered if since is None or item["updated"] > since]
        for start in range(0, len(fresh), self.batch_size):
            chunk = fresh[start : start + self.batch_size]
            yield ConnectorBatch(
                documents=[
                    Document(
                        id=i,
                        source=self.source,
                        title=i,
                        text=item["text"],
                        updated_at=item["updated"],
                    )
                    for i, item in chunk
                ],
                checkpoint={"updated_after": chunk[-1][1]["updated"].isoformat()},
            )

    def live_ids(self, stored: Iterable[str] = ()) -> list[str]:
        return list(self.items)
