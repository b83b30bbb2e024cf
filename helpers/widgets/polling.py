"""A refresh loop in a daemon thread, for widgets that show what a running web app says."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar

from helpers.core import lifecycle


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


class PollingWidget:
    """Mixin for a widget kept fresh by a :class:`Poller`: ``polling``, ``stop()``, ``close()``.

    The widget defines ``refresh()`` and ``_unreachable()``, names itself in ``noun`` (what
    ``cleanup()`` says it stopped), and calls :meth:`start_polling` at the end of its
    ``__init__``.
    """

    noun: ClassVar[str] = "widget"

    def start_polling(self, every: float, name: str) -> None:
        """Refresh every ``every`` seconds from a daemon thread until stopped."""
        self._poller = Poller(self.refresh, self._unreachable, every, name)
        lifecycle.started(self.noun, self)

    @property
    def polling(self) -> bool:
        """True while the background refresh runs."""
        return self._poller.running

    def _after_stop(self) -> None:
        """What else to wait for once the refresh has stopped (nothing by default)."""

    def stop(self) -> bool:
        """Stop the background refresh; True if it was running."""
        poller = getattr(self, "_poller", None)
        if poller is None:
            return False
        was_running = poller.stop()
        self._after_stop()
        lifecycle.finished(self)
        return was_running

    def close(self) -> None:
        """Stop refreshing and close the widget."""
        self.stop()
        super().close()
