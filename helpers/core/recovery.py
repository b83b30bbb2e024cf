"""Settle the jobs a dead worker left behind: retried if it has attempts left, else failed.

RQ does the same by itself (``AbandonedJobError``) only after the worker's heartbeat
expires, about 90 s later; the workbook knows at once when a worker it started dies.

A job can also be caught between two steps. RQ moves its id from the queue to
``<queue>:intermediate`` (``LMOVE``), registers the execution as started, and only then,
in the work horse, marks the job started; a worker that dies, or a Redis that goes away,
in between leaves a job that is queued and in no queue. RQ fails such a job after ten
minutes or more; here it is put back at the head of its queue, for it never ran:
:func:`recover_jobs` for a registered one, :func:`requeue_stranded` for one that is not.
And a Redis restarted from its append-only file may say a live worker runs a job it ended
in the second before the crash: :func:`recover_lost_ends`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable

import redis
from rq import Queue
from rq.callbacks import execute_failure_callback
from rq.executions import Execution
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job, JobStatus
from rq.job_lifecycle import record_job_failure
from rq.registry import StartedJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.worker import Worker

Settled = tuple[str, str, str]


class WorkerDied(Exception):
    """The reason given to a job whose worker died while running it."""


def _end_execution(connection: redis.Redis, job: Job, member: bytes, pipeline) -> None:
    """Delete the dead worker's execution of ``job`` (``job_id:execution_id`` in ``member``).

    Left alone, its hash expires (heartbeat TTL) a minute before its id leaves the job's
    execution registry; deleting the job in between (``reset_queue``) then fails in RQ.
    """
    execution = Execution.from_composite_key(member.decode(), connection)
    execution.worker_name = job.worker_name or ""
    execution.delete(job=job, pipeline=pipeline)


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
        _end_execution(connection, job, member, pipeline)
        pipeline.execute()
    return job.id, outcome, str(error)


# Take one id out of the intermediate list (and the started registry) and put it back at the
# head of its queue, unless another worker did so already: atomic, so a job is queued once.
_PUT_BACK = """
redis.call('ZREM', KEYS[3], ARGV[2])
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


ENDED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def _put_back(connection: redis.Redis, job: Job, member: bytes | str = "") -> bool:
    """Put a job taken from its queue but never started back at the head of the queue."""
    queue = Queue(job.origin, connection=connection)
    registry = StartedJobRegistry(job.origin, connection=connection)
    keys = [IntermediateQueue(queue.key, connection).key, queue.key, registry.key]
    return bool(connection.register_script(_PUT_BACK)(keys=keys, args=[job.id, member]))


def _owner(connection: redis.Redis, job: Job, member: bytes) -> str:
    """The worker running ``job``: the job says once started; before, only its execution does."""
    if job.get_status(refresh=False) == JobStatus.STARTED:
        return job.worker_name or ""
    execution = Execution.from_composite_key(member.decode(), connection)
    with contextlib.suppress(ValueError):
        execution.refresh()
    return execution.worker_name


def _owned(
    connection: redis.Redis, queues: Iterable[str], worker_name: str
) -> list[tuple[str, Job, bytes]]:
    """The jobs Redis says ``worker_name`` runs: (started registry's key, job, member) each."""
    found = []
    for name in queues:
        registry = StartedJobRegistry(name, connection=connection)
        for member in connection.zrange(registry.key, 0, -1):
            job = Job.fetch_many([member.decode().split(":")[0]], connection=connection)[0]
            if job is not None and _owner(connection, job, member) == worker_name:
                found.append((registry.key, job, member))
    return found


def _recover(
    connection: redis.Redis, key: str, job: Job, member: bytes, reason: str
) -> Settled | None:
    """Settle one job its worker no longer runs: retried or failed if started, else put back."""
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:
        return _settle(connection, job, member, key, reason)
    if status == JobStatus.QUEUED and _put_back(connection, job, member):
        return job.id, "requeued", f"{reason} before this job started"
    return None


def recover_jobs(
    connection: redis.Redis, queues: Iterable[str], worker_name: str, reason: str
) -> list[Settled]:
    """Settle the jobs ``worker_name`` left behind on ``queues``; ``(id, outcome, reason)`` each.

    A job it was running is ``"retried"`` or ``"failed"``; a job it had taken but not yet
    started is ``"requeued"``. The worker's record in Redis is removed.
    """
    owned = _owned(connection, queues, worker_name)
    settled = [s for s in (_recover(connection, *o, reason) for o in owned) if s is not None]
    with contextlib.suppress(Exception):
        dead = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection)
        if dead is not None:
            dead.register_death()
    return settled


def recover_lost_ends(
    connection: redis.Redis,
    queues: Iterable[str],
    worker_name: str,
    running: Callable[[], str | None],
    grace: float = 1.0,
) -> list[Settled]:
    """Settle the jobs Redis says the live ``worker_name`` runs, but which it does not run.

    An append-only file replayed after a crash lacks the server's last second: a job the
    worker ended in that second is back in the started registry as its, started or taken,
    while the worker is idle or on another job. ``running()`` gives the id of the job it runs
    now (None: none); a job counts only if it is still so after ``grace`` s (a job just
    taken is the worker's current one within milliseconds).
    """
    queues = list(queues)

    def lost() -> dict[str, tuple[str, Job, bytes]]:
        now = running()
        return {o[1].id: o for o in _owned(connection, queues, worker_name) if o[1].id != now}

    first = lost()
    if not first:
        return []
    time.sleep(grace)
    second = lost()
    reason = "Redis went away"
    settled = (_recover(connection, *second[i], reason) for i in sorted(first.keys() & second))
    return [s for s in settled if s is not None]


def _stranded(connection: redis.Redis, queue: Queue) -> set[str]:
    """Ids in ``queue``'s intermediate list that are queued, not started.

    Ids there of jobs that have ended are removed: RQ's maintenance would fail such a job
    ("stuck in intermediate queue"), a finished one too. An AOF replayed after a crash can
    bring them back: the server's last second, up to the job's end, was not on disk.
    """
    registry = StartedJobRegistry(queue.name, connection=connection)
    started = {member.decode().split(":")[0] for member in connection.zrange(registry.key, 0, -1)}
    intermediate = IntermediateQueue(queue.key, connection)
    ids = [i for i in intermediate.get_job_ids() if i not in started]
    jobs = Job.fetch_many(ids, connection=connection)
    for job in jobs:
        if job is not None and job.get_status(False) in ENDED:
            intermediate.remove(job.id)
    return {j.id for j in jobs if j is not None and j.get_status(False) == JobStatus.QUEUED}


def requeue_stranded(
    connection: redis.Redis, queues: Iterable[str], grace: float = 1.0
) -> list[str]:
    """Put back on their queues the jobs a Redis outage left taken but not started; their ids.

    A job only counts if it is still stranded after ``grace`` s: a worker that has just
    taken one registers it within milliseconds.
    """
    found = {name: _stranded(connection, Queue(name, connection=connection)) for name in queues}
    if not any(found.values()):
        return []
    time.sleep(grace)
    moved = []
    for name, ids in found.items():
        still = ids & _stranded(connection, Queue(name, connection=connection))
        for job in Job.fetch_many(sorted(still), connection=connection):
            if job is not None and _put_back(connection, job):
                moved.append(job.id)
    return moved
