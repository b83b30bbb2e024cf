"""RQ workers as real processes: :class:`WorkerProcess` owns one, :class:`WorkerGroup` several.

A worker is ``python -m helpers worker QUEUE...`` (:mod:`helpers.core.worker_main`), never
on the kernel's main thread, in its own process group so that stopping it also stops its
work horse and scheduler. One :class:`WorkerProcess` owns one such process from start to
end:

- **its lines**: what the job functions print (stdout), one reader thread per worker, so a
  slow line handler on one worker never holds back another worker's lines; what RQ logs
  (stderr: a failed job's traceback, a worker that cannot start) is kept in ``errors`` and
  handed to ``on_error`` handlers (the worker panel shows it, ``python -m helpers task 7``
  prints it to the terminal's stderr);
- **its stop**: warm first (SIGTERM: the current job finishes), then SIGKILL to what is
  left of it after a timeout;
- **its death**: a monitor thread waits for the process; if it did not exit cleanly, the
  job it was running is settled at once (:mod:`helpers.core.recovery`).

Every worker started is recorded in ``workers/<name>.json`` under the workbook's home
(pid *and* start time), so that ``make stop`` finds it from anywhere and never signals a
process that merely reuses a dead worker's pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import redis

from helpers.core import lifecycle
from helpers.core.errors import AlreadyStarted
from helpers.core.home import workbook_home
from helpers.core.outage import AWAY, BACK, GONE, OUTAGE_LIMIT, status_kind
from helpers.core.processes import ProcessRecord, descendants, kill_all
from helpers.core.recovery import Settled, recover_jobs
from helpers.core.server import redis_url
from helpers.core.waiting import wait_until

LineHandler = Callable[[str], None]
STOP_TIMEOUT = 10.0
SAME_OUTAGE = 10.0  # s: a worker that says Redis went away this soon after the group said
# it was back saw the same outage


def registry_dir() -> Path:
    """Folder where each running worker is recorded: ``<name>.json`` (pid, start time, queues)."""
    return workbook_home() / "workers"


def _serialized(handler: LineHandler) -> LineHandler:
    """``handler``, called by one thread at a time (for a handler shared by several workers)."""
    lock = threading.Lock()

    def call(line: str) -> None:
        with lock:
            handler(line)

    return call


class _SaidOnce:
    """Several workers' stderr for one handler: each says Redis went away; the group once.

    The group is away while any worker is; a worker that notices an outage only after the
    group said it was over (within :data:`SAME_OUTAGE` s) saw the same one, and stays quiet.
    """

    def __init__(self, handler: LineHandler) -> None:
        self.handler = handler
        self.lock = threading.Lock()
        self.away: set[int] = set()  # the workers that said Redis went away
        self.quiet: set[int] = set()  # ... of which the group did not say it
        self.noticed: set[int] = set()  # the workers that noticed the latest outage
        self.back_at = -SAME_OUTAGE
        self.gone = False

    def for_worker(self, key: int) -> LineHandler:
        """The handler for one worker's lines."""
        return lambda line: self._said(key, line)

    def _said(self, key: int, line: str) -> None:
        with self.lock:
            if self._passes(key, status_kind(line)):
                self.handler(line)

    def _passes(self, key: int, kind: str | None) -> bool:
        """Note what worker ``key`` said; True if the group says it too."""
        if kind == AWAY:
            new = not self.away and (
                key in self.noticed or time.monotonic() - self.back_at >= SAME_OUTAGE
            )
            if new:
                self.noticed, self.gone = set(), False
            else:
                self.quiet.add(key)
            self.away.add(key)
            self.noticed.add(key)
            return new
        if kind == BACK:
            if key not in self.away:
                return False
            self.away.discard(key)
            if key in self.quiet:
                self.quiet.discard(key)
                return False
            self.back_at = time.monotonic()
            return True
        if kind == GONE:
            first, self.gone = not self.gone, True
            return first
        return True


