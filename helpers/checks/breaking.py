"""The self-checks of notebook 11: an idempotent job (``my_idempotent_jobs.py``), a requeue.

:func:`check_send_once` runs the learner's ``send_once`` on three real worker processes of
its own, on the check's database, and counts the SMS the gateway (:func:`helpers.breaking.
send_sms`) recorded: a first run sends; another notification with the same phone and text
sends too; a worker killed just after sending makes RQ run the job again (``Retry``); and
two workers run copies of one notification at the same moment, through a relay that holds
every write of a key that is not RQ's (so a GET-then-SET leaves its gap open every time).
:func:`check_requeue` hands the learner's function a queue whose failed job registry holds
failures of three kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import redis
from rq import Queue, Retry, Worker
from rq.job import Job, JobStatus
from rq.job_lifecycle import record_job_failure

from helpers.breaking import (
    SLOW_KEY,
    SMS_KEY,
    failure_reason,
    notify,
    slow_gateway,
    wait_for_status,
)
from helpers.checks.slow_redis import SlowSeatWrites
from helpers.checks.verdict import (
    CHECK_PREFIX,
    Verdict,
    load_module,
    on_check_database,
    raised,
    verdict,
)
from helpers.core.server import url_of
from helpers.core.waiting import wait_until
from helpers.core.workers import WorkerGroup, start_workers
from helpers.job_creation import reset_queue

__all__ = ["check_requeue", "check_send_once"]

CHECK_QUEUE = f"{CHECK_PREFIX}breaking"
PHONE = "4153518780"
JOB_TIMEOUT = 20.0
RECEIPT_GRACE = 1.0  # s: a job that waits for the gateway's receipt (30 s) still runs by then
WRITE_DELAY = 0.2  # each write of a key that is not RQ's waits this long in the relay
ATTEMPTS = 3  # tries to run two copies at the same moment
SLOW_WRITES = re.compile(  # a write command whose key is not one of RQ's (rq:...)
    rb"(?i)\$\d+\r\n(?:set|setnx|setex|psetex|getset|incr|incrby|hset|hsetnx|sadd|"
    rb"rpush|lpush|zadd|mset|msetnx)\r\n\$\d+\r\n(?!rq:)"
)


def _message(code: int) -> str:
    return f"This is the code {code} to verify your account"


class _Run:
    """What the check hands the learner's job: its queue, its workers, its gateway."""

    def __init__(
        self, queue: Queue, group: WorkerGroup, function: str, relay: SlowSeatWrites
    ) -> None:
        self.queue, self.group, self.function, self.relay = queue, group, function, relay
        self.connection = queue.connection

    def enqueue(self, code: int, notification_id: str, copies: int = 1, **options) -> list[Job]:
        """``copies`` jobs of one notification, queued in one step."""
        args = (PHONE, _message(code), notification_id)
        data = [Queue.prepare_data(self.function, args, **options) for _ in range(copies)]
        return self.queue.enqueue_many(data)

    def count(self, code: int) -> int:
        """How many times the gateway sent the SMS of ``code``."""
        line = f"to {PHONE}: {_message(code)}".encode()
        return self.connection.lrange(SMS_KEY, 0, -1).count(line)

    def ended(self, job: Job, notification_id: str, when: str = "") -> str | None:
        """Wait for ``job`` to end; why it is wrong if it did not complete."""
        status = wait_for_status(job, "finished", "failed", timeout=JOB_TIMEOUT)
        if status == "failed":
            return (
                f"{when}the job of notification {notification_id} failed "
                f"({failure_reason(job).rstrip('.')}): send_once must return normally."
            )
        if status != "finished":
            return f"the job of notification {notification_id} did not end in {JOB_TIMEOUT:.0f} s."
        return None


def _first_runs(run: _Run) -> str | None:
    """One run sends once; another notification with the same phone and text sends too."""
    reason = run.ended(run.enqueue(1001, "n-1")[0], "n-1")
    if reason:
        return reason
    if run.count(1001) == 0:
        return (
            "send_once did not send notification n-1 the first time its job ran: "
            "send when the mark is new (SET NX answers True)."
        )
    if run.count(1001) > 1:
        return f"one run of send_once sent notification n-1 {run.count(1001)} times."
    reason = run.ended(run.enqueue(1001, "n-2")[0], "n-2")
    if reason or run.count(1001) == 2:
        return reason
    return (
        "notification n-2 was not sent: it has the same phone number and message as n-1 but "
        "an id of its own; mark each notification_id (one key per id)."
    )


