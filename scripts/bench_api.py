"""Benchmark the API overhead: `POST /chat` through `kass serve` with a model that answers at once.

The sample workspace is ingested into a temporary home; the orchestrator answers with the
`haiku` tier, whose Bedrock client talks to the Bedrock runtime double in tests/doubles (an
in-process HTTP server that answers instantly), so the figures are kass's own cost: HTTP,
the API Gateway translation, validation, cache, query embedding, hybrid search, the model
client, citation resolution and two conversation writes. Side by side:
- the same requests through the handler called in-process (no HTTP server): the serve overhead;
- `GET /health` over HTTP: the floor of any request through the local runtime;
- cache hits: the same question again (no search, no model).

    .venv/bin/python scripts/bench_api.py --requests 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

from bench_serving import ROOT, fresh_questions, prepare_home, print_table, quiet_stdout, serving


def timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    n = args.requests

    sys.path.insert(0, str(ROOT))
    from tests.doubles.bedrock_runtime import start_bedrock_double

    bedrock, bedrock_url = start_bedrock_double()
    prepare_home(
        "kass-bench-api-",
        {
            "KASS_CHAT_TIER": "haiku",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
        },
    )
    import httpx

    from kass.serve.app import create_app
    from kass.serve.events import api_gateway_rest_event
    from kass.serve.functions import LocalFunctions

    functions = LocalFunctions()
    questions = fresh_questions()
    with (
        quiet_stdout(),
        serving(lambda _url: create_app(functions)) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):

        def over_http(question: str) -> None:
            response = http.post("/chat", json={"message": question})
            assert response.status_code == 200, response.text
            assert response.json()["tier"] == "haiku"

        orchestrator = functions["orchestrator"]

        def in_process(question: str) -> None:
            event = api_gateway_rest_event(
                "POST", "/chat", resource="/chat", body=json.dumps({"message": question}).encode()
            )
            result = orchestrator.invoke(event)
            assert result["statusCode"] == 200, result

        for _ in range(20):  # warm: model load, clients, first-use imports
            over_http(next(questions))
            in_process(next(questions))
            http.get("/health")
        miss_http = timed(lambda: over_http(next(questions)), n)
        miss_direct = timed(lambda: in_process(next(questions)), n)
        over_http("What is the cached question?")
        hit_http = timed(lambda: over_http("What is the cached question?"), n)
        health = timed(lambda: http.get("/health"), n)
    bedrock.stop()

    print_table(
        f"API overhead, {n} requests each, instant model double (ms)",
        [
            ("POST /chat, cache miss, via kass serve", miss_http, "p95 <= 50 ms"),
            ("POST /chat, cache miss, handler in-process", miss_direct, "(baseline: no HTTP)"),
            ("POST /chat, cache hit, via kass serve", hit_http, "p95 <= 10 ms"),
            ("GET /health via kass serve", health, "(floor)"),
        ],
    )
    serve_cost = statistics.median(miss_http) / statistics.median(miss_direct)
    print(f"serve/in-process ratio (p50, cache miss): {serve_cost:.2f}")
    print(f"command: .venv/bin/python scripts/bench_api.py --requests {n}")


if __name__ == "__main__":
    main()
