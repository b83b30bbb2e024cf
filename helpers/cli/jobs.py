"""Tasks 6–11 as commands: the original course's job creators, processors and tests."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import redis
from rq import Queue

from helpers.core import server
from helpers.core.errors import WorkbookError
from helpers.core.home import project_root
from helpers.core.listener import Listener, listen
from helpers.core.output import say, say_error
from helpers.core.workers import start_workers
from helpers.job_creation import create_job, create_push_notifications_jobs, priority_queues
from helpers.kue_log import kue_id, kue_log
from helpers.notifications import (
    JOB_DATA,
    QUEUE_TASK_6,
    QUEUE_TASK_8,
    QUEUE_TASK_10,
    SAMPLE_JOBS,
    send_notification,
)


def _wait_flag(argv: list[str], prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--no-wait", action="store_true", help="exit once the jobs are created")
    return parser.parse_args(argv)


def _connection() -> redis.Redis:
    return server.raw_connection()


def task_job_creator(argv: list[str]) -> int:
    """``6-job_creator.js``: create one job, then log when it completes or fails."""
    args = _wait_flag(argv, "python -m helpers task 6")
    connection = _connection()
    queue = Queue(QUEUE_TASK_6, connection=connection)
    job = create_job(queue, JOB_DATA, function=send_notification)
    print(f"Notification job created: {kue_id(job)}", flush=True)
    if not args.no_wait:
        listen(connection, [job], kue_log(say, with_id=False)).wait(timeout=None)
    return 0


def _process(argv: list[str], queue: str, n: int, prog: str) -> int:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    args = parser.parse_args(argv)
    group = start_workers(  # what RQ logs (a failed job's traceback) reaches the terminal
        priority_queues(queue),
        n,
        burst=args.burst,
        with_scheduler=not args.burst,
        on_line=say,
        on_error=say_error,
    )
    try:
        group.wait()
    finally:
        group.stop()
    return 0


def task_job_processor(argv: list[str]) -> int:
    """``6-job_processor.js``: a worker on ``push_notification_code`` (``--burst``: then exit)."""
    return _process(argv, QUEUE_TASK_6, 1, "python -m helpers task 7")


def task_progress_creator(argv: list[str]) -> int:
    """``7-job_creator.js``: the 11 jobs, then every progress, completion and failure."""
    args = _wait_flag(argv, "python -m helpers task 8")
    connection = _connection()
    queue = Queue(QUEUE_TASK_8, connection=connection)
    listener = Listener(connection, kue_log(say))
    for data in SAMPLE_JOBS:
        job = create_job(queue, data)
        print(f"Notification job created: {kue_id(job)}", flush=True)
        if not args.no_wait:
            listener.watch([job])
    listener.wait(timeout=None)
    return 0


def task_progress_processor(argv: list[str]) -> int:
    """``7-job_processor.js``: two jobs at a time on ``push_notification_code_2``."""
    return _process(argv, QUEUE_TASK_8, 2, "python -m helpers task 9")


def task_job_main(argv: list[str]) -> int:
    """``8-job-main.js``: ``create_push_notifications_jobs`` with one job."""
    args = _wait_flag(argv, "python -m helpers task 10")
    connection = _connection()
    jobs = [SAMPLE_JOBS[0]]
    queue = Queue(QUEUE_TASK_10, connection=connection)
    created = create_push_notifications_jobs(jobs, queue, log=say)
    if args.no_wait:
        created.listener.stop()
    else:
        created.wait(timeout=None)
    return 0


def task_job_tests(argv: list[str]) -> int:
    """``8-job.test.js``: run the tests of ``create_push_notifications_jobs`` with pytest."""
    root = project_root()
    path = root / "tests" / "test_job_creation.py" if root else None
    if path is None or not path.exists():
        raise WorkbookError(
            "task 11 runs tests/test_job_creation.py of a clone of the workbook, and this "
            "helpers package is installed on its own: run it from a clone (make test)."
        )
    # --noconftest: the suite's session set-up (a server of its own) is not needed here
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(path),
        "-v",
        "--noconftest",
        "-p",
        "no:cacheprovider",
        *argv,
    ]
    # no plugins of this environment (nbval and others: 2 s of start-up; these tests need none)
    env = dict(os.environ, REDIS_URL=server.redis_url(), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return subprocess.call(command, env=env)
