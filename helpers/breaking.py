"""Notebook 11, "When things break": the jobs a worker runs when things go wrong, and rulers.

The SMS gateway of these jobs is a Redis list, :data:`SMS_KEY`: :func:`send_sms` appends one
line per SMS "sent", so a notebook (or a check) counts what really went out. The gateway can
be slowed (:func:`slow_gateway`: it waits for a receipt after sending, the moment a worker is
killed in) or taken down (:func:`gateway_down`). Workers import this module to run a job, so
it stays light.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

import redis
from rq import Queue, get_current_job
from rq.job import Job

from helpers.core.waiting import wait_until
from helpers.notifications import GatewayDown

__all__ = [
    "DOWN_KEY",
    "SLOW_KEY",
    "SMS_KEY",
    "GatewayDown",
    "count_statuses",
    "failure_reason",
    "gateway_down",
    "hang",
    "kept_by_redis",
    "notify",
    "outage_lines",
    "requeue_failed",
    "send_once",
    "send_sms",
    "sent",
    "slow_gateway",
    "tick",
    "wait_for_status",
]

SMS_KEY = "breaking:sms"  # one line per SMS the gateway sent
SLOW_KEY = "breaking:slow"  # seconds the gateway waits for its receipt, after sending
DOWN_KEY = "breaking:down"  # set: the gateway refuses every SMS
SENT_PREFIX = "breaking:sent:"  # send_once's marks, one per notification id
MARK_TTL = 24 * 3600
WORKER_NAME = re.compile(r"workbook-\d+-[0-9a-f]{8}")


# --- the SMS gateway -----------------------------------------------------------------------


def send_sms(r: redis.Redis, phone_number: str, message: str) -> None:
    """The SMS gateway: record the SMS in :data:`SMS_KEY`, then wait for its receipt if slowed."""
    if r.exists(DOWN_KEY):
        raise GatewayDown("SMS gateway unreachable")
    # the wait is read before sending: whoever sees the SMS, then makes the gateway fast
    # again (notebook 11, its check), is too late to cut this receipt short
    receipt = float(r.get(SLOW_KEY) or 0)
    r.rpush(SMS_KEY, f"to {phone_number}: {message}")
    if receipt:
        time.sleep(receipt)


def slow_gateway(r: redis.Redis, seconds: float) -> None:
    """Make the gateway wait ``seconds`` for each receipt after sending (0: no wait)."""
    if seconds:
        r.set(SLOW_KEY, seconds, ex=3600)
    else:
        r.delete(SLOW_KEY)


def gateway_down(r: redis.Redis, down: bool = True) -> None:
    """Take the gateway down (every SMS fails with GatewayDown), or bring it back up."""
    if down:
        r.set(DOWN_KEY, 1, ex=3600)
    else:
        r.delete(DOWN_KEY)


def sent(r: redis.Redis) -> list[str]:
    """The SMS the gateway sent, in order."""
    return [x.decode() if isinstance(x, bytes) else x for x in r.lrange(SMS_KEY, 0, -1)]


# --- the job functions (run by a worker) ---------------------------------------------------


def hang(seconds: float = 3600) -> None:
    """A job that never answers: it waits ``seconds`` (an hour), as a stuck network call does."""
    time.sleep(seconds)


def notify(phone_number: str, message: str) -> None:
    """Send one SMS through the gateway, with the worker's connection."""
    send_sms(get_current_job().connection, phone_number, message)


def send_once(phone_number: str, message: str, notification_id: str) -> None:
    """Send the SMS of ``notification_id`` at most once, however many times the job runs."""
    r = get_current_job().connection
    if r.set(f"{SENT_PREFIX}{notification_id}", 1, nx=True, ex=MARK_TTL):
        send_sms(r, phone_number, message)


def tick(n: int) -> int:
    """A short job: return ``n`` after a few milliseconds."""
    time.sleep(0.005)
    return n


# --- rulers ---------------------------------------------------------------------------------


def wait_for_status(job: Job, *statuses: str, timeout: float = 30) -> str:
    """Wait until ``job`` has one of ``statuses``; return the status it has then."""
    wait_until(lambda: job.get_status() in statuses, timeout)
    return str(job.get_status().value)


def requeue_failed(queue: Queue, error: str) -> int:
    """Requeue the failed jobs of ``queue`` whose error is ``error`` (a class name); how many."""
    registry = queue.failed_job_registry
    requeued = 0
    for job_id in registry.get_job_ids():
        job = queue.fetch_job(job_id)
        name = failure_reason(job).partition(":")[0] if job is not None else ""
        if name == error or name.endswith(f".{error}"):
            registry.requeue(job_id)
            requeued += 1
    return requeued


def failure_reason(job: Job) -> str:
    """The last line of a failed job's error, worker names left out (``workbook-…``)."""
    result = job.latest_result()
    lines = (result.exc_string if result and result.exc_string else "").strip().splitlines()
    return WORKER_NAME.sub("workbook-…", lines[-1]) if lines else ""


def count_statuses(jobs: Iterable[Job], connection: redis.Redis) -> dict[str, int]:
    """How many of ``jobs`` are in each status, as Redis has them now (``lost``: gone)."""
    counts: dict[str, int] = {}
    for job in Job.fetch_many([job.id for job in jobs], connection=connection):
        status = "lost" if job is None else str(job.get_status(refresh=False).value)
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))


def kept_by_redis(jobs: Iterable[Job], connection: redis.Redis) -> tuple[int, int]:
    """``(keys, bytes)``: what Redis still keeps of ``jobs`` (job hashes and result streams)."""
    keys = bytes_used = 0
    for job in jobs:
        for key in (job.key, f"rq:results:{job.id}"):
            used = connection.memory_usage(key)
            if used is not None:
                keys += 1
                bytes_used += used
    return keys, bytes_used


def outage_lines(lines: Iterable[str]) -> list[str]:
    """The distinct lines the workers printed about Redis going away and coming back."""
    found = []
    for line in lines:
        if line.startswith("Redis went away ("):
            line = re.sub(r"\(.*\)", "(…)", line, count=1)
        if line.startswith(("Redis went away", "Redis is back")) and line not in found:
            found.append(line)
    return found