def _redelivered(run: _Run) -> str | None:
    """A worker dies just after sending; RQ runs the job again: still one SMS."""
    slow_gateway(run.connection, 30)  # the gateway waits for its receipt: the worker dies then
    job = run.enqueue(1003, "n-3", retry=Retry(max=1))[0]
    sent = wait_until(lambda: run.count(1003) >= 1, JOB_TIMEOUT)
    # a job that waits for the receipt is still running RECEIPT_GRACE s after sending
    ended = sent and wait_until(lambda: job.get_status() != JobStatus.STARTED, RECEIPT_GRACE)
    job.refresh()
    slow_gateway(run.connection, 0)
    if not sent:
        run.ended(job, "n-3")
        return f"notification n-3 was not sent within {JOB_TIMEOUT:.0f} s."
    if ended or job.worker_name not in run.group.names:
        run.ended(job, "n-3")
        return (
            "the job of notification n-3 did not wait for the gateway's receipt: send with "
            "send_sms(r, phone_number, message), as the scaffold does."
        )
    run.group.kill(run.group.names.index(job.worker_name))
    reason = run.ended(job, "n-3", "after a worker died, the second run: ")
    if reason or run.count(1003) == 1:
        return reason
    return (
        f"notification n-3 was sent {run.count(1003)} times: a worker died just after "
        "sending, and RQ ran its job again; mark the id before sending, with SET NX, and "
        "send only when the mark is new."
    )


def _overlapped(jobs: list[Job]) -> bool:
    """True if the two jobs started within the relay's delay of each other."""
    starts = [job.started_at for job in jobs]
    if None in starts:
        return False
    return abs((starts[0] - starts[1]).total_seconds()) < WRITE_DELAY


def _copies_at_once(run: _Run) -> str | None:
    """Two workers run copies of one notification at the same moment: one SMS."""
    run.relay.delay = WRITE_DELAY  # from now on, a GET-then-SET leaves its gap open
    for attempt in range(ATTEMPTS):
        code, notification_id = 1004 + attempt, f"n-4{'abc'[attempt]}"
        jobs = run.enqueue(code, notification_id, copies=2)
        for job in jobs:
            reason = run.ended(job, notification_id)
            if reason:
                return reason
        for job in jobs:
            job.refresh()
        if run.count(code) > 1:
            return (
                f"notification {notification_id} was sent twice when two workers ran copies "
                "of its job at the same time: between a GET and a SET both read 'not sent'; "
                "SET NX checks and marks in one step."
            )
        if run.count(code) == 0:
            return f"notification {notification_id} was not sent when two copies of it ran."
        if _overlapped(jobs):
            return None
    return "the check could not run two copies at the same moment (a busy machine): run it again."


def _new_keys(connection: redis.Redis, before: set[bytes]) -> list[bytes]:
    return [key for key in connection.scan_iter() if key not in before]


def check_send_once(module: str, r: redis.Redis) -> Verdict:
    """Exercise 11a: ``module.send_once`` sends each notification once, whatever happens.

    Three workers of the check's own run the job on its database, through a relay: a first
    run, another notification with the same text, a worker killed just after sending
    (``Retry(max=1)``: the job runs again), and two copies of one notification on two workers
    at once, while the relay holds each write that is not RQ's for a moment. What the learner's
    job writes there is removed afterwards; workers and relay are stopped.
    """
    loaded, reason = load_module(module)
    if reason:
        return verdict(False, reason)
    if not callable(getattr(loaded, "send_once", None)):
        return verdict(False, f"{module}.py has no function send_once: keep its def.")
    connection = on_check_database(redis.Redis.from_url(url_of(r)))
    before = set(connection.scan_iter())
    queue = Queue(CHECK_QUEUE, connection=connection)
    reset_queue(queue)
    connection.delete(SMS_KEY, SLOW_KEY)
    relay = SlowSeatWrites(connection, 0.0, SLOW_WRITES).start()  # slow for the copies only
    group = start_workers(queue.name, 3, url=relay.url)
    try:
        run = _Run(queue, group, f"{module}.send_once", relay)
        if not wait_until(lambda: Worker.count(queue=queue) >= 3, JOB_TIMEOUT):
            reason = "the check's three workers did not start: " + "; ".join(group.errors[-1:])
        reason = reason or _first_runs(run) or _redelivered(run) or _copies_at_once(run)
    finally:
        group.stop()
        relay.stop()
        reset_queue(queue)
        leftovers = _new_keys(connection, before)
        if leftovers:
            connection.delete(*leftovers)
        connection.close()
    if reason:
        return verdict(False, reason)
    return verdict(
        True,
        "each notification sent once: a first run, a worker killed just after sending (the "
        "job ran again), two copies on two workers at the same moment.",
    )


