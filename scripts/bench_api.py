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
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "workspace"
QUESTIONS = [q["question"] for q in json.loads((ROOT / "samples" / "questions.json").read_text())]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


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
    home = Path(tempfile.mkdtemp(prefix="kass-bench-api-"))
    os.chdir(home)
    os.environ.update(
        {
            "KASS_HOME": str(home),
            "KASS_CHAT_TIER": "haiku",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    import httpx

    from kass.ingest.loaders import load_path
    from kass.ingest.pipeline import ingest
    from kass.serve.app import create_app
    from kass.serve.events import api_gateway_rest_event
    from kass.serve.functions import LocalFunctions
    from kass.serve.server import bind_socket, make_server, url_of
    from kass.settings import load_settings
    from kass.wiring import Runtime

    runtime = Runtime(load_settings())
    ingest(
        load_path(SAMPLES),
        index=runtime.index,
        embedder=runtime.embedder,
        chunker=runtime.chunker,
        origin=str(SAMPLES),
    )
    runtime.close()

    functions = LocalFunctions()
    sock = bind_socket("127.0.0.1", 0)
    server = make_server(create_app(functions), log_level="error")
    server.config.access_log = False
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)

    counter = iter(range(10**9))

    def fresh_question() -> str:  # distinct text: a cache miss every time
        i = next(counter)
        return f"{QUESTIONS[i % len(QUESTIONS)]} ({i})"

    # Handlers print their metrics (EMF) to stdout as in Lambda; keep them out of the report.
    quiet = contextlib.redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115
    with quiet, httpx.Client(base_url=url_of(sock), timeout=60) as http:

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
            over_http(fresh_question())
            in_process(fresh_question())
            http.get("/health")
        miss_http = timed(lambda: over_http(fresh_question()), n)
        miss_direct = timed(lambda: in_process(fresh_question()), n)
        over_http("What is the cached question?")
        hit_http = timed(lambda: over_http("What is the cached question?"), n)
        health = timed(lambda: http.get("/health"), n)
    server.should_exit = True
    thread.join(10)
    bedrock.stop()

    rows = [
        ("POST /chat, cache miss, via kass serve", miss_http, "p95 <= 50 ms"),
        ("POST /chat, cache miss, handler in-process", miss_direct, "(baseline: no HTTP)"),
        ("POST /chat, cache hit, via kass serve", hit_http, "p95 <= 10 ms"),
        ("GET /health via kass serve", health, "(floor)"),
    ]
    print(f"API overhead, {n} requests each, instant model double (ms)")
    print(f"{'case':46} {'p50':>7} {'p95':>7} {'p99':>7}  target")
    for name, samples, target in rows:
        print(
            f"{name:46} {statistics.median(samples):7.2f} {percentile(samples, 95):7.2f} "
            f"{percentile(samples, 99):7.2f}  {target}"
        )
    serve_cost = statistics.median(miss_http) / statistics.median(miss_direct)
    print(f"serve/in-process ratio (p50, cache miss): {serve_cost:.2f}")
    print(f"command: .venv/bin/python scripts/bench_api.py --requests {n}")


if __name__ == "__main__":
    main()