class _Lines:
    """The lines of one stream, and the handlers each new line is handed to, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.handlers: list[LineHandler] = []
        self.lock = threading.Lock()  # held while this stream's handlers run: in order

    def add_handler(self, handler: LineHandler) -> None:
        with self.lock:
            self.handlers.append(handler)
            for line in list(self.lines):
                _call(handler, line)

    def read(self, stream: IO[str]) -> None:
        for raw in stream:
            with self.lock:
                self.lines.append(raw.rstrip("\n"))
                for handler in list(self.handlers):
                    _call(handler, self.lines[-1])


def _call(handler: LineHandler, line: str) -> None:
    try:
        handler(line)
    except Exception:  # noqa: BLE001 - a broken handler must not stop the worker's output
        pass


class WorkerProcess:
    """One RQ worker process: its start, its lines, its stop, and its job when it dies."""

    def __init__(
        self,
        queues: Iterable[str],
        url: str,
        *,
        name: str | None = None,
        burst: bool = False,
        with_scheduler: bool = False,
        outage_limit: float = OUTAGE_LIMIT,
    ) -> None:
        self.queues = list(queues)
        self.url = url
        self.name = name or f"workbook-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.burst = burst
        self.with_scheduler = with_scheduler
        self.outage_limit = outage_limit
        self.process: subprocess.Popen | None = None
        self.record: ProcessRecord | None = None
        self.recovered: list[Settled] = []
        self.exit_reason: str | None = None
        self._out, self._err = _Lines(), _Lines()
        self._threads: list[threading.Thread] = []
        self._stopping = False

    # start

    def command(self) -> list[str]:
        """The command line of the worker process."""
        args = [sys.executable, "-u", "-m", "helpers", "worker", *self.queues]
        args += ["--parent", str(os.getpid()), "--name", self.name]
        args += ["--outage-limit", f"{self.outage_limit:g}"]
        return args + ["--burst"] * self.burst + ["--with-scheduler"] * self.with_scheduler

    def start(self) -> WorkerProcess:
        """Start the process and its reader and monitor threads; record it for ``make stop``."""
        if self.process is not None:
            raise AlreadyStarted(f"worker {self.name} was started already: make a new one.")
        env = dict(os.environ, REDIS_URL=self.url, PYTHONUNBUFFERED="1")
        env.setdefault("OBJC_DISABLE_INITIALIZE_FORK_SAFETY", "YES")
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.record = ProcessRecord.of(self.process.pid)
        self._write_record()
        readers = [(self._out, self.process.stdout), (self._err, self.process.stderr)]
        self._threads = [
            threading.Thread(target=lines.read, args=(stream,), daemon=True, name=f"worker-{kind}")
            for kind, (lines, stream) in zip(("out", "err"), readers, strict=True)
        ]
        self._threads.append(threading.Thread(target=self._monitor, daemon=True, name="worker"))
        for thread in self._threads:
            thread.start()
        return self

    def _record_file(self) -> Path:
        return registry_dir() / f"{self.name}.json"

    def _write_record(self) -> None:
        assert self.record is not None
        registry_dir().mkdir(parents=True, exist_ok=True)
        entry = {"pid": self.record.pid, "started": self.record.started, "name": self.name}
        self._record_file().write_text(json.dumps({**entry, "queues": self.queues}))

    # lines

    @property
    def lines(self) -> list[str]:
        """What the worker's job functions printed so far (stdout)."""
        return list(self._out.lines)

    @property
    def errors(self) -> list[str]:
        """What RQ logged so far (stderr): tracebacks of failed jobs, start-up errors."""
        return list(self._err.lines)

    def on_line(self, handler: LineHandler) -> None:
        """Call ``handler(line)`` for every line printed from now on (earlier ones replayed)."""
        self._out.add_handler(handler)

    def on_error(self, handler: LineHandler) -> None:
        """Call ``handler(line)`` for every stderr line from now on (earlier ones replayed)."""
        self._err.add_handler(handler)

    # state

    @property
    def pid(self) -> int:
        """The worker's process id."""
        assert self.process is not None, "the worker was not started"
        return self.process.pid

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the process has exited and its lines and job were dealt with."""
        if self.process is None:
            return True
        return wait_until(lambda: not any(t.is_alive() for t in self._threads), timeout)

    # its end

    def _monitor(self) -> None:
        """Wait for the process; once its lines are read, settle its job if it died."""
        assert self.process is not None
        code = self.process.wait()
        for reader in self._threads[:2]:
            reader.join()
        self._record_file().unlink(missing_ok=True)
        if code == 0 or (self._stopping and code == -signal.SIGTERM):
            return
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited ({code})"
        reason = f"worker {self.name} {how}"
        last = next((line for line in reversed(self.errors) if line.strip()), "")
        self.exit_reason = f"{reason}: {last}" if last else reason
        connection = redis.Redis.from_url(self.url)
        try:
            self.recovered = recover_jobs(connection, self.queues, self.name, reason)
        except (redis.RedisError, OSError):
            pass
        finally:
            connection.close()

    def _tree(self) -> list[ProcessRecord]:
        """The worker and every process below it, as they are now."""
        return [ProcessRecord.of(pid) for pid in [self.pid, *descendants(self.pid)]]

    def request_stop(self) -> list[ProcessRecord]:
        """Ask for a warm shutdown (SIGTERM); return the process tree, for :meth:`finish_stop`."""
        if not self.alive:
            return []
        tree = self._tree()
        self._stopping = True
        assert self.record is not None
        self.record.signal(signal.SIGTERM)
        return tree

    def finish_stop(self, tree: list[ProcessRecord], timeout: float = STOP_TIMEOUT) -> None:
        """Wait ``timeout`` s for the warm shutdown, then SIGKILL whatever is left of the tree."""
        if self.process is None:
            return
        if not wait_until(lambda: self.process.poll() is not None, timeout):
            _kill_group(self.pid)
        kill_all(tree)
        self.process.wait()
        self.wait(STOP_TIMEOUT)

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Warm shutdown (the current job finishes), then kill; True if it was running."""
        was_alive = self.alive
        self.finish_stop(self.request_stop(), timeout)
        return was_alive

    def kill(self) -> int:
        """SIGKILL the worker and what it started, as a crash would; return its pid.

        The job it was running is then settled as RQ would after a long wait: retried if
        it has attempts left, else failed with the reason.
        """
        tree = self._tree() if self.alive else []
        _kill_group(self.pid)
        kill_all(tree)
        assert self.process is not None
        self.process.wait()
        self.wait(STOP_TIMEOUT)
        return self.pid

    def __repr__(self) -> str:
        state = "running" if self.alive else "not started" if self.process is None else "ended"
        return f"<WorkerProcess {self.name} on {', '.join(self.queues)}, {state}>"


