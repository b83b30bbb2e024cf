"""The self-checks of notebooks 05–07: creating a job, Kue's lines, the job creation function."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import redis
from rq import Queue
from rq.job import Job

from helpers.checks.verdict import Verdict, raised, run_captured, verdict
from helpers.core.events import JobEvent
from helpers.core.listener import Listener
from helpers.core.server import url_of
from helpers.core.workers import start_workers
from helpers.job_creation import CreatedJobs, job_data, reset_queue
from helpers.kue_log import kue_id
from helpers.notifications import SAMPLE_JOBS

__all__ = [
    "check_create_notification_job",
    "check_create_push_notifications_jobs",
    "check_event_line",
]


def _job_check_queue(connection: redis.Redis, name: str):
    """A fresh queue for a check, that no worker reads."""
    queue = Queue(f"check_{name}", connection=connection)
    reset_queue(queue)
    return queue


def check_create_notification_job(
    create_notification_job: Callable, connection: redis.Redis
) -> Verdict:
    """Exercise 05: ``create_notification_job(queue, data)`` enqueues ``send_notification``."""
    if not callable(create_notification_job):
        return verdict(False, "create_notification_job is not a function: define it with def.")
    queue = _job_check_queue(connection, "create_notification_job")
    data = SAMPLE_JOBS[2]
    try:
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                job = create_notification_job(queue, dict(data))
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return verdict(False, f"create_notification_job raised {type(exc).__name__}: {exc}.")
        if not isinstance(job, Job):
            return verdict(False, f"it returned {job!r}: return the job that enqueue gives.")
        if queue.get_job_ids() != [job.id]:
            return verdict(False, "the job is not on the queue it was given: use queue.enqueue.")
        if not job.func_name.endswith(".send_notification"):
            return verdict(
                False,
                f"the job runs {job.func_name}: enqueue send_notification (the workbook's, from "
                "helpers.notifications, or yours from my_jobs).",
            )
        if tuple(job.args) != (data["phoneNumber"], data["message"]) or job.kwargs:
            return verdict(
                False,
                f"the job's arguments are {job.args!r} {job.kwargs!r}: pass the phone number "
                "and the message, in that order.",
            )
        if kue_id(job) != "1":
            again = ", called once (each call takes a new number)" if job.id.endswith("-2") else ""
            return verdict(
                False, f"its id is {job.id!r}: give it job_id=next_job_id(queue){again}."
            )
        if buffer.getvalue().strip() != "Notification job created: 1":
            return verdict(
                False,
                f"it printed {buffer.getvalue().strip()!r}: print "
                "f'Notification job created: {kue_id(job)}'.",
            )
    finally:
        reset_queue(queue)
    return verdict(True, "create_notification_job enqueues send_notification with a Kue-like id.")


def check_event_line(event_line: Callable) -> Verdict:
    """Exercise 06: ``event_line(event)`` returns the line Kue's creator logs for an event."""
    if not callable(event_line):
        return verdict(False, "event_line is not a function: define it with def.")
    cases = [
        (
            JobEvent("push_notification_code_2-7", "progress", progress=50),
            "Notification job 7 50% complete",
        ),
        (JobEvent("push_notification_code_2-7", "completed"), "Notification job 7 completed"),
        (
            JobEvent(
                "push_notification_code_2-12", "failed", error="Phone number 1 is blacklisted"
            ),
            "Notification job 12 failed: Phone number 1 is blacklisted",
        ),
    ]
    for event, expected in cases:
        try:
            got = event_line(event)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return verdict(
                False, f"for a {event.kind} event it raised {type(exc).__name__}: {exc}."
            )
        if got != expected:
            return verdict(
                False, f"for a {event.kind} event it returned {got!r}, not {expected!r}."
            )
    return verdict(True, "event_line writes the three lines of Kue's creator.")


def _stop_listener(created: object) -> None:
    """Stop the listener the learner's function returned (itself, or ``created.listener``)."""
    listener = getattr(created, "listener", created)
    if callable(getattr(listener, "forget", None)) and callable(getattr(listener, "stop", None)):
        listener.forget()
        listener.stop()


_NOT_AN_ARRAY = "Jobs is not an array"
_LISTEN = "listen to their events: listen(queue.connection, the_jobs_you_created, kue_log())"


