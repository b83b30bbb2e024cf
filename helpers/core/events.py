"""Job events as Kue had them (progress, completed, failed), which RQ does not publish.

The job side records every event in the job's own meta (``meta["events"]``, numbered) and
then publishes it on one Redis channel, :data:`CHANNEL`; RQ's success and failure callbacks
do the same for completed and failed. The creator side's :class:`~helpers.core.listener.
Listener` receives them (see there for how it loses none).
"""

from __future__ import annotations

import json
import time
import traceback as tracebacks
from collections.abc import Callable
from dataclasses import dataclass

import redis
from rq import Callback
from rq.exceptions import AbandonedJobError
from rq.job import Job, JobStatus, get_current_job

from helpers.core.errors import NotInAJob
from helpers.core.job_input import explain_failure

CHANNEL = "workbook:job-events"
PROGRESS, COMPLETED, FAILED, FAILED_ATTEMPT = "progress", "completed", "failed", "failed attempt"
REMOVED = "removed"  # the job was deleted from Redis before it ended
TERMINAL = (COMPLETED, FAILED, REMOVED)
FINAL_STATUSES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


@dataclass(frozen=True)
class JobEvent:
    """One event of one job, as the creator side receives it."""

    job_id: str
    kind: str
    progress: int | None = None
    error: str | None = None
    attempt: int | None = None
    seq: int = 0
    at: float = 0.0
    live: bool = True

    @property
    def ended(self) -> bool:
        """True for the events after which the job will not run again."""
        return self.kind in TERMINAL


EventHandler = Callable[[JobEvent], None]


# --- the job side: record, then publish ---------------------------------------------------


def _record(job: Job, kind: str, **fields: object) -> dict:
    """Append an event to the job's stored log, then publish it on :data:`CHANNEL`."""
    meta = job.get_meta(refresh=True)
    log = meta.setdefault("events", [])
    event = {"job_id": job.id, "kind": kind, "seq": len(log) + 1, "at": time.time(), **fields}
    log.append(event)
    if kind == PROGRESS:
        meta["progress"] = fields["progress"]
    if kind in (FAILED, FAILED_ATTEMPT):
        meta["error"] = fields["error"]
    job.save_meta()
    job.connection.publish(CHANNEL, json.dumps(event))
    return event


def report_progress(percent: int, job: Job | None = None) -> None:
    """Kue's ``job.progress(percent, 100)``: store the progress and publish the event."""
    job = job or get_current_job()
    if job is None:
        raise NotInAJob("report_progress() only works inside a job run by an RQ worker.")
    _record(job, PROGRESS, progress=max(0, min(100, int(percent))))


def error_message(value: BaseException | None) -> str:
    """The error text Kue's ``failed`` event gives: the exception's message, no class name."""
    if isinstance(value, AbandonedJobError) and not str(value):
        return "the worker running this job died (AbandonedJobError)"
    return str(value) if value is not None and str(value) else type(value).__name__


def on_success(job: Job, connection: redis.Redis, result: object, *args, **kwargs) -> None:
    """RQ success callback: the ``completed`` event."""
    _record(job, COMPLETED)


def on_failure(job: Job, connection: redis.Redis, exc_type, value, traceback) -> None:
    """RQ failure callback: ``failed attempt`` if RQ will retry the job, else ``failed``."""
    attempt = sum(e["kind"] == FAILED_ATTEMPT for e in job.get_meta().get("events", [])) + 1
    kind = FAILED_ATTEMPT if job.should_retry else FAILED
    told = "".join(tracebacks.format_exception(exc_type, value, traceback))
    error = explain_failure(told, job.func_name) or error_message(value)
    _record(job, kind, error=error, attempt=attempt)


def callbacks() -> dict[str, Callback]:
    """The ``on_success`` / ``on_failure`` arguments that make ``enqueue`` publish events."""
    return {"on_success": Callback(on_success), "on_failure": Callback(on_failure)}
