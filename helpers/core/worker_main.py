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
import functools
import logging
import os
import signal
import sys
import threading
import time
import warnings

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import BusyLoadingError
from redis.retry import Retry

from helpers.core import events  # loaded once here, not in every work horse
from helpers.core.outage import MAX_RETRY, OUTAGE_LIMIT, REDIS_DOWN, RedisWatch
from helpers.core.processes import pid_alive
from helpers.core.recovery import recover_jobs, recover_lost_ends, requeue_stranded
from helpers.core.waiting import wait_until

PARENT_POLL = 0.5
GRACE = 10.0
EXIT_REDIS_GONE = 3
RIDE_OUT_RETRIES = 12  # 0.05 s doubling to 1 s: about 8 s in all
RESTART_HINT = " Start Redis again (python -m helpers redis start), then the workers."
RECOVERY = threading.Lock()  # one settling of jobs at a time: the loop's, or the watch's
SCHEDULER_TICK = 0.2  # s between the scheduler's looks for due jobs (RQ's own: 1 s)


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

    def stop_before_loop(self) -> None:
        """A stop asked while RQ starts (its signal handlers not yet in place)."""
        self.stop_asked = True
        self._stop_requested = True  # RQ's own flag: its loop ends before it dequeues a job


class RedisErrorsUnlogged:
    """Mixin for a worker: a job cut off by Redis going away is not logged with its traceback.

    The job keeps the reason (:func:`helpers.core.job_input.explain_failure` reads it), and the
    watch says once that Redis went away; a job's own errors are logged as RQ logs them.
    """

    def handle_exception(self, job, *exc_info) -> None:
        if not isinstance(exc_info[1], REDIS_DOWN):
            super().handle_exception(job, *exc_info)


class QuickUnsubscribe:
    """Mixin for a worker: its teardown does not wait a second for RQ's pubsub thread.

    RQ unsubscribes, then stops the thread (redis-py's ``PubSubWorkerThread``) and joins it
    for at most 1 s. A thread that read the reply to ``UNSUBSCRIBE`` before it was told to
    stop sleeps again (up to RQ's 60 s), and one told to stop before it began running starts
    anyway: either way RQ's join gives up after a second, seen on most stops of 2 or more
    workers. Here the thread is told to stop once it runs, before the reply can wake it.
    """

    def unsubscribe(self) -> None:
        thread = self.pubsub_thread
        if thread is not None:
            running = getattr(thread, "_running", None)  # set by the thread as it begins
            if running is not None:
                wait_until(lambda: running.is_set() or not thread.is_alive(), 1.0, every=0.002)
            thread.stop()
        super().unsubscribe()


def worker_class() -> type:
    """The worker class this platform runs: a fork worker whose horse dies with it."""
    from rq import SpawnWorker, Worker

    if sys.platform == "darwin":
        mixins = (StopNoted, RedisErrorsUnlogged, QuickUnsubscribe)
        return type("NotingSpawnWorker", (*mixins, SpawnWorker), {})

    class HorseDiesWithWorker(StopNoted, RedisErrorsUnlogged, QuickUnsubscribe, Worker):
        """A fork worker whose horse is killed when the worker is (no orphaned job runs on)."""

        def fork_work_horse(self, job, queue) -> None:
            self._parent_pid = os.getpid()
            super().fork_work_horse(job, queue)

        def main_work_horse(self, job, queue) -> None:
            _die_with_parent(self._parent_pid)
            super().main_work_horse(job, queue)

    return HorseDiesWithWorker


def _use_quick_scheduler() -> None:
    """Let this worker's scheduler look for due jobs every SCHEDULER_TICK s, not every second.

    A delayed job or a retry's backoff then runs within 0.2 s of its time, and a stop does
    not wait up to a second for the scheduler's sleep. RQ's ``Worker.start_scheduler`` builds
    the scheduler from its module's ``RQScheduler``: replaced here, in this process only.
    """
    import rq.worker.base
    from rq.scheduler import RQScheduler

    class QuickScheduler(RQScheduler):
        """RQ's scheduler loop (``RQScheduler.work``), with a shorter sleep."""

        def work(self) -> None:
            self._install_signal_handlers()
            self.register_birth()
            while not self._stop_requested:
                if self.should_reacquire_locks:
                    self.acquire_locks()
                self.heartbeat()
                self.enqueue_scheduled_jobs()
                time.sleep(SCHEDULER_TICK)
            self.stop()

    rq.worker.base.RQScheduler = QuickScheduler


class QuietWhileAway(logging.Filter):
    """Drop what RQ logs because Redis went away: the watch says it in one line instead."""

    def __init__(self, watch: RedisWatch) -> None:
        super().__init__()
        self.watch = watch
        self.pid = os.getpid()

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if os.getpid() != self.pid:  # in a work horse, a job's own errors are the lesson's
            return not isinstance(error, REDIS_DOWN)  # ... but not Redis's: its job has it
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


