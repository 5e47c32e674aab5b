"""discord_handler: Discord's interactions endpoint (API route POST /discord) and its worker.

Two kinds of invocation reach this function:
- an API Gateway request from Discord: verify, then PONG, or defer and hand the work off
  (kass.discord.endpoint) — within Discord's 3 seconds, so this path imports little: no
  kass.chat, no LangChain, no httpx, no boto3 until a command needs the hand-off;
- a job (`kass_discord_job`), which this function sent itself asynchronously in AWS: run it and
  edit the reply (kass.discord.worker). Locally a thread runs the job instead.
"""

import json
import threading
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from kass.discord.dispatch import JOB_KEY, Job, ThreadDispatcher
from kass.discord.endpoint import make_verifier, raw_body, respond
from kass.dispatch import LambdaSelfInvoker
from kass.observability import logger
from kass.settings import load_settings
from kass.wiring import Runtime

settings = load_settings()
runtime = Runtime(settings)
verifier = make_verifier(settings.discord.public_key, settings.discord.max_age_seconds)
_worker_lock = threading.Lock()
_worker: Any = None


def worker() -> Any:
    """The worker, built on first job (it imports kass.chat and the webhook client)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            from kass.discord.worker import Worker

            _worker = Worker.for_runtime(runtime)
        return _worker


def _failed_thread(error: BaseException) -> None:
    logger.error("discord job failed", extra={"error": repr(error)})


threads = ThreadDispatcher(lambda job: worker().run(job), _failed_thread)


@cache
def _lambda_client() -> Any:
    return runtime.boto_client("lambda")  # boto3 is imported here, on the first command


def _dispatcher(context: LambdaContext) -> Any:
    if runtime.is_aws:
        return LambdaSelfInvoker(_lambda_client(), context.invoked_function_arn)
    return threads


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if JOB_KEY in event:
        return worker().run(Job.model_validate(event[JOB_KEY]), context)
    reply = respond(
        event.get("headers") or {},
        raw_body(event),
        verifier=verifier,
        max_chars=settings.answer.max_question_chars,
        dispatch=lambda job: _dispatcher(context)(job),
    )
    return {
        "statusCode": reply.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(reply.body),
    }
