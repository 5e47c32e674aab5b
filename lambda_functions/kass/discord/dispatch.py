"""Handing an accepted interaction to the worker, after the 3-second answer.

The job is the verified interaction plus the chat text it maps to. In AWS the function invokes
itself asynchronously (kass.dispatch.LambdaSelfInvoker, the job under JOB_KEY): the HTTP
invocation returns the deferral at once, Lambda queues the job and retries it twice if it fails.
Locally a background thread runs it in the same process.

JOB_KEY can only come from an invocation: API Gateway puts a request's body under `body`, so no
HTTP caller can forge a job (kass.dispatch).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from kass.discord.interactions import Interaction
from kass.dispatch import InvocationJob, job_key

JOB_KEY = job_key("discord")


class Job(InvocationJob):
    key: ClassVar[str] = JOB_KEY

    interaction: Interaction
    text: str | None = None  # what kass.chat is asked (commands); None for buttons


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
