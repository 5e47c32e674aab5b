"""The Lambda context object of a local invocation.

Same attributes as the Python runtime's context (plain attributes, as awslambdaric sets them),
so Powertools' `Logger.inject_lambda_context`, `Metrics` and the idempotency utility read it as
they read the real one. Nothing enforces the timeout: `get_remaining_time_in_millis()` counts
down to the deadline, which is what handlers use to stop in time (the data fetcher does).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from kass.serve.events import LOCAL_ACCOUNT, LOCAL_REGION

DEFAULT_TIMEOUT_MS = 30_000
DEFAULT_MEMORY_MB = 1024


class LocalLambdaContext:
    def __init__(
        self,
        function_name: str,
        *,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        memory_limit_in_mb: int = DEFAULT_MEMORY_MB,
        function_version: str = "$LATEST",
        aws_request_id: str | None = None,
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, not {timeout_ms}")
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = (
            f"{datetime.now(UTC):%Y/%m/%d}/[{function_version}]{uuid.uuid4().hex}"
        )
        self.identity = None  # Cognito identity: only for mobile SDK invocations
        self.client_context = None  # likewise
        self.tenant_id: str | None = None
        self._clock = clock
        self._deadline = clock() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))

    def __repr__(self) -> str:
        return f"LocalLambdaContext({self.function_name!r}, request_id={self.aws_request_id!r})"
