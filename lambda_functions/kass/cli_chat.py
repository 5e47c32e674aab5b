"""`kass chat`, `kass confirm`, `kass cancel`: the conversation API's use cases from the terminal.

They call kass.chat.service (chat, confirm_action, cancel_action) exactly as `POST /chat` and
`POST /actions/{id}/confirm|cancel` do, for a local user (`--user`, `KASS_USER`, else the
OS user): slash commands (/ask /ticket /summarize /review /confirm /cancel) and questions alike.
Registered in `kass.cli` (`app.add_typer`).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

if TYPE_CHECKING:
    from kass.api.schemas import ActionResponse, ChatResponse
    from kass.wiring import Runtime

app = typer.Typer(add_completion=False, help="Chat and act: slash commands, confirmations.")

UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        envvar="KASS_USER",
        help="Who is asking (owns the proposals); default: the OS user",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON responses")]


def _user(value: str | None) -> str:
    return (value or "").strip() or getpass.getuser()


@contextmanager
def _open() -> Iterator[Runtime]:
    """The configured profile's runtime; the index opens only if a turn needs it."""
    from kass.cli import _settings
    from kass.observability import logger
    from kass.wiring import open_runtime

    settings = _settings()
    # The audit trail is in the action store; its log lines stay out of the terminal
    # unless KASS_LOG_LEVEL asks for them.
    logger.setLevel(settings.app.log_level.upper())
    runtime = open_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


@app.command("chat")
def chat_command(
    messages: Annotated[
        list[str],
        typer.Argument(help="One or more messages, sent in order: questions or /commands"),
    ],
    conversation: Annotated[
        str | None,
        typer.Option("--conversation", help="Continue this conversation id"),
    ] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send messages as POST /chat does; a proposal waits for `kass confirm ID`."""
    from kass.api.schemas import ChatRequest
    from kass.chat.service import chat
    from kass.cli import _fail, _guard, _print_json

    user_id = _user(user)
    conversation_id = conversation
    with _open() as runtime:
        for number, message in enumerate(messages):
            try:
                request = ChatRequest(message=message, conversation_id=conversation_id)
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(str(part) for part in error["loc"])
                raise _fail(f"{where}: {error['msg']}", 2) from None
            response = _guard(partial(chat, request, user_id=user_id, runtime=runtime))
            conversation_id = response.conversation_id
            if as_json:
                _print_json(response)
                continue
            _print_reply(message if len(messages) > 1 else None, response, first=number == 0)


def _print_reply(message: str | None, response: ChatResponse, *, first: bool) -> None:
    from kass.cli import out

    if message is not None:
        if not first:
            out.print()
        out.print(f"[bold]> {escape(message)}[/]", soft_wrap=True, highlight=False)
    out.print(escape(response.text), soft_wrap=True, highlight=False)
    if response.citations:
        out.print("[bold]Sources[/]")
        for citation in response.citations:
            out.print(
                f"  [{citation.n}] {escape(citation.title)} ({citation.source}) — "
                f"{escape(citation.link)}",
                soft_wrap=True,
                highlight=False,
            )
    for action in response.actions:
        if action.status == "proposed":
            out.print(
                f"[bold]→ kass confirm {action.id}[/]   (or: kass cancel {action.id})",
                soft_wrap=True,
                highlight=False,
            )
    out.print(f"[dim]{response.tier} · conversation {response.conversation_id}[/]", highlight=False)


@app.command("confirm")
def confirm_command(
    action_id: Annotated[str, typer.Argument(help="The proposal's id (act_...)")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Carry out a proposal of yours (once, however often confirmed)."""
    from kass.chat.service import confirm_action
    from kass.cli import _guard

    with _open() as runtime:
        response = _guard(lambda: confirm_action(action_id, user_id=_user(user), runtime=runtime))
    _print_action(response, as_json)


@app.command("cancel")
def cancel_command(
    action_id: Annotated[str, typer.Argument(help="The proposal's id (act_...)")],
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Drop a proposal of yours."""
    from kass.chat.service import cancel_action
    from kass.cli import _guard

    with _open() as runtime:
        response = _guard(lambda: cancel_action(action_id, user_id=_user(user), runtime=runtime))
    _print_action(response, as_json)


def _print_action(response: ActionResponse, as_json: bool) -> None:
    from kass.cli import _print_json, out

    if as_json:
        _print_json(response)
        return
    action = response.action
    if action.status == "cancelled":
        out.print(f"Cancelled: {escape(action.preview)}", soft_wrap=True, highlight=False)
        return
    prefix = "" if response.executed_now else "Already done earlier. "
    out.print(escape(prefix + response.message), soft_wrap=True, highlight=False)
