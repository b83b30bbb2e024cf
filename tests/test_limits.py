"""Limits and bad input (:mod:`helpers.core.job_input`): one line with the fix, nothing written.

A full Redis (``maxmemory`` reached, ``noeviction``) at enqueue, job data that pickle refuses,
and a job function a worker cannot import: refused before anything is written. A job enqueued
by hand with such a function fails in a real worker, and :func:`explain_failure` turns what
RQ stored into the sentence.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest
import redis
from rq.job import Job, JobStatus

from helpers.core.errors import (
    NotImportable,
    NotSerializable,
    RedisFull,
    RedisUnavailable,
    WorkbookError,
)
from helpers.core.events import callbacks
from helpers.core.job_input import check_job, explain_failure
from helpers.core.listener import listen
from helpers.core.waiting import wait_until
from helpers.core.workers import start_workers
from helpers.job_creation import create_job, create_push_notifications_jobs, reset_queue
from helpers.notifications import SAMPLE_JOBS, send_notification, send_notification_with_progress
from helpers.seat_app import create_app
from helpers.seats import enqueue_reservation
from helpers.widgets.worker_panel import TracebackFolder

DATA = SAMPLE_JOBS[0]
FILE_FIX = "write it to a file beside the notebook with %%writefile my_jobs.py, then "


def in_a_cell(phone_number: str, message: str) -> None:
    """A job function as a notebook cell defines it: its module is ``__main__``."""


in_a_cell.__module__ = "__main__"


def outer():
    def inner(phone_number: str, message: str) -> None:
        """A nested function: no worker can reach it by name."""

    return inner


class Point:
    """A class of a notebook cell (``__main__``)."""


Point.__module__ = "__main__"


def one_line(exc: BaseException) -> str:
    """The error's one line, as a notebook shows it; fail if it is more."""
    assert isinstance(exc, WorkbookError)
    shown = exc._render_traceback_()
    assert len(shown) == 1 and "\n" not in shown[0], shown
    return str(exc)


def nothing_written(raw: redis.Redis, before: set[bytes], queue) -> None:
    """No key appeared (no job hash, no queue, no registry, no id counter)."""
    assert set(raw.keys("*")) == before
    assert queue.count == 0 and not raw.exists(f"workbook:ids:{queue.name}")


class Full:
    """Fills the session's Redis up to a small ``maxmemory`` (noeviction), then undoes it."""

    def __init__(self, raw: redis.Redis) -> None:
        self.raw = raw
        self.saved = raw.config_get("maxmemory", "maxmemory-policy")
        self.filler = f"workbook:test-filler:{uuid.uuid4().hex[:8]}"

    def fill(self) -> None:
        used = int(self.raw.info("memory")["used_memory"])
        for i in range(16):  # 256 KiB in small writes (no large query buffer to count)
            self.raw.set(f"{self.filler}:{i}", b"x" * 16 * 1024)
        self.raw.config_set("maxmemory-policy", "noeviction")
        self.raw.config_set("maxmemory", used + 64 * 1024)  # below what it holds now: full
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            self.raw.set(f"{self.filler}:probe", b"x")

    def release(self) -> None:
        self.raw.config_set("maxmemory", self.saved["maxmemory"])
        self.raw.config_set("maxmemory-policy", self.saved["maxmemory-policy"])
        keys = list(self.raw.scan_iter(f"{self.filler}:*"))
        if keys:
            self.raw.delete(*keys)


@pytest.fixture
def full(raw):
    full = Full(raw)
    yield full
    full.release()


