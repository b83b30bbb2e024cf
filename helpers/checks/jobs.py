"""The self-checks of notebooks 05–07: creating a job, Kue's lines, the job creation function."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import redis
from rq import Queue
from rq.job import Job

from helpers.checks.verdict import Verdict, verdict
from helpers.core.events import JobEvent
from helpers.job_creation import job_data, reset_queue
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
        if job.func_name != "helpers.notifications.send_notification":
            return verdict(False, f"the job runs {job.func_name}: enqueue send_notification.")
        if tuple(job.args) != (data["phoneNumber"], data["message"]) or job.kwargs:
            return verdict(
                False,
                f"the job's arguments are {job.args!r} {job.kwargs!r}: pass the phone number "
                "and the message, in that order.",
            )
        if kue_id(job) != "1":
            return verdict(False, f"its id is {job.id!r}: give it job_id=next_job_id(queue).")
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


def check_create_push_notifications_jobs(create: Callable, connection: redis.Redis) -> Verdict:
    """Exercise 07: the learner's own ``create_push_notifications_jobs(jobs, queue)``."""
    if not callable(create):
        return verdict(False, "create_push_notifications_jobs is not a function: define it.")
    queue = _job_check_queue(connection, "create_push_notifications_jobs")
    created = None
    try:
        for not_a_list in ("nope", 42, {"phoneNumber": "4153518780"}):
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    create(not_a_list, queue)
            except Exception as exc:  # noqa: BLE001
                if str(exc) != "Jobs is not an array":
                    return verdict(
                        False,
                        f"for {not_a_list!r} it raised {exc!r}: the message "
                        "must be exactly 'Jobs is not an array'.",
                    )
            else:
                return verdict(
                    False,
                    f"for {not_a_list!r} it raised nothing: raise an error "
                    "with the message 'Jobs is not an array'.",
                )
        if queue.count:
            return verdict(False, "it created jobs for an input that is not a list.")
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                created = create(SAMPLE_JOBS[2:4], queue)
        except Exception as exc:  # noqa: BLE001
            return verdict(False, f"for a list of two jobs it raised {type(exc).__name__}: {exc}.")
        jobs = queue.get_jobs()
        if [job_data(job) for job in jobs] != SAMPLE_JOBS[2:4]:
            return verdict(
                False,
                f"the queue holds {len(jobs)} job(s), not the two it was given, "
                "in order: enqueue one job per item.",
            )
        printed = buffer.getvalue().splitlines()
        if printed != ["Notification job created: 1", "Notification job created: 2"]:
            return verdict(
                False,
                f"it printed {printed!r}: print 'Notification job created: <id>' for each job.",
            )
    finally:
        _stop_listener(created)
        reset_queue(queue)
    return verdict(
        True, "create_push_notifications_jobs refuses a non-list and creates one job per item."
    )
