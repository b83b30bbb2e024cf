"""Settle the job that a dead worker left STARTED: retried if it has attempts left, else failed.

RQ does the same by itself (``AbandonedJobError``) only after the worker's heartbeat
expires, about 90 s later; the workbook knows at once when a worker it started dies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import redis
from rq import Queue
from rq.callbacks import execute_failure_callback
from rq.job import Job, JobStatus
from rq.job_lifecycle import record_job_failure
from rq.registry import StartedJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.worker import Worker

Settled = tuple[str, str, str]


class WorkerDied(Exception):
    """The reason given to a job whose worker died while running it."""


def _settle(connection: redis.Redis, job: Job, member: bytes, key: str, reason: str) -> Settled:
    """Run the job's failure callback, then retry or fail it, as RQ would."""
    error = WorkerDied(f"{reason} while running this job")
    with contextlib.suppress(Exception):  # the creator side is told through the callback
        execute_failure_callback(job, TimerDeathPenalty, WorkerDied, error, None)
    with connection.pipeline() as pipeline:
        if job.should_retry:
            job.retry(Queue(job.origin, connection=connection), pipeline)
            outcome = "retried"
        else:
            record_job_failure(job, f"WorkerDied: {error}", pipeline)
            outcome = "failed"
        pipeline.zrem(key, member)
        pipeline.execute()
    return job.id, outcome, str(error)


def recover_jobs(
    connection: redis.Redis, queues: Iterable[str], worker_name: str, reason: str
) -> list[Settled]:
    """Settle the jobs ``worker_name`` left STARTED on ``queues``; ``(id, outcome, reason)`` each.

    The outcome is ``"retried"`` or ``"failed"``; the worker's record in Redis is removed.
    """
    settled = []
    for name in queues:
        registry = StartedJobRegistry(name, connection=connection)
        for member in connection.zrange(registry.key, 0, -1):
            job = Job.fetch_many([member.decode().split(":")[0]], connection=connection)[0]
            if job is None or job.worker_name != worker_name:
                continue
            if job.get_status(refresh=False) == JobStatus.STARTED:
                settled.append(_settle(connection, job, member, registry.key, reason))
    with contextlib.suppress(Exception):
        dead = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection)
        if dead is not None:
            dead.register_death()
    return settled
