"""The job widgets driven headlessly (click(), .value) against real Redis and real workers."""

from __future__ import annotations

import time

import pytest

from helpers.core.processes import descendants, pid_alive
from helpers.core.workers import start_workers
from helpers.job_creation import create_job
from helpers.notifications import SAMPLE_JOBS
from helpers.widgets.job_board import JobBoard
from helpers.widgets.job_creator import JobCreator
from helpers.widgets.job_desk import JobDesk
from helpers.widgets.worker_panel import WorkerPanel


def text(output) -> str:
    """Everything an Output widget shows, as one string."""
    return "".join(o["text"] for o in output.outputs)


def rows_by_status(board: JobBoard) -> dict[str, list]:
    found: dict[str, list] = {}
    for row in board.table.children:
        found.setdefault(row.status.value, []).append(row)
    return found


def test_the_11_sample_jobs_and_2_workers_end_9_completed_and_2_failed(raw, queue, caplog):
    desk = JobDesk(raw, queue.name, workers=2, seconds=0.2)
    assert desk.board.summary.value == "No jobs yet"
    desk.creator.samples_button.click()
    assert text(desk.creator.out).splitlines() == [
        f"Notification job created: {n}" for n in range(1, 12)
    ]
    assert desk.board.summary.value == "11 queued, 0 completed, 0 failed"
    assert desk.workers.start_button.description == "Start 2 workers"
    desk.workers.start_button.click()
    assert desk.board.wait(60)
    assert not desk.board.live
    assert desk.board.summary.value == "9 completed, 2 failed"
    rows = rows_by_status(desk.board)
    assert len(rows["completed"]) == 9 and len(rows["failed"]) == 2
    assert sorted(r.error.value for r in rows["failed"]) == [
        "Phone number 4153518780 is blacklisted",
        "Phone number 4153518781 is blacklisted",
    ]
    assert all(r.bar.value == 100 and r.bar.bar_style == "success" for r in rows["completed"])
    assert all(r.bar.bar_style == "danger" and r.bar.value == 0 for r in rows["failed"])
    assert all(r.error.value == "" for r in rows["completed"])
    assert all("qs-job-failed" in r._dom_classes for r in rows["failed"])
    sent = [x for x in desk.workers.group.lines if x.startswith("Sending notification")]
    assert len(sent) == 9
    desk.workers.stop_button.click()
    assert desk.workers.group is None and desk.workers.status.value == "Workers stopped"
    assert not [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


def test_the_board_shows_progress_while_a_job_runs(raw, queue):
    board = JobBoard(raw)
    creator = JobCreator(queue, board, seconds=2)
    creator.phone.value = "4153518743"
    creator.create_button.click()
    row = board.table.children[0]
    assert (row.id_label.value, row.phone.value, row.status.value) == ("#1", "4153518743", "queued")
    with start_workers(queue.name, 1):
        deadline = time.monotonic() + 20
        while row.bar.value != 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (row.status.value, row.bar.value) == ("started", 50)
        assert board.live
        assert board.wait(20)
    assert (row.status.value, row.bar.value) == ("completed", 100)
    assert text(board.feed).splitlines() == [
        "Notification job 1 0% complete",
        "Notification job 1 50% complete",
        "Notification job 1 completed",
    ]


def test_the_creator_form_sets_priority_delay_and_attempts(raw, queue):
    creator = JobCreator(queue)
    creator.priority.value = "high"
    creator.delay.value = 30
    creator.attempts.value = 3
    creator.backoff.value = 2
    job = creator.create()
    assert job.origin == f"{queue.name}_high"
    assert job.get_status() == "scheduled"
    assert job.retries_left == 2 and job.retry_intervals == [2, 4]


def test_the_creator_shows_bad_input_in_one_line(raw, queue):
    creator = JobCreator(queue)
    creator.phone.value = "  "
    creator.create_button.click()
    assert creator.out.outputs[-1]["name"] == "stderr"
    assert "needs a phoneNumber" in creator.out.outputs[-1]["text"]
    assert queue.count == 0


def _in_a_cell(phone_number: str, message: str) -> None:
    """A job function as a notebook cell defines it."""


_in_a_cell.__module__ = "__main__"


def test_the_creator_shows_a_function_no_worker_can_import_in_one_line(raw, queue):
    creator = JobCreator(queue, function=_in_a_cell)
    creator.create_button.click()
    creator.samples_button.click()
    assert [o["name"] for o in creator.out.outputs] == ["stderr", "stderr"]
    lines = text(creator.out).splitlines()
    assert len(lines) == 2 and "Traceback" not in text(creator.out)
    assert all(
        line.startswith(
            "A worker cannot import the job's function: _in_a_cell is defined in a notebook "
            "cell (__main__), which no worker can import; write it to a file beside the "
            "notebook with %%writefile my_jobs.py, then `from my_jobs import _in_a_cell`"
        )
        for line in lines
    ), lines
    assert queue.count == 0 and creator.created == []


def test_the_worker_panel_starts_and_stops_real_processes(raw, queue):
    panel = WorkerPanel([queue.name], n=1)
    panel.count.value = 3
    assert panel.start_button.description == "Start 3 workers"
    panel.start_button.click()
    group = panel.group
    assert group.alive == 3 and panel.start_button.disabled
    create_job(queue, SAMPLE_JOBS[2])
    deadline = time.monotonic() + 20
    while not group.lines and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Sending notification to 4153518743" in text(panel.out)
    panel.stop_button.click()
    assert group.alive == 0 and not any(pid_alive(p) for p in group.pids)


@pytest.mark.parametrize(("attempts", "outcome"), [(2, "completed"), (1, "failed")])
def test_a_worker_killed_mid_job_loses_nothing(raw, queue, attempts, outcome):
    board = JobBoard(raw)
    job = create_job(queue, SAMPLE_JOBS[2], seconds=3, attempts=attempts)
    board.add(job)
    row = board.rows[job.id]
    group = start_workers(queue.name, 2)
    try:
        deadline = time.monotonic() + 20
        while row.bar.value != 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        job.refresh()
        index = group.names.index(job.worker_name)
        horse = descendants(group.processes[index].pid)
        assert horse, "the worker runs the job in a work horse"
        group.kill(index)
        assert group.recovered == [
            (
                job.id,
                "retried" if attempts > 1 else "failed",
                f"worker {job.worker_name} was killed by SIGKILL while running this job",
            )
        ]
        time.sleep(0.2)
        assert not any(pid_alive(pid) for pid in horse), "the orphaned work horse lingers"
        assert board.wait(30)
    finally:
        group.stop()
    assert row.status.value == outcome
    if outcome == "completed":
        assert row.error.value.startswith("retried 1×, then completed (last error: worker ")
        assert job.get_status() == "finished"
    else:
        assert row.error.value.endswith("was killed by SIGKILL while running this job")
        assert job.get_status() == "failed"


def test_the_board_thread_ends_and_starts_again_for_a_new_job(raw, queue):
    board = JobBoard(raw)
    board.add(create_job(queue, SAMPLE_JOBS[2]))
    with start_workers(queue.name, 1, with_scheduler=True):
        assert board.wait(30)
        assert not board.live
        board.add(create_job(queue, SAMPLE_JOBS[0], delay=1))
        assert board.live and board.table.children[1].status.value == "scheduled"
        assert board.wait(30)
    assert not board.live
    assert board.summary.value == "1 completed, 1 failed"
