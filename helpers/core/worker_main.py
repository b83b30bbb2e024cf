"""What runs inside a worker process: ``python -m helpers worker QUEUE...``.

A real RQ worker (RQ's fork ``Worker``; ``SpawnWorker`` on macOS, where fork is unsafe) on
the queues given, in priority order. Two safety nets keep a crashed kernel from leaving work
behind: the worker stops itself when the process that started it is gone (``--parent``),
and on Linux its work horse is killed by the kernel when the worker dies (``PR_SET_PDEATHSIG``).
Stopping a worker from outside is :class:`helpers.core.workers.WorkerProcess`'s job.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
import warnings

import redis

from helpers.core.processes import pid_alive

PARENT_POLL = 0.5
GRACE = 10.0


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


def worker_class() -> type:
    """The worker class this platform runs: a fork worker whose horse dies with it."""
    from rq import SpawnWorker, Worker

    if sys.platform == "darwin":
        return SpawnWorker

    class HorseDiesWithWorker(Worker):
        """A fork worker whose horse is killed when the worker is (no orphaned job runs on)."""

        def fork_work_horse(self, job, queue) -> None:
            self._parent_pid = os.getpid()
            super().fork_work_horse(job, queue)

        def main_work_horse(self, job, queue) -> None:
            _die_with_parent(self._parent_pid)
            super().main_work_horse(job, queue)

    return HorseDiesWithWorker


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
    from rq import Queue

    from helpers.core.server import redis_url

    connection = redis.Redis.from_url(redis_url())
    worker = worker_class()(
        [Queue(q, connection=connection) for q in args.queues],
        connection=connection,
        name=args.name,
    )
    if args.parent:
        threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    worker.work(burst=args.burst, with_scheduler=args.with_scheduler, logging_level="WARNING")
    return 0