def _kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (the worker's own session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class WorkerGroup:
    """N worker processes on the same queues, with the lines they print."""

    def __init__(self, workers: list[WorkerProcess]) -> None:
        self.workers = workers
        self.queues = workers[0].queues if workers else []
        self.url = workers[0].url if workers else None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        for worker in workers:
            worker.on_line(self._collect)

    def _collect(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)

    @property
    def lines(self) -> list[str]:
        """Every line the workers printed, in the order they arrived."""
        with self._lock:
            return list(self._lines)

    @property
    def errors(self) -> list[str]:
        """What RQ logged (stderr), worker by worker."""
        return [line for worker in self.workers for line in worker.errors]

    @property
    def recovered(self) -> list[Settled]:
        """The jobs settled after a worker died: ``(job_id, "retried" | "failed", reason)``."""
        return [job for worker in self.workers for job in worker.recovered]

    @property
    def names(self) -> list[str]:
        """The workers' names in Redis."""
        return [worker.name for worker in self.workers]

    @property
    def processes(self) -> list[subprocess.Popen]:
        """The workers' processes."""
        return [worker.process for worker in self.workers if worker.process is not None]

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers."""
        return [worker.pid for worker in self.workers]

    @property
    def alive(self) -> int:
        """How many of the workers still run."""
        return sum(worker.alive for worker in self.workers)

    def on_line(self, handler: LineHandler) -> None:
        """Call ``handler(line)`` for every line any worker prints (earlier ones replayed)."""
        shared = _serialized(handler)
        for worker in self.workers:
            worker.on_line(shared)

    def on_error(self, handler: LineHandler) -> None:
        """Call ``handler(line)`` for every stderr line of any worker (earlier ones replayed).

        Redis going away is said by every worker; ``handler`` gets each of those lines once.
        """
        said = _SaidOnce(handler)
        for key, worker in enumerate(self.workers):
            worker.on_error(said.for_worker(key))

    def wait_for_lines(self, count: int, timeout: float = 10.0) -> list[str]:
        """Block until the workers have printed ``count`` lines (or ``timeout``); return them."""
        wait_until(lambda: len(self._lines) >= count, timeout)
        return self.lines

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every worker has exited (burst workers do once the queue is empty)."""
        return wait_until(lambda: all(w.wait(0) for w in self.workers), timeout, every=0.05)

    def kill(self, index: int = 0) -> int:
        """SIGKILL one worker and what it started, as a crash would; return its pid."""
        return self.workers[index].kill()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Warm shutdown of every worker at once (each finishes its job), then kill the rest."""
        trees = [worker.request_stop() for worker in self.workers]
        for worker, tree in zip(self.workers, trees, strict=True):
            worker.finish_stop(tree, timeout)
        lifecycle.finished(self)

    def stop_counting(self) -> int:
        """:meth:`stop`, and say how many workers were still running."""
        running = self.alive
        self.stop()
        return running

    def __enter__(self) -> WorkerGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        queues = ", ".join(self.queues)
        return f"<WorkerGroup {len(self.workers)} on {queues}, {self.alive} alive>"


def start_workers(
    queues: str | Iterable[str],
    n: int = 1,
    *,
    burst: bool = False,
    with_scheduler: bool = False,
    on_line: LineHandler | None = None,
    on_error: LineHandler | None = None,
    url: str | None = None,
    outage_limit: float = OUTAGE_LIMIT,
) -> WorkerGroup:
    """Start ``n`` RQ worker processes on ``queues`` (in priority order); return the group.

    With ``with_scheduler``, the first worker also runs RQ's scheduler (delayed jobs). The
    group is recorded for ``cleanup()`` before its first process starts, so an interrupt
    (Ctrl+C) at any moment leaves nothing running. The workers ride out a Redis restart;
    if Redis stays away ``outage_limit`` s, they stop (:mod:`helpers.core.worker_main`).
    """
    names = [queues] if isinstance(queues, str) else list(queues)
    url = url or redis_url()
    workers = [
        WorkerProcess(
            names,
            url,
            burst=burst,
            with_scheduler=with_scheduler and i == 0,
            outage_limit=outage_limit,
        )
        for i in range(n)
    ]
    group = WorkerGroup(workers)
    if on_line is not None:
        group.on_line(on_line)
    if on_error is not None:
        group.on_error(on_error)
    lifecycle.started("worker", group, group.stop_counting)
    for worker in workers:
        worker.start()
    return group


def stop_recorded(timeout: float = STOP_TIMEOUT) -> int:
    """Stop every worker recorded in ``workers/`` (``make stop``); return how many ran.

    A record whose pid now belongs to another process (another start time) is only removed.
    """
    folder = registry_dir()
    running = []
    for entry in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            data = json.loads(entry.read_text())
            record = ProcessRecord(int(data["pid"]), data.get("started"))
        except (OSError, ValueError, KeyError, TypeError):
            record = None
        if record is not None and record.is_running():
            running.append(record)
            record.signal(signal.SIGTERM)
        entry.unlink(missing_ok=True)
    for record in running:
        if not wait_until(lambda r=record: not r.is_running(), timeout, every=0.05):
            record.signal(signal.SIGKILL)
    return len(running)
