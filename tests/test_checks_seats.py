"""The self-checks of notebook 10: take a seat (WATCH/MULTI, Lua), the job module, the seat app."""

from __future__ import annotations

import importlib
import threading
import uuid

import pytest
import redis
from rq import Callback, Queue, Worker

from helpers.checks import seats as checks
from helpers.core.webapp import create_json_app, json_reply
from helpers.seats import (
    ENABLED_KEY,
    NOT_ENOUGH_SEATS,
    QUEUE_NAME,
    SEATS_KEY,
    NotEnoughSeats,
    get_current_available_seats,
    report_completed,
    report_failed,
    reservation_enabled,
    reserve_seat_job,
)


def solution(r):
    """The notebook's solution: watch, read, check, then set in a transaction; retry."""
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(SEATS_KEY)
                left = int(pipe.get(SEATS_KEY) or 0)
                if left <= 0:
                    pipe.unwatch()
                    raise NotEnoughSeats(NOT_ENOUGH_SEATS)
                pipe.multi()
                pipe.set(SEATS_KEY, left - 1)
                if left == 1:
                    pipe.set(ENABLED_KEY, "0")
                pipe.execute()
                return left - 1
            except redis.WatchError:
                continue


def naive(r):
    """The original's read then write, without WATCH."""
    left = int(r.get(SEATS_KEY) or 0)
    if left <= 0:
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    r.set(SEATS_KEY, left - 1)
    if left == 1:
        r.set(ENABLED_KEY, "0")
    return left - 1


def message(capsys) -> str:
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_solution_passes_and_keys_are_restored(r, capsys):
    r.set(SEATS_KEY, "7")
    r.delete(ENABLED_KEY)
    result = checks.check_take_seat(solution, r)
    assert result.ok is True
    assert message(capsys).startswith("✅ Right: 3 races of 30 calls on 10 seats")
    assert r.get(SEATS_KEY) == "7"
    assert r.get(ENABLED_KEY) is None


def test_solution_passes_on_a_bytes_client(raw, capsys):
    assert checks.check_take_seat(solution, raw, rounds=1).ok is True


def test_the_original_decrement_oversells(r, capsys):
    result = checks.check_take_seat(naive, r)
    assert result.ok is False
    assert "exactly 10 must succeed" in message(capsys)


def test_the_scaffold_says_it_is_not_written(r, capsys):
    def scaffold(r):
        raise NotImplementedError("take_seat_with_watch is not written yet")

    assert checks.check_take_seat(scaffold, r).ok is False
    assert "NotImplementedError: take_seat_with_watch is not written yet" in message(capsys)


def test_returning_minus_one_instead_of_raising_fails(r, capsys):
    def minus_one(r):
        try:
            return solution(r)
        except NotEnoughSeats:
            return -1

    assert checks.check_take_seat(minus_one, r).ok is False
    assert "returned -1" in message(capsys)


def test_not_closing_reservations_fails(r, capsys):
    def never_closes(r):
        r.set(ENABLED_KEY, "1")
        left = solution(r)
        r.set(ENABLED_KEY, "1")
        return left

    assert checks.check_take_seat(never_closes, r).ok is False
    assert "reservation_enabled to 0" in message(capsys)


def test_a_wrong_refusal_message_fails(r, capsys):
    def other_words(r):
        try:
            return solution(r)
        except NotEnoughSeats:
            raise NotEnoughSeats("sold out") from None

    assert checks.check_take_seat(other_words, r).ok is False
    assert NOT_ENOUGH_SEATS in message(capsys)


def test_not_a_function_fails(r, capsys):
    assert checks.check_take_seat(None, r).ok is False
    assert "not a function" in message(capsys)


# The job in a module (my_seats.py) and the app: check_seat_job, check_seat_app.

JOB_HEADER = """
import redis
from rq import get_current_job

from helpers.seats import ENABLED_KEY, NOT_ENOUGH_SEATS, SEATS_KEY, NotEnoughSeats


def reserve_seat_job():
    return take_seat(get_current_job().connection)
"""

WATCH_JOB = """
def take_seat(r):
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(SEATS_KEY)
                left = int(pipe.get(SEATS_KEY) or 0)
                if left <= 0:
                    pipe.unwatch()
                    raise NotEnoughSeats(NOT_ENOUGH_SEATS)
                pipe.multi()
                pipe.set(SEATS_KEY, left - 1)
                if left == 1:
                    pipe.set(ENABLED_KEY, "0")
                pipe.execute()
                return left - 1
            except redis.WatchError:
                continue
"""

LUA_JOB = '''
TAKE = """
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 0 then return -1 end
redis.call('SET', KEYS[1], left - 1)
if left == 1 then redis.call('SET', KEYS[2], '0') end
return left - 1
"""


def take_seat(r):
    left = r.eval(TAKE, 2, SEATS_KEY, ENABLED_KEY)
    if left < 0:
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    return left
'''

