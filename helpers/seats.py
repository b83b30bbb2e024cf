"""Task 13, "Can I have a seat?": 50 seats in Redis and the RQ job that takes one.

``available_seats`` holds the number of seats left (a string, as Redis stores it) and
``reservation_enabled`` says whether new reservations are taken (``1``) or blocked (``0``);
both live in Redis, because the jobs that change them run in worker processes, not in the
app. A job takes one seat with a Lua script (:data:`TAKE_ONE`): read, check and write happen
as one step inside Redis, so any number of workers never sell more than the seats there
are, and the count never goes below 0.

This module is imported by every job a worker runs, so it stays light: the Flask app and
the workers behind ``/process`` are :mod:`helpers.seat_app`'s.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from rq import Callback, Queue, get_current_job
from rq.job import Job

from helpers.core.errors import NotInAJob
from helpers.core.job_input import enqueueing
from helpers.core.output import say
from helpers.core.waiting import wait_until

__all__ = [
    "BLOCKED",
    "ENABLED_KEY",
    "IN_PROCESS",
    "NOT_ENOUGH_SEATS",
    "PROCESSING",
    "QUEUE_NAME",
    "RESERVATION_FAILED",
    "SEATS",
    "SEATS_KEY",
    "TAKE_ONE",
    "NotEnoughSeats",
    "count_outcomes",
    "enqueue_reservation",
    "get_current_available_seats",
    "report_completed",
    "report_failed",
    "reservation_enabled",
    "reserve_seat",
    "reserve_seat_job",
    "reset_seats",
    "set_available_seats",
    "set_reservation_enabled",
    "take_seat",
    "take_seat_naive",
]

SEATS = 50
QUEUE_NAME = "reserve_seat"
SEATS_KEY = "available_seats"
ENABLED_KEY = "reservation_enabled"
RACE_KEY = "workbook:naive-race"  # the barrier of take_seat_naive(meet_with=N)
NOT_ENOUGH_SEATS = "Not enough seats available"
FAILURE_TTL = 24 * 3600

IN_PROCESS = {"status": "Reservation in process"}
BLOCKED = {"status": "Reservation are blocked"}
RESERVATION_FAILED = {"status": "Reservation failed"}
PROCESSING = {"status": "Queue processing"}

TAKE_ONE = """
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 0 then
  redis.call('SET', KEYS[2], '0')
  return -1
end
left = left - 1
redis.call('SET', KEYS[1], left)
if left == 0 then
  redis.call('SET', KEYS[2], '0')
end
return left
"""


class NotEnoughSeats(Exception):
    """No seat is left for this reservation."""


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def set_available_seats(r: redis.Redis, number: int) -> None:
    """Set the number of available seats (``SET available_seats number``)."""
    r.set(SEATS_KEY, number)


reserve_seat = set_available_seats  # the course's name (reserveSeat): it SETs the count


def get_current_available_seats(r: redis.Redis) -> str | None:
    """The seats left as Redis stores them, a string such as ``"50"`` (the course's name)."""
    return _text(r.get(SEATS_KEY))


def reservation_enabled(r: redis.Redis) -> bool:
    """True while reservations are taken (``reservation_enabled`` is ``1``)."""
    return _text(r.get(ENABLED_KEY)) == "1"


def set_reservation_enabled(r: redis.Redis, enabled: bool) -> None:
    """Open (True) or block (False) new reservations."""
    r.set(ENABLED_KEY, "1" if enabled else "0")


def reset_seats(r: redis.Redis, seats: int = SEATS, queue: Queue | None = None) -> None:
    """A fresh start: ``seats`` available, reservations enabled, and ``queue`` emptied."""
    set_available_seats(r, seats)
    set_reservation_enabled(r, True)
    r.delete(RACE_KEY)
    if queue is not None:
        queue.empty()


def take_seat(r: redis.Redis) -> int:
    """Take one seat atomically and return how many are left; raise if none was left."""
    left = int(r.register_script(TAKE_ONE)(keys=[SEATS_KEY, ENABLED_KEY]))
    if left < 0:
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    return left


def meet(r: redis.Redis, parties: int, timeout: float = 30.0) -> None:
    """Wait until ``parties`` callers, in any processes, have arrived: a barrier in Redis."""
    arrived = r.incr(RACE_KEY)
    goal = -(-arrived // parties) * parties  # this round ends at the next multiple
    wait_until(lambda: int(r.get(RACE_KEY) or 0) >= goal, timeout, every=0.005)


def take_seat_naive(r: redis.Redis, pause: float = 0.0, meet_with: int = 0) -> int:
    """The original's read, then write ``seats - 1``: NOT safe when two workers run at once.

    ``pause`` stands for whatever happens between the read and the write; a few
    milliseconds make the race easy to see. With ``meet_with`` = N, N jobs meet there
    (:func:`meet`) so that each of them reads before any of them writes.
    """
    left = int(get_current_available_seats(r) or 0)
    if left <= 0:
        set_reservation_enabled(r, False)
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    if pause:
        time.sleep(pause)
    if meet_with:
        meet(r, meet_with)
    set_available_seats(r, left - 1)
    if left - 1 == 0:
        set_reservation_enabled(r, False)
    return left - 1


def reserve_seat_job(naive_pause: float | None = None, meet_with: int = 0) -> int:
    """The job behind ``/reserve_seat``: take one seat (fails with "Not enough seats available").

    With ``naive_pause`` set, the job takes the seat as the original does (read, pause,
    write; ``meet_with``: see :func:`take_seat_naive`), to show the race between workers;
    otherwise atomically.
    """
    job = get_current_job()
    if job is None:
        raise NotInAJob("reserve_seat_job() only works inside a job run by an RQ worker.")
    if naive_pause is not None:
        return take_seat_naive(job.connection, naive_pause, meet_with)
    return take_seat(job.connection)


def report_completed(
    job: Job, connection: redis.Redis, result: Any, *args: Any, **kwargs: Any
) -> None:
    """RQ ``on_success`` callback (runs in the worker): the original's completed line."""
    say(f"Seat reservation job {job.id} completed")


def report_failed(
    job: Job, connection: redis.Redis, type: type, value: BaseException, tb: Any
) -> None:
    """RQ ``on_failure`` callback (runs in the worker): the original's failed line."""
    say(f"Seat reservation job {job.id} failed: {value}")


def enqueue_reservation(queue: Queue, naive_pause: float | None = None, meet_with: int = 0) -> Job:
    """Queue one seat reservation job, with the completed and failed callbacks.

    A full Redis raises :class:`~helpers.core.errors.RedisFull` (a ``redis.RedisError`` too,
    so the app answers 503 "Reservation failed" as the original does).
    """
    with enqueueing(queue.connection):
        return queue.enqueue(
            reserve_seat_job,
            naive_pause,
            meet_with,
            on_success=Callback(report_completed),
            on_failure=Callback(report_failed),
            failure_ttl=FAILURE_TTL,
        )


def count_outcomes(lines: list[str]) -> tuple[int, int]:
    """How many ``completed`` and ``failed`` job lines ``lines`` holds."""
    ours = [line for line in lines if line.startswith("Seat reservation job ")]
    completed = sum(line.endswith(" completed") for line in ours)
    return completed, sum(" failed: " in line for line in ours)
