"""Test session set-up shared by the tests and the notebooks (nbval).

Before anything runs, the session gets its own Redis through the workbook's one start path:
``REDIS_URL`` if it is set, else the workbook's own server in a fresh ``WORKBOOK_HOME``, so
the tests never touch a learner's data. Kernels started by nbval and papermill inherit the
environment and so find the same server. After the session, the server is stopped and no
process that the session started may still be running.
"""

from __future__ import annotations

import os
import re
import shutil
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


# Under pytest-xdist (``make test`` runs ``-n 3``), tests that must not overlap share a group,
# which one worker runs in order: every run of one notebook (nbval, papermill, the browser),
# since a run writes the learner's files beside it; and whatever may serve on the original's
# port 1245 (notebooks 09 and 10, tasks 12 and 13, grading). A run of a notebook's student
# edition is in a folder of its own: only 09 and 10 are grouped, by their port. Groups are read
# off node ids, which is all xdist's scheduler sees (its own xdist_group marks do not reach it
# under pytest 9.2).
PORT_1245 = "port-1245"
SERVES_1245 = ("09", "10")
PORT_1245_MODULES = ("test_web.py", "test_proxy.py", "test_doctor.py", "test_grading.py")
OWN_FOLDER_MODULES = ("test_student_edition.py",)  # its notebook runs write nothing beside ours
RUNS_NOTEBOOK = {  # tests that run a notebook their id does not name
    "test_pubsub_panel_shows_a_published_message": "04",
    "test_job_board_reaches_the_final_state": "06",
    "test_shop_reserves_the_last_suitcases": "09",
    "test_seat_desk_reserves_and_processes": "10",
    "test_a_notebook_run_with_workers_shows_no_password": "05",
    "test_notebook_00_uses_redis_url_and_starts_nothing": "00",
}
HEAVY_FIRST = (PORT_1245, "notebook-12", "notebook-11", "notebook-10", "notebook-08")
NOTEBOOK_ID = re.compile(r"(?:^|/)(\d\d)-[\w-]+\.ipynb::|\[(\d\d)(?:-[\w-]+)?\]$")


def group_of(nodeid: str) -> str | None:
    """The group of the test ``nodeid`` under pytest-xdist, or None (any worker, any time)."""
    path, _, name = nodeid.partition("::")
    found = NOTEBOOK_ID.search(nodeid)
    prefix = (found.group(1) or found.group(2)) if found else RUNS_NOTEBOOK.get(name)
    module = path.rsplit("/", 1)[-1]
    if prefix in SERVES_1245 or module in PORT_1245_MODULES:
        return PORT_1245
    return f"notebook-{prefix}" if prefix and module not in OWN_FOLDER_MODULES else None


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Hand out whole groups (``group_of``), each test outside a group on its own."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist: the longest groups first, so no worker is left with one at the end."""
    if not hasattr(config, "workerinput"):  # run in-process, or xdist's controller: as collected
        return

    def rank(item: pytest.Item) -> int:
        group = group_of(item.nodeid)
        return HEAVY_FIRST.index(group) if group in HEAVY_FIRST else len(HEAVY_FIRST)

    items.sort(key=rank)  # stable: each group keeps its order


def _marker() -> str:
    return f"{MARKER}={os.environ[MARKER]}"


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to pytest-xdist's workers (it runs none itself)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Give the session a Redis of its own before nbval starts its first kernel.

    Under pytest-xdist (``-n``), each worker is a session of its own: its own home, port and
    server; the controller starts none.
    """
    os.environ[MARKER] = uuid.uuid4().hex
    session.config._baseline_processes = _watched_processes(_marker())
    if not hasattr(session.config, "workerinput"):  # the browser's pictures of an earlier run
        shutil.rmtree(Path(__file__).parent / "tests" / "artifacts" / "screenshots", True)
    if os.environ.get("REDIS_URL") or _xdist_controller(session.config):
        return
    os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="workbook-test-")
    from helpers.core import server

    if hasattr(session.config, "workerinput") or "WORKBOOK_REDIS_PORT" not in os.environ:
        os.environ["WORKBOOK_REDIS_PORT"] = str(server.free_port())  # an xdist worker: its own
    server.start()  # started, not registered with cleanup(): no test's cleanup() stops it


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the session's workers and server; fail if anything it started is still alive."""
    from helpers.core import lifecycle, server, workers

    if _xdist_controller(session.config):
        return
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
