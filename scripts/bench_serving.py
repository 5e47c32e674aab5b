"""What the `kass serve` benchmarks share (bench_api.py, bench_stream.py): the sample workspace
in a temporary home, a server on a free port in a thread, distinct questions, the report table.

Import it after `prepare_home` has set the environment the settings are read from.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "workspace"
QUESTIONS = [q["question"] for q in json.loads((ROOT / "samples" / "questions.json").read_text())]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def prepare_home(prefix: str, environment: Mapping[str, str]) -> Path:
    """A temporary KASS_HOME with the sample workspace indexed, `environment` set, cwd there."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.chdir(home)
    os.environ.update({"KASS_HOME": str(home), "POWERTOOLS_LOG_LEVEL": "ERROR", **environment})
    from kass.ingest.loaders import load_path
    from kass.ingest.pipeline import ingest
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
    return home


@contextlib.contextmanager
def serving(make_app: Any) -> Iterator[str]:
    """`make_app(url)`'s app under uvicorn on a free loopback port, in a thread; yields the URL."""
    from kass.serve.server import bind_socket, make_server, url_of

    sock = bind_socket("127.0.0.1", 0)
    url = url_of(sock)
    server = make_server(make_app(url), log_level="error")
    server.config.access_log = False
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


def fresh_questions() -> Iterator[str]:
    """Distinct texts: a cache miss every time, whatever the cache TTL."""
    i = 0
    while True:
        yield f"{QUESTIONS[i % len(QUESTIONS)]} ({i})"
        i += 1


def quiet_stdout() -> contextlib.AbstractContextManager[Any]:
    """Handlers print their metrics (EMF) to stdout as in Lambda; keep them out of the report."""
    return contextlib.redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115


def print_table(title: str, rows: Sequence[tuple[str, list[float], str]]) -> None:
    """p50/p95/p99 in ms per case, with its target or role."""
    width = max(len(name) for name, _, _ in rows) + 2
    print(title)
    print(f"{'case':{width}} {'p50':>7} {'p95':>7} {'p99':>7}  target")
    for name, samples, target in rows:
        print(
            f"{name:{width}} {statistics.median(samples):7.2f} {percentile(samples, 95):7.2f} "
            f"{percentile(samples, 99):7.2f}  {target}"
        )
