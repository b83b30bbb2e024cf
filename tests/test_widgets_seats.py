"""The seat desk widget, driven headless against the real app, real workers, real HTTP."""

from __future__ import annotations

import re
import threading
import time

import pytest
from rq import Queue

from helpers import seat_app
from helpers.core import lifecycle
from helpers.core.serving import serve
from helpers.widgets.seat_desk import SeatDesk


def wait_until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def desk(r, raw):
    queue = Queue("reserve_seat_widget", connection=raw)
    processor = seat_app.SeatProcessor(queue.name, workers=2)
    web = serve(seat_app.create_app(r, queue, processor, seats=5), port=0)
    widget = SeatDesk(web.url, processor, burst_size=8, refresh=0.05)
    yield widget, processor
    widget.close()
    processor.stop()
    web.stop()
    queue.empty()


def test_css_classes_for_the_browser_test(desk):
    widget, _ = desk
    assert "qs-seats-left" in widget.seats_left._dom_classes
    assert "qs-reserve-seat" in widget.reserve_button._dom_classes
    assert "qs-process" in widget.process_button._dom_classes
    assert "qs-burst" in widget.burst_button._dom_classes
    assert "qs-seat-log" in widget.job_log._dom_classes
    assert widget.seats_left.value == "Seats left: 5"


def test_reserve_process_and_burst_never_sell_more_than_the_seats(desk):
    widget, processor = desk
    widget.reserve_button.click()
    assert widget.log_lines == ['GET /reserve_seat → 202 {"status":"Reservation in process"}']
    widget.process_button.click()
    assert widget.log_lines[-1] == 'GET /process → 202 {"status":"Queue processing"}'
    assert wait_until(lambda: processor.outcomes() == (1, 0))
    assert wait_until(lambda: widget.seats_left.value == "Seats left: 4", 5)
    widget.burst_button.click()
    widget.wait_for_bursts()
    burst_line = [line for line in widget.log_lines if line.startswith("Burst of 8")]
    assert len(burst_line) == 1 and "Reservation in process" in burst_line[0]
    queued = 1 + int(re.search(r"(\d+) × Reservation in process", burst_line[0]).group(1))
    assert wait_until(lambda: sum(processor.outcomes()) == queued)
    assert processor.outcomes() == (5, queued - 5)
    assert wait_until(lambda: widget.seats_left.value == "Seats left: 0", 5)
    job_lines = [line for line in widget.log_lines if line.startswith("Seat reservation job ")]
    assert sum(line.endswith(" completed") for line in job_lines) == 5
    assert widget.reserve() == '{"status":"Reservation are blocked"}'
    assert widget.job_log.outputs[0]["text"].startswith("GET /reserve_seat → 202")


def test_cleanup_stops_the_refresh_thread(desk):
    widget, _ = desk
    assert widget.polling
    assert lifecycle.stop_everything(keep=("Redis",))["seat desk"] == 1
    assert not widget.polling
    assert not [t for t in threading.enumerate() if t.name == "seat-desk-poller"]


def test_a_stopped_app_is_said_not_to_answer(r, raw):
    queue = Queue("reserve_seat_widget", connection=raw)
    web = serve(seat_app.create_app(r, queue, seat_app.SeatProcessor(queue.name)), port=0)
    widget = SeatDesk(web.url, refresh=0.05)
    web.stop()
    assert widget.reserve() == ""
    assert widget.log_lines[-1].startswith("GET /reserve_seat → the app does not answer")
    assert wait_until(lambda: "does not answer" in widget.seats_left.value, 5)
    widget.close()
    queue.empty()


def test_no_app_is_a_one_line_error():
    from helpers.core.errors import AppNotAnswering
    from helpers.core.server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AppNotAnswering, match=f"^The app at {url} does not answer: start it"):
        SeatDesk(url)
