"""A `$default` message handed to an asynchronous invocation (AWS), and run once there.

API Gateway waits at most 29 s for a WebSocket integration, and an agent turn can take longer.
So in AWS `$default` only queues the message as an asynchronous invocation of stream_handler
itself (kass.dispatch) and answers 200; that invocation runs the turn as `$default` did, its
frames going out through the management API, once per WebSocket message id whatever Lambda's
retries and duplicate deliveries. `kass serve` has neither the limit nor asynchronous invokes:
there the turn runs inline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

from kass.dispatch import InvocationJob, OncePerKey, job_key
from kass.observability import logger
from kass.ports import FrameSender
from kass.stream.protocol import error_frame, request_id_of
from kass.stream.session import message_body

if TYPE_CHECKING:
    from kass.wiring import Runtime

JOB_KEY = job_key("stream")
# Lambda delivers an asynchronous event within its maximum age (2 minutes, Terraform) plus the
# retries' runs; an hour covers any duplicate at the cost of one small record per message.
IDEMPOTENCY_SECONDS = 3600
NOT_HANDED_OFF = "kass cannot take a message now; send it again"


class TurnJob(InvocationJob):
    """What a turn needs of the `$default` event: where to send frames, the message's ids, and
    the frame as API Gateway gave it (a binary frame base64-encoded)."""

    key: ClassVar[str] = JOB_KEY

    connection_id: str
    domain_name: str
    stage: str
    message_id: str  # the idempotency key: one per client message, retries included
    request_id: str
    body: str | None = None
    is_base64_encoded: bool = False

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> TurnJob:
        context = event["requestContext"]
        return cls(
            connection_id=context["connectionId"],
            domain_name=context["domainName"],
            stage=context["stage"],
            # A message event always has a messageId; the request id is as unique, just in case.
            message_id=context.get("messageId") or context["requestId"],
            request_id=context["requestId"],
            body=event.get("body"),
            is_base64_encoded=bool(event.get("isBase64Encoded")),
        )

    def request_context(self) -> dict[str, Any]:
        """The event's `requestContext` fields the frame sender reads."""
        return {
            "connectionId": self.connection_id,
            "domainName": self.domain_name,
            "stage": self.stage,
            "messageId": self.message_id,
            "requestId": self.request_id,
        }

    def message(self) -> str | bytes | None:
        return message_body({"body": self.body, "isBase64Encoded": self.is_base64_encoded})


TurnOutcome = dict[str, Any]


def hand_off(
    job: TurnJob, dispatch: Callable[[TurnJob], None], sender: Callable[[], FrameSender]
) -> bool:
    """Queue the turn; if that fails, tell the client with a 503 frame (False) rather than
    leave it waiting for a turn that never starts."""
    try:
        dispatch(job)
    except Exception:
        logger.exception("stream message not handed off", extra={"message_id": job.message_id})
        sender().send(
            error_frame(
                request_id_of(job.message()),
                HTTPStatus.SERVICE_UNAVAILABLE,
                "unavailable",
                NOT_HANDED_OFF,
            )
        )
        return False
    return True


class TurnRunner:
    """Runs handed-off turns once per message id (`answer` never raises for the client's or
    the product's errors: they are error frames, and an outcome that is stored)."""

    def __init__(self, runtime: Runtime, answer: Callable[[TurnJob], TurnOutcome]) -> None:
        self._once = OncePerKey(
            answer,
            persistence=runtime.idempotency_layer,
            key_path="message_id",
            expires_after_seconds=IDEMPOTENCY_SECONDS,
        )

    def __call__(self, job: TurnJob, context: Any = None) -> TurnOutcome:
        logger.set_correlation_id(job.request_id)  # the $default invocation's, to follow a turn
        outcome = self._once(job, context)
        logger.info("stream turn done", extra=outcome)
        return outcome
