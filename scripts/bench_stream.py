"""Benchmark streaming: time to the first streamed token over WebSocket through `kass serve`.

The sample workspace is ingested into a temporary home; the `openai` tier answers from the
OpenAI API double in tests/doubles (an in-process HTTP server that streams its answer at once),
with the response cache off, so every ask retrieves and calls the model. Each ask goes over one
WebSocket connection to `/stream`: the frame becomes a `$default` event for the real
stream_handler, whose boto3 management API client posts the frames back through the server's
`/@connections/{id}`. Measured from sending the frame to the first `delta` frame (TTFT) and to
`done`; side by side, the same asks through `POST /chat` (the whole answer in one response).

    .venv/bin/python scripts/bench_stream.py --asks 200
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

from bench_serving import ROOT, fresh_questions, prepare_home, print_table, quiet_stdout, serving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=200)
    args = parser.parse_args()
    n = args.asks

    sys.path.insert(0, str(ROOT))
    from tests.doubles.openai_api import MODEL, start_openai_double

    model, model_url = start_openai_double()
    prepare_home(
        "kass-bench-stream-",
        {
            "KASS_CHAT_TIER": "openai",
            "KASS_OPENAI_BASE_URL": model_url,
            "KASS_OPENAI_MODEL": MODEL,
            "KASS_CHAT_CACHE_TTL_SECONDS": "0",
        },
    )
    import httpx
    from websockets.sync.client import connect

    from kass.serve.app import create_app
    from kass.serve.functions import LocalFunctions
    from kass.serve.websocket import STREAM_PATH, WebSocketGateway

    functions = LocalFunctions()

    def gateway(url: str) -> Any:
        os.environ["KASS_STREAM_MANAGEMENT_URL"] = url  # what `kass serve` sets
        return create_app(functions, extra_routes=WebSocketGateway(functions).routes)

    questions = fresh_questions()
    ttft: list[float] = []
    streamed_total: list[float] = []
    rest_total: list[float] = []
    deltas: list[int] = []
    with (
        quiet_stdout(),
        serving(gateway) as url,
        httpx.Client(base_url=url, timeout=60) as http,
        connect("ws" + url.removeprefix("http") + STREAM_PATH, open_timeout=60) as ws,
    ):

        def over_websocket(record: bool) -> None:
            start = time.perf_counter()
            ws.send(json.dumps({"action": "chat", "message": next(questions)}))
            first: float | None = None
            count = 0
            while True:
                frame = json.loads(ws.recv(timeout=60))
                if frame["type"] == "delta":
                    count += 1
                    if first is None:
                        first = time.perf_counter()
                elif frame["type"] == "done":
                    break
                else:
                    raise AssertionError(f"unexpected frame {frame}")
            end = time.perf_counter()
            assert frame["response"]["tier"] == "openai", frame
            assert first is not None, "no delta before done"
            if record:
                ttft.append((first - start) * 1000)
                streamed_total.append((end - start) * 1000)
                deltas.append(count)

        def over_rest(record: bool) -> None:
            start = time.perf_counter()
            response = http.post("/chat", json={"message": next(questions)})
            assert response.status_code == 200, response.text
            assert response.json()["tier"] == "openai"
            if record:
                rest_total.append((time.perf_counter() - start) * 1000)

        for _ in range(20):  # warm: model load, clients, first-use imports
            over_websocket(False)
            over_rest(False)
        for _ in range(n):  # interleaved: both see the same machine state
            over_websocket(True)
            over_rest(True)
    model.stop()

    print_table(
        f"Streaming, {n} asks each, instant model double, cache off (ms)",
        [
            ("WebSocket: time to first token", ttft, "p95 <= 100 ms"),
            ("WebSocket: time to done", streamed_total, ""),
            ("POST /chat: whole answer (baseline)", rest_total, ""),
        ],
    )
    print(f"delta frames per answer: median {statistics.median(deltas):.0f}, max {max(deltas)}")
    ratio = statistics.median(ttft) / statistics.median(rest_total)
    print(f"TTFT / POST /chat total (p50): {ratio:.2f}")
    ratio_done = statistics.median(streamed_total) / statistics.median(rest_total)
    print(f"WebSocket done / POST /chat total (p50): {ratio_done:.2f}")
    print(f"command: .venv/bin/python scripts/bench_stream.py --asks {n}")


if __name__ == "__main__":
    main()
