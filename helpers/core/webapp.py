"""Flask apps that answer as the original Express apps do: compact JSON, errors included.

Compact JSON, keys in the order written, no trailing newline, and JSON for every error (an
unknown route, a wrong method, Redis gone) instead of an HTML page.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from flask import Flask, Response, current_app, g
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

MAX_CONCURRENT = 50
BUSY_TIMEOUT = 30.0


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


def json_reply(body: Any, code: int = 200) -> Response:
    """``body`` as the app's JSON, with HTTP status ``code`` (inside a request)."""
    reply = current_app.json.response(body)
    reply.status_code = code
    return reply


def json_error(status: str, code: int) -> Response:
    """``{"status": status}`` with HTTP status ``code``."""
    return json_reply({"status": status}, code)


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