NAIVE_JOB = """
def take_seat(r):
    left = int(r.get(SEATS_KEY) or 0)
    if left <= 0:
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    r.set(SEATS_KEY, left - 1)
    if left == 1:
        r.set(ENABLED_KEY, "0")
    return left - 1
"""

SCAFFOLD_JOB = """
def take_seat(r):
    raise NotImplementedError("take_seat is not written yet")
"""

DECR_THEN_UNDO_JOB = """
def take_seat(r):
    left = r.decr(SEATS_KEY)
    if left < 0:
        r.incr(SEATS_KEY)
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    if left == 0:
        r.set(ENABLED_KEY, "0")
    return left
"""

MINUS_ONE_JOB = WATCH_JOB.replace("raise NotEnoughSeats(NOT_ENOUGH_SEATS)", "return -1")
NEVER_CLOSES_JOB = WATCH_JOB.replace('pipe.set(ENABLED_KEY, "0")', "pass")


@pytest.fixture
def seat_module(tmp_path, monkeypatch):
    """Write a job module under a fresh name, importable here and by the workers."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))

    def write(body: str) -> str:
        name = f"my_seats_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(JOB_HEADER + body)
        return name

    return write


def seat_app_factory(
    module: str,
    *,
    as_number=False,
    checks_flag=True,
    code=202,
    queue_name=None,
    callbacks=True,
    job=None,
):
    """The notebook's create_my_app for the job of ``module``, with a learner's mistake if asked."""
    job = job or importlib.import_module(module).reserve_seat_job
    hooks = (
        {"on_success": Callback(report_completed), "on_failure": Callback(report_failed)}
        if callbacks
        else {}
    )

    def create_my_app(r, queue, processor):
        app = create_json_app("my-seats")
        target = Queue(queue_name, connection=queue.connection) if queue_name else queue

        @app.get("/available_seats")
        def available_seats():
            seats = get_current_available_seats(r)
            return json_reply({"numberOfAvailableSeats": int(seats) if as_number else seats}, 200)

        @app.get("/reserve_seat")
        def reserve():
            if checks_flag and not reservation_enabled(r):
                return json_reply({"status": "Reservation are blocked"}, 409)
            target.enqueue(job, **hooks)
            return json_reply({"status": "Reservation in process"}, code)

        @app.get("/process")
        def process():
            processor.start()
            return json_reply({"status": "Queue processing"}, 202)

        return app

    return create_my_app


def scaffold_app(r, queue, processor):
    """The notebook's scaffold: one route, not written yet."""
    app = create_json_app("my-seats")

    @app.get("/available_seats")
    def available_seats():
        raise NotImplementedError("/available_seats is not written yet")

    return app


def test_seat_job_solution_passes(seat_module, r, capsys):
    assert checks.check_seat_job(seat_module(WATCH_JOB), r, rounds=1).ok is True
    assert message(capsys).startswith("✅ Right: 1 races of 30 calls")


def test_seat_job_scaffold_says_not_written(seat_module, r, capsys):
    assert checks.check_seat_job(seat_module(SCAFFOLD_JOB), r).ok is False
    assert "take_seat raised NotImplementedError: take_seat is not written yet" in message(capsys)


def test_seat_job_original_decrement_oversells(seat_module, r, capsys):
    assert checks.check_seat_job(seat_module(NAIVE_JOB), r).ok is False
    assert "exactly 10 must succeed" in message(capsys)


def test_seat_job_sees_an_edited_file(seat_module, r, capsys, tmp_path):
    name = seat_module(SCAFFOLD_JOB)
    importlib.import_module(name)
    (tmp_path / f"{name}.py").write_text(JOB_HEADER + WATCH_JOB)
    assert checks.check_seat_job(name, r, rounds=1).ok is True


def test_seat_job_missing_or_broken_file(seat_module, r, capsys):
    assert checks.check_seat_job("my_seats_not_there", r).ok is False
    assert "there is no my_seats_not_there.py" in message(capsys)
    assert checks.check_seat_job(seat_module("def take_seat(r)\n"), r).ok is False
    assert "does not import: it raised SyntaxError" in message(capsys)


def test_seat_app_solution_passes_and_leaves_everything_as_it_was(seat_module, r, raw, capsys):
    r.set(SEATS_KEY, "7")
    r.delete(ENABLED_KEY)
    real = Queue(QUEUE_NAME, connection=raw)
    kept = real.enqueue(len, "abc")
    name = seat_module(WATCH_JOB)
    result = checks.check_seat_app(seat_app_factory(name), r, module=name)
    assert result.ok is True, result.message
    assert message(capsys).startswith("✅ Right: the original's session byte for byte")
    assert (r.get(SEATS_KEY), r.get(ENABLED_KEY)) == ("7", None)
    assert real.get_job_ids() == [kept.id]
    assert Worker.count(connection=raw) == 0
    assert not [t for t in threading.enumerate() if t.name.startswith(("web-", "slow-redis"))]
    real.empty()


def test_seat_app_lua_solution_passes(seat_module, r, capsys):
    name = seat_module(LUA_JOB)
    assert checks.check_seat_app(seat_app_factory(name), r, module=name).ok is True


