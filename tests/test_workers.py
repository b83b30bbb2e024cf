"""WorkerProcess: each worker's lines on their own thread, its stderr kept, its record written."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from rq import Queue

from helpers.core import server
from helpers.core.workers import WorkerGroup, WorkerProcess, registry_dir
from helpers.job_creation import create_job, reset_queue
from helpers.notifications import SAMPLE_JOBS


@pytest.fixture
def queues(raw):
    made = [Queue(f"workers_{uuid.uuid4().hex[:8]}", connection=raw) for _ in range(2)]
    yield made
    for queue in made:
        reset_queue(queue)


def test_a_slow_line_handler_on_one_worker_does_not_hold_back_another(queues):
    url = server.redis_url()
    slow_worker, fast_worker = (WorkerProcess([q.name], url) for q in queues)
    entered, release, fast = threading.Event(), threading.Event(), threading.Event()

    def slow(line: str) -> None:
        entered.set()
        release.wait(60)

    slow_worker.on_line(slow)
    fast_worker.on_line(lambda line: fast.set())
    group = WorkerGroup([slow_worker, fast_worker])
    try:
        for worker in group.workers:
            worker.start()
        create_job(queues[0], SAMPLE_JOBS[2])
        assert entered.wait(30), "the first worker printed nothing"
        create_job(queues[1], SAMPLE_JOBS[3])
        assert fast.wait(30), "the second worker's line waited for the first worker's handler"
        assert not release.is_set()
        assert any("4153538781" in line for line in group.lines)
    finally:
        release.set()
        group.stop()


def test_rqs_teardown_does_not_wait_on_its_command_thread(raw):
    """RQ 3.0 stops a worker's command thread as below; redis-py 8.2 made that wait 60 s.

    The thread has read the reply to UNSUBSCRIBE and waits (up to its 60 s) to be subscribed
    again; ``stop()`` must return at once (pyproject.toml keeps redis-py below 8.2 for this).
    """
    pubsub = raw.pubsub()
    pubsub.subscribe(**{f"rq:pubsub:{uuid.uuid4().hex}": lambda message: None})
    thread = pubsub.run_in_thread(sleep_time=60, daemon=True)
    time.sleep(0.2)
    pubsub.unsubscribe()  # RQ's Worker.unsubscribe: unsubscribe, stop, join for 1 s, close
    time.sleep(0.5)
    stopping = threading.Thread(target=thread.stop, daemon=True)
    stopping.start()
    stopping.join(5)
    assert not stopping.is_alive(), "stop() waited for a thread asleep for 60 s"
    pubsub.close()


def test_a_failed_job_shows_in_the_workers_errors_and_the_record_goes_away(queues):
    worker = WorkerProcess([queues[0].name], server.redis_url(), burst=True)
    seen: list[str] = []
    worker.on_error(seen.append)
    create_job(queues[0], SAMPLE_JOBS[0])  # a blacklisted number: the job fails
    worker.start()
    assert (registry_dir() / f"{worker.name}.json").exists()
    assert worker.wait(60)
    assert any("is blacklisted" in line for line in worker.errors), worker.errors
    assert seen == worker.errors
    assert not (registry_dir() / f"{worker.name}.json").exists()
    assert worker.exit_reason is None  # a burst worker that ran out of jobs exits cleanly
