"""`kass serve`: the Lambda functions, locally, behind an API-Gateway-compatible HTTP server.

Registered on the `kass` app at the end of kass.cli (this module imports kass.cli only inside
the command, so either module can be imported first).
"""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer


def serve_command(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to listen on [default: KASS_SERVE_HOST, else 127.0.0.1]"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Port; 0 picks a free one [default: KASS_SERVE_PORT, else 8080]"
        ),
    ] = None,
    no_watch: Annotated[
        bool,
        typer.Option(
            "--no-watch", help="Do not deliver changes of the raw document folder to the processor"
        ),
    ] = False,
) -> None:
    """Serve the HTTP routes through the real handlers; feed raw folder changes to the processor."""
    from rich.markup import escape
    from rich.table import Table

    from kass.api.routes import HTTP_ROUTES
    from kass.cli import _fail, _settings, out
    from kass.serve.app import create_app
    from kass.serve.functions import LocalFunctions
    from kass.serve.server import bind_socket, make_server, url_of
    from kass.serve.watcher import RawFolderWatcher
    from kass.serve.web import web_routes
    from kass.serve.websocket import STREAM_PATH, WebSocketGateway

    settings = _settings()
    try:
        page = web_routes(settings.serve.web_dir)
    except ValueError as error:
        raise _fail(f"KASS_SERVE_WEB_DIR: {error}", 2) from None
    host = host or settings.serve.host
    port = settings.serve.port if port is None else port
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        raise _fail(f"cannot listen on {host}:{port}: {error.strerror or error}", 2) from None

    functions = LocalFunctions()
    watcher = None
    if not no_watch and settings.app.profile == "local":
        from kass.wiring import open_runtime

        # The bucket name the processor expects in events: the local store's location.
        bucket = open_runtime(settings).raw_store.location
        watcher = RawFolderWatcher(
            settings.app.home,
            functions["document_processor"].invoke,
            bucket=bucket,
            interval=settings.serve.watch_interval,
            region=settings.aws.region,
        )
    url = url_of(sock)
    # The functions' environment, as Lambda's configuration sets it: the stream handler posts
    # its frames to this server's management API (kass.serve.websocket).
    os.environ["KASS_STREAM_MANAGEMENT_URL"] = url
    extra_routes = [
        *WebSocketGateway(functions).routes,  # /stream and its management API
        *page,
    ]
    app = create_app(functions, watcher=watcher, extra_routes=extra_routes)

    out.print(f"kass serve: listening on [bold]{url}[/] (profile {settings.app.profile})")
    table = Table("method", "path", "function", box=None, pad_edge=False)
    for route in HTTP_ROUTES:
        table.add_row(route.method, escape(url + route.path), route.function)
    out.print(table)
    ws_url = "ws" + url.removeprefix("http") + STREAM_PATH
    out.print(f"WebSocket {escape(ws_url)} → stream_handler")
    if page:
        out.print(f"Web page: {escape(url)}/")
    if watcher is not None:
        out.print(
            f"Watching {escape(str(watcher.raw_dir))} → document_processor "
            f"(dead letters: {escape(str(watcher.dlq_file))})",
            soft_wrap=True,
        )
    elif not no_watch:
        out.print("Not watching: with profile aws, raw documents and their events live in AWS.")
    # Handler errors, dead letters: our loggers print through the root logger's handler.
    logging.basicConfig(
        level=settings.app.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        make_server(app, log_level=settings.app.log_level).run(sockets=[sock])
    finally:
        sock.close()