def test_seat_app_scaffold_says_not_written(r, capsys):
    assert checks.check_seat_app(scaffold_app, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: GET /available_seats raised NotImplementedError: "
        "/available_seats is not written yet."
    )


def test_seat_app_original_decrement_oversells_with_two_workers(seat_module, r, capsys):
    name = seat_module(NAIVE_JOB)
    assert checks.check_seat_app(seat_app_factory(name), r, module=name).ok is False
    assert "with two workers, 20 reservations sold" in message(capsys)


def test_seat_app_seats_as_a_number_fail(seat_module, r, capsys):
    name = seat_module(WATCH_JOB)
    result = checks.check_seat_app(seat_app_factory(name, as_number=True), r, module=name)
    assert result.ok is False
    assert (
        'sent {"numberOfAvailableSeats":50}: the original sends {"numberOfAvailableSeats":"50"}'
        in message(capsys)
    )


def test_seat_app_not_closing_reservations_fails(seat_module, r, capsys):
    name = seat_module(NEVER_CLOSES_JOB)
    assert checks.check_seat_app(seat_app_factory(name), r, module=name).ok is False
    assert "reservation_enabled is 1: the job that takes the last seat must set it to 0" in message(
        capsys
    )


def test_seat_app_returning_minus_one_fails(seat_module, r, capsys):
    name = seat_module(MINUS_ONE_JOB)
    assert checks.check_seat_app(seat_app_factory(name), r, module=name).ok is False
    assert "some returning -1: when no seat is left, raise NotEnoughSeats" in message(capsys)


def test_seat_app_reserve_without_the_flag_fails(seat_module, r, capsys):
    name = seat_module(WATCH_JOB)
    result = checks.check_seat_app(seat_app_factory(name, checks_flag=False), r, module=name)
    assert result.ok is False
    assert message(capsys).endswith("check reservation_enabled(r) before queuing a job.")


def test_seat_app_wrong_status_code_fails(seat_module, r, capsys):
    name = seat_module(WATCH_JOB)
    result = checks.check_seat_app(seat_app_factory(name, code=200), r, module=name)
    assert result.ok is False
    assert "GET /reserve_seat answered 200" in message(capsys)


def test_seat_app_job_on_another_queue_fails_and_is_removed(seat_module, r, raw, capsys):
    name = seat_module(WATCH_JOB)
    create = seat_app_factory(name, queue_name=QUEUE_NAME)
    assert checks.check_seat_app(create, r, module=name).ok is False
    assert "put 0 jobs on the queue create_my_app was handed" in message(capsys)
    assert Queue(QUEUE_NAME, connection=raw).get_job_ids() == []


def test_seat_app_job_that_fails_is_named(seat_module, r, capsys):
    name = seat_module(SCAFFOLD_JOB)
    assert checks.check_seat_app(seat_app_factory(name), r, module=name).ok is False
    assert message(capsys) == (
        "❌ Not yet: the first reservation's job failed (take_seat is not written yet): "
        "fix my_seats.py first, with its check."
    )


def test_seat_app_job_from_the_notebook_fails(seat_module, r, capsys):
    name = seat_module(WATCH_JOB)

    def reserve_seat_job():
        return None

    reserve_seat_job.__module__ = "__main__"
    create = seat_app_factory(name, job=reserve_seat_job)
    assert checks.check_seat_app(create, r, module=name).ok is False
    assert message(capsys) == (
        "❌ Not yet: GET /reserve_seat raised ValueError: Functions from the __main__ module "
        "cannot be processed by workers (a worker imports the job from a file: queue "
        "my_seats.reserve_seat_job)."
    )


def test_seat_app_the_workbooks_job_is_not_the_learners(seat_module, r, capsys):
    name = seat_module(WATCH_JOB)
    create = seat_app_factory(name, job=reserve_seat_job)
    assert checks.check_seat_app(create, r, module=name).ok is False
    assert "the job is helpers.seats.reserve_seat_job: queue yours" in message(capsys)


def test_seat_app_without_the_callbacks_fails(seat_module, r, capsys):
    name = seat_module(WATCH_JOB)
    create = seat_app_factory(name, callbacks=False)
    assert checks.check_seat_app(create, r, module=name).ok is False
    assert "on_success=Callback(report_completed)" in message(capsys)


def test_seat_app_factory_that_returns_nothing_fails(r, capsys):
    assert checks.check_seat_app(lambda r, queue, processor: None, r).ok is False
    assert "create_my_app returned None; it must return the Flask app" in message(capsys)


def test_seat_app_a_count_below_zero_fails(seat_module, r, capsys):
    name = seat_module(DECR_THEN_UNDO_JOB)
    assert checks.check_seat_app(seat_app_factory(name), r, module=name).ok is False
    said = message(capsys)
    assert "during 20 reservations on 10 seats, available_seats went down to -" in said
    assert said.endswith(": take a seat only when one is left.")