# Requeueing from the failed job registry.

GATEWAY_ERROR = "helpers.notifications.GatewayDown: SMS gateway unreachable"
OTHER_ERRORS = (
    "rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (1 seconds)",
    "WorkerDied: worker workbook-1-00000000 was killed by SIGKILL while running this job",
)
REQUEUE_QUEUE = f"{CHECK_PREFIX}breaking-failed"


def _failed(queue: Queue, code: int, error: str) -> Job:
    """A job of ``queue`` that failed with ``error`` (as a worker or a dead worker leaves it)."""
    job = queue.enqueue(notify, PHONE, _message(code))
    queue.remove(job)
    with queue.connection.pipeline() as pipeline:
        record_job_failure(job, f"Traceback (most recent call last):\n  ...\n{error}\n", pipeline)
        pipeline.execute()
    return job


def _judge_requeue(queue: Queue, returned: object, gateway: list[Job], others: list[Job]) -> str:
    """What is wrong with the queue after the learner's requeue, or '' if nothing."""
    failed = set(queue.failed_job_registry.get_job_ids())
    queued = set(queue.get_job_ids())
    if any(job.id in queued for job in others) or not {job.id for job in others} <= failed:
        return (
            "a job that failed for another reason (a timeout, a dead worker) left the failed "
            "job registry: requeue only the GatewayDown failures."
        )
    missing = [job for job in gateway if job.id not in queued]
    if len(missing) == len(gateway) and len(queued) >= len(gateway):
        return (
            "the queue got new jobs, not the failed ones: requeue them by id "
            "(registry.requeue(job_id)), which moves each one back, with its id and history."
        )
    if missing:
        return (
            f"{len(missing)} of the {len(gateway)} GatewayDown failures are not back on the "
            "queue: requeue every failed job whose error is GatewayDown."
        )
    if any(job.id in failed for job in gateway):
        return "a requeued job is still in the failed job registry: use registry.requeue(job_id)."
    if returned != len(gateway) or isinstance(returned, bool):
        return f"it returned {returned!r}; return how many jobs it requeued ({len(gateway)})."
    return ""


def check_requeue(requeue_gateway_failures: Callable, r: redis.Redis) -> Verdict:
    """Exercise 11b: requeue only the jobs that failed with GatewayDown, and say how many.

    The learner's function is handed a queue of the check's own whose failed job registry
    holds three GatewayDown failures, one timeout and one job of a dead worker.
    """
    if not callable(requeue_gateway_failures):
        return verdict(False, "requeue_gateway_failures is not a function: define it with def.")
    connection = on_check_database(redis.Redis.from_url(url_of(r)))
    queue = Queue(REQUEUE_QUEUE, connection=connection)
    reset_queue(queue)
    try:
        errors = [GATEWAY_ERROR, OTHER_ERRORS[0], GATEWAY_ERROR, OTHER_ERRORS[1], GATEWAY_ERROR]
        jobs = [_failed(queue, 2001 + i, error) for i, error in enumerate(errors)]
        gateway, others = jobs[::2], jobs[1::2]
        try:
            returned = requeue_gateway_failures(queue)
        except Exception as exc:  # noqa: BLE001 - the verdict names it
            return verdict(False, f"{raised('requeue_gateway_failures', exc)}.")
        reason = _judge_requeue(queue, returned, gateway, others)
    finally:
        reset_queue(queue)
        connection.close()
    if reason:
        return verdict(False, reason)
    return verdict(
        True,
        "the 3 GatewayDown failures are back on the queue (same ids), the timeout and the "
        "dead worker's job still in the failed job registry.",
    )
