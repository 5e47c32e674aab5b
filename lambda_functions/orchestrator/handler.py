"""orchestrator: `POST /chat`, conversations, proposed actions (confirm/cancel), audit, health.

Thin: validate (pydantic, through the resolver), call the chat use case, map errors (once, in
`kass.api.http`). Adapters are built on first use, so init only reads the settings.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from kass.api.http import ERROR_RESPONSES, caller_id, make_resolver
from kass.api.schemas import (
    ActionResponse,
    AuditResponse,
    ChatRequest,
    ChatResponse,
    ConversationListResponse,
    ConversationResponse,
    HealthResponse,
)
from kass.chat import service
from kass.observability import logger, make_tracer, metrics
from kass.settings import load_settings
from kass.wiring import Runtime

LIST_LIMIT = 50  # conversations listed, most recent first

runtime = Runtime(load_settings())
tracer = make_tracer()
app = make_resolver(
    "kass",
    "Cited answers from the team's GitLab, Slack and Backlog data.",
    cors_origin=runtime.settings.app.cors_allow_origin,
)


@app.post("/chat", responses=ERROR_RESPONSES, summary="Ask a question; get a cited answer")
@tracer.capture_method
def post_chat(body: ChatRequest) -> ChatResponse:
    response = service.chat(body, user_id=caller_id(app), runtime=runtime)
    cache_metric = "CacheHit" if response.cached else "CacheMiss"
    metrics.add_metric(name=cache_metric, unit=MetricUnit.Count, value=1)
    if not response.found:
        metrics.add_metric(name="AnswersNotFound", unit=MetricUnit.Count, value=1)
    return response


@app.get("/conversations", responses=ERROR_RESPONSES, summary="The caller's conversations")
def list_conversations() -> ConversationListResponse:
    found = runtime.conversations.conversations(caller_id(app), limit=LIST_LIMIT)
    return ConversationListResponse(conversations=found)


@app.get(
    "/conversations/<conversation_id>",
    responses=ERROR_RESPONSES,
    summary="A conversation's latest messages, oldest first",
)
def get_conversation(conversation_id: str) -> ConversationResponse:
    return service.conversation(conversation_id, user_id=caller_id(app), runtime=runtime)


@app.post(
    "/actions/<action_id>/confirm",
    responses=ERROR_RESPONSES,
    summary="Execute an action proposed to the caller (once, however often confirmed)",
)
def confirm_action(action_id: str) -> ActionResponse:
    response = service.confirm_action(action_id, user_id=caller_id(app), runtime=runtime)
    if response.executed_now:
        metrics.add_metric(name="ActionsExecuted", unit=MetricUnit.Count, value=1)
    return response


@app.post(
    "/actions/<action_id>/cancel",
    responses=ERROR_RESPONSES,
    summary="Drop an action proposed to the caller",
)
def cancel_action(action_id: str) -> ActionResponse:
    return service.cancel_action(action_id, user_id=caller_id(app), runtime=runtime)


@app.get("/audit", responses=ERROR_RESPONSES, summary="The caller's audit log, newest first")
def audit() -> AuditResponse:
    return AuditResponse(entries=runtime.actions.audit(caller_id(app), limit=LIST_LIMIT))


@app.get("/health", summary="Liveness: the function is up and its settings are valid")
def health() -> HealthResponse:
    return HealthResponse(
        profile=runtime.settings.app.profile,
        tier=runtime.settings.chat.tier,
        time=datetime.now(UTC),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
