"""`kass`: the local runtime's command line (the embedded default: no cloud, no network)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kass.errors import KassError
from kass.models import SearchMode
from kass.settings import Settings, load_settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="kass: cited answers from your team's GitLab, Slack and Backlog data.",
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

EVAL_MODES: dict[str, list[SearchMode]] = {
    "bm25": ["bm25"],
    "dense": ["dense"],
    "hybrid": ["hybrid"],
    "all": ["bm25", "dense", "hybrid"],
}


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or exc.title
        raise _fail(f"invalid setting {where}: {first['msg']}", 2) from None


@contextmanager
def _runtime(settings: Settings | None = None, index_dir: Path | None = None) -> Iterator[Any]:
    from kass.wiring import open_runtime

    runtime = open_runtime(settings or _settings(), index_dir)
    _guard(lambda: runtime.searcher)  # every command needs the index: open it (and fail) here
    try:
        yield runtime
    finally:
        runtime.close()


def _guard(action: Callable[[], T]) -> T:
    """Run one use case; map the product's errors to a one-line message and an exit code."""
    try:
        return action()
    except KassError as exc:
        raise _fail(str(exc), exc.exit_code) from None


def _print_json(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@contextmanager
def _progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _ingest(runtime: Any, path: Path, prune: bool, show_progress: bool) -> Any:
    from kass.chat.cache import INDEX_VERSION
    from kass.ingest.loaders import load_path
    from kass.ingest.pipeline import ingest

    documents = load_path(path)
    with _progress_bar("Ingesting", show_progress) as progress:
        report = ingest(
            documents,
            index=runtime.index,
            embedder=runtime.embedder,
            chunker=runtime.chunker,
            origin=str(path.resolve()),
            prune=prune,
            progress=progress,
        )
    if report.added or report.updated or report.deleted:
        runtime.checkpoints.increment(INDEX_VERSION)  # cached answers predate this content
    return report


@app.command("ingest")
def ingest_command(
    path: Annotated[
        Path, typer.Argument(help="Folder of .md/.txt/.json documents, or a BEIR corpus")
    ],
    prune: Annotated[bool, typer.Option(help="Remove documents that vanished from PATH")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Chunk, embed and index documents. Unchanged documents are skipped."""
    started = time.perf_counter()
    with _runtime() as runtime:
        report = _guard(lambda: _ingest(runtime, path, prune, show_progress=not as_json))
    if as_json:
        _print_json(report)
        return
    out.print(
        f"Ingested {escape(str(path))}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.deleted} deleted "
        f"({report.chunks_written} chunks written) in {time.perf_counter() - started:.1f} s",
        soft_wrap=True,
    )


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="How many chunks")] = 10,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="key=value on source, project or channel; repeatable"),
    ] = None,
    mode: Annotated[SearchMode | None, typer.Option(help="hybrid, bm25 or dense")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON")] = False,
) -> None:
    """Search the index (hybrid BM25 + vectors by default) and list the matching chunks."""
    from kass.retrieval.search import parse_filters

    parsed = _guard(lambda: parse_filters(filters or []))
    with _runtime() as runtime:
        hits = _guard(lambda: runtime.searcher.search(query, k=k, mode=mode, filters=parsed))
    if as_json:
        _print_json([hit.model_dump(mode="json") for hit in hits])
        return
    if not hits:
        out.print("No matches.")
        return
    table = Table("#", "score", "source", "title", "location", "text", show_lines=False)
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        snippet = " ".join(chunk.text.split())[:120]
        table.add_row(
            str(rank),
            f"{hit.score:.3f}",
            chunk.source,
            escape(chunk.title),
            escape(chunk.url or chunk.doc_id),
            escape(snippet),
        )
    out.print(table)


@app.command("ask")
def ask_command(
    question: Annotated[str, typer.Argument(help="Your question, in any language")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
) -> None:
    """Answer a question from the indexed sources, with citations."""
    from kass.chat.ask import ask

    with _runtime() as runtime:
        answer = _guard(
            lambda: ask(
                question,
                searcher=runtime.searcher,
                answerer=runtime.answerer,
                settings=runtime.settings.answer,
            )
        )
    if as_json:
        _print_json(answer)
        return
    out.print(escape(answer.text), soft_wrap=True)
    if answer.citations:
        out.print()
        out.print("[bold]Sources[/]")
        for citation in answer.citations:
            out.print(
                f"  [{citation.n}] {escape(citation.title)} ({citation.source}) — "
                f"{escape(citation.link)}",
                soft_wrap=True,
                highlight=False,
            )
    out.print(f"[dim]answered by the {answer.tier} tier[/]")


@app.command("stats")
def stats_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Show what the index holds."""
    with _runtime() as runtime:
        stats = _guard(runtime.index.stats)
    if as_json:
        _print_json(stats)
        return
    out.print(f"Index:      {escape(stats.location)} ({stats.size_bytes / 1e6:.1f} MB)")
    out.print(f"Embedder:   {stats.embedder} ({stats.dimension}-d)")
    out.print(f"Documents:  {stats.documents}   Chunks: {stats.chunks}")
    for source, count in sorted(stats.sources.items()):
        out.print(f"  {source}: {count}")


@app.command("eval")
def eval_command(
    dataset_dir: Annotated[
        Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    ],
    mode: Annotated[str, typer.Option(help="bm25, dense, hybrid or all")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Score retrieval on a BEIR dataset: nDCG@10, recall@10 and MRR@10 per mode."""
    from kass.evaluation.beir import read_dataset
    from kass.evaluation.runner import evaluate

    if mode not in EVAL_MODES:
        raise _fail(f"unknown mode {mode!r}; use one of: {', '.join(EVAL_MODES)}", 2)
    dataset = _guard(lambda: read_dataset(dataset_dir))
    settings = _settings()
    # Each dataset gets its own index, so evaluation never touches the workspace index.
    with _runtime(settings, settings.app.home / "eval" / dataset.name) as runtime:
        _guard(lambda: _ingest(runtime, dataset.corpus, prune=True, show_progress=not as_json))
        report = _guard(lambda: evaluate(dataset, runtime.searcher, EVAL_MODES[mode]))
    if as_json:
        _print_json({"dataset": report.dataset, "modes": report.modes})
        return
    table = Table(
        "mode",
        "nDCG@10",
        "recall@10",
        "MRR@10",
        title=f"{report.dataset} ({report.queries} queries)",
    )
    for name, metrics in report.modes.items():
        table.add_row(name, *(f"{metrics[m]:.4f}" for m in ("ndcg@10", "recall@10", "mrr@10")))
    out.print(table)


def main() -> None:  # pragma: no cover - console-script convenience
    app()


from kass.cli_serve import serve_command  # noqa: E402

app.command(
    "serve",
    help="Run the Lambda functions locally behind an API-Gateway-compatible HTTP server.",
)(serve_command)

from kass.cli_migrate import migrate_command  # noqa: E402

app.command(
    "migrate",
    help="Copy the local workspace (raw documents, conversations, checkpoints) to AWS.",
)(migrate_command)

from kass.cli_connectors import app as connectors_app  # noqa: E402

app.add_typer(connectors_app)  # `kass sync NAME`, `kass import-slack-export ZIP`

from kass.cli_chat import app as chat_app  # noqa: E402

app.add_typer(chat_app)  # `kass chat MESSAGE...`, `kass confirm ID`, `kass cancel ID`
