"""``python -m helpers redis start|stop|status|url`` and ``python -m helpers stop``.

Only ``url`` prints the password (in the URL, for the learner's own ``redis-cli -u`` and
``rq info -u``); every other line shows the URL without it.
"""

from __future__ import annotations

import sys

from helpers.core.secret import without_password
from helpers.core.server import (
    describe,
    external_url,
    ping,
    redis_url,
    start,
    status,
    stop,
)
from helpers.core.workers import stop_recorded


def _shown() -> str:
    """``REDIS_URL`` as it may be printed: without its password."""
    return without_password(external_url() or "")


def stop_all() -> int:
    """``python -m helpers stop`` (``make stop``): the workers recorded, then the server."""
    print(f"Stopped {stop_recorded()} worker(s).")
    return main(["stop"])


def main(argv: list[str]) -> int:
    """``python -m helpers redis start|stop|status|url``."""
    command = argv[0] if argv else "status"
    if command == "start":
        if external_url():
            print(f"REDIS_URL is set ({_shown()}): nothing to start.")
            return 0 if ping(external_url()) else 1
        print(describe(start().url))
    elif command == "stop":
        if external_url():
            print(f"REDIS_URL is set ({_shown()}): the workbook started nothing to stop.")
            return 0
        stopped = stop()
        print(
            f"Stopped the workbook's server (pid {stopped.pid})."
            if stopped
            else "The workbook's server is not running."
        )
    elif command == "status":
        if external_url():
            up = ping(external_url())
            print(describe(external_url()) if up else f"REDIS_URL {_shown()} does not answer.")
            return 0 if up else 1
        state = status()
        if state is None:
            print("The workbook's server is not running.")
            return 1
        print(f"{describe(state.url)}, pid {state.pid}, data in {state.data_dir}")
    elif command == "url":
        print(redis_url())
    else:
        print("usage: python -m helpers redis start|stop|status|url", file=sys.stderr)
        return 2
    return 0
