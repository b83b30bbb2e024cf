"""Worker processes for the job notebooks: nothing of them is left, no horse is orphaned."""

from __future__ import annotations

import os
import signal
import time

from rq import Worker

from helpers.core import events
from helpers.core.listener import listen
from helpers.core.processes import descendants, pid_alive
from helpers.core.workers import registry_dir, start_workers
from helpers.job_creation import create_job
from helpers.notifications import SAMPLE_JOBS


def test_stopping_workers_leaves_no_process_file_or_worker_record(raw, queue):
    group = start_workers(queue.name, 2, with_scheduler=True)
    create_job(queue, SAMPLE_JOBS[2], seconds=0.5)
    deadline = time.monotonic() + 20
    while not group.lines and time.monotonic() < deadline:
        time.sleep(0.05)
    below = [pid for pid in group.pids for pid in descendants(pid)]
    group.stop()
    assert group.alive == 0
    assert not any(pid_alive(pid) for pid in group.pids + below)
    assert not any((registry_dir() / f"{pid}.json").exists() for pid in group.pids)
    assert not set(group.names) & {w.name for w in Worker.all(connection=raw)}


def test_a_worker_killed_from_outside_takes_its_horse_and_fails_the_job_with_a_reason(raw, queue):
    job = create_job(queue, SAMPLE_JOBS[2], seconds=5)
    got = []
    listener = listen(raw, [job], got.append)
    group = start_workers(queue.name, 1)
    try:
        deadline = time.monotonic() + 20
        while events.stored(job).progress != 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        horse = descendants(group.pids[0])
        os.kill(group.pids[0], signal.SIGKILL)  # the worker only, as `kill -9 PID` would
        assert listener.wait(20)
        time.sleep(0.2)
        assert not any(pid_alive(pid) for pid in horse)
    finally:
        group.stop()
    assert got[-1].kind == "failed"
    assert got[-1].error == f"worker {group.names[0]} was killed by SIGKILL while running this job"
    assert job.get_status() == "failed"
    assert "WorkerDied" in job.latest_result().exc_string
