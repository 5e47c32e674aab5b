"""A document processor for the watcher tests: the real one's shape, recording what it gets.

SQS records carry EventBridge S3 events (parsed with Powertools' model); a key containing
"fail" fails its record, so tests can follow redelivery and the dead-letter file.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

processor = BatchProcessor(event_type=EventType.SQS)
received: list[dict[str, Any]] = []
batches: list[int] = []
crash_next = False  # set by a test: the next invocation raises (a function error)


def record_handler(record: SQSRecord) -> None:
    event = parse(event=record.body, model=S3EventNotificationEventBridgeModel)
    received.append(
        {
            "detail_type": event.detail_type,
            "bucket": event.detail.bucket.name,
            "key": event.detail.object.key,
            "size": event.detail.object.size,
            "etag": event.detail.object.etag,
            "message_id": record.message_id,
            "receive_count": int(record.attributes.approximate_receive_count),
        }
    )
    if "fail" in event.detail.object.key:
        raise ValueError(f"cannot process {event.detail.object.key}")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    global crash_next
    batches.append(len(event["Records"]))
    if crash_next:
        crash_next = False
        raise RuntimeError("function error")
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
