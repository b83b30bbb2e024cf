"""Kue's log lines: what the original creator prints for each job event."""

from __future__ import annotations

import re
from collections.abc import Callable

from rq.job import Job

from helpers.core import events

__all__ = ["kue_id", "kue_line", "kue_log"]

Log = Callable[[str], None]


def kue_id(job: Job | str) -> str:
    """The number Kue would show for the job (``3`` for ``push_notification_code_2-3``)."""
    job_id = job if isinstance(job, str) else job.id
    match = re.fullmatch(r".+-(\d+)", job_id)
    return match.group(1) if match else job_id


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