def check_create_push_notifications_jobs(create: Callable, connection: redis.Redis) -> Verdict:
    """Exercise 07: the learner's ``create_push_notifications_jobs(jobs, queue)``, events included.

    It refuses three non-lists, creates two jobs on the check's own queue, then a real
    worker runs them, and the lines the learner's listener prints are compared with Kue's.
    """
    if not callable(create):
        return verdict(False, "create_push_notifications_jobs is not a function: define it.")
    queue = _job_check_queue(connection, "create_push_notifications_jobs")
    created, buffer = None, io.StringIO()
    try:
        wrong = _refuses_non_lists(create, queue)
        if wrong:
            return verdict(False, wrong)
        with contextlib.redirect_stdout(buffer):  # the listener's thread prints here too
            try:
                created = create(_TWO_JOBS, queue)
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                return verdict(False, raised("for a list of two jobs it", exc) + ".")
            wrong = _wrong_jobs(queue, created) or _run_and_wait(queue, created)
        if wrong:
            return verdict(False, wrong)
        wrong = _wrong_log(buffer.getvalue().splitlines(), list(created))
    finally:
        _stop_listener(created)
        reset_queue(queue)
    if wrong:
        return verdict(False, wrong)
    return verdict(
        True,
        "create_push_notifications_jobs refuses a non-list, creates one job per item, "
        "and logs their events as Kue's creator does.",
    )


_TWO_JOBS = [SAMPLE_JOBS[1], SAMPLE_JOBS[3]]  # a blacklisted number, then a fine one


def _refuses_non_lists(create: Callable, queue: Queue) -> str | None:
    """What is wrong with how ``create`` treats inputs that are not lists, or None."""
    for not_a_list in ("nope", 42, {"phoneNumber": "4153518780"}):
        _, created, exc = run_captured(lambda x=not_a_list: create(x, queue))
        _stop_listener(created)
        if exc is None:
            return (
                f"for {not_a_list!r} it raised nothing: raise an error with the message "
                f"{_NOT_AN_ARRAY!r}."
            )
        if str(exc) != _NOT_AN_ARRAY:
            return f"for {not_a_list!r} it raised {exc!r}: the message must be {_NOT_AN_ARRAY!r}."
    if queue.count:
        return "it created jobs for an input that is not a list: check before you create."
    return None


def _wrong_jobs(queue: Queue, created: object) -> str | None:
    """What is wrong with the jobs on ``queue`` and what ``create`` returned, or None."""
    jobs = queue.get_jobs()
    if [job_data(job) for job in jobs] != _TWO_JOBS:
        return (
            f"the queue holds {len(jobs)} job(s), not the two it was given, in order: "
            "create one job per item with create_job(queue, data)."
        )
    listener = getattr(created, "listener", None)
    if not isinstance(listener, Listener):
        return (
            f"it returned {type(created).__name__}, with no listener: {_LISTEN}, and return "
            "CreatedJobs(jobs, listener)."
        )
    if set(listener.job_ids) != {job.id for job in jobs}:
        return f"its listener does not follow the two jobs it created: {_LISTEN}."
    return None


def _run_and_wait(queue: Queue, created: CreatedJobs) -> str | None:
    """Run the jobs on a real worker, and wait for the learner's listener to log them."""
    workers = start_workers(queue.name, 1, burst=True, url=url_of(queue.connection))
    try:
        if not workers.wait(60):
            return "the worker did not finish the two jobs within 60 s."
    finally:
        workers.stop()
    if not created.listener.wait(15):
        return "its listener was still waiting 15 s after the jobs ended: listen with kue_log()."
    return None


def _wrong_log(printed: list[str], jobs: list[Job]) -> str | None:
    """What is wrong with the lines printed while the jobs were created and ran, or None."""
    ids = [kue_id(job) for job in jobs]
    created = [f"Notification job created: {i}" for i in ids]
    if printed[:2] != created:
        return f"it printed {printed[:2]!r} first: print 'Notification job created: <id>' per job."
    bad, good = (f"Notification job {i}" for i in ids)
    expected = [
        f"{bad} 0% complete",
        f"{bad} failed: Phone number {_TWO_JOBS[0]['phoneNumber']} is blacklisted",
        f"{good} 0% complete",
        f"{good} 50% complete",
        f"{good} completed",
    ]
    events = printed[2:]
    if not events:
        return f"the jobs ran, but nothing logged their events: {_LISTEN}."
    if events != expected:
        return f"while the jobs ran it printed {events!r}, not Kue's {expected!r}."
    return None
