"""What runs inside a worker process: ``python -m helpers worker QUEUE...``.

A real RQ worker (RQ's fork ``Worker``; ``SpawnWorker`` on macOS, where fork is unsafe) on
the queues given, in priority order. Two safety nets keep a crashed kernel from leaving work
behind: the worker stops itself when the process that started it is gone (``--parent``),
and on Linux its work horse is killed by the kernel when the worker dies (``PR_SET_PDEATHSIG``).
Stopping a worker from outside is :class:`helpers.core.workers.WorkerProcess`'s job.

A worker rides out a Redis restart (:mod:`helpers.core.outage`): RQ quits its loop when
Redis goes away in the middle of a job, and reconnects by itself only while idle. Here the
loop is started again once Redis answers, after the job the outage interrupted was settled
as a dead worker's is (retried if it has attempts left, else failed with the reason), and
a job taken but not yet started is put back on its queue. What RQ logs meanwhile is
replaced by one line when Redis goes and one when it is back. Past the limit
(``--outage-limit``) the worker stops with one line and exit code 3.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
import warnings

import redis

from helpers.core.outage import MAX_RETRY, OUTAGE_LIMIT, REDIS_DOWN, RedisWatch
from helpers.core.processes import pid_alive
from helpers.core.recovery import recover_jobs, requeue_stranded

PARENT_POLL = 0.5
GRACE = 10.0
EXIT_REDIS_GONE = 3
RESTART_HINT = " Start Redis again (python -m helpers redis start), then the workers."


def _watch_parent(parent: int) -> None:
    """Ask this worker to stop (warm) when the process that started it is gone."""
    while pid_alive(parent) and os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE)
    os._exit(1)


def _die_with_parent(parent: int) -> None:
    """In a work horse: be killed when the worker dies (Linux), so no horse is orphaned."""
    if sys.platform == "linux":
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


class StopNoted:
    """Mixin for a worker: remember that a stop was asked, to tell it from an outage."""

    stop_asked = False

    def request_stop(self, signum, frame) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)


def worker_class() -> type:
    """The worker class this platform runs: a fork worker whose horse dies with it."""
    from rq import SpawnWorker, Worker

    if sys.platform == "darwin":
        return type("NotingSpawnWorker", (StopNoted, SpawnWorker), {})

    class HorseDiesWithWorker(StopNoted, Worker):
        """A fork worker whose horse is killed when the worker is (no orphaned job runs on)."""

        def fork_work_horse(self, job, queue) -> None:
            self._parent_pid = os.getpid()
            super().fork_work_horse(job, queue)

        def main_work_horse(self, job, queue) -> None:
            _die_with_parent(self._parent_pid)
            super().main_work_horse(job, queue)

    return HorseDiesWithWorker


class QuietWhileAway(logging.Filter):
    """Drop what RQ logs because Redis went away: the watch says it in one line instead."""

    def __init__(self, watch: RedisWatch) -> None:
        super().__init__()
        self.watch = watch
        self.pid = os.getpid()

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if os.getpid() != self.pid:  # in a work horse, a job's own errors are the lesson's
            return not (isinstance(error, REDIS_DOWN) and not self.watch.check())
        if isinstance(error, REDIS_DOWN):
            self.watch.check(error)
            return False
        if record.levelno >= logging.ERROR:  # RQ's "could not connect ... retrying" among them
            return self.watch.check()
        return self.watch.up


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _reap_horse(worker) -> None:
    """Kill and wait for the work horse a broken loop may have left (a job cut off)."""
    if worker.horse_pid:
        with contextlib.suppress(OSError):
            worker.kill_horse(signal.SIGKILL)
            worker.wait_for_horse()


def _on_signals(stopping: threading.Event) -> None:
    """Between two runs of RQ's loop, SIGTERM and SIGINT only set ``stopping``."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.set())


def run_worker(argv: list[str]) -> int:
    """``python -m helpers worker QUEUE... [--burst] [--with-scheduler]``: run one worker here."""
    parser = argparse.ArgumentParser(prog="python -m helpers worker")
    parser.add_argument("queues", nargs="+")
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    parser.add_argument("--with-scheduler", action="store_true", help="run delayed jobs too")
    parser.add_argument("--parent", type=int, default=0, help="stop when this process ends")
    parser.add_argument("--name", default=None, help="the worker's name in Redis")
    parser.add_argument(
        "--outage-limit", type=float, default=OUTAGE_LIMIT, help="seconds to wait for Redis"
    )
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from rq import Queue

    from helpers.core.server import redis_url

    connection = redis.Redis.from_url(redis_url())
    stopping = threading.Event()
    watch = RedisWatch(connection, _say, limit=args.outage_limit, then=RESTART_HINT)
    for logger in ("rq.worker", "rq.scheduler"):
        logging.getLogger(logger).addFilter(QuietWhileAway(watch))
    watch.start(on_give_up=lambda: os.kill(os.getpid(), signal.SIGTERM))
    if args.parent:
        threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    name = args.name or f"workbook-{os.getpid()}"
    queues = [Queue(q, connection=connection) for q in args.queues]
    while not stopping.is_set():
        outages, worker = watch.outages, None
        try:
            worker = worker_class()(queues, connection=connection, name=name)  # asks Redis too
            worker.max_connection_wait_time = MAX_RETRY  # RQ's idle reconnect, soon after
            worker.work(args.burst, "WARNING", with_scheduler=args.with_scheduler)
        except REDIS_DOWN as exc:  # down at the start, or its teardown could not reach Redis
            watch.check(exc)
        finally:
            if worker is not None:
                _reap_horse(worker)
            _on_signals(stopping)
        if watch.gave_up:
            return EXIT_REDIS_GONE
        if worker is not None and worker.stop_asked:
            return 0
        if watch.outages == outages and watch.up:  # burst done, or RQ logged why it quit
            return 0 if args.burst else 1
        if not watch.wait_until_back(stopping):
            return EXIT_REDIS_GONE if watch.gave_up else 0
        with contextlib.suppress(*REDIS_DOWN):
            recover_jobs(connection, args.queues, name, "Redis went away")
            requeue_stranded(connection, args.queues)
    return 0
