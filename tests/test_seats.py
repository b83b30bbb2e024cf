"""Task 13, "Can I have a seat?": the original's curl session, 2 workers, never below 0."""

from __future__ import annotations

import re
import threading

import pytest
import redis
from rq import Queue
from webtools import run_task

from helpers import seat_app, seats
from helpers.core.http import burst, tally
from helpers.core.serving import serve

SEATS_50 = b'{"numberOfAvailableSeats":"50"}'
SEATS_49 = b'{"numberOfAvailableSeats":"49"}'
IN_PROCESS = b'{"status":"Reservation in process"}'
BLOCKED = b'{"status":"Reservation are blocked"}'
PROCESSING = b'{"status":"Queue processing"}'
LINE = re.compile(
    r"^Seat reservation job [0-9a-f-]{32,36} (completed|failed: Not enough seats available)$"
)


def outcomes(lines: list[str]) -> tuple[int, int]:
    return seats.count_outcomes(lines)


@pytest.fixture
def queue(raw):
    q = Queue("reserve_seat_test", connection=raw)
    q.empty()
    yield q
    q.empty()


def test_take_seat_never_goes_below_zero(r):
    seats.reset_seats(r, 3)
    assert [seats.take_seat(r) for _ in range(3)] == [2, 1, 0]
    assert seats.reservation_enabled(r) is False
    for _ in range(3):
        with pytest.raises(seats.NotEnoughSeats, match="^Not enough seats available$"):
            seats.take_seat(r)
    assert seats.get_current_available_seats(r) == "0"


def test_take_seat_from_many_threads_sells_each_seat_once(r):
    seats.reset_seats(r, 10)
    sold, refused = [], []

    def buyer() -> None:
        try:
            sold.append(seats.take_seat(r))
        except seats.NotEnoughSeats:
            refused.append(1)

    threads = [threading.Thread(target=buyer) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sold) == list(range(10))
    assert len(refused) == 50
    assert r.get("available_seats") == "0"


def test_curl_session_of_the_original_byte_for_byte():
    with run_task(13, "--workers", "1") as app:
        assert app.body("/available_seats") == SEATS_50
        assert app.body("/reserve_seat") == IN_PROCESS
        assert app.body("/process") == PROCESSING
        app.wait_for_lines(lambda lines: sum(outcomes(lines)) >= 1)
        assert outcomes(app.lines) == (1, 0), app.lines
        assert app.body("/available_seats") == SEATS_49
        answers = [app.body("/reserve_seat") for _ in range(50)]
        queued = answers.count(IN_PROCESS)
        assert answers == [IN_PROCESS] * queued + [BLOCKED] * (50 - queued)
        assert queued >= 49
        app.wait_for_lines(lambda lines: sum(outcomes(lines)) >= queued + 1)
        assert outcomes(app.lines) == (50, queued + 1 - 50), app.lines
        assert app.body("/available_seats") == b'{"numberOfAvailableSeats":"0"}'
        assert app.body("/reserve_seat") == BLOCKED
        job_lines = [line for line in app.lines if line.startswith("Seat reservation job")]
        assert all(LINE.match(line) for line in job_lines), job_lines


def test_100_concurrent_reservations_then_2_workers_sell_exactly_50():
    with run_task(13, "--workers", "2") as app:
        replies = burst(app.url + "/reserve_seat", 100)
        assert tally(replies) == {"Reservation in process": 100}
        assert app.raw("/process")[:2] == (202, PROCESSING)
        app.wait_for_lines(lambda lines: sum(outcomes(lines)) >= 100, timeout=120)
        assert outcomes(app.lines) == (50, 50), app.lines
        job_lines = [line for line in app.lines if "Seat reservation job" in line]
        assert len(job_lines) == 100 and all(LINE.match(line) for line in job_lines)
        assert app.body("/available_seats") == b'{"numberOfAvailableSeats":"0"}'
        status, body, _ = app.raw("/reserve_seat")
        assert (status, body) == (409, BLOCKED)
        assert app.body("/process") == PROCESSING


def test_status_codes(r, queue):
    processor = seat_app.SeatProcessor(queue.name, workers=1)
    with serve(seat_app.create_app(r, queue, processor, seats=1), port=0) as web:
        assert web.get("/available_seats").status == 200
        assert web.get("/reserve_seat").status == 202
        assert web.get("/reserve_seat").status == 202
        assert web.get("/process").status == 202
        assert processor.wait_for(2, timeout=60)
        assert processor.outcomes() == (1, 1)
        assert web.get("/reserve_seat").status == 409
        assert processor.start() is False
        assert processor.stop() == 1
    assert r.get("available_seats") == "0"


def test_process_twice_starts_the_workers_once(r, queue):
    processor = seat_app.SeatProcessor(queue.name, workers=2)
    with serve(seat_app.create_app(r, queue, processor), port=0) as web:
        web.get("/process")
        group = processor.group
        web.get("/process")
        assert processor.group is group and group.alive == 2
    assert processor.stop() == 2
    assert not processor.running


def test_bad_input_gets_json(r, queue):
    with serve(seat_app.create_app(r, queue, seat_app.SeatProcessor(queue.name)), port=0) as web:
        for path in ("/", "/seats", "/reserve_seat/1", "/process/now"):
            reply = web.get(path)
            assert (reply.status, reply.body) == (404, '{"status":"Not found"}'), path
    with run_task(13) as app:
        for path in ("/reserve_seat", "/process", "/available_seats"):
            status, body, headers = app.raw(path, "POST")
            assert (status, body) == (405, b'{"status":"Method not allowed"}')
            assert headers["Content-Type"] == "application/json"


def test_a_job_that_cannot_be_queued_is_reservation_failed(r):
    down = Queue("reserve_seat", connection=redis.Redis(port=1, socket_connect_timeout=0.5))
    app = seat_app.create_app(r, down, seat_app.SeatProcessor("reserve_seat"), fresh=False)
    seats.set_reservation_enabled(r, True)
    with serve(app, port=0) as web:
        reply = web.get("/reserve_seat")
    assert (reply.status, reply.body) == (503, '{"status":"Reservation failed"}')


def test_redis_down_gets_json_503(queue):
    down = redis.Redis(port=1, socket_connect_timeout=0.5, decode_responses=True)
    app = seat_app.create_app(down, queue, seat_app.SeatProcessor(queue.name), fresh=False)
    with serve(app, port=0) as web:
        reply = web.get("/available_seats")
    assert (reply.status, reply.body) == (503, '{"status":"Redis is not available"}')


def test_the_naive_decrement_oversells_with_two_workers(r, queue):
    processor = seat_app.SeatProcessor(queue.name, workers=2)
    # each pair of jobs meets between its read and its write: both read n, both write n - 1
    app = seat_app.create_app(r, queue, processor, seats=6, atomic=False, pause=0, meet_with=2)
    with serve(app, port=0) as web:
        assert tally(burst(web.url + "/reserve_seat", 16)) == {"Reservation in process": 16}
        web.get("/process")
        assert processor.wait_for(16, timeout=120)
    processor.stop()
    assert processor.outcomes() == (12, 4)  # 12 seats sold, with 6 to sell: each one twice
    assert r.get("available_seats") == "0"
