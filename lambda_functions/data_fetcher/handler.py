"""data_fetcher: the scheduled entry point that runs one connector into the raw bucket.

The EventBridge schedule's constant input names the connector: `{"connector": "gitlab"}`
(`"full": true` forces a full load). The run stops a minute before the Lambda timeout with its
checkpoint saved, and the next schedule resumes from it.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kass.connectors import make_connector
from kass.errors import InvalidInput
from kass.ingest.fetcher import run_connector
from kass.observability import logger, make_tracer, metrics
from kass.settings import load_settings
from kass.wiring import Runtime

runtime = Runtime(load_settings())
tracer = make_tracer()


class FetchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: str = Field(min_length=1)
    full: bool = False


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Bad schedule input is reported, not raised: a retry cannot fix it. Source or network
    errors raise, so Lambda's retries and the on-failure destination apply."""
    try:
        request = _request(event)
        connector = make_connector(request.connector, runtime.settings)
    except InvalidInput as error:
        logger.error("bad schedule input", extra={"error": str(error)})
        metrics.add_metric(name="FetchRejected", unit=MetricUnit.Count, value=1)
        return {"error": "invalid_input", "message": str(error)}
    logger.append_keys(connector=request.connector)
    report = run_connector(
        connector,
        raw_store=runtime.raw_store,
        checkpoints=runtime.checkpoints,
        full=request.full,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    metrics.add_dimension(name="connector", value=request.connector)
    metrics.add_metric(
        name="DocumentsFetched", unit=MetricUnit.Count, value=report.documents_written
    )
    metrics.add_metric(name="DocumentsDeleted", unit=MetricUnit.Count, value=report.deleted)
    logger.info("fetch finished", extra=report.model_dump())
    return report.model_dump()


def _request(event: Any) -> FetchRequest:
    try:
        return FetchRequest.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "input"
        raise InvalidInput(f"schedule input {where}: {first['msg']}") from None
