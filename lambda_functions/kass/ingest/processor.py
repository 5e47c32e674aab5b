"""The document processor use case: bring the index in line with one raw object.

Events only say *which* object changed; the processor then reads the object's current state
and reconciles: present → (re)index it, absent → delete it. So a duplicated event, or a
Deleted arriving before an older Created, still ends with one correct copy: the last state of
the bucket wins, whatever the order of delivery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from kass.chat.cache import INDEX_VERSION
from kass.errors import InvalidInput
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


class Outcome(BaseModel):
    key: str
    doc_id: str
    action: Literal["indexed", "unchanged", "deleted", "absent"]


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
    from kass.ingest.pipeline import ingest  # numpy and the chunker: not needed at cold start

    source, doc_id = parse_key(change.key)
    document = store.get(change.key)
    if document is None:
        deleted = runtime.index.delete_documents([doc_id])
        outcome = Outcome(key=change.key, doc_id=doc_id, action="deleted" if deleted else "absent")
    else:
        if (document.source, document.id) != (source, doc_id):
            raise InvalidInput(
                f"{change.key} holds document {document.source}/{document.id}; "
                "the key must be raw/<source>/<id>.json of the document inside"
            )
        report = ingest(
            [document],
            index=runtime.index,
            embedder=runtime.embedder,
            chunker=runtime.chunker,
            origin=RAW_ORIGIN,
        )
        outcome = Outcome(
            key=change.key, doc_id=doc_id, action="unchanged" if report.unchanged else "indexed"
        )
    if outcome.action in ("indexed", "deleted"):
        runtime.checkpoints.increment(INDEX_VERSION)  # invalidates cached answers
    return outcome
