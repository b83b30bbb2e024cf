"""The worker panel: start and stop N real worker processes and see what they print.

What the job functions print shows as it is; what RQ logs (stderr: a worker that cannot
start, a warning) shows in red, and a failed job's traceback as one red line, the job and the
exception's line, or the sentence with the fix for a job function a worker cannot import
(the whole traceback stays in ``group.errors``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import ipywidgets as widgets

from helpers.core.job_input import explain_failure
from helpers.core.workers import WorkerGroup, start_workers
from helpers.kue_log import kue_id

FAILED_JOB = re.compile(
    r"^(?P<time>\S+) .*: job (?P<id>\S+): exception raised while executing(?: \((?P<func>.*)\))?"
)
CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


class TracebackFolder:
    """Hand each stderr line on (blank ones dropped), a failed job's traceback as one line.

    The line is the job and the exception's first line, or, for a function or argument the
    worker could not import, :func:`~helpers.core.job_input.explain_failure`'s sentence. The
    rest of a chained traceback ("During handling of the above exception…") is dropped.
    """

    def __init__(self, show: Callable[[str], None]) -> None:
        self.show = show
        self.header: re.Match | None = None
        self.lines: list[str] = []
        self.folded = False  # a traceback was folded: its chained rest is skipped
        self.chained = False  # inside that rest, before its exception line

    def __call__(self, line: str) -> None:
        """Take one stderr line of a worker."""
        header = FAILED_JOB.match(line)
        if header:
            self.header, self.lines, self.folded = header, [], False
        elif not line.strip() or self._skipped(line):
            return
        elif self.header is None:
            self.show(line)
        elif not line.startswith((" ", "Traceback")):
            self._fold(line)
        else:
            self.lines.append(line)

    def _skipped(self, line: str) -> bool:
        """True for a line of the chained rest of the traceback folded last."""
        if not self.folded:
            return False
        if line.startswith(CHAINED):
            self.chained = True
        elif self.chained:
            self.chained = line.startswith((" ", "Traceback"))
        else:
            self.folded = False
        return self.folded

    def _fold(self, line: str) -> None:
        assert self.header is not None
        text = "\n".join([*self.lines, line])
        why = explain_failure(text, self.header["func"]) or line
        job = f"job #{kue_id(self.header['id'])} ({self.header['id']})"
        self.show(f"{self.header['time']} {job} failed: {why}")
        self.header, self.lines, self.folded = None, [], True


class WorkerPanel(widgets.VBox):
    """Buttons that start N workers on ``queues`` (scheduler included) and stop them."""

    def __init__(self, queues: list[str], n: int = 2) -> None:
        self.queues = list(queues)
        self.group: WorkerGroup | None = None
        self.count = widgets.BoundedIntText(
            n, min=1, max=8, description="Workers", layout=widgets.Layout(width="10em")
        )
        self.count.add_class("qs-worker-count")
        self.start_button = widgets.Button(description=self._start_label(), button_style="success")
        self.start_button.add_class("qs-start-workers")
        self.stop_button = widgets.Button(description="Stop workers", disabled=True)
        self.stop_button.add_class("qs-stop-workers")
        self.status = widgets.Label("No worker is running")
        self.status.add_class("qs-worker-status")
        self.out = widgets.Output(layout=widgets.Layout(max_height="14em", overflow="auto"))
        self.out.add_class("qs-worker-output")
        self.count.observe(
            lambda _: setattr(self.start_button, "description", self._start_label()), names="value"
        )
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        super().__init__(
            [widgets.HBox([self.count, self.start_button, self.stop_button]), self.status, self.out]
        )
        self.add_class("qs-worker-panel")

    def _start_label(self) -> str:
        n = self.count.value
        return f"Start {n} worker{'s' if n != 1 else ''}"

    def start(self) -> WorkerGroup:
        """Start the workers (if none of this panel's are running) and show their lines."""
        if self.group is None:
            self.group = start_workers(
                self.queues,
                self.count.value,
                with_scheduler=True,
                on_line=lambda line: self.out.append_stdout(line + "\n"),
            )
            self.group.on_error(TracebackFolder(lambda line: self.out.append_stderr(line + "\n")))
            workers = self._start_label().removeprefix("Start ")
            self.status.value = f"{workers} running on {', '.join(self.queues)}"
            self.start_button.disabled = True
            self.stop_button.disabled = False
        return self.group

    def stop(self) -> None:
        """Stop the workers: each finishes its current job first."""
        if self.group is not None:
            self.group.stop()
            self.group = None
        self.status.value = "Workers stopped"
        self.start_button.disabled = False
        self.stop_button.disabled = True
