"""The notification jobs, ids, priorities, delays, retries, and the task commands as processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from rq import Queue, Retry

from helpers import job_creation, notifications
from helpers.core import events
from helpers.core.listener import listen
from helpers.core.workers import start_workers
from helpers.job_creation import (
    InvalidJob,
    create_job,
    job_data,
    next_job_id,
    priority_queues,
    reset_queue,
    retry_policy,
)
from helpers.kue_log import kue_id, kue_log
from helpers.notifications import SAMPLE_JOBS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_send_notification_prints_the_original_line(capsys):
    notifications.send_notification("4153518780", "This is the code to verify your account")
    assert capsys.readouterr().out == (
        "Sending notification to 4153518780, with message: "
        "This is the code to verify your account\n"
    )


def test_job_ids_read_like_kue_and_restart_after_a_reset(queue):
    assert [kue_id(next_job_id(queue)) for _ in range(3)] == ["1", "2", "3"]
    reset_queue(queue)
    job = create_job(queue, SAMPLE_JOBS[0])
    assert job.id == f"{queue.name}-1" and kue_id(job) == "1"
    assert job_data(job) == SAMPLE_JOBS[0]


def test_an_id_already_taken_is_skipped(queue):
    first = create_job(queue, SAMPLE_JOBS[0])
    queue.connection.delete(job_creation._counter_key(queue.name))  # counter lost, job kept
    assert create_job(queue, SAMPLE_JOBS[1]).id != first.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("4153518780", "must be a dict"),
        ({"message": "hi"}, "needs a phoneNumber"),
        ({"phoneNumber": " ", "message": "hi"}, "needs a phoneNumber"),
        ({"phoneNumber": "415", "message": 3}, "needs a message"),
    ],
)
def test_bad_job_data_is_refused_in_one_line(queue, data, message):
    with pytest.raises(InvalidJob, match=message):
        create_job(queue, data)
    assert queue.count == 0


def test_bad_options_are_refused(queue):
    with pytest.raises(InvalidJob, match="priority must be one of high, normal, low"):
        create_job(queue, SAMPLE_JOBS[0], priority="urgent")
    with pytest.raises(InvalidJob, match="attempts must be a whole number"):
        create_job(queue, SAMPLE_JOBS[0], attempts=0)
    with pytest.raises(InvalidJob, match="delay must be"):
        create_job(queue, SAMPLE_JOBS[0], delay=-1)


def test_retry_policy_maps_kue_attempts_and_backoff():
    assert retry_policy(1) is None
    immediate = retry_policy(3)
    assert isinstance(immediate, Retry) and immediate.max == 2 and immediate.intervals == [0]
    assert retry_policy(4, backoff=1).intervals == [1, 2, 4]
    assert retry_policy(3, backoff=2, exponential=False).intervals == [2, 2]


def test_kue_lines_are_the_originals():
    def line(**kw):
        out = []
        kue_log(out.append)(events.JobEvent(job_id="push_notification_code_2-7", **kw))
        return out

    assert line(kind="progress", progress=50) == ["Notification job 7 50% complete"]
    assert line(kind="completed") == ["Notification job 7 completed"]
    assert line(kind="failed", error="Phone number 4153518780 is blacklisted") == [
        "Notification job 7 failed: Phone number 4153518780 is blacklisted"
    ]
    out = []
    kue_log(out.append, with_id=False)(events.JobEvent("x-1", "failed", error="boom"))
    assert out == ["Notification job failed"]


def test_priorities_run_high_then_normal_then_low(queue):
    for priority, data in [
        ("low", SAMPLE_JOBS[2]),
        ("normal", SAMPLE_JOBS[3]),
        ("high", SAMPLE_JOBS[4]),
        ("low", SAMPLE_JOBS[5]),
    ]:
        create_job(queue, data, priority=priority)
    assert priority_queues(queue.name) == [f"{queue.name}_high", queue.name, f"{queue.name}_low"]
    with start_workers(priority_queues(queue.name), 1, burst=True) as group:
        assert group.wait(60)
    phones = [line.split()[3].rstrip(",") for line in group.lines]
    assert phones == ["4153118782", "4153538781", "4153518743", "4153718781"]


def test_a_delayed_job_runs_after_its_delay(raw, queue):
    started = time.time()
    delayed = create_job(queue, SAMPLE_JOBS[2], delay=2)
    now = create_job(queue, SAMPLE_JOBS[3])
    assert delayed.get_status() == "scheduled"
    got = []
    listener = listen(raw, [delayed, now], got.append)
    with start_workers(queue.name, 1, with_scheduler=True):
        assert listener.wait(30)
    ended = {e.job_id: e.at for e in got if e.kind == "completed"}
    assert ended[now.id] < ended[delayed.id]
    assert ended[delayed.id] - started >= 1  # RQ keeps scheduled times to the second


def test_a_job_that_fails_twice_then_succeeds_with_attempts_and_backoff(raw, queue):
    job = create_job(
        queue, SAMPLE_JOBS[2], function=notifications.flaky_notification, attempts=3, backoff=1
    )
    lines = []
    listener = listen(raw, [job], kue_log(lines.append))
    with start_workers(queue.name, 1, with_scheduler=True):
        assert listener.wait(40)
    n = kue_id(job)
    assert [line for line in lines if "fail" in line or "completed" in line] == [
        f"Notification job {n} failed attempt 1: SMS gateway unreachable (attempt 1)",
        f"Notification job {n} failed attempt 2: SMS gateway unreachable (attempt 2)",
        f"Notification job {n} completed",
    ]
    assert job.get_status() == "finished"


def task(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "helpers", "task", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_task_8_then_task_9_print_the_lines_of_the_original(raw):
    reset_queue(Queue("push_notification_code_2", connection=raw))
    creator = task("8")
    lines = []
    while len(lines) < 11:  # the 11 jobs are created before the processor starts
        lines.append(creator.stdout.readline().rstrip("\n"))
    processor = task("9", "--burst")
    out, _ = processor.communicate(timeout=60)
    rest, err = creator.communicate(timeout=60)
    assert processor.returncode == 0 and creator.returncode == 0, err
    sent = [
        f"Sending notification to {d['phoneNumber']}, with message: {d['message']}"
        for d in SAMPLE_JOBS[2:]
    ]
    assert sorted(out.splitlines()) == sorted(sent)
    assert lines == [f"Notification job created: {n}" for n in range(1, 12)]
    events_lines = rest.splitlines()
    for n in (1, 2):
        phone = SAMPLE_JOBS[n - 1]["phoneNumber"]
        assert [x for x in events_lines if x.startswith(f"Notification job {n} ")] == [
            f"Notification job {n} 0% complete",
            f"Notification job {n} failed: Phone number {phone} is blacklisted",
        ]
    for n in range(3, 12):
        assert [x for x in events_lines if x.startswith(f"Notification job {n} ")] == [
            f"Notification job {n} 0% complete",
            f"Notification job {n} 50% complete",
            f"Notification job {n} completed",
        ]
    assert len(events_lines) == 2 * 2 + 9 * 3


def test_task_6_then_task_7(raw):
    reset_queue(Queue("push_notification_code", connection=raw))
    creator = task("6")
    assert creator.stdout.readline() == "Notification job created: 1\n"
    processor = task("7", "--burst")
    out, _ = processor.communicate(timeout=60)
    rest, _ = creator.communicate(timeout=60)
    assert out == (
        "Sending notification to 4153518780, with message: "
        "This is the code to verify your account\n"
    )
    assert rest == "Notification job completed\n"
    again = task("6", "--no-wait")
    assert again.communicate(timeout=60)[0] == "Notification job created: 2\n"
    reset_queue(Queue("push_notification_code", connection=raw))


def test_task_10_creates_the_job_of_8_job_main(raw):
    queue = Queue("push_notification_code_3", connection=raw)
    reset_queue(queue)
    out, _ = task("10", "--no-wait").communicate(timeout=60)
    assert out == "Notification job created: 1\n"
    assert job_data(queue.get_jobs()[0]) == SAMPLE_JOBS[0]
    reset_queue(queue)


def test_a_processor_stopped_with_ctrl_c_leaves_no_worker(raw):
    import signal

    from helpers.core.processes import descendants, pid_alive

    processor = task("9")
    deadline = time.monotonic() + 30
    while len(descendants(processor.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = descendants(processor.pid)
    assert len(workers) >= 2, "task 9 starts two workers"
    processor.send_signal(signal.SIGINT)
    assert processor.wait(30) == 130
    time.sleep(0.2)
    assert not any(pid_alive(pid) for pid in workers)
