"""The self-checks of notebooks 05–07 in helpers.checks.jobs: the solutions pass, wrong answers
get one sentence each (the 07 check runs a real worker and reads the learner's listener)."""

from __future__ import annotations

import pytest

from helpers.checks.jobs import (
    check_create_notification_job,
    check_create_push_notifications_jobs,
    check_event_line,
)
from helpers.core.listener import Listener, listen
from helpers.job_creation import CreatedJobs, NotAnArray, create_job, next_job_id
from helpers.kue_log import kue_id, kue_log
from helpers.notifications import send_notification, send_notification_with_progress

RIGHT = "✅ Right: "
WRONG = "❌ Not yet: "


def one_line(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out.strip()


# --- 05: create_notification_job --------------------------------------------------------------


def create_notification_job(queue, data):  # the solution cell of notebook 05
    job = queue.enqueue(
        send_notification, data["phoneNumber"], data["message"], job_id=next_job_id(queue)
    )
    print(f"Notification job created: {kue_id(job)}")
    return job


def test_create_check_passes_on_the_solution(raw, capsys):
    assert check_create_notification_job(create_notification_job, raw).ok is True
    assert one_line(capsys).startswith(RIGHT)


def swapped(queue, data):
    job = queue.enqueue(
        send_notification, data["message"], data["phoneNumber"], job_id=next_job_id(queue)
    )
    print(f"Notification job created: {kue_id(job)}")
    return job


def uuid_id(queue, data):
    job = queue.enqueue(send_notification, data["phoneNumber"], data["message"])
    print(f"Notification job created: {job.id}")
    return job


def wrong_function(queue, data):
    job = queue.enqueue(
        send_notification_with_progress, data["phoneNumber"], data["message"],
        job_id=next_job_id(queue),
    )  # fmt: skip
    print(f"Notification job created: {kue_id(job)}")
    return job


def asks_for_two_ids(queue, data):
    print("next id:", next_job_id(queue))
    return create_notification_job(queue, data)


def silent(queue, data):
    return queue.enqueue(
        send_notification, data["phoneNumber"], data["message"], job_id=next_job_id(queue)
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda queue, data: None, "it returned None: return the job that enqueue gives."),
        (swapped, "pass the phone number and the message, in that order."),
        (uuid_id, "give it job_id=next_job_id(queue)."),
        (wrong_function, "the job runs helpers.notifications.send_notification_with_progress"),
        (asks_for_two_ids, "next_job_id(queue), called once (each call takes a new number)."),
        (silent, "it printed '': print f'Notification job created: {kue_id(job)}'."),
        ("nope", "create_notification_job is not a function"),
    ],
)
def test_create_check_explains_a_wrong_answer(raw, capsys, answer, reason):
    assert check_create_notification_job(answer, raw).ok is False
    line = one_line(capsys)
    assert line.startswith(WRONG) and reason in line, line


# --- 06: event_line ---------------------------------------------------------------------------


def event_line(event):  # the solution cell of notebook 06
    job = f"Notification job {kue_id(event.job_id)}"
    if event.kind == "progress":
        return f"{job} {event.progress}% complete"
    if event.kind == "completed":
        return f"{job} completed"
    return f"{job} failed: {event.error}"


def test_event_line_check_passes_on_the_solution(capsys):
    assert check_event_line(event_line).ok is True
    assert one_line(capsys) == RIGHT + "event_line writes the three lines of Kue's creator."


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda event: None, "for a progress event it returned None"),
        (lambda event: f"Notification job {event.job_id} completed", "for a progress event"),
        (
            lambda event: event_line(event).replace("% complete", " % complete"),
            "'Notification job 7 50 % complete', not 'Notification job 7 50% complete'",
        ),
        (
            lambda event: event_line(event).replace("failed: ", "failed "),
            "for a failed event it returned 'Notification job 12 failed Phone number",
        ),
        (lambda event: event.nope, "for a progress event it raised AttributeError"),
    ],
)
def test_event_line_check_explains_a_wrong_answer(capsys, answer, reason):
    assert check_event_line(answer).ok is False
    line = one_line(capsys)
    assert line.startswith(WRONG) and reason in line, line


# --- 07: create_push_notifications_jobs, with its listener ------------------------------------


def with_listener(jobs, queue):  # the solution cell of notebook 07
    if not isinstance(jobs, list):
        raise NotAnArray("Jobs is not an array")
    created = []
    for data in jobs:
        job = create_job(queue, data)
        print(f"Notification job created: {kue_id(job)}")
        created.append(job)
    return CreatedJobs(created, listen(queue.connection, created, kue_log()))


def test_function_check_passes_on_the_solution_with_a_real_worker(raw, capsys):
    assert check_create_push_notifications_jobs(with_listener, raw).ok is True
    assert one_line(capsys) == RIGHT + (
        "create_push_notifications_jobs refuses a non-list, creates one job per item, and logs "
        "their events as Kue's creator does."
    )


def scaffold(jobs, queue): ...


def no_listener(jobs, queue):
    if not isinstance(jobs, list):
        raise NotAnArray("Jobs is not an array")
    created = [create_job(queue, data) for data in jobs]
    for job in created:
        print(f"Notification job created: {kue_id(job)}")
    return created


def wrong_message(jobs, queue):
    if not isinstance(jobs, list):
        raise TypeError("jobs must be a list")
    return with_listener(jobs, queue)


def listener_that_logs_nothing(jobs, queue):
    created = with_listener(jobs, queue)
    created.listener.stop()
    return CreatedJobs(list(created), Listener(queue.connection, lambda event: None).watch(created))


def listener_on_the_first_job_only(jobs, queue):
    created = with_listener(jobs, queue)
    created.listener.forget()
    created.listener.stop()
    return CreatedJobs(list(created), listen(queue.connection, created[:1], kue_log()))


def only_the_first(jobs, queue):
    return with_listener(jobs[:1] if isinstance(jobs, list) else jobs, queue)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (scaffold, "for 'nope' it raised nothing: raise an error with the message"),
        (wrong_message, "the message must be 'Jobs is not an array'"),
        (only_the_first, "the queue holds 1 job(s), not the two it was given"),
        (no_listener, "it returned list, with no listener: listen to their events"),
        (listener_on_the_first_job_only, "its listener does not follow the two jobs it created"),
        (listener_that_logs_nothing, "the jobs ran, but nothing logged their events"),
    ],
)
def test_function_check_explains_a_wrong_answer(raw, capsys, answer, reason):
    assert check_create_push_notifications_jobs(answer, raw).ok is False
    line = one_line(capsys)
    assert line.startswith(WRONG) and reason in line, line
