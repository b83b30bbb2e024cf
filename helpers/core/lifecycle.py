"""Stop what this kernel started: things register here when they start; ``cleanup()`` stops them.

A worker group, a listener, a subscriber, a web server, a polling widget and the
workbook's Redis each call :func:`started` when they start and :func:`finished` when they
stop. :func:`cleanup` stops what is still running and says so in one line; the last cell
of every notebook shows a button that calls it (``helpers.finish()``), so that Run All
leaves the widgets alive. The same runs when the process exits (the kernel shuts down),
once something has started (the exit hook is registered then, not on import).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable

Stopper = Callable[[], int | bool]
_running: list[tuple[str, object, Stopper]] = []
_lock = threading.Lock()
_exit_hook = False
NOTHING = "Nothing this notebook started is still running."


def started(noun: str, thing: object, stopper: Stopper | None = None) -> None:
    """Record that ``thing`` (a singular noun such as 'worker') runs until it is stopped.

    ``stopper`` stops it and says how many running things it stopped; default ``thing.stop``.
    """
    global _exit_hook
    with _lock:
        if not any(t is thing for _, t, _ in _running):
            _running.append((noun, thing, stopper or thing.stop))
        if not _exit_hook:
            atexit.register(stop_everything)
            _exit_hook = True


def finished(thing: object) -> None:
    """Forget ``thing``: it stopped by itself or was stopped."""
    with _lock:
        _running[:] = [entry for entry in _running if entry[1] is not thing]


def stop_everything(keep: tuple[str, ...] = ()) -> dict[str, int]:
    """Stop everything still recorded (but the nouns in ``keep``), the Redis server last.

    Returns how many of each noun ran.
    """
    with _lock:
        things = [entry for entry in _running if entry[0] not in keep]
    things.sort(key=lambda entry: entry[0] == "Redis")
    stopped: dict[str, int] = {}
    for noun, thing, stopper in things:
        stopped[noun] = stopped.get(noun, 0) + int(stopper())
        finished(thing)
    return stopped


def _how_many(thing: object) -> int:
    """How many running things ``thing`` stands for (a worker group: its live workers)."""
    alive = getattr(thing, "alive", None)
    return alive if isinstance(alive, int) and not isinstance(alive, bool) else 1


def running() -> dict[str, int]:
    """What is still recorded as running, the workbook's Redis aside: how many of each noun."""
    with _lock:
        things = [(noun, thing) for noun, thing, _ in _running if noun != "Redis"]
    counts: dict[str, int] = {}
    for noun, thing in things:
        n = _how_many(thing)
        if n:
            counts[noun] = counts.get(noun, 0) + n
    return counts


def phrase(counts: dict[str, int]) -> str:
    """``2 workers, 1 web server``: counts of nouns as words."""
    return ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for noun, n in counts.items())


def stop_and_say() -> str:
    """Stop everything this kernel started; the one line that says what was stopped."""
    stopped = {noun: n for noun, n in stop_everything().items() if n and noun != "Redis"}
    done = f"Stopped {phrase(stopped)}. " if stopped else ""
    return f"{done}{NOTHING}"


def cleanup() -> None:
    """Stop everything this kernel started and print one line saying so."""
    print(stop_and_say())
