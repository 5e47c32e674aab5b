"""`kass migrate`: the command around `kass.migrate.migrate_to_aws` (registered in kass.cli)."""

from __future__ import annotations

from typing import Annotated

import typer

TARGETS = ("aws",)


def migrate_command(
    to: Annotated[str, typer.Option("--to", help="Where to copy the workspace: aws")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be copied; write nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Copy the local workspace (raw documents, conversations, checkpoints) to AWS.

    Re-running copies only what is missing or changed, so an interrupted run resumes.
    """
    # Imported here: kass.cli imports this module at its end, after defining these.
    from rich.markup import escape
    from rich.table import Table

    from kass.cli import _fail, _guard, _print_json, _progress_bar, _settings, out
    from kass.migrate import aws_target, local_source, migrate_to_aws
    from kass.wiring import Runtime

    if to not in TARGETS:
        raise _fail(f"unknown migration target {to!r}; use --to {' or '.join(TARGETS)}", 2)
    local_settings, aws_settings = _settings(), _settings()
    local_settings.app = local_settings.app.model_copy(update={"profile": "local"})
    aws_settings.app = aws_settings.app.model_copy(update={"profile": "aws"})
    local, aws = Runtime(local_settings), Runtime(aws_settings)
    try:
        source = _guard(lambda: local_source(local))
        target = _guard(lambda: aws_target(aws))
        with _progress_bar("Migrating", not as_json) as progress:
            report = _guard(
                lambda: migrate_to_aws(source, target, dry_run=dry_run, progress=progress)
            )
    finally:
        local.close()
        aws.close()
    if as_json:
        _print_json(report)
        return
    table = Table(
        "",
        "to copy" if dry_run else "copied",
        "already there",
        title=escape(f"{local_settings.app.home} → AWS (bucket {report.target})"),
        caption="dry run: nothing was written" if dry_run else None,
    )
    for label, counts in (
        ("raw documents", report.raw_documents),
        ("conversation messages", report.messages),
        ("checkpoints", report.checkpoints),
    ):
        table.add_row(label, str(counts.copied), str(counts.skipped))
    out.print(table)
