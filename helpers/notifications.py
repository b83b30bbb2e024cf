"""The notification jobs of tasks 6–11: job functions, job creation, Kue's log lines.

Kue's ``queue.create(type, data).save()`` becomes :func:`create_job` (an RQ ``enqueue`` with
a readable id, events, priority, delay and attempts); ``sendNotification`` becomes
:func:`send_notification` (task 7) and :func:`send_notification_with_progress` (task 9);
``createPushNotificationsJobs`` becomes :func:`create_push_notifications_jobs` (task 10).
Job ids read like Kue's (``1``, ``2``, …): a Redis counter per queue (``INCR``).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import redis
from rq import Queue, Retry
from rq.job import Job

from helpers import events
from helpers.errors import WorkbookError

QUEUE_TASK_6 = "push_notification_code"
QUEUE_TASK_8 = "push_notification_code_2"
QUEUE_TASK_10 = "push_notification_code_3"
JOB_DATA = {"phoneNumber": "4153518780", "message": "This is the code to verify your account"}
BLACKLIST = ("4153518780", "4153518781")
SAMPLE_JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153518743", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153538781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153118782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4159518782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4158718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153818782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4154318781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4151218782", "message": "This is the code 4321 to verify your account"},
]
PRIORITIES = ("high", "normal", "low")
RESULT_TTL = 24 * 3600
Log = Callable[[str], None]


class NotAnArray(WorkbookError, TypeError):
    """``create_push_notifications_jobs`` was given something other than a list."""


class InvalidJob(WorkbookError, ValueError):
    """Job data or options a job cannot be created with."""


class Blacklisted(Exception):
    """The error a blacklisted phone number fails its job with (task 9)."""


class GatewayDown(Exception):
    """The error :func:`flaky_notification` fails its first attempts with."""


# --- the job functions (run by the worker) --------------------------------------------------


def send_notification(phone_number: str, message: str) -> None:
    """Task 7: log that the notification is sent."""
    print(f"Sending notification to {phone_number}, with message: {message}")


def send_notification_with_progress(phone_number: str, message: str, seconds: float = 0) -> None:
    """Task 9: progress 0; fail a blacklisted number; else progress 50, then send."""
    events.report_progress(0)
    if phone_number in BLACKLIST:
        raise Blacklisted(f"Phone number {phone_number} is blacklisted")
    events.report_progress(50)
    if seconds:
        time.sleep(seconds)
    send_notification(phone_number, message)


def flaky_notification(phone_number: str, message: str, failures: int = 2) -> None:
    """Fail the first ``failures`` attempts (the SMS gateway is down), then send."""
    from rq import get_current_job

    job = get_current_job()
    attempt = 1 + sum(e["kind"] == events.FAILED_ATTEMPT for e in job.get_meta().get("events", []))
    events.report_progress(0)
    if attempt <= failures:
        raise GatewayDown(f"SMS gateway unreachable (attempt {attempt})")
    events.report_progress(50)
    send_notification(phone_number, message)


# --- ids, queues ---------------------------------------------------------------------------


def _base_name(queue_name: str) -> str:
    for priority in ("high", "low"):
        if queue_name.endswith(f"_{priority}"):
            return queue_name[: -len(priority) - 1]
    return queue_name


def priority_queues(queue_name: str) -> list[str]:
    """The queues of ``queue_name`` in the order a worker must read them: high, normal, low."""
    base = _base_name(queue_name)
    return [f"{base}_high", base, f"{base}_low"]


def queue_for(queue: Queue, priority: str = "normal") -> Queue:
    """The queue a job of ``priority`` goes to (Kue's ``.priority()``)."""
    if priority not in PRIORITIES:
        raise InvalidJob(f"priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    name = priority_queues(queue.name)[PRIORITIES.index(priority)]
    return queue if name == queue.name else Queue(name, connection=queue.connection)


def _counter_key(queue_name: str) -> str:
    return f"workbook:ids:{_base_name(queue_name)}"


def next_job_id(queue: Queue) -> str:
    """A readable, unique RQ job id for the next job of ``queue``: ``<queue>-<n>``."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", _base_name(queue.name))
    while True:
        job_id = f"{prefix}-{queue.connection.incr(_counter_key(queue.name))}"
        if not queue.connection.exists(Job.key_for(job_id)):
            return job_id


def kue_id(job: Job | str) -> str:
    """The number Kue would show for the job (``3`` for ``push_notification_code_2-3``)."""
    job_id = job if isinstance(job, str) else job.id
    match = re.fullmatch(r".+-(\d+)", job_id)
    return match.group(1) if match else job_id


def job_data(job: Job) -> dict[str, str]:
    """The job's data as Kue stored it: ``{"phoneNumber": ..., "message": ...}``."""
    phone_number, message = job.args[:2]
    return {"phoneNumber": phone_number, "message": message}


def reset_queue(queue: Queue) -> None:
    """Empty the queue (and its high/low twins): delete its jobs and restart its ids at 1."""
    connection = queue.connection
    for name in priority_queues(queue.name):
        q = Queue(name, connection=connection)
        ids = set(q.get_job_ids())
        for registry in (
            q.started_job_registry,
            q.finished_job_registry,
            q.failed_job_registry,
            q.scheduled_job_registry,
            q.deferred_job_registry,
            q.canceled_job_registry,
        ):
            ids.update(registry.get_job_ids(cleanup=False))
            connection.delete(registry.key)
        for job in Job.fetch_many(sorted(ids), connection=connection):
            if job is not None:
                job.delete(remove_from_queue=True)
        q.empty()
    connection.delete(_counter_key(queue.name))


# --- creating jobs -------------------------------------------------------------------------


def _check_data(data: object) -> tuple[str, str]:
    if not isinstance(data, dict):
        raise InvalidJob(f"job data must be a dict with phoneNumber and message, not {data!r}")
    phone, message = data.get("phoneNumber"), data.get("message")
    if not isinstance(phone, str) or not phone.strip():
        raise InvalidJob(f"job data needs a phoneNumber (a non-empty string), got {phone!r}")
    if not isinstance(message, str):
        raise InvalidJob(f"job data needs a message (a string), got {message!r}")
    return phone.strip(), message


def retry_policy(attempts: int = 1, backoff: float = 0, exponential: bool = True) -> Retry | None:
    """Kue's ``.attempts(n).backoff(...)``: retry ``attempts - 1`` times, waiting ``backoff`` s."""
    if not isinstance(attempts, int) or attempts < 1:
        raise InvalidJob(f"attempts must be a whole number of at least 1, not {attempts!r}")
    if attempts == 1:
        return None
    if not backoff:
        return Retry(max=attempts - 1)
    waits = [math.ceil(backoff * (2**i if exponential else 1)) for i in range(attempts - 1)]
    return Retry(max=attempts - 1, interval=waits)


def create_job(
    queue: Queue,
    data: dict[str, str],
    *,
    function: Callable[..., None] = send_notification_with_progress,
    priority: str = "normal",
    delay: float = 0,
    attempts: int = 1,
    backoff: float = 0,
    seconds: float = 0,
) -> Job:
    """Kue's ``queue.create(type, data).save()``: enqueue ``function(phone, message)``.

    ``priority`` picks the high, normal or low queue; ``delay`` (s) needs a worker with
    the scheduler; ``attempts`` > 1 retries a failed job, ``backoff`` s apart (doubling).
    """
    phone, message = _check_data(data)
    if not isinstance(delay, int | float) or delay < 0:
        raise InvalidJob(f"delay must be a number of seconds, 0 or more, not {delay!r}")
    target = queue_for(queue, priority)
    options = dict(
        args=(phone, message),
        kwargs={"seconds": seconds} if seconds else None,
        job_id=next_job_id(queue),
        retry=retry_policy(attempts, backoff),
        result_ttl=RESULT_TTL,
        **events.callbacks(),
    )
    if delay:
        return target.enqueue_in(timedelta(seconds=delay), function, **options)
    return target.enqueue(function, **options)


def kue_line(event: events.JobEvent, with_id: bool = True) -> str | None:
    """The line Kue's creator logs for ``event``; task 6's (``with_id=False``) has only two."""
    job = f"Notification job {kue_id(event.job_id)}" if with_id else "Notification job"
    if not with_id and event.kind not in (events.COMPLETED, events.FAILED):
        return None
    if event.kind == events.PROGRESS:
        return f"{job} {event.progress}% complete"
    if event.kind == events.COMPLETED:
        return f"{job} completed"
    if event.kind == events.FAILED:
        return f"{job} failed: {event.error}" if with_id else f"{job} failed"
    if event.kind == events.FAILED_ATTEMPT:
        return f"{job} failed attempt {event.attempt}: {event.error}"
    return None


def kue_log(log: Log = print, with_id: bool = True) -> events.EventHandler:
    """An event handler that logs each event as Kue's creator does."""

    def handler(event: events.JobEvent) -> None:
        line = kue_line(event, with_id)
        if line is not None:
            log(line)

    return handler


def create_push_notifications_jobs(jobs: list, queue: Queue, *, log: Log = print) -> list[Job]:
    """Task 10: one job per item of ``jobs`` on ``queue``, logged as Kue's creator logs them."""
    if not isinstance(jobs, list):
        raise NotAnArray("Jobs is not an array")
    for data in jobs:
        _check_data(data)
    listener = events.Listener(queue.connection, kue_log(log))
    created = []
    for data in jobs:
        job = create_job(queue, data)
        log(f"Notification job created: {kue_id(job)}")
        created.append(job)
    listener.watch(created)
    return created


def spare_database_url(url: str) -> str:
    """The URL of a spare database of the same server (no worker reads it)."""
    match = re.match(r"(.*?)(?:/(\d+))?$", url)
    db = int(match.group(2) or 0)
    return f"{match.group(1)}/{15 if db != 15 else 14}"


@contextmanager
def queue_in_test_mode(url: str | None = None) -> Iterator[Queue]:
    """Kue's ``queue.testMode``: queue ``push_notification_code_3`` on a spare database.

    No worker reads that database, so jobs stay where the tests can inspect them; the
    queue is cleared on entry and on exit.
    """
    from helpers.server import redis_url

    connection = redis.Redis.from_url(spare_database_url(url or redis_url()))
    queue = Queue(QUEUE_TASK_10, connection=connection)
    reset_queue(queue)
    try:
        yield queue
    finally:
        ids = queue.get_job_ids()
        events.forget(ids)
        events.wait_for(ids, timeout=5)
        reset_queue(queue)
        connection.close()


# --- the original scripts as commands --------------------------------------------------------


def _wait_flag(argv: list[str], prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--no-wait", action="store_true", help="exit once the jobs are created")
    return parser.parse_args(argv)


def _connection() -> redis.Redis:
    from helpers.server import raw_connection

    return raw_connection()


def task_job_creator(argv: list[str]) -> int:
    """``6-job_creator.js``: create one job, then log when it completes or fails."""
    args = _wait_flag(argv, "python -m helpers task 6")
    connection = _connection()
    queue = Queue(QUEUE_TASK_6, connection=connection)
    job = create_job(queue, JOB_DATA, function=send_notification)
    print(f"Notification job created: {kue_id(job)}", flush=True)
    if not args.no_wait:
        events.listen(connection, [job], kue_log(_flushed, with_id=False)).wait()
    return 0


def _flushed(line: str) -> None:
    print(line, flush=True)


def _process(argv: list[str], queue: str, n: int, prog: str) -> int:
    from helpers.workers import start_workers

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    args = parser.parse_args(argv)
    group = start_workers(
        priority_queues(queue), n, burst=args.burst, with_scheduler=not args.burst, on_line=_flushed
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
    listener = events.Listener(connection, kue_log(_flushed))
    for data in SAMPLE_JOBS:
        job = create_job(queue, data)
        print(f"Notification job created: {kue_id(job)}", flush=True)
        if not args.no_wait:
            listener.watch([job])
    listener.wait()
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
    created = create_push_notifications_jobs(jobs, queue, log=_flushed)
    if not args.no_wait:
        events.wait_for(created, timeout=None)
    else:
        events.stop_all()
    return 0


def task_job_tests(argv: list[str]) -> int:
    """``8-job.test.js``: run the tests of ``create_push_notifications_jobs`` with pytest."""
    path = Path(__file__).resolve().parent.parent / "tests" / "test_job_creation.py"
    from helpers.server import redis_url

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
    return subprocess.call(command, env=dict(os.environ, REDIS_URL=redis_url()))
