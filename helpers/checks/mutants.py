"""A pytest plugin for ``check_job_tests``: the learner's tests meet a broken function.

``python -m pytest -p helpers.checks.mutants …`` replaces
``helpers.job_creation.create_push_notifications_jobs`` at ``pytest_configure``, before the
learner's test module is imported, with the version that ``WORKBOOK_MUTANT`` names (the
right one, counted, when it is empty). At the end it writes what happened, as JSON, to the
file ``WORKBOOK_TEST_REPORT`` names: each test's outcome, collection errors, how many calls
the function got, and the queues it was handed outside the database of test mode
(``WORKBOOK_TEST_MODE_DB``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from rq import Queue

from helpers import job_creation
from helpers.job_creation import NotAnArray, create_job
from helpers.kue_log import Log

__all__ = ["MUTANTS", "MUTANT_ENV", "OTHER_QUEUE", "REPORT_ENV", "TEST_MODE_DB_ENV"]

MUTANT_ENV = "WORKBOOK_MUTANT"
REPORT_ENV = "WORKBOOK_TEST_REPORT"
TEST_MODE_DB_ENV = "WORKBOOK_TEST_MODE_DB"
OTHER_QUEUE = "push_notification_code"  # where the queue-ignoring version puts its jobs

right = job_creation.create_push_notifications_jobs
_report: dict = {"tests": {}, "errors": [], "calls": 0, "outside": []}


def no_error(jobs: list, queue: Queue, *, log: Log = print) -> list:
    """Raises nothing for a non-list: it creates no job and returns."""
    return right(jobs if isinstance(jobs, list) else [], queue, log=log)


def wrong_message(jobs: list, queue: Queue, *, log: Log = print) -> list:
    """Raises the right error with another message."""
    if not isinstance(jobs, list):
        raise NotAnArray("Jobs must be a list")
    return right(jobs, queue, log=log)


def job_on_error(jobs: list, queue: Queue, *, log: Log = print) -> list:
    """Creates a job out of a non-list before it raises."""
    if not isinstance(jobs, list):
        create_job(queue, {"phoneNumber": "4153518780", "message": repr(jobs)})
    return right(jobs, queue, log=log)


def ignores_queue(jobs: list, queue: Queue, *, log: Log = print) -> list:
    """Puts the jobs on a queue of its own, not on the one it is given."""
    return right(jobs, Queue(OTHER_QUEUE, connection=queue.connection), log=log)


def _swap(data: object) -> object:
    if not isinstance(data, dict):
        return data
    return {**data, "phoneNumber": data.get("message"), "message": data.get("phoneNumber")}


def swapped(jobs: list, queue: Queue, *, log: Log = print) -> list:
    """Gives each job the message as its phone number, and the phone number as its message."""
    return right([_swap(d) for d in jobs] if isinstance(jobs, list) else jobs, queue, log=log)


def only_first(jobs: list, queue: Queue, *, log: Log = print) -> list:
    """Creates the first job only."""
    return right(jobs[:1] if isinstance(jobs, list) else jobs, queue, log=log)


MUTANTS: dict[str, Callable[..., list]] = {
    f.__name__: f
    for f in (no_error, wrong_message, job_on_error, ignores_queue, swapped, only_first)
}


def _counted(function: Callable[..., list]) -> Callable[..., list]:
    """``function``, counting its calls and noting queues that are not in test mode."""

    @functools.wraps(right)
    def create_push_notifications_jobs(jobs: list, queue: Queue, *args, **kwargs) -> list:
        _report["calls"] += 1
        pool = getattr(getattr(queue, "connection", None), "connection_pool", None)
        db = pool.connection_kwargs.get("db", 0) if pool is not None else None
        if db is not None and str(db) != os.environ.get(TEST_MODE_DB_ENV, str(db)):
            _report["outside"].append(f"{getattr(queue, 'name', queue)} on database {db}")
        return function(jobs, queue, *args, **kwargs)

    return create_push_notifications_jobs


def _one_line(report: pytest.BaseReport) -> str:
    """The one line that says why a test or a module failed."""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.strip().splitlines()[0]
    lines = [line.strip() for line in report.longreprtext.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors or lines or ["an error"])[-1]


def pytest_configure(config: pytest.Config) -> None:
    """Swap in the version of the function the run is for."""
    name = os.environ.get(MUTANT_ENV, "")
    job_creation.create_push_notifications_jobs = _counted(MUTANTS[name] if name else right)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Note a module that does not import."""
    if report.failed:
        _report["errors"].append(_one_line(report))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note each test's outcome: its first failure, else passed (or skipped)."""
    test = _report["tests"].setdefault(report.nodeid, {"outcome": "passed", "message": ""})
    if test["outcome"] == "failed":
        return
    if report.failed:
        test.update(outcome="failed", message=_one_line(report), when=report.when)
    elif report.skipped:
        test["outcome"] = "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the report where the check reads it."""
    path = os.environ.get(REPORT_ENV)
    if path:
        Path(path).write_text(json.dumps({**_report, "exitstatus": int(exitstatus)}))
