"""Many calls released at the same instant: the bursts that show (or rule out) a race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def at_once(call: Callable[[], Any], n: int, timeout: float = 30.0) -> list[Any]:
    """Run ``call()`` from ``n`` threads released together; each result or exception, in order.

    A call still running after ``timeout`` s is left out (the list is then shorter than ``n``).
    """
    start = threading.Barrier(n)
    outcomes: list[Any] = [None] * n
    done = [False] * n

    def run(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 - the caller judges it
            outcomes[i] = exc
        done[i] = True

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return [outcome for outcome, finished in zip(outcomes, done, strict=True) if finished]
