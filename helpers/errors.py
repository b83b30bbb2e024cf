"""The workbook's own exceptions: one clear line, no traceback in a notebook."""

from __future__ import annotations


class WorkbookError(RuntimeError):
    """An error whose message says what went wrong and how to fix it, in one line."""

    def _render_traceback_(self) -> list[str]:
        """Show IPython users the one line, not a traceback."""
        return [f"{type(self).__name__}: {self}"]
