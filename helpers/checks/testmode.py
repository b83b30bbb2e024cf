"""The self-check of notebook 08: the learner's tests of ``create_push_notifications_jobs``.

The check runs the learner's test file with pytest, in a process of its own
(:mod:`helpers.checks.testmode_runs`, one fork per run), first against the right function
(every test must pass) and then against broken versions of it (each must make a test fail).
:mod:`helpers.checks.mutants`, a pytest plugin, swaps the function in without touching the
learner's file, and reports each run's outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.checks.verdict import Verdict, verdict
from helpers.core.server import redis_url
from helpers.testmode import spare_database_url

__all__ = ["BROKEN", "RUN_TIMEOUT", "TEST_MODE_URL_ENV", "check_job_tests"]

RUN_TIMEOUT = 60.0  # seconds for one run of the learner's tests
RUNNER = "helpers.checks.testmode_runs"  # the process that runs the tests, once per version
TEST_MODE_URL_ENV = "WORKBOOK_TEST_MODE_URL"  # where the runs' test mode is, for the runner

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


def _runs(path: Path, versions: list[str], url: str) -> list[dict]:
    """The tests of ``path`` run against each version ('' first: the right function)."""
    with tempfile.TemporaryDirectory(prefix="job-tests-") as folder:
        env = dict(
            os.environ,
            REDIS_URL=url,
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
            PYTHONDONTWRITEBYTECODE="1",
            **{TEST_MODE_URL_ENV: spare_database_url(url)},
        )
        command = [sys.executable, "-m", RUNNER, folder, str(path), *versions]
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True,
                timeout=RUN_TIMEOUT * (len(versions) + 1),
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return [{"timeout": True}]
    if done.returncode != 0:
        lines = (done.stderr + done.stdout).strip().splitlines() or ["nothing"]
        return [{"failed_to_start": lines[-1].strip()}]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    runs = _runs(file, ["", *BROKEN], redis_url())
    wrong = _on_the_right_function(file.name, runs[0])
    if wrong:
        return verdict(False, wrong)
    if len(runs) != 1 + len(BROKEN):  # the runs stop when pytest fails on the right function
        return verdict(
            False,
            f"pytest ended with status {runs[0]['exitstatus']} on the right "
            "function: run the cell with pytest below and read its report.",
        )
    for (what, fix), run in zip(BROKEN.values(), runs[1:], strict=True):
        if not run.get("timeout") and "failed_to_start" not in run and run["exitstatus"] == 0:
            return verdict(False, f"your tests still pass when the function {what}: {fix}.")
    return verdict(
        True,
        f"your tests pass on create_push_notifications_jobs and catch each of the "
        f"{len(BROKEN)} broken versions of it.",
    )
