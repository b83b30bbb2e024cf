"""A workbook server of a test's own, to crash (SIGKILL: no SHUTDOWN, no snapshot) and restart."""

from __future__ import annotations

import os
import signal

from helpers.core import server
from helpers.core.processes import ProcessRecord
from helpers.core.waiting import wait_until


def crash() -> None:
    """SIGKILL the workbook's server and wait until it is gone."""
    state = server.status()
    assert state is not None, "the workbook's server is not running"
    record = ProcessRecord(state.pid, state.started)
    os.kill(state.pid, signal.SIGKILL)
    assert wait_until(lambda: not record.is_running(), 10)


def crash_and_restart() -> server.ServerState:
    """SIGKILL the workbook's server, then start it again (same folder, same port)."""
    crash()
    return server.start()
