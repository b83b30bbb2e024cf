"""Task 13, "Can I have a seat?": 50 seats in Redis, one RQ job per reservation, the Flask app.

``available_seats`` holds the number of seats left (a string, as Redis stores it) and
``reservation_enabled`` says whether new reservations are taken (``1``) or blocked (``0``);
both live in Redis, because the jobs that change them run in worker processes, not in the
app. A job takes one seat with a Lua script (:data:`TAKE_ONE`): read, check and write happen
as one step inside Redis, so any number of workers never sell more than the seats there
are, and the count never goes below 0.

This module is imported by every job a worker runs, so it stays light: Flask is imported
only by :func:`create_app` and :func:`main`.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis
from rq import Callback, Queue, get_current_job
from rq.job import Job

if TYPE_CHECKING:
    from flask import Flask

    from helpers.workers import WorkerGroup

SEATS = 50
QUEUE_NAME = "reserve_seat"
SEATS_KEY = "available_seats"
ENABLED_KEY = "reservation_enabled"
NOT_ENOUGH_SEATS = "Not enough seats available"
FAILURE_TTL = 24 * 3600

IN_PROCESS = {"status": "Reservation in process"}
BLOCKED = {"status": "Reservation are blocked"}
FAILED = {"status": "Reservation failed"}
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

LineHandler = Callable[[str], None]


class NotEnoughSeats(Exception):
    """No seat is left for this reservation."""


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def reserve_seat(r: redis.Redis, number: int) -> None:
    """Set the number of available seats (``SET available_seats number``)."""
    r.set(SEATS_KEY, number)


def get_current_available_seats(r: redis.Redis) -> str | None:
    """The number of available seats as Redis stores it: a string such as ``"50"``."""
    return _text(r.get(SEATS_KEY))


def reservation_enabled(r: redis.Redis) -> bool:
    """True while reservations are taken (``reservation_enabled`` is ``1``)."""
    return _text(r.get(ENABLED_KEY)) == "1"


def set_reservation_enabled(r: redis.Redis, enabled: bool) -> None:
    """Open (True) or block (False) new reservations."""
    r.set(ENABLED_KEY, "1" if enabled else "0")


def reset_seats(r: redis.Redis, seats: int = SEATS, queue: Queue | None = None) -> None:
    """A fresh start: ``seats`` available, reservations enabled, and ``queue`` emptied."""
    reserve_seat(r, seats)
    set_reservation_enabled(r, True)
    if queue is not None:
        queue.empty()


def take_seat(r: redis.Redis) -> int:
    """Take one seat atomically and return how many are left; raise if none was left."""
    left = int(r.register_script(TAKE_ONE)(keys=[SEATS_KEY, ENABLED_KEY]))
    if left < 0:
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    return left


def take_seat_naive(r: redis.Redis, pause: float = 0.0) -> int:
    """The original's read, then write ``seats - 1``: NOT safe when two workers run at once.

    ``pause`` stands for whatever happens between the read and the write; a few
    milliseconds make the race easy to see.
    """
    left = int(get_current_available_seats(r) or 0)
    if left <= 0:
        set_reservation_enabled(r, False)
        raise NotEnoughSeats(NOT_ENOUGH_SEATS)
    if pause:
        time.sleep(pause)
    reserve_seat(r, left - 1)
    if left - 1 == 0:
        set_reservation_enabled(r, False)
    return left - 1


def reserve_seat_job(naive_pause: float | None = None) -> int:
    """The job behind ``/reserve_seat``: take one seat (fails with "Not enough seats available").

    With ``naive_pause`` set, the job takes the seat as the original does (read, pause,
    write), to show the race between workers; otherwise atomically.
    """
    job = get_current_job()
    if job is None:
        raise RuntimeError("reserve_seat_job runs inside an RQ worker")
    if naive_pause is not None:
        return take_seat_naive(job.connection, naive_pause)
    return take_seat(job.connection)


_say_lock = threading.Lock()


def say(line: str) -> None:
    """Print ``line`` in one write, so lines printed from several threads never interleave."""
    with _say_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


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


def enqueue_reservation(queue: Queue, naive_pause: float | None = None) -> Job:
    """Queue one seat reservation job, with the completed and failed callbacks."""
    return queue.enqueue(
        reserve_seat_job,
        naive_pause,
        on_success=Callback(report_completed),
        on_failure=Callback(report_failed),
        failure_ttl=FAILURE_TTL,
    )


def count_outcomes(lines: list[str]) -> tuple[int, int]:
    """How many ``completed`` and ``failed`` job lines ``lines`` holds."""
    ours = [line for line in lines if line.startswith("Seat reservation job ")]
    completed = sum(line.endswith(" completed") for line in ours)
    return completed, sum(" failed: " in line for line in ours)


def connection_url(r: redis.Redis) -> str:
    """The URL of the server ``r`` talks to (given to worker processes)."""
    kw = r.connection_pool.connection_kwargs
    auth = ""
    if kw.get("password"):
        auth = f"{kw.get('username') or ''}:{kw['password']}@"
    if kw.get("path"):
        return f"unix://{auth}{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{auth}{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


class SeatProcessor:
    """The workers behind ``/process``: started once, on the first call, as real processes."""

    def __init__(
        self,
        queue: str = QUEUE_NAME,
        workers: int = 2,
        url: str | None = None,
        on_line: LineHandler | None = None,
    ) -> None:
        self.queue = queue
        self.workers = workers
        self.url = url
        self.group: WorkerGroup | None = None
        self._handlers: list[LineHandler] = [on_line] if on_line else []
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Start the workers unless they already run; True if this call started them."""
        from helpers.workers import start_workers

        with self._lock:
            if self.group is not None and self.group.alive:
                return False
            self.group = start_workers(self.queue, self.workers, url=self.url)
            for handler in self._handlers:
                self.group.on_line(handler)
            return True

    def on_line(self, handler: LineHandler) -> None:
        """Call ``handler(line)`` for every line the workers print (earlier ones replayed)."""
        with self._lock:
            self._handlers.append(handler)
            if self.group is not None:
                self.group.on_line(handler)

    @property
    def running(self) -> bool:
        """True while the workers run."""
        return self.group is not None and self.group.alive > 0

    @property
    def lines(self) -> list[str]:
        """What the workers printed so far."""
        return list(self.group.lines) if self.group is not None else []

    @property
    def job_lines(self) -> list[str]:
        """The ``Seat reservation job <id> completed|failed: ...`` lines so far."""
        return [line for line in self.lines if line.startswith("Seat reservation job ")]

    def outcomes(self) -> tuple[int, int]:
        """How many jobs completed and failed so far."""
        return count_outcomes(self.lines)

    def wait_for(self, jobs: int, timeout: float = 60.0) -> bool:
        """Wait until ``jobs`` jobs have completed or failed; False on timeout."""
        deadline = time.monotonic() + timeout
        while sum(self.outcomes()) < jobs:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> int:
        """Stop the workers (the current jobs finish first); return how many were running."""
        with self._lock:
            group, count = self.group, 0
            if group is not None:
                count = group.alive
                group.stop()
            return count

    def __repr__(self) -> str:
        state = "running" if self.running else "not started" if self.group is None else "stopped"
        return f"<SeatProcessor {self.workers} worker(s) on {self.queue}, {state}>"