# --- Redis full --------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [0, 5], ids=["now", "delayed"])
def test_a_full_redis_refuses_a_job_in_one_line_and_writes_nothing(raw, queue, full, delay):
    full.fill()
    before = set(raw.keys("*"))
    with pytest.raises(RedisFull) as refused:
        create_job(queue, DATA, delay=delay)
    line = one_line(refused.value)
    assert line.startswith("Redis is full (used memory ")
    assert "and refused the job, so nothing was written: delete finished jobs (reset_queue" in line
    assert line.endswith(
        "or raise the limit with CONFIG SET maxmemory 256mb (r.config_set('maxmemory', '256mb'))."
    )
    assert isinstance(refused.value, redis.exceptions.OutOfMemoryError)
    nothing_written(raw, before, queue)
    full.release()
    job = create_job(queue, DATA, delay=delay)
    assert job.id == f"{queue.name}-1"  # the refused job did not even take an id


def test_a_full_redis_stops_a_batch_at_the_job_it_refuses(raw, queue, full):
    full.fill()
    with pytest.raises(RedisFull, match=r"^Redis is full \(used memory "):
        create_push_notifications_jobs(SAMPLE_JOBS[:3], queue, log=lambda line: None)
    assert queue.count == 0


def test_the_seat_app_answers_503_when_redis_is_full(r, raw, full):
    from rq import Queue

    queue = Queue(f"test_seats_{uuid.uuid4().hex[:8]}", connection=raw)
    app = create_app(r, queue)
    full.fill()
    with pytest.raises(RedisFull):
        enqueue_reservation(queue)
    reply = app.test_client().get("/reserve_seat")
    assert (reply.status_code, reply.get_json()) == (503, {"status": "Reservation failed"})
    assert queue.count == 0


@pytest.mark.parametrize("task", ["6", "8", "10"])
def test_a_task_command_says_redis_is_full_in_one_line(full, task):
    full.fill()
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "task", task, "--no-wait"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Redis is full (used memory "), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


# --- job data that cannot be stored --------------------------------------------------------


def _generator():
    yield 1


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (threading.Lock(), "a lock"),
        (_generator(), "a generator"),
        (open(os.devnull), "an open file"),  # noqa: SIM115 - the open file is the point
        ([1, threading.RLock()], "a list that holds a lock"),
    ],
    ids=["lock", "generator", "file", "list-with-lock"],
)
def test_an_argument_pickle_refuses_is_named_with_its_type(value, kind):
    with pytest.raises(NotSerializable) as refused:
        check_job(send_notification, ("4153518743", value))
    assert one_line(refused.value) == (
        f"The job's argument message is {kind}, which RQ cannot store in Redis (pickle): "
        "pass plain data instead: str, numbers, lists, dicts."
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (lambda: None, "(a lambda): it is a lambda, which has no name a worker can import"),
        (Point(), "(a Point): Point is defined in a notebook cell (__main__)"),
        (outer(), "(a function): inner is defined inside outer(), where no worker can reach it"),
    ],
    ids=["lambda", "main-class", "nested"],
)
def test_an_argument_a_worker_could_not_unpickle_is_refused(value, why):
    with pytest.raises(NotSerializable) as refused:
        check_job(send_notification, ("4153518743",), {"message": value})
    line = one_line(refused.value)
    assert line.startswith(f"A worker cannot read the job's argument message {why}"), line
    assert line.endswith("; or pass plain data instead: str, numbers, lists, dicts.")


def test_create_job_checks_its_arguments_before_it_writes(raw, queue):
    before = set(raw.keys("*"))
    with pytest.raises(NotSerializable, match="^The job's argument seconds is a lock, "):
        create_job(queue, DATA, seconds=threading.Lock())
    nothing_written(raw, before, queue)


