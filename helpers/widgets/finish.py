"""The last cell of every notebook: what still runs, and a button that stops it.

Run All must leave the job desk, the shop and the seat desk working, so the last cell does
not stop anything by itself: it says what is still running and offers a button that calls
:func:`helpers.core.lifecycle.cleanup`. Whatever is left stops when the kernel shuts down.
"""

from __future__ import annotations

import ipywidgets as widgets

from helpers.core import lifecycle


class FinishButton(widgets.VBox):
    """A button that stops what this notebook started, and the line that says what it did."""

    def __init__(self) -> None:
        self.button = widgets.Button(
            description="Stop what this notebook started",
            icon="stop",
            layout=widgets.Layout(width="auto"),
        )
        self.button.add_class("qs-finish")
        self.result = widgets.Output()
        self.button.on_click(self._stop)
        super().__init__([self.button, self.result])

    def _stop(self, _: widgets.Button | None = None) -> None:
        self.button.disabled = True
        self.result.append_stdout(lifecycle.stop_and_say() + "\n")

    def __repr__(self) -> str:
        """A stable text form (what a notebook stores beside the widget)."""
        return "FinishButton(Stop what this notebook started)"


def finish() -> FinishButton | None:
    """Say what is still running; return a button that stops it (None when nothing runs)."""
    still = lifecycle.running()
    if not still:
        print(lifecycle.NOTHING)
        return None
    print(
        f"Still running: {lifecycle.phrase(still)}. Use them as long as you like; click the "
        "button when you are done (shutting the kernel down stops them too)."
    )
    return FinishButton()
