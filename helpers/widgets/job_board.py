"""The job board: one live row per job (id, phone, status, progress bar, error), like Kue's UI.

A :class:`helpers.core.listener.Listener` thread feeds it, so it updates while the kernel is idle;
its thread ends once every job on the board has ended, and starts again when a job is added.
Completed rows turn green and failed rows red, with the error text; a job that was retried
says so. The board's log shows the lines Kue's creator printed (``Notification job 3 50%
complete``), written with ``Output.append_stdout`` (never ``print`` from a thread). When
Redis goes away the log says so in one line, and in another when it is back; the rows then
catch up with what happened meanwhile.
"""

from __future__ import annotations

import threading

import ipywidgets as widgets
import redis
from rq.job import Job

from helpers.core import events
from helpers.core.listener import Listener
from helpers.job_creation import job_data
from helpers.kue_log import kue_id, kue_line

ORDER = ("queued", "scheduled", "started", "retrying", "completed", "failed", "removed")
STYLES = {"completed": "success", "failed": "danger", "retrying": "warning", "removed": "warning"}
COLORS = {"completed": "#2e7d32", "failed": "#c62828", "retrying": "#ef6c00", "removed": "#ef6c00"}


class JobRow(widgets.HBox):
    """One job: its Kue id, phone number, status, progress bar and error text."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.id
        self.id_label = widgets.Label(f"#{kue_id(job)}", layout=widgets.Layout(width="4em"))
        self.phone = widgets.Label(job_data(job)["phoneNumber"], layout=widgets.Layout(width="9em"))
        first = "scheduled" if job.get_status(refresh=False) == "scheduled" else "queued"
        self.status = widgets.Label(first, layout=widgets.Layout(width="6.5em"))
        self.status.add_class("qs-job-status")
        self.bar = widgets.IntProgress(value=0, min=0, max=100, layout=widgets.Layout(width="12em"))
        self.bar.add_class("qs-job-progress")
        self.error = widgets.Label("")
        self.error.add_class("qs-job-error")
        self.failed_attempts: list[str] = []
        super().__init__([self.id_label, self.phone, self.status, self.bar, self.error])
        self.add_class("qs-job-row")

    def apply(self, event: events.JobEvent) -> None:
        """Show what ``event`` says about the job."""
        if event.kind == events.PROGRESS:
            self.status.value = "started"
            self.bar.value = event.progress or 0
            self.bar.bar_style = ""
        elif event.kind == events.FAILED_ATTEMPT:
            self.failed_attempts.append(event.error or "")
            self.status.value = "retrying"
            self.error.value = f"attempt {event.attempt} failed: {event.error}; retrying"
        elif event.kind == events.COMPLETED:
            self.status.value = "completed"
            self.bar.value = 100
            if self.failed_attempts:
                n, last = len(self.failed_attempts), self.failed_attempts[-1]
                self.error.value = f"retried {n}×, then completed (last error: {last})"
        elif event.kind == events.FAILED:
            self.status.value = "failed"
            self.error.value = event.error or ""
        elif event.kind == events.REMOVED:
            self.status.value = "removed"
            self.error.value = "the job was deleted from Redis"
        self.bar.bar_style = STYLES.get(self.status.value, "")
        color = COLORS.get(self.status.value)
        self.status.style.text_color = color  # None: the theme's colour
        self.status.style.font_weight = "bold" if color else "normal"
        self.error.style.text_color = COLORS["failed"] if self.status.value == "failed" else None
        for state in ORDER:
            self.remove_class(f"qs-job-{state}")
        self.add_class(f"qs-job-{self.status.value}")


class JobBoard(widgets.VBox):
    """Rows of jobs updated live from their events, a summary line and the creator's log."""

    def __init__(self, connection: redis.Redis, title: str = "Job board") -> None:
        self.connection = connection
        self.rows: dict[str, JobRow] = {}
        self._lock = threading.Lock()
        self.summary = widgets.Label("No jobs yet")
        self.summary.add_class("qs-board-summary")
        self.table = widgets.VBox()
        self.feed = widgets.Output(layout=widgets.Layout(max_height="14em", overflow="auto"))
        self.feed.add_class("qs-board-log")
        self.listener = Listener(connection, self._on_event, on_status=self._on_status)
        super().__init__([widgets.HTML(f"<b>{title}</b>"), self.summary, self.table, self.feed])
        self.add_class("qs-job-board")

    def add(self, job: Job) -> JobRow:
        """Add a row for ``job`` and follow its events."""
        row = JobRow(job)
        with self._lock:
            self.rows[job.id] = row
            self.table.children = (*self.table.children, row)
        self._update_summary()
        self.listener.watch([job])
        return row

    def _on_event(self, event: events.JobEvent) -> None:
        row = self.rows.get(event.job_id)
        if row is None:
            return
        row.apply(event)
        line = kue_line(event)
        if line:
            self.feed.append_stdout(line + "\n")
        self._update_summary()

    def _on_status(self, line: str) -> None:
        """Redis went away, is back, or stayed away: one red line in the log."""
        self.feed.append_stderr(line + "\n")

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status, in board order (statuses with no job left out)."""
        with self._lock:
            statuses = [row.status.value for row in self.rows.values()]
        return {state: statuses.count(state) for state in ORDER if state in statuses}

    def summary_text(self) -> str:
        """``9 completed, 2 failed`` (with the jobs still running or waiting first)."""
        counts = self.counts()
        if not counts:
            return "No jobs yet"
        counts.setdefault("completed", 0)
        counts.setdefault("failed", 0)
        return ", ".join(f"{counts[s]} {s}" for s in ORDER if s in counts)

    def _update_summary(self) -> None:
        self.summary.value = self.summary_text()

    @property
    def live(self) -> bool:
        """True while the board's thread follows jobs that have not ended."""
        return self.listener.running

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until every job on the board has ended (for scripts and tests)."""
        return self.listener.wait(timeout)

    def stop(self) -> None:
        """Stop following the jobs now."""
        self.listener.stop()
