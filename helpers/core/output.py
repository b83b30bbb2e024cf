"""Printing from threads: one write per line, so lines from several threads never interleave."""

from __future__ import annotations

import sys
import threading

_lock = threading.Lock()


def say(line: str) -> None:
    """Print ``line`` and its newline in one write, then flush."""
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def say_error(line: str) -> None:
    """The same on stderr."""
    with _lock:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
