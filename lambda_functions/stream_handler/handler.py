"""stream_handler: the WebSocket API (answers streamed as they are written, docs/api/streaming.md).

Routes by `requestContext.routeKey`: `$connect` remembers the caller, `$disconnect` forgets the
connection, `$default` answers a frame (a chat turn: deltas, then `done` or `error`) through the
management API. The same function is the `$connect` REQUEST authorizer (API key in the query
string). Thin: the use cases are in `kass.stream`; adapters are built on first use.
"""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from kass.observability import logger, metrics
from kass.settings import load_settings
from kass.stream import session
from kass.stream.authorizer import authorize, is_authorizer_event
from kass.wiring import Runtime

runtime = Runtime(load_settings())
OK = {"statusCode": 200}


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
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
    sender = runtime.frame_sender(request_context)
    outcome = session.handle_message(
        session.message_body(event),
        connection_id=request_context["connectionId"],
        sender=sender,
        runtime=runtime,
        interval_seconds=runtime.settings.stream.flush_interval_ms / 1000,
    )
    metrics.add_metric(name="StreamFrames", unit=MetricUnit.Count, value=outcome.frames)
    if outcome.kind == "error":
        metrics.add_metric(name="StreamErrors", unit=MetricUnit.Count, value=1)
    if sender.gone:
        metrics.add_metric(name="StreamClientGone", unit=MetricUnit.Count, value=1)
    return OK
