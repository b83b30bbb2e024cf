"""Task 11 (``8-job.test.js``): tests of ``create_push_notifications_jobs``.

Kue's test mode becomes :func:`helpers.testmode.queue_in_test_mode`: the queue
``push_notification_code_3`` on a spare database that no worker reads, so the jobs stay
queued for the tests to inspect; it is cleared before and after each test.
"""

from __future__ import annotations

import pytest

from helpers.core.workers import start_workers
from helpers.job_creation import NotAnArray, create_push_notifications_jobs, job_data
from helpers.testmode import queue_in_test_mode

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
]


@pytest.fixture
def queue():
    with queue_in_test_mode() as q:
        yield q


@pytest.mark.parametrize(
    "not_a_list", [42, "nope", {}, None, (JOBS[0],)], ids=["int", "str", "dict", "None", "tuple"]
)
def test_display_an_error_message_if_jobs_is_not_an_array(queue, not_a_list):
    with pytest.raises(NotAnArray, match="^Jobs is not an array$"):
        create_push_notifications_jobs(not_a_list, queue)
    assert queue.count == 0


def test_create_two_new_jobs_to_the_queue(queue):
    created = create_push_notifications_jobs(JOBS, queue)
    jobs = queue.get_jobs()
    assert len(jobs) == 2
    assert [job.id for job in jobs] == [job.id for job in created]
    for job, data in zip(jobs, JOBS, strict=True):
        assert job.origin == "push_notification_code_3"
        assert job.func_name == "helpers.notifications.send_notification_with_progress"
        assert job_data(job) == data
        assert job.get_status() == "queued"


def test_the_creation_lines_name_the_jobs_in_order(queue):
    lines = []
    create_push_notifications_jobs(JOBS, queue, log=lines.append)
    assert lines == ["Notification job created: 1", "Notification job created: 2"]


def test_an_empty_list_creates_no_job(queue):
    assert create_push_notifications_jobs([], queue) == []
    assert queue.count == 0


def test_no_worker_drains_the_test_queue(queue):
    create_push_notifications_jobs(JOBS[:1], queue)
    with start_workers(queue.name, 1, burst=True) as worker:  # a real worker, on this queue
        assert worker.wait(30)  # a burst worker stops once it finds its queue empty
    assert queue.count == 1
