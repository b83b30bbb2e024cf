"""The one wait-until-deadline loop of the workbook."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL = 0.02


def wait_until(done: Callable[[], object], timeout: float | None, every: float = POLL) -> bool:
    """Call ``done()`` every ``every`` s until it is true or ``timeout`` s passed; its last truth.

    ``timeout=None`` waits for ever.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done():
        if deadline is not None and time.monotonic() >= deadline:
            return bool(done())
        time.sleep(every)
    return True
