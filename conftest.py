"""Test session set-up shared by the tests and the notebooks (nbval).

Before anything runs, the session gets its own Redis through the workbook's one start path:
``REDIS_URL`` if it is set, else the workbook's own server in a fresh ``WORKBOOK_HOME``, so
the tests never touch a learner's data. Kernels started by nbval and papermill inherit the
environment and so find the same server. After the session, the server is stopped and no
process that the session started may still be running.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

MARKER = "WORKBOOK_TEST_SESSION"
WATCHED = (
    "redis-server",
    "valkey-server",
    "helpers worker",
    "ipykernel_launcher",
    "jupyter-lab",
    "jupyter lab",
    "chromium",
    "helpers task",
)


def _ours(pid: int, marker: str) -> bool:
    """True if ``pid`` carries this session's marker in its environment (or we cannot tell)."""
    try:
        return marker.encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self/environ").exists()  # no /proc (macOS): count it
    except OSError:
        return False


def _watched_processes(marker: str) -> dict[int, str]:
    """Live processes of the watched kinds that this test session started."""
    out = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,stat=,args="], capture_output=True, text=True
    ).stdout
    found = {}
    for row in out.splitlines():
        pid, stat, args = row.strip().split(None, 2)
        if "Z" not in stat and any(word in args for word in WATCHED) and _ours(int(pid), marker):
            found[int(pid)] = args
    return found


def _marker() -> str:
    return f"{MARKER}={os.environ[MARKER]}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Give the session a Redis of its own before nbval starts its first kernel."""
    os.environ[MARKER] = uuid.uuid4().hex
    session.config._baseline_processes = _watched_processes(_marker())
    if os.environ.get("REDIS_URL"):
        return
    os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="workbook-test-")
    from helpers.core import server

    os.environ.setdefault("WORKBOOK_REDIS_PORT", str(server.free_port()))
    server.start()  # started, not registered with cleanup(): no test's cleanup() stops it


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the session's workers and server; fail if anything it started is still alive."""
    from helpers.core import lifecycle, server, workers

    lifecycle.stop_everything()
    workers.stop_recorded()
    if not os.environ.get("REDIS_URL"):
        server.stop()
    deadline = time.monotonic() + 15
    left: dict[int, str] = {}
    while time.monotonic() < deadline:
        baseline = session.config._baseline_processes
        left = {p: a for p, a in _watched_processes(_marker()).items() if p not in baseline}
        if not left:
            break
        time.sleep(0.5)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(f"  {pid} {args}" for pid, args in left.items())
        message = f"processes started by the test session are still running:\n{lines}"
        if reporter:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
