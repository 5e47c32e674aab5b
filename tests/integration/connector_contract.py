"""The connector contract, as checks any connector's tests can run (issue 5's connectors too).

`Connector.fetch(None)` is a full load; `fetch(checkpoint)` resumes. Saving each batch's
checkpoint after storing its documents must never lose a document: a run interrupted after
any batch and resumed from that batch's checkpoint ends with everything a full load has.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kass.ports import Connector


def full_load(connector: Connector) -> dict[str, dict]:
    documents: dict[str, dict] = {}
    for batch in connector.fetch(None):
        for document in batch.documents:
            documents[document.id] = document.model_dump(mode="json")
    return documents


def check_full_load(connector: Connector) -> None:
    """Every document carries the connector's source; every checkpoint survives JSON."""
    batches = list(connector.fetch(None))
    assert batches, "a full load of a non-empty source yields at least one batch"
    for batch in batches:
        assert json.loads(json.dumps(batch.checkpoint)) == batch.checkpoint
        for document in batch.documents:
            assert document.source == connector.source
    ids = {d.id for b in batches for d in b.documents}
    assert ids <= set(connector.live_ids()), "every fetched document is live"


def check_resume_from_every_checkpoint(make: Callable[[], Connector]) -> None:
    """Interrupt after batch i, resume from its checkpoint: nothing a full load has is missing."""
    expected = full_load(make())
    batches = list(make().fetch(None))
    for stop in range(len(batches)):
        seen = {d.id: d.model_dump(mode="json") for b in batches[: stop + 1] for d in b.documents}
        for batch in make().fetch(batches[stop].checkpoint):
            seen.update({d.id: d.model_dump(mode="json") for d in batch.documents})
        assert seen == expected, f"resuming after batch {stop} lost or changed documents"


def check_incremental_after_edit(connector: Connector, edit: Callable[[], str]) -> None:
    """After a full load, an edit (returning the edited id) is seen by an incremental poll."""
    last = None
    for batch in connector.fetch(None):
        last = batch.checkpoint
    edited = edit()
    polled = {d.id for batch in connector.fetch(last) for d in batch.documents}
    assert edited in polled
