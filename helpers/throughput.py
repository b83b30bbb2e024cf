"""How fast is a queue (notebook 12): jobs per second, end to end, on real workers and a real Redis.

Each ``measure_*`` function takes the connection, runs real worker processes, and returns a
:class:`Run`: how many jobs (and notifications) in how many seconds, and how many commands
Redis served meanwhile (``INFO commandstats``, all clients). The clock starts with the first
job created, the workers already waiting, and stops when the creator has heard the last
event (the workbook's path) or when Redis holds the last job finished (plain RQ, which
publishes no events). ``benchmarks/bench_throughput.py`` runs them all at larger sizes.

- :func:`measure_workbook`: task 10's path, ``create_job`` (progress 0 and 50, events) and a
  :class:`~helpers.core.listener.Listener`, on the workbook's own workers;
  ``events=False``: the same workers running the notification without events;
- :func:`measure_rq`: plain RQ (``rq worker``, ``SimpleWorker``, ``rq worker-pool``) on the
  same notification, no events;
- :func:`measure_batched`: one job delivering K notifications, for several K on the same workers;
- :func:`measure_enqueue`: enqueueing one by one against ``enqueue_many`` (one pipeline);
- :func:`measure_kue`: Kue 0.11.6, the original's queue, doing the workbook's job, when
  ``node`` and ``npm`` are there (``benchmarks/kue/``); else :data:`KUE_STORED`;
- :func:`outside_worker`: a plain ``rq worker`` that has only the Redis URL, joining the queue;
- :func:`redis_ceiling` and :func:`memory_per_job`: what Redis itself can do, what a job weighs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
from rq import Queue, Worker

from helpers.core import events
from helpers.core.listener import Listener
from helpers.core.processes import cpu_seconds
from helpers.core.workers import WorkerGroup, start_workers
from helpers.job_creation import (
    RESULT_TTL,
    create_push_notifications_jobs,
    next_job_id,
    reset_queue,
)
from helpers.notifications import SAMPLE_JOBS, send_notification, send_notification_batch

__all__ = [
    "KUE_DIR",
    "KUE_STORED",
    "RQ_CLASSES",
    "Run",
    "commands_served",
    "measure_batched",
    "measure_enqueue",
    "measure_kue",
    "measure_rq",
    "measure_workbook",
    "memory_per_job",
    "notification_data",
    "outside_worker",
    "redis_ceiling",
]

KUE_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "kue"
# Kue measured by benchmarks/bench_throughput.py, shown where node is not installed
KUE_STORED = {
    "jobs_per_s": 1085.0,
    "measured": "3 December 2026",
    "machine": "2 cores (x86_64, Linux 6.18, Debian 12), Node 20.20, Redis 7.0.15, 1,000 jobs",
}
RQ_CLASSES = {"Worker": "rq.Worker", "SimpleWorker": "rq.SimpleWorker", "worker-pool": None}
WAIT = 600.0


@dataclass(frozen=True)
class Run:
    """One measured run: ``jobs`` (delivering ``notifications``) in ``seconds``."""

    path: str
    jobs: int
    seconds: float
    by_command: dict[str, int] = field(default_factory=dict)
    notifications: int = 0
    redis_ms: float = 0.0
    cpu_ms: float = 0.0  # every process's CPU: creator and listener, workers, horses, Redis

    @property
    def cpu_ms_per_job(self) -> float:
        """CPU milliseconds per job, all processes together (0 where not measured)."""
        return self.cpu_ms / self.jobs

    @property
    def redis_ms_per_job(self) -> float:
        """Milliseconds Redis itself spent executing commands, per job (``commandstats``)."""
        return self.redis_ms / self.jobs

    @property
    def commands(self) -> int:
        """Commands Redis served during the run, from every client."""
        return sum(self.by_command.values())

    @property
    def jobs_per_s(self) -> float:
        """Jobs per second, end to end."""
        return self.jobs / self.seconds

    @property
    def notifications_per_s(self) -> float:
        """Notifications per second (one per job unless the job is a batch)."""
        return (self.notifications or self.jobs) / self.seconds

    @property
    def ms_per_job(self) -> float:
        """Wall time per job, in milliseconds, all workers together."""
        return 1000 * self.seconds / self.jobs

    @property
    def commands_per_job(self) -> float:
        """Commands Redis served per job, from every client (workers, creator, listener)."""
        return self.commands / self.jobs

    def per_job(self) -> dict[str, float]:
        """Each command Redis served, per job, most frequent first (a script's own count too)."""
        ranked = sorted(self.by_command.items(), key=lambda item: -item[1])
        return {name: count / self.jobs for name, count in ranked}

    def __str__(self) -> str:
        extra = f", {self.notifications_per_s:,.0f} notifications/s" if self.notifications else ""
        return (
            f"{self.path}: {self.jobs} jobs in {self.seconds:.2f} s = {self.jobs_per_s:,.0f} "
            f"jobs/s{extra}, {self.commands_per_job:.1f} Redis commands per job"
        )


def notification_data(n: int) -> list[dict[str, str]]:
    """``n`` jobs' data from the course's sample jobs, none of them blacklisted."""
    return [SAMPLE_JOBS[2 + i % (len(SAMPLE_JOBS) - 2)] for i in range(n)]


def commands_served(connection: redis.Redis) -> tuple[dict[str, int], float]:
    """Each command Redis served since its statistics were reset, how often; and its busy ms."""
    stats = connection.info("commandstats")
    calls = {name.removeprefix("cmdstat_").upper(): int(e["calls"]) for name, e in stats.items()}
    return calls, sum(int(e["usec"]) for e in stats.values()) / 1000


def _start_clock(connection: redis.Redis) -> float:
    connection.config_resetstat()
    return time.perf_counter()


def _stop_clock(connection: redis.Redis, started: float) -> tuple[float, dict[str, int], float]:
    """Seconds since ``started``, the commands Redis served, and its busy milliseconds."""
    seconds = time.perf_counter() - started
    return seconds, *commands_served(connection)


def _cpu(connection: redis.Redis, group: WorkerGroup) -> float:
    """CPU seconds so far of this process, the group's workers (and horses), and Redis."""
    info = connection.info("cpu")
    workers = sum(cpu_seconds(worker.pid) for worker in group.workers)
    return time.process_time() + workers + info["used_cpu_sys"] + info["used_cpu_user"]


def _wait_for_workers(queue: Queue, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while Worker.count(queue=queue) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} worker(s) did not start on {queue.name}")
        time.sleep(0.05)


def _all_alive(group, workers: int) -> None:
    if group.alive != workers:
        raise RuntimeError(f"{workers - group.alive} of the {workers} workers died during the run")


def _wait(done: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``done()`` every 10 ms until it is true (True) or ``timeout`` s passed (False)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def measure_workbook(
    connection: redis.Redis, jobs: int, workers: int = 2, events: bool = True
) -> Run:
    """Task 10's path: ``create_push_notifications_jobs`` on ``workers`` workbook workers.

    ``events=False``: the same workers running the plain notification, created with the same
    ids and result TTL: no events, no listener.
    """
    queue = Queue("bench_workbook", connection=connection)
    reset_queue(queue)
    with start_workers(queue.name, workers) as group:
        _wait_for_workers(queue, workers)
        started, cpu = _start_clock(connection), _cpu(connection, group)
        if events:
            created = create_push_notifications_jobs(notification_data(jobs), queue, log=_quiet)
            ended = created.wait(WAIT)
            created.listener.stop()
        else:
            _enqueue_plain(queue, jobs, ids=True)
            ended = _wait(lambda: queue.finished_job_registry.count >= jobs)
        if not ended:
            raise TimeoutError(f"the {jobs} jobs did not all end in {WAIT:.0f} s")
        seconds, commands, busy = _stop_clock(connection, started)
        cpu = _cpu(connection, group) - cpu
        _all_alive(group, workers)
    reset_queue(queue)
    name = f"workbook{'' if events else ' workers, no events'}, {workers} worker(s)"
    return Run(name, jobs, seconds, commands, redis_ms=busy, cpu_ms=1000 * cpu)


def _quiet(line: str) -> None:
    """A creator's log that prints nothing (the lines would cost as much as the jobs)."""


def _enqueue_plain(queue: Queue, jobs: int, ids: bool = False) -> None:
    """``jobs`` plain notifications; ``ids``: with ``create_job``'s ids and result TTL."""
    for phone, message in (d.values() for d in notification_data(jobs)):
        options = {"job_id": next_job_id(queue), "result_ttl": RESULT_TTL} if ids else {}
        queue.enqueue(send_notification, phone, message, **options)


RQ = [sys.executable, "-m", "rq.cli"]  # ``rq`` from this environment


def _rq_command(queue: str, kind: str, workers: int) -> list[list[str]]:
    if kind == "worker-pool":
        return [[*RQ, "worker-pool", "-q", "-n", str(workers), queue]]
    return [[*RQ, "worker", "-q", "-w", RQ_CLASSES[kind], queue]] * workers


def _rq_environment(url: str) -> dict[str, str]:
    """Only what a terminal elsewhere would have, and the URL (in ``RQ_REDIS_URL``, not argv)."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, "RQ_REDIS_URL": url}


@contextlib.contextmanager
def outside_worker(url: str, queue: str, name: str = "outside-worker") -> Iterator[Worker]:
    """``rq worker --name NAME QUEUE`` with nothing of the workbook but the Redis URL.

    Yields once the worker is registered in Redis; stops it (warm) on the way out.
    """
    command = [*RQ, "worker", "-q", "--name", name, queue]
    process = subprocess.Popen(
        command, env=_rq_environment(url), stdout=subprocess.DEVNULL, start_new_session=True
    )
    connection = redis.Redis.from_url(url)
    key = f"{Worker.redis_worker_namespace_prefix}{name}"
    try:
        if not _wait(lambda: Worker.find_by_key(key, connection=connection) is not None, 30):
            raise TimeoutError(f"the worker {name} did not start in 30 s")
        yield Worker.find_by_key(key, connection=connection)
    finally:
        _stop([process])
        connection.close()


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _stop_pool(process: subprocess.Popen, queue: Queue) -> None:
    """``rq worker-pool``: stop it warm, and end it once its workers have left Redis.

    The pool passes the stop on to its workers, then sleeps up to a second before it sees them
    gone; it keeps nothing in Redis, so it is ended as soon as they are.
    """
    process.send_signal(signal.SIGTERM)
    if not _wait(lambda: process.poll() is not None or Worker.count(queue=queue) == 0, 10):
        _stop([process])  # its workers did not leave: the usual wait, then kill
        return
    process.kill()
    process.wait()


def measure_rq(connection: redis.Redis, url: str, jobs: int, kind: str, workers: int = 2) -> Run:
    """Plain RQ (``kind`` from :data:`RQ_CLASSES`) running the notification, without events."""
    queue = Queue(f"bench_rq_{kind.replace('-', '_')}", connection=connection)
    reset_queue(queue)
    out, env = subprocess.DEVNULL, _rq_environment(url)
    processes = [
        subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)
        for command in _rq_command(queue.name, kind, workers)
    ]
    try:
        _wait_for_workers(queue, workers)
        started = _start_clock(connection)
        _enqueue_plain(queue, jobs)
        registry = queue.finished_job_registry
        if not _wait(lambda: registry.count >= jobs):
            raise TimeoutError(f"plain RQ ({kind}) did not run the {jobs} jobs in {WAIT:.0f} s")
        seconds, commands, busy = _stop_clock(connection, started)
    finally:
        _stop_pool(processes[0], queue) if kind == "worker-pool" else _stop(processes)
    reset_queue(queue)
    return Run(f"RQ {kind}, {workers} worker(s)", jobs, seconds, commands, redis_ms=busy)


def measure_batched(
    connection: redis.Redis, batches: dict[int, int], workers: int = 2
) -> dict[int, Run]:
    """Each ``{batch: jobs}``: jobs of ``batch`` notifications, with events, on the same workers."""
    queue = Queue("bench_batched", connection=connection)
    reset_queue(queue)
    listener = Listener(connection, lambda _: None)
    runs = {}
    with start_workers(queue.name, workers) as group:
        _wait_for_workers(queue, workers)
        for batch, jobs in batches.items():
            data = [tuple(d.values()) for d in notification_data(batch)]
            lines = len(group.lines) + batch * jobs
            started = _start_clock(connection)
            created = [
                queue.enqueue(send_notification_batch, data, **events.callbacks())
                for _ in range(jobs)
            ]
            if not listener.watch(created).wait(WAIT):
                raise TimeoutError("the batched jobs did not all end")
            _wait(lambda n=lines: len(group.lines) >= n, 60)  # every line read
            seconds, commands, busy = _stop_clock(connection, started)
            name = f"batches of {batch}, {workers} worker(s)"
            runs[batch] = Run(name, jobs, seconds, commands, batch * jobs, busy)
    listener.stop()
    reset_queue(queue)
    return runs


def measure_enqueue(connection: redis.Redis, jobs: int) -> tuple[Run, Run]:
    """Enqueueing ``jobs`` jobs one by one, then in one ``enqueue_many`` (a pipeline)."""
    queue = Queue("bench_enqueue", connection=connection)
    reset_queue(queue)
    data = [tuple(d.values()) for d in notification_data(jobs)]
    started = _start_clock(connection)
    for args in data:
        queue.enqueue(send_notification, *args)
    seconds, commands, busy = _stop_clock(connection, started)
    one_by_one = Run("enqueue, one by one", jobs, seconds, commands, redis_ms=busy)
    reset_queue(queue)
    started = _start_clock(connection)
    queue.enqueue_many([Queue.prepare_data(send_notification, args) for args in data])
    seconds, commands, busy = _stop_clock(connection, started)
    many = Run("enqueue_many", jobs, seconds, commands, redis_ms=busy)
    reset_queue(queue)
    return one_by_one, many


def memory_per_job(connection: redis.Redis, jobs: int) -> float:
    """Bytes of Redis memory per queued job created by ``create_job`` (events' callbacks too)."""
    queue = Queue("bench_memory", connection=connection)
    reset_queue(queue)
    before = connection.info("memory")["used_memory"]
    data = [tuple(d.values()) for d in notification_data(jobs)]
    options = {"result_ttl": 600, **events.callbacks()}
    queue.enqueue_many([Queue.prepare_data(send_notification, a, **options) for a in data])
    grown = connection.info("memory")["used_memory"] - before
    reset_queue(queue)
    return grown / jobs


def redis_ceiling(connection: redis.Redis, commands: int = 100_000) -> dict[str, float]:
    """Redis's own pace here: round trips per second (PING), and pipelined commands per second."""
    started = time.perf_counter()
    for _ in range(commands // 20):
        connection.ping()
    round_trips = commands // 20 / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(commands // 1000):
        with connection.pipeline(transaction=False) as pipe:
            for _ in range(1000):
                pipe.incr("bench:ceiling")
            pipe.execute()
    pipelined = commands // 1000 * 1000 / (time.perf_counter() - started)
    connection.delete("bench:ceiling")
    return {"round_trips_per_s": round_trips, "pipelined_commands_per_s": pipelined}


def _kue_ready() -> str | None:
    """Why Kue cannot run here, or None once its package is installed."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "node and npm are not installed"
    with open(KUE_DIR / ".npm-install.lock", "w") as lock:  # one install at a time
        fcntl.flock(lock, fcntl.LOCK_EX)  # (notebook 12 and the benchmark may start together)
        if (KUE_DIR / "node_modules" / "kue").is_dir():
            return None
        npm = ["npm", "install", "--no-audit", "--no-fund", "--silent"]
        done = subprocess.run(npm, cwd=KUE_DIR, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return f"npm install failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


def _last_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if "Error" in line), lines[-1] if lines else "?")


def measure_kue(connection: redis.Redis, jobs: int) -> tuple[Run | None, str]:
    """Kue 0.11.6 doing the workbook's job (progress 0 and 50, 2 at a time); or why not."""
    reason = _kue_ready()
    if reason is not None:
        return None, reason
    where = connection.connection_pool.connection_kwargs
    env = {**os.environ, "KUE_REDIS_PASSWORD": where.get("password") or ""}
    command = ["node", "bench.js", where.get("host", "127.0.0.1"), str(where.get("port", 6379))]
    connection.config_resetstat()
    done = subprocess.run(
        [*command, str(jobs), "2"], cwd=KUE_DIR, env=env, capture_output=True, text=True,
        timeout=WAIT,
    )  # fmt: skip
    commands, busy = commands_served(connection)
    for key in connection.scan_iter("kuebench:*"):
        connection.delete(key)
    if done.returncode != 0:
        return None, f"Kue's run failed: {_last_error(done.stderr)}"
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    kue = Run("Kue 0.11.6, 2 at a time", jobs, measured["seconds"], commands, redis_ms=busy)
    return kue, "measured"
