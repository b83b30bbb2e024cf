"""The self-checks of the job processors (05, 06): the learner's module, run by real workers.

Each check imports the learner's file afresh (``my_jobs.py``), enqueues jobs that call its
function on a queue of its own, with phone numbers and messages drawn at random, runs them
on real worker processes, and judges what came back: the lines the workers printed, each
job's events (progress, completed, failed) and what RQ stored. It then stops its workers
and deletes its queue and jobs.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import random
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import redis
from rq import Queue
from rq.job import Job, JobStatus

from helpers.checks.verdict import Verdict, verdict
from helpers.core.events import FAILED, PROGRESS, JobEvent
from helpers.core.listener import Listener
from helpers.core.server import url_of
from helpers.core.workers import start_workers
from helpers.job_creation import create_job, reset_queue
from helpers.notifications import BLACKLIST

__all__ = ["check_notification_processor", "check_progress_processor"]

TIMEOUT = 30.0
LINE = "Sending notification to {phoneNumber}, with message: {message}"


class _NotYet(Exception):
    """A check found what is wrong: its one sentence is the message."""


@dataclass
class _Run:
    """One job the check ran: its data, its events, and what RQ stored of its end."""

    data: dict[str, str]
    events: list[JobEvent] = field(default_factory=list)
    status: str = ""
    returned: object = None
    exc_line: str = ""

    @property
    def phone(self) -> str:
        return self.data["phoneNumber"]

    @property
    def progress(self) -> list[int | None]:
        return [event.progress for event in self.events if event.kind == PROGRESS]

    @property
    def error(self) -> str | None:
        return next((event.error for event in self.events if event.kind == FAILED), None)


def _fresh_module(module_name: str) -> ModuleType:
    """Import ``module_name`` from its file as it is now (no stale module, no stale .pyc)."""
    sys.modules.pop(module_name, None)
    importlib.invalidate_caches()
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        raise _NotYet(
            f"there is no {module_name}.py beside the notebook: run the cell that starts with "
            f"%%writefile {module_name}.py first."
        )
    with contextlib.suppress(OSError):
        Path(importlib.util.cache_from_source(spec.origin)).unlink()
    try:
        return importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the learner's file may raise anything
        detail = str(exc).rstrip(".")
        raise _NotYet(
            f"{module_name}.py does not import ({type(exc).__name__}: {detail}): fix the file "
            "and run its %%writefile cell again."
        ) from None


def _in_notebook(name: str) -> bool:
    """True if a notebook cell (``__main__``) defines a function ``name``."""
    found = getattr(sys.modules.get("__main__"), name, None)
    return callable(found) and getattr(found, "__module__", None) == "__main__"


def _learner_function(module_name: str, name: str) -> Callable:
    """The function ``name`` that the learner's file ``module_name.py`` defines."""
    module = _fresh_module(module_name)
    function = getattr(module, name, None)
    if callable(function) and getattr(function, "__module__", None) == module.__name__:
        return function
    if callable(function):
        raise _NotYet(
            f"{module_name}.{name} is {function.__module__}'s, imported: write the function "
            f"yourself, with def {name}(phone_number, message): in {module_name}.py."
        )
    where = " (a notebook cell's function does not count: workers import the file)"
    raise _NotYet(
        f"{module_name}.py has no function {name}{where if _in_notebook(name) else ''}: "
        f"define it there with def {name}(phone_number, message): and run the cell again."
    )


def _random_data(count: int) -> list[dict[str, str]]:
    """``count`` jobs' data that the learner cannot know in advance (none blacklisted)."""
    rng = random.Random()
    numbers = set()
    while len(numbers) < count:
        numbers.add(f"{rng.choice('23456789')}{rng.randrange(10**9):09d}")
    return [
        {"phoneNumber": n, "message": f"This is the code {rng.randrange(1000, 10000)} to verify"}
        for n in sorted(numbers)
    ]


def _settle(run: _Run, job: Job) -> None:
    """Copy what RQ stored of the job's end into ``run``."""
    run.status = job.get_status(refresh=True) or ""
    result = job.latest_result()
    if result is not None:
        run.returned = result.return_value
        lines = [line for line in (result.exc_string or "").splitlines() if line.strip()]
        run.exc_line = lines[-1].strip() if lines else ""


def _run_on_workers(
    connection: redis.Redis, name: str, function: Callable, datas: list[dict], workers: int
) -> tuple[list[_Run], list[str]]:
    """Run ``function`` for each data on ``workers`` real burst workers; runs and lines."""
    queue = Queue(f"check_{name}_{uuid.uuid4().hex[:8]}", connection=connection)
    reset_queue(queue)
    runs = {}
    listener = Listener(connection, lambda event: runs[event.job_id].events.append(event))
    group = None
    try:
        jobs = [create_job(queue, data, function=function) for data in datas]
        runs = {job.id: _Run(dict(data)) for job, data in zip(jobs, datas, strict=True)}
        listener.watch(jobs)
        group = start_workers(queue.name, workers, burst=True, url=url_of(connection))
        if not (group.wait(TIMEOUT) and listener.wait(TIMEOUT / 3)):
            raise _NotYet(
                f"the workers did not finish {len(jobs)} jobs in {TIMEOUT:.0f} s: does the "
                "function wait, or loop for ever?"
            )
        for job in jobs:
            _settle(runs[job.id], job)
        return list(runs.values()), group.lines
    finally:
        if group is not None:
            group.stop(timeout=1)
        listener.forget()
        listener.stop()
        reset_queue(queue)
        queue.delete()


