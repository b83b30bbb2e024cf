"""The seat desk of notebook 10: seats left, Reserve, Process, a burst of N requests, the job log.

The desk is a client of the running "Can I have a seat?" app over real HTTP. The job log
shows each answer of the app and every line the worker processes print
(``Seat reservation job <id> completed`` / ``failed: ...``); a background thread re-reads
``/available_seats`` a few times a second, so the count moves while the kernel is idle.
"""

from __future__ import annotations

import threading
from typing import ClassVar

import ipywidgets as widgets

from helpers.core.errors import AppNotAnswering
from helpers.core.http import burst, get, tally
from helpers.seat_app import SeatProcessor
from helpers.widgets.polling import PollingWidget

REFRESH_SECONDS = 0.5


class SeatDesk(PollingWidget, widgets.VBox):
    """Seats left, Reserve, Process and Burst buttons, and the job log, for the app at ``url``."""

    noun: ClassVar[str] = "seat desk"

    def __init__(
        self,
        url: str,
        processor: SeatProcessor | None = None,
        burst_size: int = 100,
        refresh: float = REFRESH_SECONDS,
    ) -> None:
        self.url = url.rstrip("/")
        self.seats_left = widgets.Label("Seats left: ?")
        self.seats_left.add_class("qs-seats-left")
        self.reserve_button = widgets.Button(description="Reserve a seat", icon="ticket")
        self.reserve_button.add_class("qs-reserve-seat")
        self.process_button = widgets.Button(description="Process", icon="cogs")
        self.process_button.add_class("qs-process")
        self.burst_size = widgets.BoundedIntText(
            value=burst_size,
            min=1,
            max=1000,
            description="N:",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="110px"),
        )
        self.burst_button = widgets.Button(
            description="Burst of N requests", icon="bolt", layout=widgets.Layout(width="auto")
        )
        self.burst_button.add_class("qs-burst")
        self.job_log = widgets.Output(
            layout=widgets.Layout(max_height="240px", overflow="auto", border="1px solid #ccc")
        )
        self.job_log.add_class("qs-seat-log")
        self.reserve_button.on_click(lambda _: self.reserve())
        self.process_button.on_click(lambda _: self.process())
        self.burst_button.on_click(lambda _: self.start_burst())
        super().__init__(
            [
                self.seats_left,
                widgets.HBox(
                    [self.reserve_button, self.process_button, self.burst_size, self.burst_button]
                ),
                self.job_log,
            ]
        )
        self.add_class("qs-seat-desk")
        self.log_lines: list[str] = []
        self._log_lock = threading.Lock()
        self._bursts: list[threading.Thread] = []
        try:
            self.refresh()
        except OSError:
            raise AppNotAnswering(
                f"The app at {self.url} does not answer: start it first, "
                "e.g. seat_app = serve(create_app(r, queue)), then SeatDesk(seat_app.url)."
            ) from None
        if processor is not None:
            processor.on_line(self._worker_line)
        self.start_polling(refresh, "seat-desk-poller")

    def write(self, line: str) -> None:
        """Add one line to the job log (safe from any thread)."""
        with self._log_lock:
            self.log_lines.append(line)
            self.job_log.append_stdout(line + "\n")

    def _worker_line(self, line: str) -> None:
        if line.startswith("Seat reservation job "):
            self.write(line)

    def _call(self, path: str) -> str:
        try:
            reply = get(self.url + path)
        except OSError as exc:
            self.write(f"GET {path} → the app does not answer ({exc})")
            return ""
        self.write(f"GET {path} → {reply.status} {reply.body}")
        return reply.body

    def reserve(self) -> str:
        """``GET /reserve_seat``, as the Reserve button does; return the body."""
        body = self._call("/reserve_seat")
        if body:
            self.refresh()
        return body

    def process(self) -> str:
        """``GET /process``, as the Process button does; return the body."""
        return self._call("/process")

    def run_burst(self, n: int | None = None) -> dict[str, int]:
        """``n`` concurrent ``GET /reserve_seat``; log and return how many got each answer."""
        n = n or self.burst_size.value
        counts = tally(burst(self.url + "/reserve_seat", n, timeout=30))
        summary = ", ".join(f"{count} × {status}" for status, count in counts.items())
        self.write(f"Burst of {n} × GET /reserve_seat → {summary}")
        return counts

    def start_burst(self) -> threading.Thread:
        """Run a burst in a background thread (the Burst button); the kernel stays free."""
        self.burst_button.disabled = True

        def run() -> None:
            try:
                self.run_burst()
            finally:
                self.burst_button.disabled = False

        thread = threading.Thread(target=run, daemon=True, name="seat-desk-burst")
        self._bursts.append(thread)
        thread.start()
        return thread

    def wait_for_bursts(self, timeout: float = 60.0) -> None:
        """Wait until every burst started from the button is done."""
        for thread in list(self._bursts):
            thread.join(timeout)

    def refresh(self) -> None:
        """Re-read ``/available_seats`` and show it."""
        seats = get(self.url + "/available_seats").json()["numberOfAvailableSeats"]
        self.seats_left.value = f"Seats left: {seats}"

    def _unreachable(self) -> None:
        self.seats_left.value = "Seats left: ? (the app does not answer)"

    def _after_stop(self) -> None:
        """Let running bursts finish before the desk counts as stopped."""
        self.wait_for_bursts()

