"""Job events: published by real jobs in real worker processes, delivered in order, none lost."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from helpers.core import events
from helpers.core.listener import Listener, listen
from helpers.core.server import url_of
from helpers.core.workers import start_workers
from helpers.job_creation import create_job
from helpers.notifications import SAMPLE_JOBS

OK, BLACKLISTED = SAMPLE_JOBS[2], SAMPLE_JOBS[0]
RAN_OK = [("progress", 0, None), ("progress", 50, None), ("completed", None, None)]


class Collector:
    """An event handler that keeps the events, in the order they arrive."""

    def __init__(self) -> None:
        self.events: list[events.JobEvent] = []
        self.threads: set[str] = set()

    def __call__(self, event: events.JobEvent) -> None:
        self.events.append(event)
        self.threads.add(threading.current_thread().name)

    def kinds(self, job_id: str) -> list[tuple]:
        return [(e.kind, e.progress, e.error) for e in self.events if e.job_id == job_id]


def run_burst(queue) -> None:
    with start_workers(queue.name, 1, burst=True) as group:
        assert group.wait(60)


def test_a_listener_started_first_gets_every_event_live_and_in_order(raw, queue):
    ok, bad = create_job(queue, OK), create_job(queue, BLACKLISTED)
    got = Collector()
    listener = listen(raw, [ok, bad], got)
    run_burst(queue)
    assert listener.wait(30)
    assert got.kinds(ok.id) == RAN_OK
    assert got.kinds(bad.id) == [
        ("progress", 0, None),
        ("failed", None, "Phone number 4153518780 is blacklisted"),
    ]
    assert got.threads == {"job-events"}


def test_a_listener_started_after_the_jobs_ended_loses_no_event(raw, queue):
    ok, bad = create_job(queue, OK), create_job(queue, BLACKLISTED)
    run_burst(queue)
    got = Collector()
    assert listen(raw, [ok, bad], got).wait(30)
    assert got.kinds(ok.id) == RAN_OK
    assert got.kinds(bad.id)[-1] == ("failed", None, "Phone number 4153518780 is blacklisted")
    assert not any(e.live for e in got.events)  # all replayed from what Redis stored


def test_each_event_is_delivered_once_with_its_number(raw, queue):
    jobs = [create_job(queue, data) for data in SAMPLE_JOBS]
    got = Collector()
    listener = listen(raw, jobs[:5], got)  # some watched now, the rest later
    with start_workers(queue.name, 2, burst=True) as group:
        listener.watch(jobs[5:])
        assert group.wait(60)
    assert listener.wait(30)
    for job in jobs:
        seqs = [e.seq for e in got.events if e.job_id == job.id]
        assert seqs == list(range(1, len(seqs) + 1)), job.id
    assert sum(e.kind == "completed" for e in got.events) == 9
    assert sum(e.kind == "failed" for e in got.events) == 2


def test_the_thread_ends_when_every_watched_job_has_ended(raw, queue):
    job = create_job(queue, OK)
    listener = listen(raw, [job], Collector())
    assert listener.running
    assert not listener.wait(0.5)  # nothing processes the job yet
    run_burst(queue)
    assert listener.wait(30)
    assert not listener.running
    assert listener.ended(job.id)


def test_a_deleted_job_is_reported_as_removed(raw, queue):
    job = create_job(queue, OK)
    got = Collector()
    listener = listen(raw, [job], got)
    job.delete()
    assert listener.wait(10)
    assert got.kinds(job.id) == [("removed", None, None)]


def test_report_progress_outside_a_job_says_so():
    with pytest.raises(events.NotInAJob, match="only works inside a job"):
        events.report_progress(10)


def test_stored_events_match_what_was_published(raw, queue):
    job = create_job(queue, OK)
    run_burst(queue)
    stored = events.stored(job)
    assert [e["kind"] for e in stored.events] == ["progress", "progress", "completed"]
    assert [e["seq"] for e in stored.events] == [1, 2, 3]
    assert stored.progress == 50 and stored.error is None and stored.attempts == 0


def test_completed_is_recorded_once_by_the_workbooks_worker_and_by_a_plain_rq_worker(raw, queue):
    """The workbook's worker records it in RQ's success transaction, any other by callback."""
    ours = create_job(queue, OK)
    run_burst(queue)
    theirs = create_job(queue, OK)
    plain = [sys.executable, "-m", "rq.cli", "worker", "--burst", "-u", url_of(raw), queue.name]
    assert subprocess.run(plain, capture_output=True, timeout=60).returncode == 0
    for job, status_then in ((ours, "finished"), (theirs, "started")):
        assert job.get_status() == "finished"
        log = events.stored(job).events
        assert [e["kind"] for e in log] == ["progress", "progress", "completed"]
        assert log[-1]["status"] == status_then  # RQ runs the callback before it stores it


def test_when_the_last_event_arrives_redis_already_holds_the_final_status(raw, queue):
    jobs = [create_job(queue, data) for data in SAMPLE_JOBS[:4]]
    seen = {}

    def handler(event: events.JobEvent) -> None:
        if event.ended:
            job = next(j for j in jobs if j.id == event.job_id)
            stored = job.latest_result() is not None
            seen[event.job_id] = (event.kind, job.get_status().value, stored)

    listener = listen(raw, jobs, handler)
    with start_workers(queue.name, 2, burst=True) as group:
        assert group.wait(60)
    assert listener.wait(30)
    assert (
        sorted(seen.values())
        == [("completed", "finished", True)] * 2 + [("failed", "failed", True)] * 2
    )


def test_jobs_enqueued_without_the_callbacks_are_reported_from_their_stored_status(raw, queue):
    from helpers.notifications import send_notification, send_notification_with_progress

    ok = queue.enqueue(send_notification, "4153518743", "plain RQ job")
    bad = queue.enqueue(send_notification_with_progress, "4153518781", "plain RQ job")
    got = Collector()
    listener = listen(raw, [ok, bad], got)
    run_burst(queue)
    assert listener.wait(30)
    assert got.kinds(ok.id) == [("completed", None, None)]
    assert got.kinds(bad.id) == [
        ("progress", 0, None),
        ("failed", None, "Phone number 4153518781 is blacklisted"),
    ]


def test_watch_after_stop_says_so_in_one_line(raw, queue):
    from helpers.core.errors import Stopped

    listener = Listener(raw, lambda event: None)
    listener.stop()
    with pytest.raises(Stopped, match="^This listener was stopped: make a new one"):
        listener.watch([create_job(queue, SAMPLE_JOBS[2])])


def test_the_creator_returns_its_listener(raw, queue):
    from helpers.job_creation import create_push_notifications_jobs

    lines: list[str] = []
    created = create_push_notifications_jobs([SAMPLE_JOBS[2]], queue, log=lines.append)
    assert created.listener.job_ids == [created[0].id] and created.listener.running
    with start_workers(queue.name, 1, burst=True):
        assert created.wait(30)
    assert lines[-1] == f"Notification job {created[0].id.rsplit('-', 1)[1]} completed"
    assert not created.listener.running
