"""The self-check of notebook 10: a ``take_seat`` that sells each seat exactly once."""

from __future__ import annotations

from collections.abc import Callable

import redis

from helpers.checks.verdict import Verdict, raised, verdict
from helpers.core.concurrency import at_once
from helpers.seats import ENABLED_KEY, NOT_ENOUGH_SEATS, SEATS_KEY, NotEnoughSeats

__all__ = ["check_take_seat"]


def _text(value: object) -> str | None:
    return value.decode() if isinstance(value, bytes) else value  # type: ignore[return-value]


def _open(r: redis.Redis, seats: int) -> None:
    r.set(SEATS_KEY, seats)
    r.set(ENABLED_KEY, "1")


def _judge_race(results: list[object], name: str, seats: int, clients: int, r) -> str | None:
    """What went wrong in one race of ``clients`` calls on ``seats`` seats, or None."""
    if len(results) < clients:
        return f"{clients - len(results)} of {clients} calls did not return within 30 s."
    errors = [x for x in results if isinstance(x, Exception)]
    others = [x for x in errors if not isinstance(x, NotEnoughSeats)]
    if others:
        return raised(name, others[0])
    if any(str(x) != NOT_ENOUGH_SEATS for x in errors):
        return f"NotEnoughSeats must say {NOT_ENOUGH_SEATS!r}, as the failed line does."
    left = [x for x in results if not isinstance(x, Exception)]
    odd = [x for x in left if not isinstance(x, int) or isinstance(x, bool) or x < 0]
    if odd:
        return (
            f"{name} returned {odd[0]!r}; it must return the seats left (0 or more) "
            "and raise NotEnoughSeats when none is left."
        )
    stored = _text(r.get(SEATS_KEY))
    if len(left) != seats:
        return (
            f"{clients} calls at once on {seats} seats sold {len(left)} seats and left "
            f"available_seats at {stored}; exactly {seats} must succeed."
        )
    if sorted(left) != list(range(seats)):
        return (
            f"the successful calls returned {sorted(left, reverse=True)}; each must return "
            f"the seats left after it, {seats - 1} down to 0, once each."
        )
    if stored != "0":
        return f"after {seats} seats sold, available_seats is {stored}, not 0."
    if _text(r.get(ENABLED_KEY)) != "0":
        return "the call that took the last seat did not set reservation_enabled to 0."
    return None


def _judge_last_seat(take_seat: Callable, name: str, r: redis.Redis) -> str | None:
    """One call on the last seat: it must return 0 and close reservations in the same step."""
    _open(r, 1)
    try:
        left = take_seat(r)
    except Exception as exc:  # noqa: BLE001 - the verdict names it
        return f"{raised(name, exc)} (with 1 seat left)."
    if left != 0:
        return f"with 1 seat left, {name} returned {left!r}, not 0 (the seats left)."
    if _text(r.get(ENABLED_KEY)) != "0":
        return "taking the last seat must also set reservation_enabled to 0."
    return None


def _first_wrong(take_seat: Callable, r, seats: int, clients: int, rounds: int) -> str | None:
    name = getattr(take_seat, "__name__", "take_seat")
    reason = _judge_last_seat(take_seat, name, r)
    for _ in range(rounds):
        if reason:
            return reason
        _open(r, seats)
        reason = _judge_race(at_once(lambda: take_seat(r), clients), name, seats, clients, r)
    return reason


def check_take_seat(take_seat, r, seats: int = 10, clients: int = 30, rounds: int = 3) -> Verdict:
    """Exercise 10: ``take_seat(r)`` from many threads at once sells each seat exactly once.

    Sets ``available_seats`` to ``seats`` and opens reservations, then ``clients`` threads
    call ``take_seat(r)`` at the same instant: the seats left must come back as
    ``seats - 1`` ... 0, once each, every other call must raise ``NotEnoughSeats``, and the
    last seat must close reservations. The two keys get their values back afterwards.
    """
    if not callable(take_seat):
        return verdict(False, "take_seat is not a function: define it with def.")
    saved = {key: r.get(key) for key in (SEATS_KEY, ENABLED_KEY)}
    try:
        reason = _first_wrong(take_seat, r, seats, clients, rounds)
    finally:
        for key, value in saved.items():
            if value is None:
                r.delete(key)
            else:
                r.set(key, value)
    if reason:
        return verdict(False, reason)
    return verdict(
        True,
        f"{rounds} races of {clients} calls on {seats} seats: each seat sold once, "
        "the rest refused, reservations closed at 0.",
    )