def create_app(
    r: redis.Redis,
    queue: Queue,
    processor: SeatProcessor | None = None,
    seats: int = SEATS,
    fresh: bool = True,
    atomic: bool = True,
    pause: float = 0.05,
) -> Flask:
    """The "Can I have a seat?" app: seats in ``r``, jobs on ``queue``, ``processor`` on /process.

    ``fresh`` starts as the original does: ``seats`` available, reservations enabled (and
    the queue emptied). Without a ``processor``, /process starts 2 worker processes.
    ``atomic=False`` makes the jobs take seats as the original does (read, ``pause``
    seconds, write), which oversells as soon as two workers run at once.
    """
    from flask import Response, current_app

    from helpers.web import create_json_app

    if fresh:
        reset_seats(r, seats, queue)
    if processor is None:
        processor = SeatProcessor(queue.name, url=connection_url(queue.connection))
    app = create_json_app("seats")
    app.extensions["seat_processor"] = processor

    def answer(body: dict[str, str], status: int) -> Response:
        reply = current_app.json.response(body)
        reply.status_code = status
        return reply

    @app.get("/available_seats")
    def available_seats() -> Response:
        """The seats left, as the string Redis stores."""
        return answer({"numberOfAvailableSeats": get_current_available_seats(r)}, 200)

    @app.get("/reserve_seat")
    def reserve() -> Response:
        """202: a job is queued; 409: reservations are blocked; 503: the job could not be queued."""
        if not reservation_enabled(r):
            return answer(BLOCKED, 409)
        try:
            enqueue_reservation(queue, None if atomic else pause)
        except redis.RedisError:
            return answer(FAILED, 503)
        return answer(IN_PROCESS, 202)

    @app.get("/process")
    def process() -> Response:
        """202: the workers are (or already were) processing the queue."""
        processor.start()
        return answer(PROCESSING, 202)

    return app


def main(argv: list[str]) -> int:
    """``python -m helpers task 13 [--port N] [--workers N]``: the app of ``100-seat.js``."""
    from helpers.server import describe, redis_url
    from helpers.web import ORIGINAL_PORT, run_until_stopped

    parser = argparse.ArgumentParser(prog="python -m helpers task 13")
    parser.add_argument("--port", type=int, default=ORIGINAL_PORT, help="default: 1245")
    parser.add_argument("--workers", type=int, default=2, help="worker processes on /process")
    args = parser.parse_args(argv)
    url = redis_url()
    print(describe(url), flush=True)
    r = redis.Redis.from_url(url, decode_responses=True)
    raw = redis.Redis.from_url(url)
    processor = SeatProcessor(QUEUE_NAME, args.workers, url, on_line=say)
    try:
        return run_until_stopped(
            lambda: create_app(r, Queue(QUEUE_NAME, connection=raw), processor),
            args.port,
            f"Can I have a seat? app listening on {{url}} ({args.workers} workers on /process)",
        )
    finally:
        processor.stop()
        r.close()
        raw.close()
