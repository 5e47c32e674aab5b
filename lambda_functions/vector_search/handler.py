"""vector_search: `POST /search` — hybrid search with filters, for API clients.

The orchestrator does not call this function over the network: it runs the same search use
case in-process. No X-Ray SDK here (ADR 0007): Lambda's active tracing still records the
invocation, and the SDK alone would double this function's cold start.
"""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kass.api.http import ERROR_RESPONSES, make_resolver
from kass.api.schemas import SearchBody, SearchResponse, SearchResult
from kass.observability import logger, metrics
from kass.settings import load_settings
from kass.wiring import Runtime

runtime = Runtime(load_settings())
app = make_resolver(
    "kass search",
    "Hybrid (BM25 + k-NN) search over the indexed sources.",
    cors_origin=runtime.settings.app.cors_allow_origin,
)


@app.post("/search", responses=ERROR_RESPONSES, summary="Hybrid search with metadata filters")
def post_search(body: SearchBody) -> SearchResponse:
    hits = runtime.searcher.search(
        body.query,
        k=body.k,
        mode=body.mode,
        filters=body.filters,
        max_chars=runtime.settings.answer.max_question_chars,
    )
    return SearchResponse(results=[SearchResult.of(hit) for hit in hits])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
