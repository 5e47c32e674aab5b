"""The document processor use case: bring the index in line with one raw object.

Events only say *which* object changed; the processor then reads the object's current state
and reconciles: present → (re)index it, absent → delete it. So a duplicated event, or a
Deleted arriving before an older Created, still ends with one correct copy: the last state of
the bucket wins, whatever the order of delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from kass.chat.cache import INDEX_VERSION
from kass.errors import InvalidInput
from kass.models import Document
from kass.raw_keys import parse_key

if TYPE_CHECKING:
    from kass.wiring import Runtime

RAW_ORIGIN = "raw-store"  # origin of documents indexed from the raw store (scopes pruning)
OBJECT_EVENTS = ("Object Created", "Object Deleted")


class ObjectChange(BaseModel):
    """What the processor needs from an EventBridge S3 notification."""

    event_id: str
    detail_type: str
    bucket: str
    key: str


Action = Literal["indexed", "unchanged", "deleted", "absent"]


class Outcome(BaseModel):
    key: str
    doc_id: str
    action: Action


def parse_object_change(body: str | dict[str, Any]) -> ObjectChange:
    """Validate an EventBridge "Object Created/Deleted" event of S3; InvalidInput otherwise."""
    from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

    try:
        if isinstance(body, str):
            event = S3EventNotificationEventBridgeModel.model_validate_json(body)
        else:
            event = S3EventNotificationEventBridgeModel.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"not an S3 EventBridge event: {where}: {first['msg']}") from None
    if event.source != "aws.s3" or event.detail_type not in OBJECT_EVENTS:
        raise InvalidInput(
            f"unexpected event {event.source!r} / {event.detail_type!r}; "
            f"expected aws.s3 {' or '.join(OBJECT_EVENTS)}"
        )
    return ObjectChange(
        event_id=event.id,
        detail_type=event.detail_type,
        bucket=event.detail.bucket.name,
        key=event.detail.object.key,
    )


def process_change(change: ObjectChange, *, runtime: Runtime) -> Outcome:
    store = runtime.raw_store
    if change.bucket != store.location:
        raise InvalidInput(
            f"event for bucket {change.bucket!r}; this processor reads {store.location!r}"
        )
    return reconcile_keys([change.key], runtime=runtime)[0]


def reconcile_keys(keys: Sequence[str], *, runtime: Runtime) -> list[Outcome]:
    """Bring the index in line with the raw objects at `keys` (one outcome per key, in order).

    The documents still present are embedded and written in one pass (what a sync of thousands
    of documents needs); the absent ones are deleted.
    """
    from kass.ingest.pipeline import ingest  # numpy and the chunker: not needed at cold start

    store = runtime.raw_store
    present: dict[str, Document] = {}
    absent: list[str] = []
    for key in dict.fromkeys(keys):
        source, doc_id = parse_key(key)
        document = store.get(key)
        if document is None:
            absent.append(key)
            continue
        if (document.source, document.id) != (source, doc_id):
            raise InvalidInput(
                f"{key} holds document {document.source}/{document.id}; "
                "the key must be raw/<source>/<id>.json of the document inside"
            )
        present[key] = document

    actions: dict[str, Action] = {}
    for key in absent:
        deleted = runtime.index.delete_documents([parse_key(key)[1]])
        actions[key] = "deleted" if deleted else "absent"
    if present:
        before = runtime.index.document_hashes(RAW_ORIGIN)
        ingest(
            present.values(),
            index=runtime.index,
            embedder=runtime.embedder,
            chunker=runtime.chunker,
            origin=RAW_ORIGIN,
        )
        after = runtime.index.document_hashes(RAW_ORIGIN)
        for key, document in present.items():
            same = before.get(document.id) == after.get(document.id)
            actions[key] = "unchanged" if same else "indexed"
    if any(action in ("indexed", "deleted") for action in actions.values()):
        runtime.checkpoints.increment(INDEX_VERSION)  # invalidates cached answers
    return [
        Outcome(key=key, doc_id=parse_key(key)[1], action=actions[key])
        for key in dict.fromkeys(keys)
    ]
