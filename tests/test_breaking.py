"""Notebook 11's jobs and rulers: the SMS gateway, a hung job, an idempotent job, a requeue."""

from __future__ import annotations

import pytest
from rq import Retry

from helpers.breaking import (
    DOWN_KEY,
    SLOW_KEY,
    SMS_KEY,
    GatewayDown,
    count_statuses,
    failure_reason,
    gateway_down,
    hang,
    kept_by_redis,
    notify,
    outage_lines,
    requeue_failed,
    send_once,
    send_sms,
    sent,
    slow_gateway,
    tick,
    wait_for_status,
)
from helpers.core.waiting import wait_until
from helpers.core.workers import start_workers


@pytest.fixture
def gateway(r):
    r.delete(SMS_KEY, SLOW_KEY, DOWN_KEY)
    yield r
    r.delete(SMS_KEY, SLOW_KEY, DOWN_KEY)


def test_the_gateway_records_each_sms_and_can_be_down(gateway):
    send_sms(gateway, "4153518780", "hello")
    gateway_down(gateway)
    with pytest.raises(GatewayDown, match="SMS gateway unreachable"):
        send_sms(gateway, "4153518780", "again")
    gateway_down(gateway, False)
    slow_gateway(gateway, 0.2)
    assert gateway.get(SLOW_KEY) == "0.2"
    slow_gateway(gateway, 0)
    assert sent(gateway) == ["to 4153518780: hello"]


def test_jobs_on_a_real_worker(gateway, queue):
    with start_workers(queue.name, 1) as workers:
        hung = queue.enqueue(hang, job_timeout=1)
        assert wait_for_status(hung, "finished", "failed") == "failed"
        assert failure_reason(hung).endswith("Task exceeded maximum timeout value (1 seconds)")
        jobs = [queue.enqueue(send_once, "4153518780", "code", "n-1") for _ in range(2)]
        jobs.append(queue.enqueue(tick, 7))
        assert wait_until(lambda: count_statuses(jobs, queue.connection) == {"finished": 3}, 20)
        assert sent(gateway) == ["to 4153518780: code"]
        assert jobs[-1].return_value() == 7
        assert kept_by_redis(jobs, queue.connection)[0] == 6  # a hash and a result stream each
        assert workers.alive == 1
    gateway.delete("breaking:sent:n-1")


def test_a_worker_killed_after_sending_sends_twice_with_retry(gateway, queue):
    slow_gateway(gateway, 30)
    workers = start_workers(queue.name, 1)
    job = queue.enqueue(notify, "4153518781", "twice", retry=Retry(max=1))
    assert wait_until(lambda: len(sent(gateway)) == 1, 20)
    slow_gateway(gateway, 0)
    workers.kill(0)
    assert [outcome for _, outcome, _ in workers.recovered] == ["retried"]
    with start_workers(queue.name, 1):
        assert wait_for_status(job, "finished", "failed") == "finished"
    assert sent(gateway) == ["to 4153518781: twice"] * 2


def test_requeue_failed_moves_only_the_jobs_of_that_error(gateway, queue):
    gateway_down(gateway)
    with start_workers(queue.name, 1):
        down = [queue.enqueue(notify, "4153518743", f"code {n}") for n in range(2)]
        hung = queue.enqueue(hang, job_timeout=1)
        assert wait_until(lambda: queue.failed_job_registry.count == 3, 20)
    assert requeue_failed(queue, "GatewayDown") == 2
    assert sorted(queue.get_job_ids()) == sorted(job.id for job in down)
    assert queue.failed_job_registry.get_job_ids() == [hung.id]
    assert count_statuses([*down, hung], queue.connection) == {"failed": 1, "queued": 2}


def test_outage_lines_are_said_once_without_their_reason():
    lines = [
        "Traceback (most recent call last):",
        "Redis went away (connection refused): the workers wait for it, up to 30 s.",
        "Redis went away (connection reset by peer): the workers wait for it, up to 30 s.",
        "Redis is back: the workers go on.",
    ]
    assert outage_lines(lines) == [
        "Redis went away (…): the workers wait for it, up to 30 s.",
        "Redis is back: the workers go on.",
    ]