def _judge_failures(runs: list[_Run], name: str) -> None:
    """A job that failed in the worker: one sentence with the exception's last line."""
    for run in runs:
        if run.status == JobStatus.FAILED:
            raise _NotYet(
                f"the job for {run.phone} failed in the worker with {run.exc_line or run.error}: "
                f"fix {name} so that it runs."
            )
        if run.status != JobStatus.FINISHED:
            raise _NotYet(f"the job for {run.phone} ended {run.status!r}, not completed.")


def _judge_lines(runs: list[_Run], lines: list[str], name: str, module_name: str) -> None:
    """The workers printed exactly one sending line per job (any order: two workers)."""
    expected = [LINE.format(**run.data) for run in runs]
    if sorted(lines) == sorted(expected):
        return
    if [run.returned for run in runs] == expected:
        raise _NotYet(
            f"{name} returns the line instead of printing it: print(...) it (a worker shows "
            "what the function prints; what it returns is only stored in Redis)."
        )
    swapped = [LINE.format(phoneNumber=r.data["message"], message=r.phone) for r in runs]
    if sorted(lines) == sorted(swapped):
        raise _NotYet(
            f"the phone number and the message are swapped: {name}(phone_number, message) "
            "prints the phone number first."
        )
    if not lines:
        hint = (
            f" (workers run {module_name}.py's, not a notebook cell's)"
            if _in_notebook(name)
            else ""
        )
        raise _NotYet(
            f"{name} ran in the worker but printed nothing{hint}: print(f'Sending notification "
            "to {phone_number}, with message: {message}')."
        )
    wrong = next((line for line in lines if line not in expected), lines[0])
    raise _NotYet(
        f"a worker printed {wrong!r}, not a line like {expected[0]!r}: "
        "check the text, its spaces and its punctuation."
    )


def check_notification_processor(module_name: str, connection: redis.Redis) -> Verdict:
    """Exercise 05 (task 7): ``send_notification`` in the learner's file, run by a worker."""
    name = "send_notification"
    try:
        function = _learner_function(module_name, name)
        runs, lines = _run_on_workers(
            connection, "notification_processor", function, _random_data(2), 1
        )
        _judge_failures(runs, name)
        _judge_lines(runs, lines, name, module_name)
    except _NotYet as wrong:
        return verdict(False, str(wrong))
    return verdict(
        True,
        f"a real worker imported {module_name}.{name}, ran 2 jobs, printed their lines, "
        "and both completed.",
    )


def _judge_blacklisted(run: _Run, name: str) -> None:
    """A blacklisted number: progress 0, then failed with the exact message, never 50%."""
    expected = f"Phone number {run.phone} is blacklisted"
    if run.status == JobStatus.FINISHED:
        if isinstance(run.returned, BaseException | str):
            raise _NotYet(
                f"for the blacklisted {run.phone}, {name} returned {run.returned!r}: raise it "
                "instead (raise Exception(...)); a job fails only when its function raises."
            )
        raise _NotYet(
            f"the job for the blacklisted {run.phone} completed: raise Exception(f'Phone number "
            "{phone_number} is blacklisted') for 4153518780 and 4153518781."
        )
    if run.error != expected:
        raise _NotYet(
            f"the job for the blacklisted {run.phone} failed with {run.exc_line or run.error!r}: "
            f"the message must be exactly {expected!r}."
        )
    if run.progress[:1] != [0]:
        raise _NotYet(
            f"the job for the blacklisted {run.phone} failed without reporting 0% first: call "
            "report_progress(0) before the blacklist test."
        )
    if 50 in run.progress:
        raise _NotYet(
            f"the job for the blacklisted {run.phone} reached 50% before it failed: test the "
            "blacklist before report_progress(50)."
        )


def _judge_progress(run: _Run) -> None:
    """A number not blacklisted: progress 0, then 50, then completed."""
    if run.progress != [0, 50]:
        raise _NotYet(
            f"the job for {run.phone} reported progress {run.progress} before it completed: "
            "report 0 (report_progress(0)), then 50 (report_progress(50))."
        )


def check_progress_processor(module_name: str, connection: redis.Redis) -> Verdict:
    """Exercise 06 (task 9): ``send_notification_with_progress``, run by two workers."""
    name = "send_notification_with_progress"
    datas = _random_data(3)
    message = "This is the code 1234 to verify your account"
    datas[1:1] = [{"phoneNumber": phone, "message": message} for phone in BLACKLIST]
    try:
        function = _learner_function(module_name, name)
        runs, lines = _run_on_workers(connection, "progress_processor", function, datas, 2)
        fine = [run for run in runs if run.phone not in BLACKLIST]
        _judge_failures(fine, name)
        for run in runs:
            if run.phone in BLACKLIST:
                _judge_blacklisted(run, name)
        for run in fine:
            _judge_progress(run)
        for run in runs:
            if run.phone in BLACKLIST and LINE.format(**run.data) in lines:
                raise _NotYet(
                    f"it sent the notification to the blacklisted {run.phone}: raise before "
                    "anything is sent."
                )
        _judge_lines(fine, lines, name, module_name)
    except _NotYet as wrong:
        return verdict(False, str(wrong))
    return verdict(
        True,
        f"on 2 workers, {name} reported 0% and failed the 2 blacklisted numbers with the "
        "right message, and reported 0%, 50% and sent the 3 others.",
    )