# --- a job function a worker cannot import --------------------------------------------------


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A notebook's folder (the cwd, where workers start) with a module the learner wrote."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"my_jobs_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            def send(phone_number, message):
                print(f"Sending notification to {phone_number}, with message: {message}")

            def outer():
                def inner(phone_number, message):
                    pass
                return inner

            anonymous = lambda phone_number, message: None
            """
        )
    )
    module = __import__(name)
    yield module
    sys.modules.pop(name, None)


def test_a_function_of_a_notebook_cell_is_refused_with_the_fix(raw, queue):
    before = set(raw.keys("*"))
    with pytest.raises(NotImportable) as refused:
        create_job(queue, DATA, function=in_a_cell)
    assert one_line(refused.value) == (
        "A worker cannot import the job's function: in_a_cell is defined in a notebook cell "
        f"(__main__), which no worker can import; {FILE_FIX}`from my_jobs import in_a_cell`."
    )
    nothing_written(raw, before, queue)


def test_a_lambda_and_a_nested_function_are_refused(queue, folder):
    with pytest.raises(NotImportable) as refused:
        create_job(queue, DATA, function=folder.anonymous)
    assert one_line(refused.value) == (
        "A worker cannot import the job's function: it is a lambda, which has no name a worker "
        f"can import; name it (def f(...):) and {FILE_FIX}`from my_jobs import f`."
    )
    with pytest.raises(NotImportable) as refused:
        create_job(queue, DATA, function=folder.outer())
    assert one_line(refused.value) == (
        "A worker cannot import the job's function: inner is defined inside outer(), where no "
        f"worker can reach it; {FILE_FIX}`from my_jobs import inner`."
    )
    assert queue.count == 0


def test_a_module_workers_cannot_find_is_refused(raw, queue, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    name = f"far_jobs_{uuid.uuid4().hex[:8]}"
    (elsewhere / f"{name}.py").write_text("def send(phone_number, message):\n    pass\n")
    monkeypatch.syspath_prepend(str(elsewhere))  # the kernel finds it; a worker would not
    try:
        with pytest.raises(NotImportable) as refused:
            create_job(queue, DATA, function=__import__(name).send)
    finally:
        sys.modules.pop(name, None)
    assert one_line(refused.value) == (
        f"A worker cannot import the job's function: module {name} is not importable from "
        f"{os.getcwd()}, the folder workers start in; {FILE_FIX}`from my_jobs import send`."
    )
    assert queue.count == 0


def test_a_module_beside_the_notebook_is_accepted_and_runs(raw, queue, folder):
    job = create_job(queue, DATA, function=folder.send)
    with start_workers(queue.name, 1, burst=True) as group:
        assert group.wait(30)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert group.lines == [
        f"Sending notification to {DATA['phoneNumber']}, with message: {DATA['message']}"
    ]


# --- at the worker: a job enqueued by hand -------------------------------------------------


def _enqueue_by_hand(queue, function, *args) -> Job:
    """What a learner's plain ``queue.enqueue`` stores (RQ refuses ``__main__`` only there)."""
    return queue.enqueue_job(Job.create(function, args=args, connection=queue.connection))


def test_the_worker_fails_a_job_it_cannot_import_and_the_sentence_explains(
    raw, queue, folder, monkeypatch, tmp_path
):
    monkeypatch.setattr(sys.modules["__main__"], "Point", Point, raising=False)
    jobs = {
        "main": _enqueue_by_hand(queue, in_a_cell, "4153518743", "hi"),
        "lambda": _enqueue_by_hand(queue, folder.anonymous, "4153518743", "hi"),
        "nested": _enqueue_by_hand(queue, folder.outer(), "4153518743", "hi"),
        "missing": queue.enqueue("no_such_jobs.send", "4153518743", "hi"),
        "argument": _enqueue_by_hand(queue, print, Point()),
        "blacklisted": queue.enqueue(send_notification_with_progress, "4153518780", "hi"),
    }
    with start_workers(queue.name, 1, burst=True) as group:
        assert group.wait(30)
    stored = {}
    for kind, job in jobs.items():
        job.refresh()
        assert job.get_status() == JobStatus.FAILED, kind
        stored[kind] = explain_failure(job.latest_result().exc_string, job.func_name)
    imports = "The worker could not import the job's function: "
    assert stored["main"] == (
        f"{imports}in_a_cell is defined in a notebook cell (__main__), which no worker can "
        f"import; {FILE_FIX}`from my_jobs import in_a_cell`."
    )
    assert stored["lambda"].startswith(f"{imports}it is a lambda, which has no name")
    assert stored["nested"].startswith(f"{imports}inner is defined inside outer(), where no")
    assert stored["missing"] == (
        f"{imports}module no_such_jobs is not importable by the worker (no such file in the "
        "folder it started in, or its imports fail); "
        f"{FILE_FIX}`from my_jobs import send`."
    )
    assert stored["argument"].startswith(
        "The worker could not read the job's arguments: Point is defined in a notebook cell"
    )
    assert stored["blacklisted"] is None
    assert all("\n" not in line for line in stored.values() if line)
    # RQ's text alone (as the listener reads it) gives the same sentence
    exc = jobs["main"].latest_result().exc_string
    assert explain_failure(exc) == stored["main"]

    shown: list[str] = []
    fold = TracebackFolder(shown.append)
    for line in group.errors:
        fold(line)
    assert len(shown) == len(jobs), shown
    sentences = [line.partition(" failed: ")[2] for line in shown]
    assert sentences == [s or "" for s in stored.values()][:-1] + [
        "helpers.notifications.Blacklisted: Phone number 4153518780 is blacklisted"
    ]
    reset_queue(queue)


