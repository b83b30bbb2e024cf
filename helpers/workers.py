"""Start, watch and stop RQ workers as real processes; the lines they print reach the notebook.

A worker is ``python -m helpers worker QUEUE...``: a real ``rq`` Worker in its own process
(never on the kernel's main thread), in its own process group so that stopping it also
stops its work horse and scheduler. It stops by itself when the process that started it
dies (a kernel that crashes leaves no worker behind), and it is listed in
``.workbook/workers/`` so that ``make stop`` finds it from anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import redis

from helpers import lifecycle
from helpers.server import pid_alive, redis_url, workbook_home

LineHandler = Callable[[str], None]
STOP_TIMEOUT = 10.0
_started: list[WorkerGroup] = []


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (its work horse, its scheduler), read from ``/proc``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_all(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def registry_dir() -> Path:
    """Folder where each running worker leaves a small JSON file (pid, queues)."""
    return workbook_home() / "workers"


class WorkerGroup:
    """N worker processes on the same queues, with the lines they print."""

    def __init__(
        self,
        processes: list[subprocess.Popen],
        queues: list[str],
        names: list[str] | None = None,
        url: str | None = None,
    ) -> None:
        self.processes = processes
        self.queues = queues
        self.names = names or [f"pid-{p.pid}" for p in processes]
        self.url = url
        self.lines: list[str] = []
        self.recovered: list[tuple[str, str, str]] = []
        self._handlers: list[LineHandler] = []
        self._lock = threading.Lock()
        self._calling = threading.Lock()
        self._readers = [
            threading.Thread(target=self._read, args=(p,), daemon=True, name=f"worker-out-{p.pid}")
            for p in processes
        ]
        for reader in self._readers:
            reader.start()

    def on_line(self, handler: LineHandler) -> None:
        """Call ``handler(line)`` for every line printed from now on (and replay earlier ones)."""
        with self._calling:
            with self._lock:
                self._handlers.append(handler)
                earlier = list(self.lines)
            for line in earlier:
                handler(line)

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            with self._calling:  # one line at a time, whichever worker printed it
                with self._lock:
                    self.lines.append(line)
                    handlers = list(self._handlers)
                for handler in handlers:
                    with contextlib.suppress(Exception):
                        handler(line)
        process.wait()
        self._after_exit(process)

    def _after_exit(self, process: subprocess.Popen) -> None:
        """A worker that did not exit cleanly may have left a job STARTED: settle it now."""
        code = process.returncode
        if code == 0 or self.url is None:
            return
        name = self.names[self.processes.index(process)]
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited ({code})"
        connection = redis.Redis.from_url(self.url)
        try:
            settled = recover_jobs(connection, self.queues, name, f"worker {name} was {how}")
        except (redis.RedisError, OSError):
            settled = []
        finally:
            connection.close()
        with self._lock:
            self.recovered.extend(settled)

    def wait_for_lines(self, count: int, timeout: float = 10.0) -> list[str]:
        """Block until the workers have printed ``count`` lines (or ``timeout``); return them."""
        deadline = time.monotonic() + timeout
        while len(self.lines) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._lock:
            return list(self.lines)

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers."""
        return [p.pid for p in self.processes]

    @property
    def alive(self) -> int:
        """How many of the workers still run."""
        return sum(p.poll() is None for p in self.processes)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every worker has exited (burst workers do once the queue is empty)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for process in self.processes:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                process.wait(left)
            except subprocess.TimeoutExpired:
                return False
        for reader in self._readers:
            reader.join(1.0)
        return True

    def kill(self, index: int = 0) -> int:
        """SIGKILL one worker and what it started (work horse, scheduler), as a crash would.

        The job it was running is then settled as RQ would after a long wait: retried if
        it has attempts left, else failed with the reason (see :func:`recover_jobs`).
        Return the worker's pid.
        """
        process = self.processes[index]
        below = descendants(process.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        _kill_all([process.pid, *below])
        process.wait()
        self._readers[index].join(STOP_TIMEOUT)
        return process.pid

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Warm shutdown (the current job finishes), then make sure nothing of them is left."""
        below = [pid for p in self.processes if p.poll() is None for pid in descendants(p.pid)]
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        self.wait(timeout)
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            if process.poll() is None:
                process.wait()
            (registry_dir() / f"{process.pid}.json").unlink(missing_ok=True)
        _kill_all(pid for pid in below if pid_alive(pid))
        for reader in self._readers:
            reader.join(STOP_TIMEOUT)
        if self in _started:
            _started.remove(self)

    def __enter__(self) -> WorkerGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<WorkerGroup {len(self.processes)} on {', '.join(self.queues)}, {self.alive} alive>"
        )


def start_workers(
    queues: str | Iterable[str],
    n: int = 1,
    *,
    burst: bool = False,
    with_scheduler: bool = False,
    on_line: LineHandler | None = None,
    url: str | None = None,
) -> WorkerGroup:
    """Start ``n`` RQ worker processes on ``queues`` (in priority order); return the group."""
    names = [queues] if isinstance(queues, str) else list(queues)
    url = url or redis_url()
    command = [
        sys.executable,
        "-u",
        "-m",
        "helpers",
        "worker",
        *names,
        "--parent",
        str(os.getpid()),
    ]
    if burst:
        command.append("--burst")
    env = dict(os.environ, REDIS_URL=url, PYTHONUNBUFFERED="1")
    env.setdefault("OBJC_DISABLE_INITIALIZE_FORK_SAFETY", "YES")
    registry_dir().mkdir(parents=True, exist_ok=True)
    processes = []
    worker_names = [f"workbook-{os.getpid()}-{uuid.uuid4().hex[:8]}" for _ in range(n)]
    for i in range(n):
        args = command + ["--name", worker_names[i]]
        args += ["--with-scheduler"] if with_scheduler and i == 0 else []
        processes.append(
            subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=open(registry_dir() / "workers.log", "a"),  # noqa: SIM115
                text=True,
                env=env,
                start_new_session=True,
            )
        )
    group = WorkerGroup(processes, names, worker_names, url)
    if on_line is not None:
        group.on_line(on_line)
    _started.append(group)
    return group


def stop_all() -> int:
    """Stop every worker group this process started; return how many were still running."""
    count = 0
    for group in list(_started):
        count += group.alive
        group.stop()
    return count


def stop_registered(timeout: float = STOP_TIMEOUT) -> int:
    """Stop every workbook worker listed in ``.workbook/workers/`` (``make stop``)."""
    stopped = 0
    folder = registry_dir()
    for entry in folder.glob("*.json") if folder.exists() else []:
        pid = int(entry.stem)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            stopped += 1
        entry.unlink(missing_ok=True)
    return stopped


lifecycle.register("worker", stop_all)


def _watch_parent(parent: int) -> None:
    """Ask this worker to stop when the process that started it is gone."""
    while pid_alive(parent) and os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(STOP_TIMEOUT)
    os._exit(1)


def run_worker(argv: list[str]) -> int:
    """``python -m helpers worker QUEUE... [--burst] [--with-scheduler]``: run one worker here."""
    parser = argparse.ArgumentParser(prog="python -m helpers worker")
    parser.add_argument("queues", nargs="+")
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    parser.add_argument("--with-scheduler", action="store_true", help="run delayed jobs too")
    parser.add_argument("--parent", type=int, default=0, help="stop when this process ends")
    parser.add_argument("--name", default=None, help="the worker's name in Redis")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from rq import Queue, SpawnWorker

    connection = redis.Redis.from_url(redis_url())
    worker_class = SpawnWorker if sys.platform == "darwin" else _worker_class()
    worker = worker_class(
        [Queue(q, connection=connection) for q in args.queues],
        connection=connection,
        name=args.name,
    )
    entry = registry_dir() / f"{os.getpid()}.json"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps({"pid": os.getpid(), "queues": args.queues, "name": worker.name}))
    if args.parent:
        threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    try:
        worker.work(burst=args.burst, with_scheduler=args.with_scheduler, logging_level="WARNING")
    finally:
        entry.unlink(missing_ok=True)
    return 0


def _die_with_parent(parent: int) -> None:
    """In a work horse: be killed when the worker dies (Linux), so no horse is orphaned."""
    if sys.platform == "linux":
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _worker_class() -> type:
    """RQ's fork ``Worker``, whose work horse dies with it."""
    from rq import Worker

    class HorseDiesWithWorker(Worker):
        """A fork worker whose horse is killed when the worker is (no orphaned job runs on)."""

        def fork_work_horse(self, job, queue) -> None:
            self._parent_pid = os.getpid()
            super().fork_work_horse(job, queue)

        def main_work_horse(self, job, queue) -> None:
            _die_with_parent(self._parent_pid)
            super().main_work_horse(job, queue)

    return HorseDiesWithWorker


class WorkerDied(Exception):
    """The reason given to a job whose worker died while running it."""


def recover_jobs(
    connection: redis.Redis, queues: Iterable[str], worker_name: str, reason: str
) -> list[tuple[str, str, str]]:
    """Settle the jobs a dead worker left STARTED: retried if attempts are left, else failed.

    RQ does the same by itself (``AbandonedJobError``) only after the worker's heartbeat
    expires, about 90 s later; the workbook knows at once when a worker it started dies.
    The job's failure callback runs, so the creator side is told. Return
    ``(job_id, "retried" | "failed", reason)`` for each job.
    """
    from rq import Queue
    from rq.callbacks import execute_failure_callback
    from rq.job import Job, JobStatus
    from rq.job_lifecycle import record_job_failure
    from rq.registry import StartedJobRegistry
    from rq.timeouts import TimerDeathPenalty
    from rq.worker import Worker

    settled = []
    for name in queues:
        registry = StartedJobRegistry(name, connection=connection)
        for member in connection.zrange(registry.key, 0, -1):
            job_id = member.decode().split(":")[0]
            job = Job.fetch_many([job_id], connection=connection)[0]
            if job is None:
                continue
            if job.get_status(refresh=False) != JobStatus.STARTED or job.worker_name != worker_name:
                continue
            error = WorkerDied(f"{reason} while running this job")
            with contextlib.suppress(Exception):
                execute_failure_callback(job, TimerDeathPenalty, WorkerDied, error, None)
            with connection.pipeline() as pipeline:
                if job.should_retry:
                    job.retry(Queue(job.origin, connection=connection), pipeline)
                    outcome = "retried"
                else:
                    record_job_failure(job, f"WorkerDied: {error}", pipeline)
                    outcome = "failed"
                pipeline.zrem(registry.key, member)
                pipeline.execute()
            settled.append((job_id, outcome, str(error)))
    with contextlib.suppress(Exception):
        dead = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection)
        if dead is not None:
            dead.register_death()
    return settled
