"""A refresh loop in a daemon thread, for widgets that show what a running web app says."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Poller:
    """Call ``refresh()`` every ``every`` seconds until stopped; ``on_error()`` when it fails."""

    def __init__(
        self, refresh: Callable[[], None], on_error: Callable[[], None], every: float, name: str
    ) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(refresh, on_error, every), daemon=True, name=name
        )
        self._thread.start()

    def _run(self, refresh: Callable[[], None], on_error: Callable[[], None], every: float) -> None:
        while not self._stop.wait(every):
            try:
                refresh()
            except (OSError, ValueError, KeyError):
                on_error()

    @property
    def running(self) -> bool:
        """True while the loop runs."""
        return self._thread.is_alive()

    def stop(self) -> bool:
        """Stop the loop and wait for it; True if it was running."""
        was_running = self._thread.is_alive()
        self._stop.set()
        self._thread.join(5)
        return was_running
