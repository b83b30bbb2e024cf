"""The runs of notebook 08's check: the learner's tests, once per version of the function.

``python -m helpers.checks.testmode_runs FOLDER FILE '' MUTANT...`` imports pytest, the
mutants plugin (:mod:`helpers.checks.mutants`) and RQ once, then forks one child per version
of the function, in order ('' is the right one, first): the child runs ``pytest.main`` on
``FILE`` with the plugin swapping that version in, and writes the plugin's report to
``FOLDER/<n>.json``, its output to ``FOLDER/<n>.log``. Between runs the queues of test mode
(its URL in ``WORKBOOK_TEST_MODE_URL``; the plugin is told its database) are counted and
cleared. A run that takes longer than :data:`RUN_TIMEOUT` s is killed; if pytest fails on
the right function, the broken versions are not run. The last line printed is a JSON list,
one result per run. Seven runs cost one start of pytest instead of seven: 2 s, not 4, here.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest  # noqa: F401 - imported once here, not in every run
import redis
from rq import Queue

from helpers.checks import mutants
from helpers.checks.mutants import MUTANT_ENV, OTHER_QUEUE, REPORT_ENV, TEST_MODE_DB_ENV
from helpers.checks.testmode import RUN_TIMEOUT, TEST_MODE_URL_ENV
from helpers.job_creation import reset_queue
from helpers.notifications import QUEUE_TASK_10


def pytest_args(path: Path) -> list[str]:
    """pytest on ``path`` alone: no conftest, no settings or cache of the folder's project."""
    return [
        *(path.name, "-q", "-x", "-p", "no:cacheprovider"),
        *("--noconftest", "-c", os.devnull, "--rootdir", str(path.parent)),
        *("-p", mutants.__name__),
    ]


def _child(path: Path, version: str, report: Path, log: Path) -> None:
    """In the forked child: run the tests against ``version``; never return."""
    code = 1
    try:
        os.setpgid(0, 0)  # the run's own process group: a timeout kills all of it
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.update({MUTANT_ENV: version, REPORT_ENV: str(report)})
        os.chdir(path.parent)
        code = int(pytest.main(pytest_args(path)))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int) -> bool:
    """Wait for the child ``pid``; False (and the child's group killed) after RUN_TIMEOUT s."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.01)
    return True


def _left_and_cleared(spare: redis.Redis) -> int:
    """How many jobs a run left in test mode's queue; both queues of the runs cleared."""
    left = Queue(QUEUE_TASK_10, connection=spare).count
    for name in (QUEUE_TASK_10, OTHER_QUEUE):
        reset_queue(Queue(name, connection=spare))
    return left


def run(folder: Path, path: Path, version: str, spare: redis.Redis, n: int) -> dict:
    """One run of the tests of ``path`` against ``version``: the plugin's report, or why none."""
    report, log = folder / f"{n}.json", folder / f"{n}.log"
    pid = os.fork()
    if pid == 0:
        _child(path, version, report, log)
    ended = _wait(pid)
    left = _left_and_cleared(spare)
    if not ended:
        return {"timeout": True}
    if not report.exists():
        text = log.read_text(errors="replace") if log.exists() else ""
        return {"failed_to_start": (text.strip().splitlines() or ["nothing"])[-1].strip()}
    return {**json.loads(report.read_text()), "left": left}


def main(argv: list[str]) -> int:
    """Run the tests once per version given; print the results as one JSON list."""
    folder, path, versions = Path(argv[0]), Path(argv[1]).resolve(), argv[2:]
    spare = redis.Redis.from_url(os.environ[TEST_MODE_URL_ENV])
    os.environ[TEST_MODE_DB_ENV] = str(spare.connection_pool.connection_kwargs.get("db", 0))
    results = []
    for n, version in enumerate(versions):
        results.append(run(folder, path, version, spare, n))
        if n == 0 and results[0].get("exitstatus") != 0:
            break  # the right function's tests fail: the broken versions tell nothing more
    spare.close()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
