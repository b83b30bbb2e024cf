"""An HTTP client for the web apps, over real HTTP: ``get``, ``curl``, and a burst of requests."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from helpers.core.concurrency import at_once


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
    replies = at_once(lambda: get(url, timeout), n, timeout + 5)
    return [
        Reply(0, json.dumps({"status": f"No answer ({type(r).__name__})"}))
        if isinstance(r, OSError)
        else r
        for r in replies
        if isinstance(r, Reply | OSError)
    ]


def tally(replies: list[Reply]) -> dict[str, int]:
    """How many replies carry each ``status``, most frequent first."""
    counts: dict[str, int] = {}
    for reply in replies:
        status = reply.json().get("status", "?")
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
