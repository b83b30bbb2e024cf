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
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from helpers import lifecycle
from helpers.server import pid_alive, redis_url, workbook_home

LineHandler = Callable[[str], None]
STOP_TIMEOUT = 10.0
_started: list[WorkerGroup] = []


def registry_dir() -> Path:
    """Folder where each running worker leaves a small JSON file (pid, queues)."""
    return workbook_home() / "workers"


class WorkerGroup:
    """N worker processes on the same queues, with the lines they print."""

    def __init__(self, processes: list[subprocess.Popen], queues: list[str]) -> None:
        self.processes = processes
        self.queues = queues
        self.lines: list[str] = []
        self._handlers: list[LineHandler] = []
        self._lock = threading.Lock()
        self._readers = [
            threading.Thread(target=self._read, args=(p,), daemon=True, name=f"worker-out-{p.pid}")
            for p in processes
        ]
        for reader in self._readers:
            reader.start()

    def on_line(self, handler: LineHandler) -> None:
        """Call ``handler(line)`` for every line printed from now on (and replay earlier ones)."""
        with self._lock:
            self._handlers.append(handler)
            earlier = list(self.lines)
        for line in earlier:
            handler(line)

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            with self._lock:
                self.lines.append(line)
                handlers = list(self._handlers)
            for handler in handlers:
                with contextlib.suppress(Exception):
                    handler(line)

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
        """SIGKILL one worker (not its work horse), as a crash would; return its pid."""
        process = self.processes[index]
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return process.pid

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Warm shutdown (the current job finishes), then make sure nothing of them is left."""
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
        for reader in self._readers:
            reader.join(1.0)
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
    env = dict(os.environ, REDIS_URL=url or redis_url(), PYTHONUNBUFFERED="1")
    env.setdefault("OBJC_DISABLE_INITIALIZE_FORK_SAFETY", "YES")
    registry_dir().mkdir(parents=True, exist_ok=True)
    processes = []
    for i in range(n):
        args = command + (["--with-scheduler"] if with_scheduler and i == 0 else [])
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
    group = WorkerGroup(processes, names)
    if on_line is not None:
        group.on_line(on_line)
    _started.append(group)
    return group


def stop_all() -> int:
    """Stop every worker group this process started; return how many workers were stopped."""
    count = 0
    for group in list(_started):
        count += len(group.processes)
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
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from rq import Queue, SpawnWorker, Worker

    connection = __import__("redis").Redis.from_url(redis_url())
    worker_class = SpawnWorker if sys.platform == "darwin" else Worker
    worker = worker_class(
        [Queue(q, connection=connection) for q in args.queues], connection=connection
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
