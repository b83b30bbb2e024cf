"""The self-check of notebook 12: enqueue_all in one round trip, judged against wrong answers."""

from __future__ import annotations

from rq import Queue

from helpers.checks.throughput import JOBS, check_enqueue_all, counting_client
from helpers.notifications import send_notification, send_notification_with_progress


def message(capsys) -> str:
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def solution(queue, jobs):
    data = [Queue.prepare_data(send_notification, (j["phoneNumber"], j["message"])) for j in jobs]
    return queue.enqueue_many(data)


def scaffold(queue, jobs):  # right jobs, one round trip (or more) each
    return [queue.enqueue(send_notification, j["phoneNumber"], j["message"]) for j in jobs]


def test_the_solution_passes_and_leaves_nothing_behind(r, capsys):
    client, _ = counting_client(r)  # the check's database, which other checks use too
    before = set(client.scan_iter())
    assert check_enqueue_all(solution, r)
    said = message(capsys)
    assert said == f"✅ Right: {JOBS} jobs queued, in order, in 2 round trips to Redis.", said
    assert set(client.scan_iter()) <= before
    assert not client.sismember("rq:queues", "rq:queue:check:enqueue-all")


def test_the_scaffold_is_told_how_many_round_trips_it_took(r, capsys):
    assert not check_enqueue_all(scaffold, r)
    said = message(capsys)
    assert said.startswith("❌ Not yet: it took "), said
    assert f"round trips to Redis for {JOBS} jobs" in said
    assert "queue.enqueue_many(...), one pipeline." in said


def test_jobs_in_the_wrong_order_are_told(r, capsys):
    def reversed_order(queue, jobs):
        return solution(queue, list(reversed(jobs)))

    assert not check_enqueue_all(reversed_order, r)
    assert "job 1 has the arguments" in message(capsys)


def test_the_wrong_function_is_told(r, capsys):
    def with_progress(queue, jobs):
        data = [
            Queue.prepare_data(send_notification_with_progress, (j["phoneNumber"], j["message"]))
            for j in jobs
        ]
        return queue.enqueue_many(data)

    assert not check_enqueue_all(with_progress, r)
    said = message(capsys)
    assert "job 1 runs helpers.notifications.send_notification_with_progress" in said


def test_jobs_prepared_but_never_sent_are_told(r, capsys):
    def prepared_only(queue, jobs):
        pairs = [(j["phoneNumber"], j["message"]) for j in jobs]
        return [Queue.prepare_data(send_notification, pair) for pair in pairs]

    assert not check_enqueue_all(prepared_only, r)
    assert message(capsys) == (
        f"❌ Not yet: the queue holds 0 jobs after enqueue_all of {JOBS}: enqueue each job once."
    )


def test_a_function_that_returns_nothing_is_told(r, capsys):
    def returns_nothing(queue, jobs):
        solution(queue, jobs)

    assert not check_enqueue_all(returns_nothing, r)
    assert message(capsys) == "❌ Not yet: enqueue_all returned NoneType: return the list of jobs."


def test_a_function_that_raises_is_told_in_one_line(r, capsys):
    def keyerror(queue, jobs):
        return [queue.enqueue(send_notification, j["phone"], j["message"]) for j in jobs]

    assert not check_enqueue_all(keyerror, r)
    assert message(capsys) == "❌ Not yet: enqueue_all raised KeyError: 'phone'."
