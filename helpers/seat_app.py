"""The "Can I have a seat?" app of task 13: the Flask routes and the workers behind /process."""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis
from flask import Flask, Response
from rq import Queue

from helpers.core.errors import RedisUnavailable
from helpers.core.server import url_of
from helpers.core.waiting import wait_until
from helpers.core.webapp import create_json_app, json_reply
from helpers.core.workers import WorkerGroup, start_workers
from helpers.seats import (
    BLOCKED,
    IN_PROCESS,
    PROCESSING,
    QUEUE_NAME,
    RESERVATION_FAILED,
    SEATS,
    count_outcomes,
    enqueue_reservation,
    get_current_available_seats,
    reservation_enabled,
    reset_seats,
)

__all__ = ["SeatProcessor", "create_app"]

LineHandler = Callable[[str], None]


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
        return wait_until(lambda: sum(self.outcomes()) >= jobs, timeout, every=0.01)

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
    pause: float = 0.02,
    meet_with: int = 0,
) -> Flask:
    """The "Can I have a seat?" app: seats in ``r``, jobs on ``queue``, ``processor`` on /process.

    ``fresh`` starts as the original does: ``seats`` available, reservations enabled (and
    the queue emptied). Without a ``processor``, /process starts 2 worker processes.
    ``atomic=False`` makes the jobs take seats as the original does (read, ``pause``
    seconds, write), which oversells as soon as two workers run at once; ``meet_with`` = N
    makes N jobs read before any of them writes (a deterministic race, for the tests).
    """
    if fresh:
        reset_seats(r, seats, queue)
    if processor is None:
        processor = SeatProcessor(queue.name, url=url_of(queue.connection))
    app = create_json_app("seats")
    app.extensions["seat_processor"] = processor

    @app.get("/available_seats")
    def available_seats() -> Response:
        """The seats left, as the string Redis stores."""
        return json_reply({"numberOfAvailableSeats": get_current_available_seats(r)}, 200)

    @app.get("/reserve_seat")
    def reserve() -> Response:
        """202: a job is queued; 409: reservations are blocked; 503: the job could not be queued."""
        if not reservation_enabled(r):
            return json_reply(BLOCKED, 409)
        try:
            enqueue_reservation(queue, None if atomic else pause, meet_with)
        except (redis.RedisError, RedisUnavailable):  # full, or not answering
            return json_reply(RESERVATION_FAILED, 503)
        return json_reply(IN_PROCESS, 202)

    @app.get("/process")
    def process() -> Response:
        """202: the workers are (or already were) processing the queue."""
        processor.start()
        return json_reply(PROCESSING, 202)

    return app


