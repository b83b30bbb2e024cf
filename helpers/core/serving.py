"""Serve a Flask app from a background thread: a cell starts it, `.stop()` or `cleanup()` ends it.

:func:`serve` returns a :class:`WebServer`; :func:`run_until_stopped` serves in the
foreground for ``python -m helpers task 12`` and ``13``. Without a port, an app takes 1245
(the original's) if it is free, else the next free port after it (another learner on the same
machine may hold 1245). Under JupyterLab, both also give the link that opens the app in the
learner's browser through JupyterLab's own address (:mod:`helpers.core.jupyter`).
"""

from __future__ import annotations

import errno
import html
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
from helpers.core.jupyter import proxy_link

ORIGINAL_PORT = 1245
FALLBACK_PORTS = 100  # 1245, 1246, ... 1344 are tried in turn, then any free port
LISTEN_BACKLOG = 1024


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: a server thread must not print into whatever cell is running."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log requests."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Do not log (errors still reach the client as JSON)."""


def _bind_default(sock: socket.socket, host: str) -> None:
    """Bind 1245 if it is free, else the next free port after it, else any free port."""
    for candidate in range(ORIGINAL_PORT, ORIGINAL_PORT + FALLBACK_PORTS):
        try:
            sock.bind((host, candidate))
            return
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    sock.bind((host, 0))


def _new_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def default_port(host: str = "127.0.0.1") -> int:
    """The port an app started now without a port would take (1245, or the next free one)."""
    with _new_socket() as sock:
        _bind_default(sock, host)
        return sock.getsockname()[1]


def _listening_socket(host: str, port: int | None) -> socket.socket:
    """Bind ``port`` (None: 1245 if free, else the next free port; 0: any free port)."""
    sock = _new_socket()
    try:
        if port is None:
            _bind_default(sock, host)
        else:
            try:
                sock.bind((host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                raise PortInUse(
                    f"Port {port} is in use by another program: stop it, or pick another "
                    f"port (--port N, or port=0 for any free port)."
                ) from None
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def landing_path(app: object) -> str:
    """The first route of ``app`` that a browser can open as it is (a GET without arguments)."""
    url_map = getattr(app, "url_map", None)
    for rule in url_map.iter_rules() if url_map is not None else []:
        if "GET" in (rule.methods or ()) and not rule.arguments and rule.endpoint != "static":
            return rule.rule
    return "/"


def browser_link(app: object, port: int) -> str | None:
    """The link that opens ``app`` (on ``port``) in the learner's browser through JupyterLab."""
    return proxy_link(port, landing_path(app))


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


def announce(server: BaseWSGIServer, asked: int | None, banner: str) -> None:
    """Print the banner; before it the port taken instead of 1245, after it the browser link."""
    port = server.server_address[1]
    if asked is None and port != ORIGINAL_PORT:
        print(
            f"Port {ORIGINAL_PORT} is taken (another app, or another learner's), "
            f"so this app uses port {port}, the next free one.",
            flush=True,
        )
    print(banner.format(url=f"http://127.0.0.1:{port}"), flush=True)
    link = browser_link(server.app, port)
    if link:
        hub = " (after your JupyterHub's address)" if link.startswith("/") else ""
        print(f"Open it in your browser through JupyterLab: {link}{hub}", flush=True)


def run_until_stopped(app: Flask | Callable[[], Flask], port: int | None, banner: str) -> int:
    """Serve ``app`` (or what the factory makes) on ``port`` here until Ctrl+C or SIGTERM.

    ``port`` None: 1245 if it is free, else the next free port (one line says which).
    """
    server = bind_server(app, port)
    stopping = threading.Event()

    def on_sigterm(signum: int, frame: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    announce(server, port, banner)
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
    def browser_url(self) -> str | None:
        """The link that opens the app in the learner's browser through JupyterLab, or None.

        None outside JupyterLab (a kernel of papermill or nbval, a terminal of its own).
        """
        return browser_link(self.app, self.port) if self.running else None

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
        link = self.browser_url
        there = f"; in your browser: {link}" if link else ""
        return f"<WebServer {self.app.name} at {self.url}, {state}{there}>"

    def _repr_html_(self) -> str | None:
        """In JupyterLab, the repr with both links clickable; elsewhere none (plain text)."""
        link = self.browser_url
        if link is None:
            return None

        def anchor(href: str, css: str) -> str:
            href = html.escape(href)
            return f'<a class="{css}" href="{href}" target="_blank" rel="noopener">{href}</a>'

        return (
            f"<code>&lt;WebServer {html.escape(self.app.name)} at "
            f"{anchor(self.url, 'qs-app-url')}, serving; in your browser: "
            f"{anchor(link, 'qs-app-link')}&gt;</code>"
        )


def serve(app: Flask, port: int | None = None, host: str = "127.0.0.1") -> WebServer:
    """Serve ``app`` from a background thread (port None: 1245 if free, else the next free)."""
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