def _on_signals(stopping: threading.Event, current: list) -> None:
    """Until RQ's loop installs its own, SIGTERM and SIGINT set ``stopping`` (and tell the RQ
    worker being started, ``current[0]``, to stop before its first dequeue)."""

    def noted(*_) -> None:
        stopping.set()
        if current[0] is not None:
            current[0].stop_before_loop()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, noted)


def _give_up(connection: redis.Redis, worker) -> None:
    """Past the outage limit: commands fail at once, the work horse is killed, RQ stops."""
    pool = connection.connection_pool
    with pool._lock:  # each connection has a copy of the pool's Retry
        clients = [*pool._available_connections, *pool._in_use_connections]
    for retry in [pool.connection_kwargs.get("retry"), *(c.retry for c in clients)]:
        if retry is not None:
            retry._retries = 0  # no more riding out (redis-py 5.0 has no update_retries)
    if worker is not None:
        _reap_horse(worker)
    os.kill(os.getpid(), signal.SIGTERM)


def _tidy(connection: redis.Redis, queues: list[str], current: list) -> None:
    """Once Redis is back: jobs it left taken but not started go back on their queues; jobs
    it says this worker runs, and which it does not run, are settled (their end was lost)."""
    worker = current[0]

    def running() -> str | None:  # asked of the worker running now: RQ's loop may restart
        return current[0].get_current_job_id() if current[0] is not None else None

    with RECOVERY, contextlib.suppress(*REDIS_DOWN, redis.RedisError):
        requeue_stranded(connection, queues)
        if worker is not None:
            recover_lost_ends(connection, queues, worker.name, running)


def _gone() -> int:
    """The exit code past the outage limit; the watch's SIGTERM, which may come yet, ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return EXIT_REDIS_GONE


def riding_out() -> dict:
    """Client options that retry a command for a few seconds while Redis restarts or loads.

    A Redis that comes back within about 8 s (:data:`RIDE_OUT_RETRIES`) is not noticed by the
    jobs: the work horse's own writes (the job's result, its status) wait for it instead of
    failing the job. A longer outage raises, and the worker waits for Redis (:class:`RedisWatch`).
    """
    return {
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), RIDE_OUT_RETRIES),
        # OSError: a refused connect, which redis-py before 6 retries only as the socket's error
        "retry_on_error": [BusyLoadingError, redis.ConnectionError, redis.TimeoutError, OSError],
    }


def _watch(connection: redis.Redis, queues: list[str], limit: float, current: list) -> RedisWatch:
    """Start the worker's watch on Redis: its lines instead of RQ's, a tidy-up once it is back."""
    tidy = functools.partial(_tidy, connection, queues, current)
    watch = RedisWatch(connection, _say, limit=limit, then=RESTART_HINT, on_back=tidy)
    for logger in ("rq.worker", "rq.scheduler"):
        logging.getLogger(logger).addFilter(QuietWhileAway(watch))
    return watch.start(on_give_up=lambda: _give_up(connection, current[0]))


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

    if args.with_scheduler:
        _use_quick_scheduler()

    from helpers.core.server import redis_url

    connection = redis.Redis.from_url(redis_url(), **riding_out())
    stopping = threading.Event()
    current: list = [None]  # the RQ worker running now
    watch = _watch(connection, args.queues, args.outage_limit, current)
    if args.parent:
        threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    name = args.name or f"workbook-{os.getpid()}"
    queues = [Queue(q, connection=connection) for q in args.queues]
    _on_signals(stopping, current)  # a stop asked before RQ's loop runs is noted, not fatal
    while not stopping.is_set():
        outages, worker = watch.outages, None
        try:
            worker = worker_class()(  # asks Redis too
                queues, connection=connection, name=name, job_class=events.EventJob
            )
            current[0] = worker
            worker.max_connection_wait_time = MAX_RETRY  # RQ's idle reconnect, soon after
            if stopping.is_set():
                break
            worker.work(args.burst, "WARNING", with_scheduler=args.with_scheduler)
        except REDIS_DOWN as exc:  # down at the start, or its teardown could not reach Redis
            watch.check(exc)
        finally:
            if worker is not None:
                _reap_horse(worker)
            _on_signals(stopping, current)
        if watch.gave_up:
            return _gone()
        if worker is not None and worker.stop_asked:
            return 0
        if watch.outages == outages and watch.up:  # burst done, or RQ logged why it quit
            return 0 if args.burst else 1
        if not watch.wait_until_back(stopping):
            return _gone() if watch.gave_up else 0
        with RECOVERY, contextlib.suppress(*REDIS_DOWN):
            recover_jobs(connection, args.queues, name, "Redis went away")
            requeue_stranded(connection, args.queues)
    return _gone() if watch.gave_up else 0
