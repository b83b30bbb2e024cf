"""Self-checks for the exercises: each inspects the learner's answer against live Redis.

Every check prints one sentence, either that the answer is right or what is wrong with it,
and returns True or False, so a notebook cell shows the verdict and a test can assert it.
"""

from __future__ import annotations


def verdict(ok: bool, message: str) -> bool:
    """Print ``message`` after a mark that says right or not yet; return ``ok``."""
    print(f"{'✅ Right' if ok else '❌ Not yet'}: {message}")
    return ok


# --- Notebooks 05–07: job queues with RQ (tasks 6–10) ---------------------------------------

from collections.abc import Callable  # noqa: E402 - this section's imports (merged by hand)

import redis  # noqa: E402


def _job_check_queue(connection: redis.Redis, name: str):
    """A fresh queue for a check, that no worker reads."""
    from rq import Queue

    from helpers.notifications import reset_queue

    queue = Queue(f"check_{name}", connection=connection)
    reset_queue(queue)
    return queue


def check_create_notification_job(
    create_notification_job: Callable, connection: redis.Redis
) -> bool:
    """Exercise 05: ``create_notification_job(queue, data)`` enqueues ``send_notification``."""
    import contextlib as _contextlib
    import io as _io

    from rq.job import Job

    from helpers.notifications import SAMPLE_JOBS, kue_id, reset_queue

    if not callable(create_notification_job):
        return verdict(False, "create_notification_job is not a function: define it with def.")
    queue = _job_check_queue(connection, "create_notification_job")
    data = SAMPLE_JOBS[2]
    try:
        buffer = _io.StringIO()
        try:
            with _contextlib.redirect_stdout(buffer):
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


def check_event_line(event_line: Callable) -> bool:
    """Exercise 06: ``event_line(event)`` returns the line Kue's creator logs for an event."""
    from helpers.events import JobEvent

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


def check_create_push_notifications_jobs(create: Callable, connection: redis.Redis) -> bool:
    """Exercise 07: the learner's own ``create_push_notifications_jobs(jobs, queue)``."""
    import contextlib as _contextlib
    import io as _io

    from helpers import events
    from helpers.notifications import SAMPLE_JOBS, job_data, reset_queue

    if not callable(create):
        return verdict(False, "create_push_notifications_jobs is not a function: define it.")
    queue = _job_check_queue(connection, "create_push_notifications_jobs")
    try:
        for not_a_list in ("nope", 42, {"phoneNumber": "4153518780"}):
            try:
                with _contextlib.redirect_stdout(_io.StringIO()):
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
        buffer = _io.StringIO()
        try:
            with _contextlib.redirect_stdout(buffer):
                create(SAMPLE_JOBS[2:4], queue)
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
        ids = queue.get_job_ids()
        events.forget(ids)
        reset_queue(queue)
    return verdict(
        True, "create_push_notifications_jobs refuses a non-list and creates one job per item."
    )
