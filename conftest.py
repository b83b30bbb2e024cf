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

import pytest

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


def _watched_processes() -> dict[int, str]:
    out = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,stat=,args="], capture_output=True, text=True
    ).stdout
    found = {}
    for row in out.splitlines():
        pid, stat, args = row.strip().split(None, 2)
        if "Z" not in stat and any(word in args for word in WATCHED):
            found[int(pid)] = args
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    """Give the session a Redis of its own before nbval starts its first kernel."""
    session.config._baseline_processes = _watched_processes()
    if os.environ.get("REDIS_URL"):
        return
    os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="workbook-test-")
    from helpers import server

    os.environ.setdefault("WORKBOOK_REDIS_PORT", str(server.free_port()))

    server.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the session's workers and server; fail if anything it started is still alive."""
    from helpers import server, workers

    workers.stop_all()
    workers.stop_registered()
    if not os.environ.get("REDIS_URL"):
        server.stop()
    import time

    deadline = time.monotonic() + 15
    left: dict[int, str] = {}
    while time.monotonic() < deadline:
        baseline = session.config._baseline_processes
        left = {p: a for p, a in _watched_processes().items() if p not in baseline}
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
