"""Serve a Flask app from a background thread: a cell starts it, `.stop()` or `cleanup()` ends it.

:func:`serve` returns a :class:`WebServer`; :func:`run_until_stopped` serves in the
foreground for ``python -m helpers task 12`` and ``13``.
"""

from __future__ import annotations

import errno
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from helpers.core import lifecycle
from helpers.core.errors import PortInUse
from helpers.core.http import Reply, curl, get

ORIGINAL_PORT = 1245
LISTEN_BACKLOG = 1024


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: a server thread must not print into whatever cell is running."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log requests."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Do not log (errors still reach the client as JSON)."""


def _listening_socket(host: str, port: int | None) -> socket.socket:
    """Bind ``port`` (None: 1245 if free, else any free port; 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        try:
            sock.bind((host, ORIGINAL_PORT if port is None else port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            if port is not None:
                raise PortInUse(
                    f"Port {port} is in use by another program: stop it, or pick another "
                    f"port (--port N, or port=0 for any free port)."
                ) from None
            sock.bind((host, 0))
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_server(
    app: Flask | Callable[[], Flask], port: int | None = None, host: str = "127.0.0.1"
) -> BaseWSGIServer:
    """A threaded werkzeug server, bound and listening (not serving yet).

    ``app`` may be a factory: it is called only once the port is ours, so a second copy
    of an app started on a busy port fails before touching Redis.
    """
    sock = _listening_socket(host, port)
    try:
        wsgi_app = app if isinstance(app, Flask) else app()
        return make_server(
            host, 0, wsgi_app, threaded=True, request_handler=QuietRequestHandler, fd=sock.fileno()
        )
    finally:
        sock.close()


def run_until_stopped(app: Flask | Callable[[], Flask], port: int, banner: str) -> int:
    """Serve ``app`` (or what the factory makes) on ``port`` here until Ctrl+C or SIGTERM."""
    server = bind_server(app, port)
    stopping = threading.Event()

    def on_sigterm(signum: int, frame: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    print(banner.format(url=f"http://127.0.0.1:{server.server_address[1]}"), flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        signal.signal(signal.SIGTERM, previous)
    return 0


@dataclass
class WebServer:
    """A Flask app served by a background thread; ``.stop()`` stops it."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        """The port the app listens on."""
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        """The app's base URL, e.g. ``http://127.0.0.1:1245``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """True while the server thread serves."""
        return self.thread.is_alive()

    def stop(self) -> bool:
        """Stop serving and close the port; True if it was running."""
        was_running = self.thread.is_alive()
        if was_running:
            self.server.shutdown()
            self.thread.join(10)
        self.server.server_close()
        lifecycle.finished(self)
        return was_running

    def get(self, path: str) -> Reply:
        """``GET path`` on this app over real HTTP."""
        return get(self.url + path)

    def curl(self, path: str, show_status: bool = False) -> None:
        """Print the body of ``GET path`` as ``curl localhost:PORT/path ; echo ""`` shows it."""
        curl(self.url + path, show_status)

    def __enter__(self) -> WebServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "serving" if self.running else "stopped"
        return f"<WebServer {self.app.name} at {self.url}, {state}>"


def serve(app: Flask, port: int | None = None, host: str = "127.0.0.1") -> WebServer:
    """Serve ``app`` from a background thread (port None: 1245 if free, else any free port)."""
    server = bind_server(app, port, host)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        daemon=True,
        name=f"web-{app.name}-{server.server_address[1]}",
    )
    web = WebServer(app, server, thread)
    lifecycle.started("web server", web)
    thread.start()
    return web
