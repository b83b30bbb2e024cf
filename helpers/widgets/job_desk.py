"""The job desk of notebook 06: the job creation widget, the worker panel and the job board."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import redis
from rq import Queue

from helpers.job_creation import priority_queues
from helpers.widgets.job_board import JobBoard
from helpers.widgets.job_creator import JobCreator
from helpers.widgets.worker_panel import WorkerPanel


class JobDesk(widgets.VBox):
    """Create jobs, start workers, watch the board: Kue's UI for one queue, in a cell."""

    def __init__(
        self,
        connection: redis.Redis,
        queue_name: str,
        workers: int = 2,
        seconds: float = 0.5,
        function: Callable[[str, str], object] | None = None,
    ) -> None:
        """``function``: the jobs' function (default: the workbook's, slowed by ``seconds``)."""
        self.queue = Queue(queue_name, connection=connection)
        self.board = JobBoard(connection, title=f"Jobs of {queue_name}")
        self.creator = JobCreator(self.queue, self.board, seconds=seconds, function=function)
        self.workers = WorkerPanel(priority_queues(queue_name), n=workers)
        super().__init__(
            [
                widgets.HTML("<b>Create jobs</b>"),
                self.creator,
                widgets.HTML("<b>Workers</b>"),
                self.workers,
                self.board,
            ]
        )
        self.add_class("qs-job-desk")

    def run_samples(self, timeout: float = 60) -> str:
        """Do what the learner's two clicks do (if not done yet), wait, return the summary."""
        if not self.board.rows:
            self.creator.samples_button.click()
        if self.workers.group is None:
            self.workers.start_button.click()
        self.board.wait(timeout)
        return self.board.summary_text()
