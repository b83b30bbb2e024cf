"""The self-check of notebook 12: enqueue many jobs in one round trip to Redis.

The check hands the learner's ``enqueue_all(queue, jobs)`` a queue of its own whose client
counts its round trips (every command or pipeline it sends), then reads what Redis holds.
"""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job

from helpers.checks.verdict import CHECK_DB, CHECK_PREFIX, Verdict, raised, verdict
from helpers.throughput import notification_data

JOBS = 500
MAX_ROUND_TRIPS = 3
HINT = (
    "prepare each job with Queue.prepare_data(send_notification, (phone, message)) and "
    "send them all with queue.enqueue_many(...), one pipeline"
)


class CountingConnection(redis.Connection):
    """A real connection that counts what it sends: one command, or one whole pipeline."""

    sent = 0

    def send_packed_command(self, command, check_health: bool = True) -> None:
        type(self).sent += 1
        super().send_packed_command(command, check_health)


def counting_client(r: redis.Redis) -> tuple[redis.Redis, type[CountingConnection]]:
    """A client on the check's database whose round trips are counted; and its counter."""
    counter = type("Counter", (CountingConnection,), {"sent": 0})
    kwargs = {**r.connection_pool.connection_kwargs, "db": CHECK_DB, "decode_responses": False}
    pool = redis.ConnectionPool(connection_class=counter, **kwargs)
    return redis.Redis(connection_pool=pool), counter


def _wrong_jobs(queue: Queue, data: list[dict]) -> str | None:
    """What is wrong with the jobs Redis holds, if anything."""
    ids = queue.get_job_ids()
    if len(ids) != len(data):
        held = f"the queue holds {len(ids)} jobs after enqueue_all of {len(data)}"
        return f"{held}: enqueue each job once."
    jobs = Job.fetch_many(ids, connection=queue.connection)
    for index, (job, given) in enumerate(zip(jobs, data, strict=True)):
        expected = (given["phoneNumber"], given["message"])
        if job is None or job.func_name != "helpers.notifications.send_notification":
            name = job.func_name if job is not None else "nothing"
            return f"job {index + 1} runs {name}: enqueue send_notification."
        if tuple(job.args) != expected or job.kwargs:
            return (
                f"job {index + 1} has the arguments {job.args!r}: pass (phoneNumber, message) "
                f"of jobs[{index}], in order."
            )
    return None


def check_enqueue_all(enqueue_all, r: redis.Redis) -> Verdict:
    """Run ``enqueue_all`` on 500 jobs: all queued, in order, in at most 3 round trips."""
    client, counter = counting_client(r)
    queue = Queue(f"{CHECK_PREFIX}enqueue-all", connection=client)
    queue.delete(delete_jobs=True)
    data = notification_data(JOBS)
    try:
        client.ping()  # connected (and logged in): from here on, only the learner's round trips
        counter.sent = 0
        try:
            returned = enqueue_all(queue, data)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return verdict(False, f"{raised('enqueue_all', exc)}.")
        trips = counter.sent
        wrong = _wrong_jobs(queue, data)
        if wrong:
            return verdict(False, wrong)
        if not isinstance(returned, list) or len(returned) != JOBS:
            kind = type(returned).__name__
            return verdict(False, f"enqueue_all returned {kind}: return the list of jobs.")
        if trips > MAX_ROUND_TRIPS:
            return verdict(
                False,
                f"it took {trips} round trips to Redis for {JOBS} jobs "
                f"({trips / JOBS:.0f} a job): {HINT}.",
            )
        told = f"{trips} round trip{'s' if trips != 1 else ''}"
        return verdict(True, f"{JOBS} jobs queued, in order, in {told} to Redis.")
    finally:
        queue.delete(delete_jobs=True)
        client.close()

