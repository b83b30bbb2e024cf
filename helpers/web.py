"""Serve a Flask app from a background thread: a cell starts it, `.stop()` or `cleanup()` ends it.

The two web apps of the workbook (tasks 12 and 13) answer like the original Express apps:
compact JSON, keys in the order written, no trailing newline, and JSON for every error
(an unknown route, a wrong method, Redis gone) instead of an HTML page.
"""

from __future__ import annotations

import contextlib
import errno
import json
import signal
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask, Response, current_app, g
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from helpers import lifecycle
from helpers.errors import WorkbookError

ORIGINAL_PORT = 1245
LISTEN_BACKLOG = 1024
MAX_CONCURRENT = 50
BUSY_TIMEOUT = 30.0
_running: list[WebServer] = []
_running_lock = threading.Lock()


class PortInUse(WorkbookError):
    """The port asked for is taken by another program."""


class ExpressJSONProvider(DefaultJSONProvider):
    """JSON as Express's ``res.json`` writes it: compact, keys in order, no trailing newline."""

    compact = True
    sort_keys = False
    ensure_ascii = False
    mimetype = "application/json"

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """A JSON response whose body is exactly ``json.dumps(obj, separators=(",", ":"))``."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(
            self.dumps(obj, separators=(",", ":")), mimetype=self.mimetype
        )


ERROR_STATUS = {404: "Not found", 405: "Method not allowed"}


def json_error(status: str, code: int) -> Response:
    """``{"status": status}`` with HTTP status ``code``."""
    reply = current_app.json.response({"status": status})
    reply.status_code = code
    return reply


def create_json_app(name: str, max_concurrent: int = MAX_CONCURRENT) -> Flask:
    """A Flask app that answers in Express-style JSON, errors included (never HTML, never a 500).

    At most ``max_concurrent`` requests run at once; the others wait their turn (up to
    ``BUSY_TIMEOUT`` seconds, then 503). redis-py's connection pool holds 100 connections by
    default and refuses more, so a burst of 500 requests must not reach it all at once.
    """
    app = Flask(name)
    app.json_provider_class = ExpressJSONProvider
    app.json = ExpressJSONProvider(app)
    app.json.compact = True
    app.json.sort_keys = False
    turns = threading.BoundedSemaphore(max_concurrent)

    @app.before_request
    def wait_for_a_turn() -> Response | None:
        """Hold the request until fewer than ``max_concurrent`` run."""
        if not turns.acquire(timeout=BUSY_TIMEOUT):
            return json_error("Server busy", 503)
        g.has_turn = True
        return None

    @app.teardown_request
    def give_the_turn_back(exc: BaseException | None) -> None:
        """Let the next request in."""
        if g.pop("has_turn", False):
            turns.release()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        """Unknown route (404), wrong method (405) and the rest: JSON, same status code."""
        reply = json_error(ERROR_STATUS.get(exc.code or 500, exc.name), exc.code or 500)
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            reply.headers["Allow"] = ", ".join(sorted(allowed))
        return reply

    @app.errorhandler(redis.RedisError)
    def redis_down(exc: redis.RedisError) -> Response:
        """Redis cannot be reached: 503, a JSON body that says so."""
        return json_error("Redis is not available", 503)

    return app


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
        with _running_lock:
            if self in _running:
                _running.remove(self)
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
    with _running_lock:
        _running.append(web)
    thread.start()
    return web


def stop_all() -> int:
    """Stop every web server this process started; return how many were running."""
    with _running_lock:
        servers = list(_running)
    return sum(web.stop() for web in servers)


lifecycle.register("web server", stop_all)


@dataclass
class Reply:
    """An HTTP answer: status code and body text."""

    status: int
    body: str

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def get(url: str, timeout: float = 10.0, method: str = "GET") -> Reply:
    """``GET url`` (or another ``method``) over real HTTP; 4xx and 5xx answers are returned."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.read().decode())
    except urllib.error.HTTPError as exc:
        with contextlib.closing(exc):
            return Reply(exc.code, exc.read().decode())


def curl(url: str, show_status: bool = False) -> None:
    """Print the body of ``GET url`` as ``curl url ; echo ""`` does (and the status if asked)."""
    reply = get(url)
    print(f"{reply.body}  ← {reply.status}" if show_status else reply.body)


def burst(url: str, n: int, timeout: float = 60.0) -> list[Reply]:
    """``n`` concurrent ``GET url`` from ``n`` threads released at the same instant."""
    start = threading.Barrier(n)
    replies: list[Reply | None] = [None] * n

    def client(i: int) -> None:
        start.wait()
        try:
            replies[i] = get(url, timeout)
        except OSError as exc:
            replies[i] = Reply(0, json.dumps({"status": f"No answer ({type(exc).__name__})"}))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 5)
    return [reply for reply in replies if reply is not None]


def tally(replies: list[Reply]) -> dict[str, int]:
    """How many replies carry each ``status``, most frequent first."""
    counts: dict[str, int] = {}
    for reply in replies:
        status = reply.json().get("status", "?")
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
