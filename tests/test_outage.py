"""Workers and listeners ride out a Redis restart, say so in one line each way, and give up late."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis
from rq import Queue, Worker
from rq.executions import prepare_execution
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job
from rq.registry import FinishedJobRegistry, StartedJobRegistry
from servertools import crash, crash_and_restart

from helpers.core import server
from helpers.core.job_input import explain_failure
from helpers.core.listener import Listener
from helpers.core.outage import status_kind
from helpers.core.recovery import recover_jobs, recover_lost_ends, requeue_stranded
from helpers.core.waiting import wait_until
from helpers.core.workers import start_workers
from helpers.job_creation import create_job
from helpers.notifications import SAMPLE_JOBS, send_notification
from helpers.widgets.job_board import JobBoard

BACK = "Redis is back: the workers go on."


def away(limit: int = 120, who: str = "the workers") -> set[str]:
    """The lines a watch may say when Redis is killed: the reason depends on when the kill lands."""
    reasons = ("connection refused", "connection reset", "connection closed", "restarted")
    reasons += ("loading its data",)
    return {f"Redis went away ({r}): {who} wait for it, up to {limit} s." for r in reasons}


def ended(jobs: list[Job]) -> bool:
    """True once every job is finished or failed."""
    return all(job.get_status(refresh=True) in ("finished", "failed") for job in jobs)


@pytest.mark.parametrize("run", [1, 2, 3])
def test_two_workers_ride_out_a_crash_of_redis_and_lose_no_job(own_server, run):
    connection = redis.Redis.from_url(own_server.url)
    queue = Queue("restart", connection=connection)
    jobs = [queue.enqueue(send_notification, f"41535{i:05d}", "hello") for i in range(300)]
    said: list[str] = []
    group = start_workers(queue.name, 2, url=own_server.url, on_error=said.append)
    try:
        finished = FinishedJobRegistry(queue.name, connection=connection)
        assert wait_until(lambda: finished.count >= 60, 30), "the workers did not start"
        crash_and_restart()
        assert wait_until(lambda: ended(jobs), 60), Counter(j.get_status() for j in jobs)
        assert group.alive == 2
    finally:
        group.stop()
    statuses = Counter(job.get_status() for job in jobs)
    assert statuses["finished"] + statuses["failed"] == 300
    for job in jobs:
        if job.get_status() == "failed":  # cut off by the outage: failed with the reason
            told = job.latest_result().exc_string
            assert "WorkerDied: Redis went away while running this job" in told or (
                explain_failure(told) or ""
            ).startswith("Redis went away while the worker ran this job ("), (told, said)
    assert queue.count == 0 and StartedJobRegistry(queue.name, connection=connection).count == 0
    assert connection.llen(IntermediateQueue(queue.key, connection).key) == 0
    status = [line for line in said if status_kind(line)]
    assert len(status) == 2 and status[0] in away() and status[1] == BACK, (status, said)
    assert all(line in away() | {BACK} for line in said), said  # nothing else: no traceback


def test_workers_stop_in_one_line_when_redis_stays_away_past_the_limit(own_server):
    connection = redis.Redis.from_url(own_server.url)
    queue = Queue("gone", connection=connection)
    queue.enqueue(time.sleep, 10)  # one worker busy, one idle
    said: list[str] = []
    group = start_workers(queue.name, 2, url=own_server.url, outage_limit=2, on_error=said.append)
    try:
        assert wait_until(lambda: StartedJobRegistry(queue.name, connection=connection).count, 20)
        crash()
        assert group.wait(20), "a worker waits for ever"
    finally:
        server.start()
        group.stop()
    gone = (
        "Redis stayed away for 2 s: the workers stop. "
        "Start Redis again (python -m helpers redis start), then the workers."
    )
    assert len(said) == 2 and said[0] in away(2) and said[1] == gone, said
    codes = [w.process.returncode for w in group.workers]
    assert codes == [3, 3], [w.exit_reason for w in group.workers]
    assert all(w.exit_reason == f"worker {w.name} exited (3): {gone}" for w in group.workers)


def test_the_board_says_redis_went_and_came_back_and_catches_up(own_server):
    connection = redis.Redis.from_url(own_server.url)
    queue = Queue("board", connection=connection)
    board = JobBoard(connection)
    jobs = [create_job(queue, data, seconds=1.5) for data in SAMPLE_JOBS[:4]]
    for job in jobs:
        board.add(job)
    group = start_workers(queue.name, 2, url=own_server.url)
    try:
        assert wait_until(lambda: board.counts().get("started", 0) >= 1, 20)
        crash_and_restart()
        assert board.wait(60)
    finally:
        group.stop()
        board.stop()
    log = [o for o in board.feed.outputs if o.get("name") == "stderr"]
    texts = [o["text"] for o in log]
    assert len(texts) == 2 and texts[0].rstrip("\n") in away(who="job events"), texts
    assert texts[1] == "Redis is back: job events go on.\n"
    assert set(board.counts()) <= {"completed", "failed"} and sum(board.counts().values()) == 4
    for row in board.rows.values():  # each row ended as its job did in Redis
        assert row.status.value == {"finished": "completed"}.get(
            Job.fetch(row.job_id, connection=connection).get_status(), "failed"
        )


def test_a_listener_stops_in_one_line_when_redis_stays_away(own_server):
    connection = redis.Redis.from_url(own_server.url)
    job = create_job(Queue("listener", connection=connection), SAMPLE_JOBS[0])
    said: list[str] = []
    listener = Listener(connection, lambda event: None, on_status=said.append, outage_limit=1)
    listener.watch([job])
    crash()
    try:
        assert wait_until(lambda: not listener.running, 15)
    finally:
        server.start()
    assert len(said) == 2 and said[0] in away(1, "job events"), said
    assert said[1] == "Redis stayed away for 1 s: job events stop."
    assert isinstance(listener.error, redis.ConnectionError)


def taken(queue: Queue) -> Job:
    """Take the next job off ``queue`` as a worker does (LMOVE to the intermediate list)."""
    connection = queue.connection
    job_id = connection.lmove(queue.key, IntermediateQueue(queue.key, connection).key)
    return Job.fetch(job_id.decode(), connection=connection)


def test_a_job_taken_but_never_registered_goes_back_to_its_queue(raw, queue):
    job = queue.enqueue(send_notification, "4153518780", "hello")
    taken(queue)
    assert queue.count == 0
    assert requeue_stranded(raw, [queue.name], grace=0.1) == [job.id]
    assert queue.job_ids == [job.id] and job.get_status(refresh=True) == "queued"
    assert requeue_stranded(raw, [queue.name], grace=0.1) == []


def test_a_job_registered_but_never_started_goes_back_to_its_queue(raw, queue):
    job = queue.enqueue(send_notification, "4153518780", "hello")
    worker = Worker([queue], connection=raw, name=f"{queue.name}-w")
    prepare_execution(worker, taken(queue))  # the worker's side; its horse never ran
    assert StartedJobRegistry(queue.name, connection=raw).count == 1
    settled = recover_jobs(raw, [queue.name], worker.name, "Redis went away")
    assert settled == [(job.id, "requeued", "Redis went away before this job started")]
    assert queue.job_ids == [job.id] and StartedJobRegistry(queue.name, connection=raw).count == 0
    assert raw.llen(IntermediateQueue(queue.key, raw).key) == 0


def test_jobs_redis_says_a_live_worker_runs_but_it_does_not_are_settled(raw, queue):
    """A Redis replayed from its file may lack the last second: a job's end, for one."""
    worker = Worker([queue], connection=raw, name=f"{queue.name}-w")
    for n in range(3):
        queue.enqueue(send_notification, f"415351878{n}", "hello")
    ended, taken_only, running = (taken(queue) for _ in range(3))
    for job in (ended, taken_only, running):
        prepare_execution(worker, job)
    for job in (ended, running):  # started, as the worker's pipeline marks it
        with raw.pipeline() as pipeline:
            job.prepare_for_execution(worker.name, pipeline=pipeline)
            pipeline.lrem(IntermediateQueue(queue.key, raw).key, 1, job.id)
            pipeline.execute()
    settled = recover_lost_ends(raw, [queue.name], worker.name, lambda: running.id, grace=0.1)
    assert sorted(settled) == sorted([
        (ended.id, "failed", "Redis went away while running this job"),
        (taken_only.id, "requeued", "Redis went away before this job started"),
    ])  # fmt: skip
    assert queue.job_ids == [taken_only.id] and ended.get_status(refresh=True) == "failed"
    assert StartedJobRegistry(queue.name, connection=raw).get_job_ids() == [running.id]
    assert recover_lost_ends(raw, [queue.name], worker.name, lambda: running.id, 0.1) == []
