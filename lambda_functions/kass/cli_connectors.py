"""`kass sync NAME` and `kass import-slack-export ZIP`: fill the local workspace from a source.

Both write raw documents to the local raw store (as `data_fetcher` writes to S3), then bring the
local index in step with exactly the keys they wrote or deleted, through the document
processor's use case (`kass.ingest.processor.reconcile_keys`, one embedding pass for all), as
`kass serve`'s watcher does for S3 events. The sync's checkpoint lives in the local checkpoint
store, so the next sync is incremental. Registered in `kass.cli` (`app.add_typer`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from kass.models import Document
    from kass.ports import RawDocumentStore
    from kass.wiring import Runtime

app = typer.Typer(add_completion=False, help="Fill the workspace from GitLab, Slack, Backlog.")


class _RecordingStore:
    """The raw store, noting every key written or deleted (in order, once each)."""

    def __init__(self, inner: RawDocumentStore) -> None:
        self.inner = inner
        self.changed: dict[str, None] = {}

    @property
    def location(self) -> str:
        return self.inner.location

    def put(self, document: Document) -> str:
        key = self.inner.put(document)
        self.changed[key] = None
        return key

    def get(self, key: str) -> Document | None:
        return self.inner.get(key)

    def delete(self, key: str) -> bool:
        existed = self.inner.delete(key)
        if existed:
            self.changed[key] = None
        return existed

    def keys(self, source: str | None = None) -> Iterator[str]:
        return self.inner.keys(source)


def _index_changes(runtime: Runtime, keys: list[str]) -> dict[str, int]:
    """Reconcile the index with the changed raw objects, as the document processor does."""
    from kass.ingest.processor import reconcile_keys

    actions: dict[str, int] = {}
    for outcome in reconcile_keys(keys, runtime=runtime):
        actions[outcome.action] = actions.get(outcome.action, 0) + 1
    return actions


def _local_runtime() -> Runtime:
    from kass.cli import _settings
    from kass.wiring import Runtime

    settings = _settings()
    settings.app = settings.app.model_copy(update={"profile": "local"})
    return Runtime(settings)


def _summary(title: str, rows: list[tuple[str, Any]]) -> None:
    from kass.cli import out

    table = Table(show_header=False, title=escape(title), title_justify="left")
    for label, value in rows:
        table.add_row(label, escape(str(value)))
    out.print(table)


@app.command("sync")
def sync_command(
    name: Annotated[str, typer.Argument(help="Connector: gitlab, slack or backlog")],
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the checkpoint: re-read everything")
    ] = False,
) -> None:
    """Fetch a source into the local workspace (incremental from its checkpoint) and index it."""
    from kass.cli import _guard
    from kass.connectors import make_connector
    from kass.ingest.fetcher import run_connector

    started = time.perf_counter()
    runtime = _local_runtime()
    try:
        connector = _guard(lambda: make_connector(name, runtime.settings))
        store = _RecordingStore(runtime.raw_store)
        report = _guard(
            lambda: run_connector(
                connector, raw_store=store, checkpoints=runtime.checkpoints, full=full
            )
        )
        actions = _guard(lambda: _index_changes(runtime, list(store.changed)))
    finally:
        runtime.close()
    _summary(
        f"Synced {name}{' (full)' if full else ''} in {time.perf_counter() - started:.1f} s",
        [
            ("batches", report.batches),
            ("documents written", report.documents_written),
            ("documents deleted", report.deleted),
            ("indexed", actions.get("indexed", 0)),
            ("unchanged", actions.get("unchanged", 0)),
            ("removed from index", actions.get("deleted", 0)),
        ],
    )


@app.command("import-slack-export")
def import_slack_export_command(
    archive: Annotated[Path, typer.Argument(help="The workspace export zip")],
    workspace_url: Annotated[
        str | None,
        typer.Option(
            "--workspace-url",
            help="https://<team>.slack.com/ for permalinks; default KASS_SLACK_WORKSPACE_URL",
        ),
    ] = None,
) -> None:
    """Import a Slack workspace export offline (same documents as `kass sync slack`)."""
    from kass.cli import _fail, _guard
    from kass.connectors.slack_export import import_export

    started = time.perf_counter()
    url = workspace_url or _settings_workspace_url()
    if not url:
        raise _fail("give --workspace-url (or set KASS_SLACK_WORKSPACE_URL) for permalinks", 2)
    runtime = _local_runtime()
    try:
        store = _RecordingStore(runtime.raw_store)
        report = _guard(lambda: import_export(archive, store, workspace_url=url))
        actions = _guard(lambda: _index_changes(runtime, list(store.changed)))
    finally:
        runtime.close()
    _summary(
        f"Imported {archive.name} in {time.perf_counter() - started:.1f} s",
        [
            ("channels", report.channels),
            ("messages", report.messages),
            ("documents written", report.documents),
            ("indexed", actions.get("indexed", 0)),
            ("unchanged", actions.get("unchanged", 0)),
        ],
    )


def _settings_workspace_url() -> str | None:
    """KASS_SLACK_WORKSPACE_URL, read without requiring a token (an export needs none)."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class _WorkspaceUrl(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix="KASS_SLACK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
        )
        workspace_url: str | None = None

    return _WorkspaceUrl().workspace_url
