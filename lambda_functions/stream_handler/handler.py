"""stream_handler: the WebSocket API (answers streamed as they are written, docs/api/streaming.md).

Routes by `requestContext.routeKey`: `$connect` remembers the caller, `$disconnect` forgets the
connection, `$default` answers a frame (a chat turn: deltas, then `done` or `error`) through the
management API. The same function is the `$connect` REQUEST authorizer (API key in the query
string). In AWS `$default` only hands the message to an asynchronous invocation of this function
(a `kass_stream_job`), which runs the turn once per message id, because API Gateway waits at
most 29 s for the integration; locally the turn runs inline (kass.stream.handoff). Thin: the use
cases are in `kass.stream`; adapters are built on first use.
"""

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from kass.dispatch import LambdaSelfInvoker
from kass.observability import logger, metrics
from kass.settings import load_settings
from kass.stream import session
from kass.stream.authorizer import authorize, is_authorizer_event
from kass.stream.handoff import TurnJob, TurnOutcome, TurnRunner, hand_off
from kass.wiring import Runtime

runtime = Runtime(load_settings())
OK = {"statusCode": 200}


def answer(job: TurnJob) -> TurnOutcome:
    """The turn itself: frames to the connection, metrics; never raises for product errors."""
    sender = runtime.frame_sender(job.request_context())
    outcome = session.handle_message(
        job.message(),
        connection_id=job.connection_id,
        sender=sender,
        runtime=runtime,
        interval_seconds=runtime.settings.stream.flush_interval_ms / 1000,
    )
    metrics.add_metric(name="StreamFrames", unit=MetricUnit.Count, value=outcome.frames)
    if outcome.kind == "error":
        metrics.add_metric(name="StreamErrors", unit=MetricUnit.Count, value=1)
    if sender.gone:
        metrics.add_metric(name="StreamClientGone", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome.kind, "frames": outcome.frames, "client_gone": sender.gone}


@cache
def turns() -> TurnRunner:
    """The idempotent runner of handed-off turns, built on the first job (its table client)."""
    return TurnRunner(runtime, answer)


@cache
def _lambda_client() -> Any:
    return runtime.boto_client("lambda")


def _dispatcher(context: LambdaContext) -> Any:
    if runtime.is_aws:
        return LambdaSelfInvoker(_lambda_client(), context.invoked_function_arn)
    return answer  # kass serve: no 29 s limit, no asynchronous invoke


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = TurnJob.in_event(event)
    if job is not None:
        return turns()(job, context)
    if is_authorizer_event(event):
        return authorize(event)
    request_context = event["requestContext"]
    route = request_context.get("routeKey")
    if route == "$connect":
        session.connect(request_context, runtime=runtime)
        metrics.add_metric(name="StreamConnections", unit=MetricUnit.Count, value=1)
        return OK
    if route == "$disconnect":
        session.disconnect(request_context["connectionId"], runtime=runtime)
        return OK
    job = TurnJob.of(event)
    if not hand_off(job, _dispatcher(context), lambda: runtime.frame_sender(request_context)):
        metrics.add_metric(name="StreamErrors", unit=MetricUnit.Count, value=1)
    return OK
