"""Stop what a notebook started: every module registers its stopper here; ``cleanup()`` runs them.

Workers, subscribers, web servers and monitor threads each register a function that stops
what is still running of theirs and says how many it stopped. The last cell of every
notebook calls :func:`cleanup`, which also stops the workbook's Redis if this kernel started
it and nobody else uses it; the same stoppers (not Redis) also run when the process exits.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable

Stopper = Callable[[], int]
_stoppers: dict[str, Stopper] = {}


def register(what: str, stopper: Stopper) -> None:
    """Register ``stopper`` (returns how many it stopped) under a singular noun like 'worker'."""
    _stoppers[what] = stopper


def stop_everything(redis_too: bool = False) -> dict[str, int]:
    """Run every stopper; with ``redis_too``, also stop the server if this process started it."""
    stopped = {what: stopper() for what, stopper in list(_stoppers.items())}
    if redis_too:
        from helpers.server import stop_if_started_here

        stopped["Redis"] = int(stop_if_started_here())
    return stopped


def cleanup() -> None:
    """Stop everything this kernel started and print one line saying so."""
    stopped = {what: n for what, n in stop_everything(redis_too=True).items() if n}
    parts = [f"{n} {what}{'' if n == 1 else 's'}" for what, n in stopped.items() if what != "Redis"]
    done = f"Stopped {', '.join(parts)}. " if parts else ""
    print(f"{done}Nothing this notebook started is still running.")


atexit.register(stop_everything)
