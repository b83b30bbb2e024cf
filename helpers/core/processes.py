"""Processes by identity: a pid plus its start time, so a reused pid is never signalled.

A pid read from a file (a worker's record, the server's pid file) may belong to another
program by the time it is read: the kernel reuses pids. :class:`ProcessRecord` keeps the
start time the kernel gave the process (``/proc/<pid>/stat``, field 22) and checks it
before any signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat_fields(pid)
    return fields is None or fields[0] != "Z"


def start_time(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (None where ``/proc`` is missing)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def cpu_seconds(pid: int) -> float:
    """CPU seconds ``pid`` and its reaped children used so far (0.0 where ``/proc`` is missing)."""
    fields = _stat_fields(pid)  # utime, stime, cutime, cstime: fields 14-17, in clock ticks
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK") if fields else 0.0


@dataclass(frozen=True)
class ProcessRecord:
    """A process as it was when recorded: its pid and its start time."""

    pid: int
    started: int | None

    @classmethod
    def of(cls, pid: int) -> ProcessRecord:
        """The record of the running process ``pid``."""
        return cls(pid, start_time(pid))

    def is_running(self) -> bool:
        """True if the same process still runs: same pid, same start time, not a zombie."""
        if not pid_alive(self.pid):
            return False
        return self.started is None or start_time(self.pid) == self.started

    def signal(self, signum: int) -> bool:
        """Send ``signum`` if the same process still runs; True if it was sent."""
        if not self.is_running():
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signum)
            return True
        return False


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (a worker's work horse, its scheduler), from ``/proc``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_all(records: Iterable[ProcessRecord]) -> None:
    """SIGKILL each recorded process that still runs (and is still the same process)."""
    for record in records:
        record.signal(signal.SIGKILL)
