"""The self-check of notebook 10's exercise: take a seat with WATCH/MULTI, against live Redis."""

from __future__ import annotations

import redis

from helpers.checks import seats as checks
from helpers.seats import ENABLED_KEY, NOT_ENOUGH_SEATS, SEATS_KEY, NotEnoughSeats


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
