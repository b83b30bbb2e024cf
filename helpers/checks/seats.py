"""The self-checks of notebook 10: the reservation job (``my_seats.py``) and the seat app.

:func:`check_seat_job` races the learner's ``take_seat`` from threads of the kernel;
:func:`check_seat_app` drives the learner's app through the original's ``curl`` session
with Flask's test client, then over real HTTP with two real worker processes running the
learner's job on a Redis that writes the seat count slowly (:mod:`helpers.checks.slow_redis`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import redis
from rq import Queue, Worker
from rq.job import Job

from helpers.checks.slow_redis import SlowSeatWrites
from helpers.checks.verdict import CHECK_PREFIX, Verdict, load_module, raised, verdict
from helpers.core.concurrency import at_once
from helpers.core.http import burst, get
from helpers.core.server import url_of
from helpers.core.serving import serve
from helpers.core.waiting import wait_until
from helpers.job_creation import reset_queue
from helpers.seat_app import SeatProcessor
from helpers.seats import (
    BLOCKED,
    ENABLED_KEY,
    IN_PROCESS,
    NOT_ENOUGH_SEATS,
    PROCESSING,
    QUEUE_NAME,
    SEATS,
    SEATS_KEY,
    NotEnoughSeats,
)

__all__ = ["check_seat_app", "check_seat_job", "check_take_seat"]


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
    saved = _save(r)
    try:
        reason = _first_wrong(take_seat, r, seats, clients, rounds)
    finally:
        _restore(r, saved)
    if reason:
        return verdict(False, reason)
    return verdict(
        True,
        f"{rounds} races of {clients} calls on {seats} seats: each seat sold once, "
        "the rest refused, reservations closed at 0.",
    )


def _save(r: redis.Redis) -> dict[str, object]:
    return {key: r.get(key) for key in (SEATS_KEY, ENABLED_KEY)}


def _restore(r: redis.Redis, saved: dict[str, object]) -> None:
    for key, value in saved.items():
        if value is None:
            r.delete(key)
        else:
            r.set(key, value)


def check_seat_job(
    module: str, r: redis.Redis, seats: int = 10, clients: int = 30, rounds: int = 3
) -> Verdict:
    """Exercise 10a: ``module`` (``my_seats``) imports, and its ``take_seat`` passes the race.

    The module is imported afresh, so an edited file is seen; its ``reserve_seat_job`` must
    exist too (the app's check runs it in real workers).
    """
    loaded, reason = load_module(module)
    if reason:
        return verdict(False, reason)
    for name in ("take_seat", "reserve_seat_job"):
        if not callable(getattr(loaded, name, None)):
            return verdict(False, f"{module}.py has no function {name}: keep its def.")
    return check_take_seat(loaded.take_seat, r, seats, clients, rounds)


# The seat app: the original's curl session, then a burst over HTTP with two workers.

CHECK_QUEUE = f"{CHECK_PREFIX}{QUEUE_NAME}"
FIRST_JOB_TIMEOUT = 30.0
BURST_TIMEOUT = 30.0
IN_PROCESS_BODY, BLOCKED_BODY, PROCESSING_BODY = (
    json.dumps(body, separators=(",", ":")) for body in (IN_PROCESS, BLOCKED, PROCESSING)
)
MEANING = {
    200: "OK",
    202: "Accepted: the work is queued, not done yet",
    409: "Conflict: no seat can be reserved now",
}


def _seats_body(seats: int) -> str:
    return json.dumps({"numberOfAvailableSeats": str(seats)}, separators=(",", ":"))


def _short(body: str) -> str:
    return body if len(body) <= 80 else body[:77] + "..."


def _judge_reply(
    path: str, got: tuple[int, str], want: tuple[int, str], when: str = ""
) -> str | None:
    """What differs between the reply ``got`` and the original's ``want``, or None."""
    (status, body), (want_status, want_body) = got, want
    if body != want_body:
        try:
            number = json.loads(body).get("numberOfAvailableSeats")
        except (ValueError, AttributeError):
            number = None
        if isinstance(number, int):
            return (
                f"{when}GET {path} sent {body}: the original sends {want_body}, the seats as "
                "the string Redis stores; send get_current_available_seats(r) as it is."
            )
        if when and body == IN_PROCESS_BODY:
            return (
                f"{when}GET {path} sent {body}; the original sends {want_body}: "
                "check reservation_enabled(r) before queuing a job."
            )
        return (
            f"{when}GET {path} sent {_short(body)}; the original sends {want_body}, byte for byte."
        )
    if status != want_status:
        return (
            f"{when}GET {path} answered {status} {body}; the workbook answers it with "
            f"{want_status} ({MEANING.get(want_status, '')})."
        )
    return None


def _step(client, path: str, status: int, body: str, when: str = "") -> str | None:
    """``GET path`` through the test client, judged; a sentence if it is wrong."""
    try:
        reply = client.get(path)
    except Exception as exc:  # noqa: BLE001 - the learner's route may raise anything
        hint = " (a worker imports the job from a file: queue my_seats.reserve_seat_job)"
        return f"{when}{raised(f'GET {path}', exc)}{hint if '__main__' in str(exc) else ''}."
    got = (reply.status_code, reply.get_data(as_text=True))
    return _judge_reply(path, got, (status, body), when)


def _judge_job(queue: Queue, module: str) -> str | None:
    """The one job /reserve_seat queued: a function of ``module``, with the callbacks."""
    jobs = queue.get_jobs()
    if len(jobs) != 1:
        return (
            f"GET /reserve_seat put {len(jobs)} jobs on the queue create_my_app was handed, "
            "not 1: enqueue one job on queue."
        )
    job = jobs[0]
    if not job.func_name.startswith(f"{module}."):
        return f"the job is {job.func_name}: queue yours, {module}.reserve_seat_job."
    callbacks = [job._success_callback_name, job._failure_callback_name]
    if not all(callbacks) or any(name.startswith("__main__.") for name in callbacks):
        return (
            "queue the job with on_success=Callback(report_completed) and "
            "on_failure=Callback(report_failed), the workbook's callbacks that print the "
            "original's lines."
        )
    return None


def _judge_first_job(processor: SeatProcessor, job_id: str) -> str | None:
    """After /process: the workers run, and the first job completed."""
    if not processor.running:
        return "GET /process did not start the workers: call processor.start() in it."
    if not processor.wait_for(1, FIRST_JOB_TIMEOUT):
        return f"the first reservation's job did not finish within {FIRST_JOB_TIMEOUT:.0f} s."
    line = processor.job_lines[0]
    if line == f"Seat reservation job {job_id} completed":
        return None
    error = line.partition(" failed: ")[2] or line
    return f"the first reservation's job failed ({error}): fix my_seats.py first, with its check."


def _session(
    app, r: redis.Redis, queue: Queue, processor: SeatProcessor, module: str
) -> str | None:
    """The original's curl session through the test client, then a blocked reservation."""
    client = app.test_client()
    app.testing = True  # a route that raises reaches the check, which names the error
    _open(r, SEATS)
    reason = _step(client, "/available_seats", 200, _seats_body(SEATS))
    reason = (
        reason or _step(client, "/reserve_seat", 202, IN_PROCESS_BODY) or _judge_job(queue, module)
    )
    if reason:
        return reason
    job_id = queue.get_job_ids()[0]
    reason = _step(client, "/process", 202, PROCESSING_BODY)
    reason = reason or _judge_first_job(processor, job_id)
    reason = reason or _step(client, "/available_seats", 200, _seats_body(SEATS - 1))
    if reason:
        return reason
    r.set(ENABLED_KEY, "0")
    when = "with reservation_enabled at 0, "
    reason = _step(client, "/reserve_seat", 409, BLOCKED_BODY, when)
    r.set(ENABLED_KEY, "1")
    app.testing = False
    return reason


def _results(ids: list[str], connection: redis.Redis) -> list[object]:
    """What the completed jobs returned (those RQ still has)."""
    found = []
    for job_id in ids:
        try:
            found.append(Job.fetch(job_id, connection=connection).return_value())
        except Exception:  # noqa: BLE001, S112 - a job RQ no longer has is left out
            continue
    return found


def _seats_now(r: redis.Redis) -> int:
    """The seats left as a number (a count that is not one reads as 0)."""
    try:
        return int(r.get(SEATS_KEY) or 0)
    except ValueError:
        return 0


def _watch(
    processor: SeatProcessor, r: redis.Redis, first: int, jobs: int
) -> tuple[list[str], int]:
    """Wait until ``jobs`` more job lines came; those lines and the lowest seat count seen."""
    lowest, deadline = SEATS, time.monotonic() + BURST_TIMEOUT
    while time.monotonic() < deadline and len(processor.job_lines) - first < jobs:
        lowest = min(lowest, _seats_now(r))
        time.sleep(0.005)
    return processor.job_lines[first:], min(lowest, _seats_now(r))


def _judge_burst(
    lines: list[str], lowest: int, r: redis.Redis, queue: Queue, n: int, seats: int
) -> str | None:
    """The jobs of a burst on ``seats`` seats: each seat sold once, the rest refused."""
    completed = [line.split()[3] for line in lines if line.endswith(" completed")]
    errors = [line.partition(" failed: ")[2] for line in lines if " failed: " in line]
    odd = [error for error in errors if error != NOT_ENOUGH_SEATS]
    if odd:
        return (
            f"a job failed with {odd[0]!r}; only a job that finds no seat may fail, "
            f"with NotEnoughSeats({NOT_ENOUGH_SEATS!r})."
        )
    returned = [x for x in _results(completed, queue.connection) if isinstance(x, int)]
    if returned and min(returned) < 0 and len(completed) > seats:
        return (
            f"{len(completed)} jobs completed for {seats} seats, some returning "
            f"{min(returned)}: when no seat is left, raise NotEnoughSeats"
            f"({NOT_ENOUGH_SEATS!r}), so that the job fails."
        )
    if len(completed) > seats:
        return (
            f"with two workers, {n} reservations sold {len(completed)} seats out of {seats}: "
            "read and write the count in one step (WATCH/MULTI or Lua), not GET then SET."
        )
    stored, flag = _text(r.get(SEATS_KEY)), _text(r.get(ENABLED_KEY))
    if lowest < 0 or stored != "0":
        went = min(lowest, _seats_now(r))
        return (
            f"during {n} reservations on {seats} seats, available_seats went down to {went}: "
            "take a seat only when one is left."
        )
    if len(completed) < seats:
        return f"{n} reservations sold only {len(completed)} of {seats} seats."
    if flag != "0":
        return (
            f"after the last seat was sold, reservation_enabled is {flag}: the job that takes "
            "the last seat must set it to 0."
        )
    return None


def _judge_replies(replies: list, n: int) -> str | None:
    """Each reply of the burst is "in process" (202) or "blocked" (409)."""
    allowed = {(202, IN_PROCESS_BODY), (409, BLOCKED_BODY)}
    odd = [reply for reply in replies if (reply.status, reply.body) not in allowed]
    if len(replies) < n:
        return f"{n - len(replies)} of {n} reservations over HTTP got no answer."
    if odd:
        return f"a reservation in a burst over HTTP got {odd[0].status} {_short(odd[0].body)}."
    return None


def _over_http(
    app, r: redis.Redis, queue: Queue, processor: SeatProcessor, n: int, seats: int
) -> str | None:
    """A burst of ``n`` reservations over real HTTP on ``seats`` seats, two workers running."""
    if not wait_until(lambda: Worker.count(queue=queue) >= 2, FIRST_JOB_TIMEOUT):
        return "the two workers of /process did not both start."
    _open(r, seats)
    first = len(processor.job_lines)
    with serve(app, port=0) as web:
        replies = burst(web.url + "/reserve_seat", n)
        reason = _judge_replies(replies, n)
        if reason:
            return reason
        accepted = sum(reply.status == 202 for reply in replies)
        lines, lowest = _watch(processor, r, first, accepted)
        if len(lines) < accepted:
            return f"only {len(lines)} of {accepted} jobs finished within {BURST_TIMEOUT:.0f} s."
        reason = _judge_burst(lines, lowest, r, queue, n, seats)
        sold_out = [("/reserve_seat", BLOCKED_BODY, 409), ("/available_seats", _seats_body(0), 200)]
        for path, body, status in [] if reason else sold_out:
            reply = get(web.url + path)
            got = (reply.status, reply.body)
            reason = reason or _judge_reply(path, got, (status, body), "once sold out, ")
    return reason


def _drop_new_jobs(queue: Queue, before: set[str]) -> None:
    """Remove from ``queue`` the jobs that were not on it before the check."""
    for job_id in set(queue.get_job_ids()) - before:
        queue.remove(job_id)
        queue.connection.delete(Job.key_for(job_id))


def check_seat_app(
    create_my_app: Callable,
    r: redis.Redis,
    module: str = "my_seats",
    seats: int = 10,
    burst_of: int = 20,
) -> Verdict:
    """Exercise 10b: the learner's app gives the original's bodies, and sells each seat once.

    ``create_my_app(r, queue, processor)`` is handed the check's own queue and a processor of
    two workers (on a Redis that writes the seat count slowly). Through the test client:
    the original's session (50, in process, Queue processing, 49) and a blocked reservation;
    then over real HTTP, ``burst_of`` reservations at once on ``seats`` seats. The seat keys
    and the ``reserve_seat`` queue get back what they held; workers and server are stopped.
    """
    if not callable(create_my_app):
        return verdict(False, "create_my_app is not a function: define it with def.")
    _, reason = load_module(module) if module in sys.modules else (None, None)
    if reason:
        return verdict(False, reason)
    saved, raw = _save(r), redis.Redis.from_url(url_of(r))
    real, queue = Queue(QUEUE_NAME, connection=raw), Queue(CHECK_QUEUE, connection=raw)
    before = set(real.get_job_ids())
    reset_queue(queue)
    relay = SlowSeatWrites(r).start()
    processor = SeatProcessor(queue.name, workers=2, url=relay.url)
    try:
        app, reason = _build(create_my_app, r, queue, processor)
        reason = reason or _session(app, r, queue, processor, module)
        reason = reason or _over_http(app, r, queue, processor, burst_of, seats)
    finally:
        processor.stop()
        relay.stop()
        reset_queue(queue)
        _drop_new_jobs(real, before)
        _restore(r, saved)
        raw.close()
    if reason:
        return verdict(False, reason)
    return verdict(
        True,
        f"the original's session byte for byte (50, in process, Queue processing, 49, blocked), "
        f"then {burst_of} reservations at once over HTTP with two workers: {seats} seats sold, "
        f"the other jobs failed with {NOT_ENOUGH_SEATS!r}, never below 0.",
    )


def _build(
    create_my_app: Callable, r: redis.Redis, queue: Queue, processor: SeatProcessor
) -> tuple[object, str | None]:
    """The learner's app, made with the check's queue and processor; or why it is not one."""
    try:
        app = create_my_app(r, queue, processor)
    except Exception as exc:  # noqa: BLE001 - the verdict names it
        return None, f"{raised('create_my_app', exc)}."
    if not hasattr(app, "test_client"):
        return None, f"create_my_app returned {app!r}; it must return the Flask app (return app)."
    return app, None
