"""The worker panel: start and stop N real worker processes and see what they print.

What the job functions print shows as it is; what RQ logs (stderr: a failed job's traceback,
a worker that cannot start) shows in red.
"""

from __future__ import annotations

import ipywidgets as widgets

from helpers.core.workers import WorkerGroup, start_workers


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
            self.group.on_error(lambda line: self.out.append_stderr(line + "\n"))
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
