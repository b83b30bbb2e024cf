"""The notification jobs of tasks 6–9: the functions a worker runs, and the course's data.

``sendNotification`` becomes :func:`send_notification` (task 7) and
:func:`send_notification_with_progress` (task 9). Workers import this module to run a job,
so it stays light: creating jobs is :mod:`helpers.job_creation`'s, logging them
:mod:`helpers.kue_log`'s.
"""

from __future__ import annotations

import time

from helpers.core import events

__all__ = [
    "BLACKLIST",
    "JOB_DATA",
    "QUEUE_TASK_6",
    "QUEUE_TASK_8",
    "QUEUE_TASK_10",
    "SAMPLE_JOBS",
    "Blacklisted",
    "GatewayDown",
    "flaky_notification",
    "send_notification",
    "send_notification_batch",
    "send_notification_with_progress",
]

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


class Blacklisted(Exception):
    """The error a blacklisted phone number fails its job with (task 9)."""


class GatewayDown(Exception):
    """The error :func:`flaky_notification` fails its first attempts with."""


# --- the job functions (run by the worker) --------------------------------------------------


def send_notification(phone_number: str, message: str) -> None:
    """Task 7: log that the notification is sent."""
    print(f"Sending notification to {phone_number}, with message: {message}")


def send_notification_batch(batch: list[tuple[str, str]]) -> int:
    """One job, many notifications: log each ``(phone_number, message)``; return how many."""
    lines = [f"Sending notification to {phone}, with message: {text}" for phone, text in batch]
    print("\n".join(lines), flush=True)
    return len(lines)


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
    attempt = 1 + events.stored(job).attempts
    events.report_progress(0)
    if attempt <= failures:
        raise GatewayDown(f"SMS gateway unreachable (attempt {attempt})")
    events.report_progress(50)
    send_notification(phone_number, message)
