"""document_processor: S3 Object Created/Deleted events (EventBridge → SQS) → index.

Each SQS record carries one EventBridge event. Records are processed one by one and failures
are reported per record (`batchItemFailures`), so one bad record is retried and finally sent to
the DLQ without holding back the rest. A record is processed once per EventBridge event id
(Powertools idempotency); even without that, processing is a reconciliation with the bucket's
current state, so duplicates and reordering cannot leave a wrong index (kass.ingest.processor).
"""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from kass.ingest.processor import ObjectChange, parse_object_change, process_change
from kass.observability import logger, metrics
from kass.settings import load_settings
from kass.wiring import Runtime

runtime = Runtime(load_settings())
# A batch whose records all fail is reported like any other, not raised: no Lambda error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def _idempotent_processing() -> tuple[Any, Any]:
    """The idempotent processing step and its config, built on first use: Powertools'
    idempotency module imports boto3 for its DynamoDB store, a fifth of this function's
    cold-start budget."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=3600)

    @idempotent_function(
        data_keyword_argument="change",
        persistence_store=runtime.idempotency_layer,
        config=config,
    )
    def process(change: ObjectChange) -> dict[str, Any]:
        return process_change(change, runtime=runtime).model_dump()

    return process, config


def record_handler(record: SQSRecord) -> dict[str, Any]:
    change = parse_object_change(record.body)
    logger.set_correlation_id(change.event_id)  # the EventBridge event, traceable end to end
    process, _ = _idempotent_processing()
    outcome = process(change=change)
    logger.info("processed", extra=outcome)
    metrics.add_metric(name=f"Documents_{outcome['action']}", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    _idempotent_processing()[1].register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