def test_the_failed_event_of_a_job_no_worker_can_import_is_the_sentence(raw, queue):
    job = queue.enqueue_job(
        Job.create(in_a_cell, args=("4153518743", "hi"), connection=queue.connection, **callbacks())
    )
    live: list[str] = []
    listener = listen(queue.connection, [job], lambda event: live.append(event.error))
    with start_workers(queue.name, 1, burst=True) as group:
        assert group.wait(30)
    assert wait_until(lambda: live, 10)
    listener.stop()
    late: list[str] = []  # a listener started afterwards reads it from Redis
    listener = listen(queue.connection, [job], lambda event: late.append(event.error))
    assert wait_until(lambda: late, 10)
    listener.stop()
    sentence = (
        "The worker could not import the job's function: in_a_cell is defined in a notebook "
        f"cell (__main__), which no worker can import; {FILE_FIX}`from my_jobs import in_a_cell`."
    )
    assert live == late == [sentence]
    reset_queue(queue)


def test_explain_failure_leaves_other_failures_alone():
    assert explain_failure("") is None
    assert explain_failure("Traceback (most recent call last):\nKeyError: 'x.y'") is None
    assert explain_failure("ValueError: Invalid attribute name: f") is None


def test_the_job_creator_shows_a_full_redis_in_one_line(raw, queue, full):
    from helpers.widgets.job_creator import JobCreator

    creator = JobCreator(queue)
    full.fill()
    creator.create_button.click()
    [shown] = creator.out.outputs
    assert shown["name"] == "stderr" and shown["text"].count("\n") == 1
    assert shown["text"].startswith("Redis is full (used memory ")
    assert queue.count == 0 and creator.created == []


def test_an_enqueue_redis_does_not_answer_is_one_line_in_code_and_in_the_creator():
    from rq import Queue

    from helpers.core.server import free_port
    from helpers.widgets.job_creator import JobCreator

    nowhere = Queue("down", connection=redis.Redis(port=free_port()))
    said = (
        "Redis does not answer (connection refused), so the job was not created: start Redis "
        "again (python -m helpers redis start), then create the job again."
    )
    with pytest.raises(RedisUnavailable) as caught:
        create_job(nowhere, DATA)
    assert one_line(caught.value) == said
    with pytest.raises(RedisUnavailable):
        enqueue_reservation(nowhere)
    creator = JobCreator(nowhere)
    creator.create_button.click()
    assert [o["text"] for o in creator.out.outputs] == [f"{said}\n"]


def test_a_job_redis_cut_off_is_explained_in_one_line():
    told = (
        'Traceback (most recent call last):\n  File "rq/worker/base.py", line 1, in x\n'
        "redis.exceptions.BusyLoadingError: Redis is loading the dataset in memory\n"
    )
    assert explain_failure(told) == (
        "Redis went away while the worker ran this job (loading its data): it may have run; "
        "requeue it if it must run (again)."
    )
