"""Handing work to a later, asynchronous invocation of the same function, and running it once.

API Gateway waits a short time for its integration (Discord wants an answer in 3 s; a WebSocket
integration gets 29 s), while the work (a chat turn: several model calls) can take longer. In
AWS the function therefore queues the work as an asynchronous invocation of itself
(`InvocationType=Event`) and answers at once; Lambda runs the job, retrying a failed one, and
may deliver it more than once, so the job runs under Powertools' idempotency utility.

A job travels as the only top-level key of the invocation's payload, `kass_<kind>_job`. Such a
key can only come from an invocation: API Gateway puts a client's data under `body` (REST and
WebSocket alike), so no client can forge a job.

Used by the Discord bot (kass.discord) and the WebSocket stream (kass.stream.handoff).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel

from kass.errors import SourceError
from kass.observability import logger


def job_key(kind: str) -> str:
    """The payload key that marks an invocation as a job of `kind`."""
    return f"kass_{kind}_job"


class InvocationJob(BaseModel):
    """Work carried by an asynchronous invocation, under the subclass's `key`."""

    key: ClassVar[str]

    def event(self) -> dict[str, Any]:
        return {self.key: self.model_dump(mode="json")}

    @classmethod
    def in_event(cls, event: Mapping[str, Any]) -> Self | None:
        """The job an invocation carries, or None for any other event."""
        payload = event.get(cls.key)
        return None if payload is None else cls.model_validate(payload)


J = TypeVar("J", bound=InvocationJob)


class LambdaSelfInvoker:
    """Queues the job as an asynchronous invocation of this very function."""

    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function_name = function_name

    def __call__(self, job: InvocationJob) -> None:
        response = self._client.invoke(
            FunctionName=self._function_name,
            InvocationType="Event",
            Payload=json.dumps(job.event()).encode("utf-8"),
        )
        if response.get("StatusCode") != 202:
            raise SourceError(f"asynchronous invoke answered {response.get('StatusCode')}")


DUPLICATE: dict[str, Any] = {"outcome": "duplicate"}


class OncePerKey(Generic[J]):
    """Runs `work(job)` once per key (a JMESPath into the job's JSON), with Powertools'
    idempotency utility on `persistence` (DynamoDB in AWS, the local state database otherwise).

    Why that and not a bare conditional write: it already covers what a second delivery needs
    (an in-progress record that expires with the invocation, so a crashed run can be retried;
    the stored outcome of a completed one; a TTL), and a failed run deletes its record so
    Lambda's retry of the asynchronous invocation runs it again. A duplicate while the first
    runs is dropped (DUPLICATE); after it completed, it returns the stored outcome without
    running `work`.
    """

    def __init__(
        self,
        work: Callable[[J], dict[str, Any]],
        *,
        persistence: Any,
        key_path: str,
        expires_after_seconds: int,
    ) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            IdempotencyConfig,
            idempotent_function,
        )

        self._config = IdempotencyConfig(
            event_key_jmespath=key_path, expires_after_seconds=expires_after_seconds
        )

        @idempotent_function(
            data_keyword_argument="job", persistence_store=persistence, config=self._config
        )
        def process(job: J) -> dict[str, Any]:
            return work(job)

        self._process = process

    def __call__(self, job: J, context: Any = None) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
        )

        if context is not None:  # the in-progress record expires when this invocation would
            self._config.register_lambda_context(context)
        try:
            outcome: dict[str, Any] = self._process(job=job)
        except IdempotencyAlreadyInProgressError:
            logger.info("duplicate delivery while the first one runs: dropped")
            return dict(DUPLICATE)
        return outcome
