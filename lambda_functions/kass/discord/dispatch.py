"""Handing an accepted interaction to the worker, after the 3-second answer.

The job is the verified interaction plus the chat text it maps to. In AWS the function invokes
itself asynchronously (`InvocationType=Event`, the job under JOB_KEY): the HTTP invocation
returns the deferral at once, Lambda queues the job and retries it twice if it fails. Locally a
background thread runs it in the same process.

JOB_KEY can only come from an invocation: API Gateway puts a request's body under `body`, so no
HTTP caller can forge a job.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from kass.discord.interactions import Interaction
from kass.errors import SourceError

JOB_KEY = "kass_discord_job"


class Job(BaseModel):
    interaction: Interaction
    text: str | None = None  # what kass.chat is asked (commands); None for buttons

    def event(self) -> dict[str, Any]:
        return {JOB_KEY: self.model_dump(mode="json")}


class ThreadDispatcher:
    """Runs each job on its own thread (the local profile); `wait()` joins them."""

    def __init__(self, run: Callable[[Job], Any], on_error: Callable[[BaseException], None]):
        self._run = run
        self._on_error = on_error
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __call__(self, job: Job) -> None:
        thread = threading.Thread(
            target=self._guarded, args=(job,), name=f"discord-{job.interaction.id}"
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _guarded(self, job: Job) -> None:
        try:
            self._run(job)
        except BaseException as error:  # a thread's exception would otherwise vanish
            self._on_error(error)

    def wait(self, timeout: float | None = None) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


class LambdaSelfInvoker:
    """Queues the job as an asynchronous invocation of this very function."""

    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function_name = function_name

    def __call__(self, job: Job) -> None:
        response = self._client.invoke(
            FunctionName=self._function_name,
            InvocationType="Event",
            Payload=json.dumps(job.event()).encode("utf-8"),
        )
        if response.get("StatusCode") != 202:
            raise SourceError(f"asynchronous invoke answered {response.get('StatusCode')}")
