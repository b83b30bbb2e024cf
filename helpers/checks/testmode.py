"""The self-check of notebook 08: the learner's tests of ``create_push_notifications_jobs``.

The check runs the learner's test file with pytest, in processes of its own, first against
the right function (every test must pass) and then against broken versions of it (each
must make a test fail). :mod:`helpers.checks.mutants`, a pytest plugin, swaps the function
in without touching the learner's file, and reports each run's outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import redis
from rq import Queue

from helpers.checks.mutants import MUTANT_ENV, OTHER_QUEUE, REPORT_ENV, TEST_MODE_DB_ENV
from helpers.checks.verdict import Verdict, verdict
from helpers.core.server import redis_url
from helpers.job_creation import reset_queue
from helpers.notifications import QUEUE_TASK_10
from helpers.testmode import spare_database_url

__all__ = ["BROKEN", "check_job_tests"]

RUN_TIMEOUT = 60  # seconds for one run of the learner's tests

# each broken version, and what to assert so that a test catches it
BROKEN = {
    "no_error": (
        "raises nothing for a non-list",
        'call it inside `with pytest.raises(Exception, match="Jobs is not an array"):`',
    ),
    "wrong_message": (
        "raises an error with the message 'Jobs must be a list'",
        'check the message: pytest.raises(..., match="Jobs is not an array")',
    ),
    "job_on_error": (
        "creates a job for a non-list before it raises",
        "after the pytest.raises block, assert that the queue is empty (queue.count == 0)",
    ),
    "ignores_queue": (
        "ignores its queue argument and puts the jobs on a queue of its own",
        "assert the jobs' queue (look for them in queue.get_jobs(), or check job.origin)",
    ),
    "swapped": (
        "swaps each job's phone number and message",
        "compare each job's data with its input (job_data(job) == data)",
    ),
    "only_first": (
        "creates the first job only",
        "assert the number of jobs (len(queue.get_jobs()) == 2)",
    ),
}


def _pytest_command(path: Path) -> list[str]:
    """pytest on ``path`` alone: no conftest, no settings or cache of the folder's project."""
    return [
        *(sys.executable, "-m", "pytest", path.name, "-q", "-x", "-p", "no:cacheprovider"),
        *("--noconftest", "-c", os.devnull, "--rootdir", str(path.parent)),
        *("-p", "helpers.checks.mutants"),
    ]


def _run(path: Path, mutant: str, url: str) -> dict:
    """Run the tests of ``path`` against ``mutant`` ('' for the right function)."""
    spare = redis.Redis.from_url(spare_database_url(url))
    db = spare.connection_pool.connection_kwargs.get("db", 0)
    with tempfile.TemporaryDirectory(prefix="job-tests-") as folder:
        report = Path(folder) / "report.json"
        env = dict(
            os.environ,
            REDIS_URL=url,
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
            PYTHONDONTWRITEBYTECODE="1",
            **{MUTANT_ENV: mutant, REPORT_ENV: str(report), TEST_MODE_DB_ENV: str(db)},
        )
        try:
            done = subprocess.run(
                _pytest_command(path),
                cwd=path.parent,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return {"timeout": True}
        finally:
            left = Queue(QUEUE_TASK_10, connection=spare).count
            for name in (QUEUE_TASK_10, OTHER_QUEUE):
                reset_queue(Queue(name, connection=spare))
            spare.close()
        if not report.exists():
            lines = (done.stderr + done.stdout).strip().splitlines() or ["nothing"]
            return {"failed_to_start": lines[-1].strip()}
        return {**json.loads(report.read_text()), "left": left}


def _name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


def _on_the_right_function(file: str, run: dict) -> str | None:
    """What is wrong with a run of the tests against the right function, or None."""
    if run.get("timeout"):
        return f"the tests of {file} ran for more than {RUN_TIMEOUT} s: do they wait for workers?"
    if "failed_to_start" in run:
        return f"pytest could not run {file}: {run['failed_to_start']}"
    if run["errors"]:
        return f"{file} does not import: {run['errors'][0]}. Fix it and write the file again."
    tests = run["tests"]
    if not tests:
        return f"{file} has no tests: pytest runs the functions whose names start with test_."
    for nodeid, test in tests.items():
        if test["outcome"] == "failed":
            return (
                f"{_name(nodeid)} fails on the right function ({test['message']}): "
                "a test must pass when create_push_notifications_jobs is right."
            )
        if test["outcome"] == "skipped":
            return f"{_name(nodeid)} is skipped: a skipped test catches nothing, let it run."
    if len(tests) < 2:
        return "there is one test: write two, one for the error and one for the two jobs."
    if not run["calls"]:
        return (
            f"your {len(tests)} tests pass, but none calls create_push_notifications_jobs: "
            "import it from helpers.job_creation and call it in each test."
        )
    if run["outside"]:
        return (
            f"your tests create jobs on {run['outside'][0]}, outside test mode, where workers "
            "may run them: hand the function the queue that queue_in_test_mode() yields."
        )
    if run["left"]:
        return (
            f"your tests leave {run['left']} job(s) in the test-mode queue: in the fixture, "
            "yield the queue inside `with queue_in_test_mode() as q:`, so it is cleared after."
        )
    return None


def check_job_tests(path: str | Path = "my_job_tests.py") -> Verdict:
    """Exercise 08: the tests in ``path`` pass on the right function and catch broken ones."""
    file = Path(path).resolve()
    if not file.is_file():
        return verdict(False, f"{Path(path).name} is missing: run the %%writefile cell first.")
    url = redis_url()
    wrong = _on_the_right_function(file.name, _run(file, "", url))
    if wrong:
        return verdict(False, wrong)
    for mutant, (what, fix) in BROKEN.items():
        run = _run(file, mutant, url)
        if not run.get("timeout") and "failed_to_start" not in run and run["exitstatus"] == 0:
            return verdict(False, f"your tests still pass when the function {what}: {fix}.")
    return verdict(
        True,
        f"your tests pass on create_push_notifications_jobs and catch each of the "
        f"{len(BROKEN)} broken versions of it.",
    )
