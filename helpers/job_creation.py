"""Creating notification jobs (tasks 6–10): Kue's ``queue.create(type, data).save()`` in RQ.

:func:`create_job` is an RQ ``enqueue`` with a readable id, events, priority, delay and
attempts; ``createPushNotificationsJobs`` becomes :func:`create_push_notifications_jobs`
(task 10). Job ids read like Kue's (``1``, ``2``, …): a Redis counter per queue (``INCR``, in
a script that skips the ids of jobs still kept: one round trip).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import timedelta

from rq import Queue, Retry
from rq.executions import ExecutionRegistry
from rq.job import Job
from rq.results import Result

from helpers.core import events
from helpers.core.errors import InvalidJob, NotAnArray, NotImportable, NotSerializable, RedisFull
from helpers.core.job_input import check_job, enqueueing
from helpers.core.listener import Listener
from helpers.kue_log import Log, kue_id, kue_log
from helpers.notifications import send_notification_with_progress

__all__ = [
    "PRIORITIES",
    "InvalidJob",
    "NotAnArray",
    "NotImportable",
    "NotSerializable",
    "RedisFull",
    "create_job",
    "CreatedJobs",
    "create_push_notifications_jobs",
    "job_data",
    "next_job_id",
    "priority_queues",
    "queue_for",
    "reset_queue",
    "retry_policy",
]

PRIORITIES = ("high", "normal", "low")
RESULT_TTL = 24 * 3600


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


# KEYS: the queue's counter. ARGV: the id's prefix, RQ's job key prefix. The next number whose
# id no job has yet (a counter lost while its jobs were kept starts again at 1): one round trip.
NEXT_ID = """
while true do
  local job_id = ARGV[1] .. '-' .. redis.call('INCR', KEYS[1])
  if redis.call('EXISTS', ARGV[2] .. job_id) == 0 then return job_id end
end
"""


def next_job_id(queue: Queue) -> str:
    """A readable, unique RQ job id for the next job of ``queue``: ``<queue>-<n>``."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", _base_name(queue.name))
    keys, args = [_counter_key(queue.name)], [prefix, Job.key_for("")]
    job_id = queue.connection.register_script(NEXT_ID)(keys=keys, args=args)
    return job_id.decode() if isinstance(job_id, bytes) else job_id


def job_data(job: Job) -> dict[str, str]:
    """The job's data as Kue stored it: ``{"phoneNumber": ..., "message": ...}``."""
    phone_number, message = job.args[:2]
    return {"phoneNumber": phone_number, "message": message}


def _keys(job_id: str) -> tuple[str, ...]:
    """What RQ keeps of a job: its hash, its dependents and dependencies, results, executions."""
    return (
        Job.key_for(job_id),
        Job.dependents_key_for(job_id),
        f"{Job.key_for(job_id)}:dependencies",
        Result.get_key(job_id),
        ExecutionRegistry.key_template.format(job_id),
    )


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
        ordered = sorted(ids)
        for start in range(0, len(ordered), 1000):  # a round trip per 1,000 jobs, not 3 per job
            connection.delete(*(key for i in ordered[start : start + 1000] for key in _keys(i)))
        q.empty()
        leftovers = [f"{q.key}:intermediate", *connection.scan_iter(f"{q.key}:intermediate:*")]
        connection.delete(*leftovers)  # RQ's marks of jobs a worker was taking
    connection.delete(_counter_key(queue.name))


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
    A function or data a worker could not use, or a full Redis, raises one line and writes
    nothing (:mod:`helpers.core.job_input`).
    """
    phone, message = _check_data(data)
    if not isinstance(delay, int | float) or delay < 0:
        raise InvalidJob(f"delay must be a number of seconds, 0 or more, not {delay!r}")
    target = queue_for(queue, priority)
    kwargs = {"seconds": seconds} if seconds else None
    retry = retry_policy(attempts, backoff)
    check_job(function, (phone, message), kwargs)
    with enqueueing(queue.connection):
        options = dict(
            args=(phone, message),
            kwargs=kwargs,
            job_id=next_job_id(queue),
            retry=retry,
            result_ttl=RESULT_TTL,
            **events.callbacks(),
        )
        if delay:
            return target.enqueue_in(timedelta(seconds=delay), function, **options)
        return target.enqueue(function, **options)


class CreatedJobs(list):
    """The jobs created, in order, with the :class:`Listener` that logs their events."""

    def __init__(self, jobs: list[Job], listener: Listener) -> None:
        super().__init__(jobs)
        self.listener = listener

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until every job has ended and its lines were logged."""
        return self.listener.wait(timeout)


def create_push_notifications_jobs(jobs: list, queue: Queue, *, log: Log = print) -> CreatedJobs:
    """Task 10: one job per item of ``jobs`` on ``queue``, logged as Kue's creator logs them."""
    if not isinstance(jobs, list):
        raise NotAnArray("Jobs is not an array")
    for data in jobs:
        _check_data(data)
    created = []
    for data in jobs:
        job = create_job(queue, data)
        log(f"Notification job created: {kue_id(job)}")
        created.append(job)
    return CreatedJobs(created, Listener(queue.connection, kue_log(log)).watch(created))
