"""Job events as Kue had them (progress, completed, failed), which RQ does not publish.

The job side records every event in the job's own hash, numbered, and publishes it on one
Redis channel, :data:`CHANNEL`, in one round trip: a Lua script (:data:`RECORD`) that Redis
runs whole, so an event is stored if and only if it is published. RQ's failure callback does
the same for failed; completed is recorded in RQ's own success transaction when the
workbook's workers run the job (:class:`EventJob`: no round trip of its own, and it leaves
Redis with the ``finished`` status), by the success callback on any other worker. Each event
carries the job's status as Redis held it then. The creator side's :class:`~helpers.core.
listener.Listener` receives them (see there for how it loses none); :func:`stored` reads
back what a job recorded.
"""

from __future__ import annotations

import json
import time
import traceback as tracebacks
from collections.abc import Callable
from dataclasses import dataclass, field

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
# the job hash's fields the events live in, beside RQ's own
EVENTS, PROGRESS_FIELD, ERROR_FIELD = "workbook_events", "workbook_progress", "workbook_error"
SEQ_FIELD, ATTEMPTS_FIELD = "workbook_seq", "workbook_attempts"

# KEYS: the job's hash. ARGV: channel, the event as JSON without seq (and attempt), whether it
# counts a failed attempt, its progress or "", its error or "". A job already deleted keeps
# nothing (no stray hash); the event is still published. The event gets its number (seq) and
# the job's status (RQ's status names need no JSON escaping).
RECORD = """
local stored = redis.call('EXISTS', KEYS[1]) == 1
local extra = ''
if stored then
  extra = ',"seq":' .. redis.call('HINCRBY', KEYS[1], 'workbook_seq', 1)
  if ARGV[3] == '1' then
    extra = extra .. ',"attempt":' .. redis.call('HINCRBY', KEYS[1], 'workbook_attempts', 1)
  end
  local status = redis.call('HGET', KEYS[1], 'status')
  if status then extra = extra .. ',"status":"' .. status .. '"' end
end
local event = string.sub(ARGV[2], 1, -2) .. extra .. '}'
if stored then
  redis.call('HSET', KEYS[1], 'workbook_events',
    (redis.call('HGET', KEYS[1], 'workbook_events') or '') .. event .. '\\n')
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'workbook_progress', ARGV[4]) end
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'workbook_error', ARGV[5]) end
end
redis.call('PUBLISH', ARGV[1], event)
return event
"""


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


@dataclass(frozen=True)
class Stored:
    """What a job recorded of its events, as Redis keeps it in the job's hash."""

    events: list[dict] = field(default_factory=list)
    progress: int | None = None
    error: str | None = None
    attempts: int = 0


STORED_FIELDS = (EVENTS, PROGRESS_FIELD, ERROR_FIELD, ATTEMPTS_FIELD)


def read_stored(values: list[bytes | str | None]) -> Stored:
    """:class:`Stored` from the values of :data:`STORED_FIELDS` (an ``HMGET``'s reply)."""
    raw, progress, error, attempts = (
        v.decode() if isinstance(v, bytes) else v for v in values
    )
    return Stored(
        events=[json.loads(line) for line in (raw or "").splitlines() if line],
        progress=None if progress is None else int(progress),
        error=error,
        attempts=int(attempts or 0),
    )


def stored(job: Job) -> Stored:
    """The events, progress, error and failed attempts the job recorded so far."""
    return read_stored(job.connection.hmget(job.key, STORED_FIELDS))


_script: list = []  # RECORD, registered once per process


def _arguments(job: Job, kind: str, fields: dict) -> list:
    """:data:`RECORD`'s ARGV for this event of ``job``."""
    event = {"job_id": job.id, "kind": kind, "at": time.time(), **fields}
    counts = kind in (FAILED, FAILED_ATTEMPT)
    args = [CHANNEL, json.dumps(event), "1" if counts else "0"]
    return args + [fields.get("progress", ""), fields.get("error", "")]


def _record(job: Job, kind: str, **fields: object) -> dict:
    """Store the event in the job's hash and publish it on :data:`CHANNEL`: one round trip."""
    if not _script:
        _script.append(job.connection.register_script(RECORD))
    args = _arguments(job, kind, fields)
    return json.loads(_script[0](keys=[job.key], args=args, client=job.connection))


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
    """RQ success callback: the ``completed`` event, unless RQ's success transaction has it."""
    if not (isinstance(job, EventJob) and job.result_ttl != 0):
        _record(job, COMPLETED)


class EventJob(Job):
    """The workbook's workers' job class: ``completed`` is recorded in RQ's success transaction.

    RQ runs the success callback before it stores the ``finished`` status; here the event is
    queued in the same ``MULTI``/``EXEC`` as that status instead (RQ's ``_handle_success``,
    called for every job whose result is kept), so it leaves Redis with the status, and costs
    no round trip of its own. A job without the workbook's callbacks records nothing here.
    """

    def _handle_success(self, result_ttl, pipeline, *args, **kwargs) -> None:
        super()._handle_success(result_ttl, pipeline, *args, **kwargs)
        if self.success_callback is on_success:
            pipeline.eval(RECORD, 1, self.key, *_arguments(self, COMPLETED, {}))


def on_failure(job: Job, connection: redis.Redis, exc_type, value, traceback) -> None:
    """RQ failure callback: ``failed attempt`` if RQ will retry the job, else ``failed``.

    The event's ``attempt`` is the number of this attempt, counted by :data:`RECORD`.
    """
    kind = FAILED_ATTEMPT if job.should_retry else FAILED
    told = "".join(tracebacks.format_exception(exc_type, value, traceback))
    error = explain_failure(told, job.func_name) or error_message(value)
    _record(job, kind, error=error)


def callbacks() -> dict[str, Callback]:
    """The ``on_success`` / ``on_failure`` arguments that make ``enqueue`` publish events."""
    return {"on_success": Callback(on_success), "on_failure": Callback(on_failure)}
