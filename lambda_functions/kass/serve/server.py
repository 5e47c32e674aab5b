"""Running the app under uvicorn on a socket bound beforehand.

Binding first lets the caller report "port in use" plainly (instead of uvicorn's log line and
exit) and learn the real port when asked for port 0.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port); OSError if unavailable."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.create_server((host, port), family=family)
    # Accepted connections inherit it. Without it, a response written in two segments waits
    # for the client's delayed ACK: every request took 44 ms instead of under 1 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def make_server(app: Starlette, *, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for `app`; run it with `server.run(sockets=[sock])`.

    uvicorn's own lifespan handling starts and stops the app's background work (the watcher).
    """
    config = uvicorn.Config(app, log_level=log_level.lower(), lifespan="on", access_log=True)
    return uvicorn.Server(config)
