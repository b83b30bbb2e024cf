"""The job creation widget: phone, message, priority, delay, attempts; one job or the 11.

Each click creates real RQ jobs with :func:`helpers.job_creation.create_job`, prints
``Notification job created: <id>`` in its own output, and adds the job to a job board. The
jobs run the workbook's ``send_notification_with_progress`` (slowed by ``seconds``), or a job
function of the learner's, ``function(phone_number, message)``, as it is.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
from rq import Queue
from rq.job import Job

from helpers.core.errors import WorkbookError
from helpers.job_creation import PRIORITIES, create_job
from helpers.kue_log import kue_id
from helpers.notifications import SAMPLE_JOBS, send_notification_with_progress
from helpers.widgets.job_board import JobBoard


class JobCreator(widgets.VBox):
    """A form that creates notification jobs on ``queue`` and puts them on ``board``."""

    def __init__(
        self,
        queue: Queue,
        board: JobBoard | None = None,
        seconds: float = 0.5,
        function: Callable[[str, str], object] | None = None,
    ) -> None:
        self.queue = queue
        self.board = board
        self.seconds = seconds
        self.function = function or send_notification_with_progress
        style = {"description_width": "6em"}
        self.phone = widgets.Text("4153518743", description="Phone", style=style)
        self.message = widgets.Text(
            "This is the code 4321 to verify your account",
            description="Message",
            style=style,
            layout=widgets.Layout(width="34em"),
        )
        self.priority = widgets.Dropdown(
            options=PRIORITIES, value="normal", description="Priority", style=style
        )
        self.delay = widgets.BoundedFloatText(
            0, min=0, max=3600, description="Delay (s)", style=style
        )
        self.attempts = widgets.BoundedIntText(
            1, min=1, max=10, description="Attempts", style=style
        )
        self.backoff = widgets.BoundedFloatText(
            1, min=0, max=600, description="Backoff (s)", style=style
        )
        for name in ("phone", "message", "priority", "delay", "attempts", "backoff"):
            getattr(self, name).add_class(f"qs-job-{name}")
        self.create_button = widgets.Button(description="Create job", button_style="primary")
        self.create_button.add_class("qs-create-job")
        self.samples_button = widgets.Button(
            description="Create the 11 sample jobs", layout=widgets.Layout(width="16em")
        )
        self.samples_button.add_class("qs-create-samples")
        self.create_button.on_click(lambda _: self._safely(self.create))
        self.samples_button.on_click(lambda _: self._safely(self.create_samples))
        self.out = widgets.Output(layout=widgets.Layout(max_height="14em", overflow="auto"))
        self.out.add_class("qs-creator-output")
        self.created: list[Job] = []
        super().__init__(
            [
                widgets.HBox([self.phone, self.priority]),
                self.message,
                widgets.HBox([self.delay, self.attempts, self.backoff]),
                widgets.HBox([self.create_button, self.samples_button]),
                self.out,
            ]
        )
        self.add_class("qs-job-creator")

    def _safely(self, action) -> None:
        try:
            action()
        except WorkbookError as exc:
            self.out.append_stderr(f"{exc}\n")

    def _create(self, data: dict[str, str], **options) -> Job:
        own = self.function is send_notification_with_progress
        job = create_job(
            self.queue, data, function=self.function, seconds=self.seconds if own else 0, **options
        )
        self.created.append(job)
        self.out.append_stdout(f"Notification job created: {kue_id(job)}\n")
        if self.board is not None:
            self.board.add(job)
        return job

    def create(self) -> Job:
        """Create one job from the form."""
        data = {"phoneNumber": self.phone.value, "message": self.message.value}
        return self._create(
            data,
            priority=self.priority.value,
            delay=self.delay.value,
            attempts=self.attempts.value,
            backoff=self.backoff.value,
        )

    def create_samples(self) -> list[Job]:
        """Create the 11 jobs of the original course (normal priority, no delay)."""
        return [self._create(data) for data in SAMPLE_JOBS]
