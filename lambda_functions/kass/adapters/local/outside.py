"""The local profile's Backlog, Slack and GitLab, for when their connectors are not configured.

`kass.wiring.Runtime` calls these on the `local` profile only: the agents then act on files in
the workspace instead of the services, with the same ports and the same errors.

| port | local stand-in | settings (`KASS_LOCAL_...`) |
|---|---|---|
| TicketTracker | Backlog issue JSON files in `<KASS_HOME>/outbox/backlog/` | `BACKLOG_PROJECTS` |
| ThreadReader | a Slack workspace export (folder or zip) | `SLACK_EXPORT`, `SLACK_WORKSPACE_URL` |
| MergeRequestReader | `<group>/<project>/<iid>.patch` files | `MERGE_REQUESTS` |

Each factory raises InvalidInput when its settings are missing (the runtime then reports the
system as not configured).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kass.errors import InvalidInput

if TYPE_CHECKING:
    from kass.adapters.local.outbox import BacklogOutbox
    from kass.adapters.local.patch_merge_requests import PatchMergeRequests
    from kass.adapters.local.slack_export_threads import SlackExportThreads
    from kass.wiring import Runtime

BACKLOG_DOC_PREFIX = "backlog:"


def ticket_outbox(runtime: Runtime) -> BacklogOutbox:
    """Known projects: those of indexed or stored Backlog issues, plus the configured ones;
    looked up when an issue is filed (confirming a proposal), not when the runtime starts."""
    from kass.adapters.local.outbox import BacklogOutbox, highest_numbers

    settings = runtime.settings

    def known() -> dict[str, int]:
        keys = {
            doc_id[len(BACKLOG_DOC_PREFIX) :]
            for doc_id in runtime.index.document_hashes()
            if doc_id.startswith(BACKLOG_DOC_PREFIX)
        }
        keys |= _stored_backlog_keys(runtime)
        highest = highest_numbers(keys)
        for project in settings.local_outside.backlog_projects:
            highest.setdefault(project, 0)
        return highest

    return BacklogOutbox(settings.app.home / "outbox" / "backlog", known)


def _stored_backlog_keys(runtime: Runtime) -> set[str]:
    """Issue keys of the raw store's Backlog documents (synced but maybe not indexed yet)."""
    from kass.raw_keys import parse_key

    keys = set()
    for key in runtime.raw_store.keys("backlog"):
        _, doc_id = parse_key(key)
        if doc_id.startswith(BACKLOG_DOC_PREFIX):
            keys.add(doc_id[len(BACKLOG_DOC_PREFIX) :])
    return keys


def slack_export_threads(runtime: Runtime) -> SlackExportThreads:
    from kass.adapters.local.slack_export_threads import SlackExportThreads

    local = runtime.settings.local_outside
    if local.slack_export is None:
        raise InvalidInput("KASS_LOCAL_SLACK_EXPORT is not set (a Slack export folder or zip)")
    if not local.slack_workspace_url:
        raise InvalidInput(
            "KASS_LOCAL_SLACK_WORKSPACE_URL is not set (https://<team>.slack.com/ for permalinks)"
        )
    return SlackExportThreads(local.slack_export, workspace_url=local.slack_workspace_url)


def patch_merge_requests(runtime: Runtime) -> PatchMergeRequests:
    from kass.adapters.local.patch_merge_requests import PatchMergeRequests

    folder = runtime.settings.local_outside.merge_requests
    if folder is None:
        raise InvalidInput("KASS_LOCAL_MERGE_REQUESTS is not set (a folder of .patch files)")
    return PatchMergeRequests(folder)
